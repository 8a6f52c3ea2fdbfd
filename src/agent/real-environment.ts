// The agent's environment wired to the real world: the repo index (summarised), the redacted state, provider schemas
// and the checks function the caller passes in (the CLI and the App pass the real runChecks). Provider schemas are
// read in a scratch root module that holds only the project's required_providers, so `init` never runs on code the
// model wrote: modules are not fetched, and nothing of the checkout is evaluated.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import type { RepoConfig } from '../config/schema.js';
import type { ChecksResult, Project } from '../core/types.js';
import { IndexCache, indexRepo, type RepoIndex, summarizeIndex } from '../repo/index.js';
import { Terraform } from '../terraform/engine.js';
import { readState, type StateInventory } from '../terraform/state.js';
import type { AgentEnvironment, ProvidersSchemaLookup } from './environment.js';
import { formatStateInventory } from './state-text.js';

export interface RealEnvironmentOptions {
  repoRoot: string;
  project: Project;
  config: RepoConfig;
  /** The gate on the working tree (the real runChecks, bound to this repo/project/config). */
  checks: (signal?: AbortSignal) => Promise<ChecksResult>;
  terraform?: Terraform;
  /** The state inventory when the caller already read it (the pipeline does, after its own init). */
  state?: StateInventory;
  indexCache?: IndexCache;
  /** The checkout's index when the caller already made it (the pipeline's index stage). */
  index?: RepoIndex;
}

const SAFE_NAME = /^[a-z][a-z0-9_-]{0,63}$/;
const SAFE_SOURCE = /^[A-Za-z0-9][A-Za-z0-9._/-]{0,199}$/;
const SAFE_VERSION = /^[0-9A-Za-z.,<>=~!\s-]{1,100}$/;

/** `terraform { required_providers { … } }` for the given providers; entries that are not plain values are dropped. */
export function requiredProvidersHcl(index: RepoIndex, projectDir: string): string | undefined {
  const dir = posix.normalize(projectDir);
  const entries = new Map<string, { source: string; version?: string }>();
  for (const p of index.providers) {
    if (p.dir !== dir || !SAFE_NAME.test(p.name)) continue;
    const source = p.source ?? entries.get(p.name)?.source ?? `hashicorp/${p.name}`;
    if (!SAFE_SOURCE.test(source)) continue;
    const version = p.version && SAFE_VERSION.test(p.version) ? p.version : entries.get(p.name)?.version;
    entries.set(p.name, { source, ...(version ? { version } : {}) });
  }
  if (entries.size === 0) return undefined;
  const body = [...entries.entries()]
    .map(
      ([name, e]) =>
        `    ${name} = {\n      source = ${JSON.stringify(e.source)}\n${e.version ? `      version = ${JSON.stringify(e.version)}\n` : ''}    }`,
    )
    .join('\n');
  return `terraform {\n  required_providers {\n${body}\n  }\n}\n`;
}

export function createAgentEnvironment(opts: RealEnvironmentOptions): AgentEnvironment {
  const cache = opts.indexCache ?? new IndexCache();
  let index: Promise<RepoIndex> | undefined = opts.index ? Promise.resolve(opts.index) : undefined;
  let tf: Terraform | undefined;
  const terraform = (): Terraform => {
    tf ??= opts.terraform ?? new Terraform();
    return tf;
  };
  const projectAbs = join(opts.repoRoot, opts.project.dir);
  const getIndex = (signal?: AbortSignal): Promise<RepoIndex> => {
    index ??= indexRepo(opts.repoRoot, {
      cache,
      declaredProjects: opts.config.projects.map((p) => p.dir),
      ...(signal ? { signal } : {}),
    });
    return index;
  };
  let state: Promise<StateInventory | string> | undefined;
  const getState = (signal?: AbortSignal): Promise<StateInventory | string> => {
    state ??= opts.state
      ? Promise.resolve(opts.state)
      : readState(terraform(), projectAbs, signal ? { signal } : {}).catch(
          (err: unknown) =>
            `The state could not be read (${err instanceof Error ? err.message.split('\n')[0] : String(err)}); ` +
            'treat the repository code as the description of what exists.',
        );
    return state;
  };

  return {
    close() {
      // Only a Terraform this environment made: an injected one belongs to its owner.
      if (tf && !opts.terraform) tf.dispose();
    },
    async repoSummary(maxChars, signal) {
      return summarizeIndex(await getIndex(signal), { maxChars });
    },
    async stateSummary(o, signal) {
      const s = await getState(signal);
      if (typeof s === 'string') return s.slice(0, o.maxChars);
      return formatStateInventory(s, { maxChars: o.maxChars, ...(o.filter ? { filter: o.filter } : {}) });
    },
    async providersSchema(signal): Promise<ProvidersSchemaLookup> {
      const hcl = requiredProvidersHcl(await getIndex(signal), opts.project.dir);
      if (!hcl) return { ok: false, reason: `the project ${opts.project.dir} declares no required_providers` };
      const scratch = await mkdtemp(join(tmpdir(), 'infra-agent-schema-'));
      try {
        await writeFile(join(scratch, 'providers.tf'), hcl);
        const call = signal ? { signal } : {};
        await terraform().init(scratch, { ...call, backend: false });
        return { ok: true, schema: await terraform().providersSchema(scratch, call) };
      } catch (err) {
        return {
          ok: false,
          reason: `the providers could not be installed to read their schemas (${err instanceof Error ? err.message.split('\n')[0] : String(err)})`,
        };
      } finally {
        await rm(scratch, { recursive: true, force: true });
      }
    },
    runChecks(signal) {
      return opts.checks(signal);
    },
  };
}
