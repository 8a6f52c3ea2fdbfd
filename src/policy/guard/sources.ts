// PRE-SOURCE-001, the soft half of the guard: code that comes from somewhere nobody has vetted yet. A module or
// provider is allowed when it is local, when the DEFAULT branch already uses it (the baseline), or when
// `.github/infra-agent.yml` allows it (`policy.allowed_module_sources` prefixes, `policy.allowed_providers`
// patterns, default `hashicorp/*`); registry modules must also be pinned to an exact version. Anything else blocks
// until a policy owner overrides it (`/infra override PRE-SOURCE-001 <reason>`) or the config allows it. Providers
// are read from `required_providers`, from provider blocks and resource types that imply `hashicorp/<name>`, from
// `.terraform.lock.hcl`, and from any committed state file (init installs what a state names).
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import type { PolicyConfig } from '../../config/schema.js';
import type { Finding } from '../../core/types.js';
import { findLine, parseHclFile } from '../../repo/hcl.js';
import { makeFinding } from '../findings.js';
import { isLocalSource, type ModuleTree, toRepoPath } from '../module-tree.js';
import { bodies, eachBlock, isBody, lineOf, nodeOf } from './blocks.js';
import { EXEC_PROVIDERS, normalizeProvider, providerSource } from './exec.js';

/** What the default branch already uses: allowed without asking anybody. */
export interface Baseline {
  /** Module source → the version constraints it is used with ('' = none). */
  modules: Map<string, Set<string>>;
  /** Provider sources, `namespace/type`, lower case. */
  providers: Set<string>;
}

export function emptyBaseline(): Baseline {
  return { modules: new Map(), providers: new Set() };
}

const REGISTRY_SOURCE = /^(?:[a-z0-9.-]+\.[a-z]{2,}\/)?[A-Za-z0-9_-]+\/[A-Za-z0-9_-]+\/[A-Za-z0-9_-]+(?:\/\/.*)?$/;
const EXACT_VERSION = /^\s*=?\s*v?\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?\s*$/;
const BUILTIN = new Set(['terraform.io/builtin/terraform', 'builtin/terraform']);

