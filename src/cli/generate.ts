// `infra-agent generate --repo DIR (--request TEXT | --request-file F) [--project DIR] [--json OUT]`: let the agent
// write a change into a local checkout, run the real checks, print the report. The model key and URL are read by
// the SDK itself (ANTHROPIC_API_KEY, ANTHROPIC_BASE_URL). Exit code: 0 finished with passing checks, 1 anything
// else the agent produced (budget, blocked, failing checks), 2 usage or setup errors.
import { existsSync } from 'node:fs';
import { readFile, realpath, stat, writeFile } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { parseArgs } from 'node:util';
import { type AgentResult, runAgent } from '../agent/loop.js';
import { createModelClient, resolveModel } from '../agent/model-client.js';
import { createAgentEnvironment } from '../agent/real-environment.js';
import { formatAgentReport } from '../agent/report-text.js';
import { CONFIG_PATH, parseRepoConfig } from '../config/load.js';
import { defaultRepoConfig, type RepoConfig } from '../config/schema.js';
import type { ChecksResult, Project } from '../core/types.js';
import { runChecks } from '../stages/checks.js';

const USAGE =
  'usage: infra-agent generate --repo DIR (--request TEXT | --request-file F) [--project DIR] [--json OUT]\n' +
  '                            [--model M] [--max-turns N] [--max-cost USD]\n';

export type ChecksFactory = (o: {
  repoRoot: string;
  project: Project;
  config: RepoConfig;
}) => (signal?: AbortSignal) => Promise<ChecksResult>;

const realChecks: ChecksFactory = (o) => (signal) => runChecks({ ...o, ...(signal ? { signal } : {}) });

class UsageError extends Error {}

async function loadConfig(repo: string): Promise<RepoConfig> {
  const file = join(repo, CONFIG_PATH);
  if (!existsSync(file)) return defaultRepoConfig();
  const parsed = parseRepoConfig(await readFile(file, 'utf8'));
  if (!parsed.ok) throw new UsageError(`${CONFIG_PATH}: ${parsed.message}`);
  return parsed.config;
}

function pickProject(config: RepoConfig, dir: string | undefined): Project {
  const wanted = dir ? posix.normalize(dir.replace(/\\/g, '/')).replace(/\/$/, '') || '.' : undefined;
  if (wanted && (wanted.startsWith('..') || wanted.startsWith('/'))) {
    throw new UsageError('--project must be a folder inside --repo');
  }
  const configured = config.projects.find((p) => (wanted ? p.dir === wanted : true));
  if (configured) {
    return {
      name: configured.name ?? configured.dir,
      dir: configured.dir,
      workspace: configured.workspace,
      dependsOn: configured.depends_on,
    };
  }
  const d = wanted ?? '.';
  return { name: d === '.' ? 'root' : d, dir: d, workspace: 'default', dependsOn: [] };
}

function positiveNumber(v: string | undefined, flag: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new UsageError(`${flag} must be a positive number`);
  return n;
}

export interface GenerateDeps {
  checks?: ChecksFactory;
  stdout?: (s: string) => void;
  stderr?: (s: string) => void;
  signal?: AbortSignal;
}

/** The command, with its collaborators injectable (tests pass a scripted model URL through the environment). */
export async function generate(args: string[], deps: GenerateDeps = {}): Promise<number> {
  const stdout = deps.stdout ?? ((s: string) => process.stdout.write(s));
  const stderr = deps.stderr ?? ((s: string) => process.stderr.write(s));
  let result: AgentResult;
  try {
    const { values } = parseArgs({
      args,
      options: {
        repo: { type: 'string' },
        request: { type: 'string' },
        'request-file': { type: 'string' },
        project: { type: 'string' },
        json: { type: 'string' },
        model: { type: 'string' },
        'max-turns': { type: 'string' },
        'max-cost': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    });
    if (values.help) {
      stdout(USAGE);
      return 0;
    }
    if (!values.repo) throw new UsageError('--repo is required');
    if ((values.request === undefined) === (values['request-file'] === undefined)) {
      throw new UsageError('give exactly one of --request or --request-file');
    }
    const repoRoot = await realpath(values.repo).catch(() => {
      throw new UsageError(`--repo ${values.repo}: no such folder`);
    });
    if (!(await stat(repoRoot)).isDirectory()) throw new UsageError(`--repo ${values.repo} is not a folder`);
    const request = values.request ?? (await readFile(values['request-file'] ?? '', 'utf8'));
    if (!request.trim()) throw new UsageError('the request is empty');
    const config = await loadConfig(repoRoot);
    const project = pickProject(config, values.project);
    if (!existsSync(join(repoRoot, project.dir))) throw new UsageError(`--project ${project.dir}: no such folder`);

    if (!process.env['ANTHROPIC_API_KEY'] && !process.env['ANTHROPIC_AUTH_TOKEN']) {
      throw new UsageError('set ANTHROPIC_API_KEY (and ANTHROPIC_BASE_URL for a proxy or a local stand-in)');
    }
    const client = createModelClient({
      model: values.model ?? resolveModel(config.agent.model),
      maxTokens: config.agent.max_tokens,
    });
    const maxTurns = positiveNumber(values['max-turns'], '--max-turns');
    const maxCost = positiveNumber(values['max-cost'], '--max-cost');
    const checks = (deps.checks ?? realChecks)({ repoRoot, project, config });
    const env = createAgentEnvironment({ repoRoot, project, config, checks });

    const ac = new AbortController();
    const onSigint = (): void => ac.abort();
    process.once('SIGINT', onSigint);
    try {
      result = await runAgent({
        repoRoot,
        request,
        env,
        client,
        agentConfig: config.agent,
        projectDir: project.dir,
        budgets: {
          ...(maxTurns !== undefined ? { maxTurns: Math.floor(maxTurns) } : {}),
          ...(maxCost !== undefined ? { maxCostUsd: maxCost } : {}),
        },
        signal: deps.signal ? AbortSignal.any([deps.signal, ac.signal]) : ac.signal,
      });
    } finally {
      process.removeListener('SIGINT', onSigint);
    }
    if (values.json) await writeFile(values.json, `${JSON.stringify(result, null, 2)}\n`);
  } catch (err) {
    const badFlag = err instanceof TypeError && 'code' in err && String(err.code).startsWith('ERR_PARSE_ARGS');
    if (err instanceof UsageError || badFlag) {
      stderr(`infra-agent generate: ${err instanceof Error ? err.message : String(err)}\n\n${USAGE}`);
      return 2;
    }
    throw err;
  }
  stdout(formatAgentReport(result));
  return result.status === 'finished' && result.finalChecks?.ok === true ? 0 : 1;
}

export async function main(args: string[]): Promise<number> {
  return generate(args);
}