export function normalizeModuleSource(source: string): string {
  return source.trim().replace(/^registry\.terraform\.io\//, '');
}

/** `hashicorp/*`, `hashicorp/aws`, `registry.terraform.io/integrations/github` → does `source` match? */
export function providerAllowed(source: string, patterns: readonly string[]): boolean {
  const s = normalizeProvider(source);
  return patterns.some((p) => {
    const n = normalizeProvider(p);
    if (n === '*' || n === '*/*') return true;
    if (n.endsWith('/*')) return s.startsWith(n.slice(0, -1));
    return n === s;
  });
}

/** Why a module source is not acceptable, or undefined when it is. */
export function checkModuleSource(
  source: string,
  version: unknown,
  config: PolicyConfig,
  baseline: Baseline = emptyBaseline(),
): string | undefined {
  if (isLocalSource(source)) return undefined;
  const normal = normalizeModuleSource(source);
  const constraint = typeof version === 'string' ? version.trim() : '';
  const known = baseline.modules.get(normal);
  // Exactly as the default branch has it: nothing new to vet.
  if (known?.has(constraint)) return undefined;
  const allowed =
    known !== undefined ||
    config.allowed_module_sources.some((p) => {
      const np = normalizeModuleSource(p);
      return source.startsWith(p) || (np !== '' && normal.startsWith(np));
    });
  if (!allowed) {
    if (/^(git::|git@|hg::|s3::|gcs::|https?:\/\/|github\.com\/|bitbucket\.org\/)/.test(source))
      return `module source "${source}" downloads code from outside the allow-list`;
    return `module source "${source}" is not used on the default branch and not in policy.allowed_module_sources`;
  }
  if (REGISTRY_SOURCE.test(normal) && !EXACT_VERSION.test(constraint))
    return `registry module "${source}" is not pinned to an exact version (version = ${constraint ? `"${constraint}"` : 'unset'})`;
  if (/^git::|^git@|^github\.com\//.test(source) && !/[?&]ref=(?:[0-9a-f]{40}|v?\d+\.\d+\.\d+)\b/.test(source))
    return `git module "${source}" is not pinned to a tag or commit (?ref=…)`;
  return undefined;
}

interface ProviderUse {
  source: string;
  file: string;
  line: number | undefined;
  address: string;
  how: string;
}

/** Providers the module tree names, with where. */
function providersOf(tree: ModuleTree): ProviderUse[] {
  const out: ProviderUse[] = [];
  for (const mod of tree.modules) {
    const declared = new Set<string>();
    const uses: ProviderUse[] = [];
    for (const file of mod.files) {
      for (const ref of eachBlock(file.parsed.body)) {
        const node = nodeOf(file, ref);
        if (ref.kind === 'terraform') {
          for (const rp of bodies(ref.body['required_providers'])) {
            for (const [local, spec] of Object.entries(rp)) {
              declared.add(local);
              const source = providerSource(local, spec);
              const needle = isBody(spec) && typeof spec['source'] === 'string' ? spec['source'] : local;
              uses.push({
                source,
                file: file.rel,
                line: lineOf(file, node, needle) ?? node?.line,
                address: `${mod.prefix}provider.${local}`,
                how: 'required_providers',
              });
            }
          }
        }
      }
    }
    for (const file of mod.files) {
      for (const ref of eachBlock(file.parsed.body)) {
        const local =
          ref.kind === 'provider'
            ? ref.labels[0]
            : (ref.kind === 'resource' || ref.kind === 'data' || ref.kind === 'ephemeral') &&
                typeof ref.body['provider'] !== 'string'
              ? /^([a-z0-9]+)_/.exec(ref.labels[0] ?? '')?.[1]
              : undefined;
        if (!local || declared.has(local) || local === 'terraform') continue;
        declared.add(local);
        const node = nodeOf(file, ref);
        uses.push({
          source: `hashicorp/${local}`,
          file: file.rel,
          line: node?.line,
          address: `${mod.prefix}provider.${local}`,
          how: ref.kind === 'provider' ? 'provider block' : `resource type ${ref.labels[0]}`,
        });
      }
    }
    out.push(...uses);
  }
  return out;
}

const StateFile = z.object({
  resources: z.array(z.object({ provider: z.string().optional() }).loose()).default([]),
});

/** Providers named by committed state files and the lock file of the root module. */
async function providersOnDisk(dir: string, repoRoot: string): Promise<ProviderUse[]> {
  const out: ProviderUse[] = [];
  const candidates: string[] = [];
  const names = await readdir(dir).catch(() => [] as string[]);
  for (const n of names) if (/\.tfstate(\.backup)?$/i.test(n)) candidates.push(join(dir, n));
  for (const ws of await readdir(join(dir, 'terraform.tfstate.d')).catch(() => [] as string[]))
    candidates.push(join(dir, 'terraform.tfstate.d', ws, 'terraform.tfstate'));
  for (const path of candidates) {
    const text = await readFile(path, 'utf8').catch(() => undefined);
    if (text === undefined) continue;
    let parsed: z.infer<typeof StateFile>;
    try {
      parsed = StateFile.parse(JSON.parse(text));
    } catch {
      continue;
    }
    const rel = toRepoPath(repoRoot, path);
    const seen = new Set<string>();
    for (const r of parsed.resources) {
      const m = /provider\["([^"]+)"\]/.exec(r.provider ?? '');
      if (!m?.[1] || seen.has(m[1])) continue;
      seen.add(m[1]);
      const raw = m[1];
      out.push({
        source: normalizeProvider(raw),
        file: rel,
        line: findLine(text, (t) => t.includes(raw)),
        address: `provider["${raw}"]`,
        how: 'a committed state file',
      });
    }
  }
  const lock = join(dir, '.terraform.lock.hcl');
  const text = await readFile(lock, 'utf8').catch(() => undefined);
  if (text !== undefined) {
    try {
      const parsed = await parseHclFile('.terraform.lock.hcl', text);
      const group = parsed.body['provider'];
      for (const raw of isBody(group) ? Object.keys(group) : []) {
        out.push({
          source: normalizeProvider(raw),
          file: toRepoPath(repoRoot, lock),
          line: findLine(text, (t) => t.includes(`"${raw}"`)),
          address: `provider["${raw}"]`,
          how: 'the lock file',
        });
      }
    } catch {
      // An unreadable lock file makes init fail; nothing to vet here.
    }
  }
  return out;
}

export async function checkSources(
  tree: ModuleTree,
  dir: string,
  config: PolicyConfig,
  baseline: Baseline,
): Promise<Finding[]> {
  const out: Finding[] = [];
  // Module calls in every module (the repo's and, after init, the downloaded ones).
  for (const mod of tree.modules) {
    for (const file of mod.files) {
      for (const ref of eachBlock(file.parsed.body)) {
        if (ref.kind !== 'module') continue;
        const source = ref.body['source'];
        if (typeof source !== 'string') continue;
        const why = checkModuleSource(source, ref.body['version'], config, baseline);
        if (!why) continue;
        const node = nodeOf(file, ref);
        out.push(
          makeFinding({
            ruleId: 'PRE-SOURCE-001',
            source: 'pregate',
            address: `${mod.prefix}module.${ref.labels[0]}`,
            file: file.rel,
            line: lineOf(file, node, source) ?? node?.line,
            message: why,
          }),
        );
      }
    }
  }
  const allowed = [...config.allowed_providers];
  const seen = new Set<string>();
  for (const use of [...providersOf(tree), ...(await providersOnDisk(dir, tree.repoRoot))]) {
    if (BUILTIN.has(use.source)) continue;
    const key = `${use.source}\u0000${use.file}`;
    if (seen.has(key)) continue;
    seen.add(key);
    if (EXEC_PROVIDERS.has(use.source) && use.how !== 'required_providers') {
      // Named only in state or the lock file: init would still install it.
      out.push(
        makeFinding({
          ruleId: 'PRE-EXEC-001',
          source: 'pregate',
          address: use.address,
          file: use.file,
          line: use.line,
          message: `provider "${use.source}" (${use.how}) exists to run commands on the host`,
        }),
      );
      continue;
    }
    if (providerAllowed(use.source, allowed) || baseline.providers.has(use.source)) continue;
    const only = use.how === 'a committed state file' ? ': init would install it for the state' : '';
    out.push(
      makeFinding({
        ruleId: 'PRE-SOURCE-001',
        source: 'pregate',
        address: use.address,
        file: use.file,
        line: use.line,
        message: `provider "${use.source}" (named in ${use.how}${only}) is not used on the default branch and not in policy.allowed_providers`,
      }),
    );
  }
  return out;
}
