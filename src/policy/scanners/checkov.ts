// checkov on the root module dir (`--framework terraform secrets`) and, when there is a plan, on the plan JSON
// (`--framework terraform_plan`, enriched with file:line from the dir). Offline by construction: no API key, no
// guideline or module downloads, no repo/user config files, proxies that point nowhere. checkov reports no severity
// offline, so rules.ts decides, from our table (policies/checkov-severity.json) for checks no rule maps.
// Its JSON goes to a file (`--output-file-path`), never through the capped stdout: a big module tree produces
// megabytes of it. A failure says checkov's own words (stderr tail) and, for files it could not parse, where and why.
import { readFile, realpath } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative } from 'node:path';
import { z } from 'zod';
import type { Finding, ScannerRun } from '../../core/types.js';
import { HclParseError, parseHclFile } from '../../repo/hcl.js';
import { SANDBOX_HOME } from '../../sandbox/bwrap.js';
import { run } from '../../sandbox/exec.js';
import { scannerPolicy } from '../../sandbox/policy.js';
import { sandboxStatus } from '../../sandbox/status.js';
import { toolTmpFiles } from '../../sandbox/tool-cache.js';
import { makeFinding } from '../findings.js';
import { toRepoPath } from '../module-tree.js';
import { CHECKOV_SEVERITY, mapCheckovId } from '../rules.js';
import {
  checkovPool,
  collectFiles,
  hostPath,
  WORKER_SCAN_ROOT,
  type WorkerFile,
  WorkerUnavailable,
  workerLimit,
} from './checkov-worker.js';
import {
  describeExecError,
  failed,
  locateTool,
  notRun,
  offlineEnv,
  privateTempDir,
  probeVersion,
  writePrivate,
} from './common.js';
import type { ScanInput, Scanner } from './types.js';

const TIMEOUT_MS = 300_000;

const CheckovCheck = z.object({
  check_id: z.string(),
  check_name: z.string().default(''),
  resource: z.string().default(''),
  file_path: z.string().default(''),
  file_abs_path: z.string().nullish(),
  file_line_range: z.array(z.number()).nullish(),
});
const CheckovReport = z.object({
  check_type: z.string().default(''),
  results: z
    .object({
      failed_checks: z.array(CheckovCheck).default([]),
      parsing_errors: z.array(z.string()).default([]),
    })
    .default({ failed_checks: [], parsing_errors: [] }),
  summary: z
    .object({ passed: z.number().default(0), failed: z.number().default(0), checkov_version: z.string().optional() })
    .partial()
    .default({}),
});
/** checkov prints one report, a list of reports (several frameworks), or an empty summary when nothing matched. */
const CheckovOutput = z.union([z.array(CheckovReport), CheckovReport, z.object({}).passthrough()]);

export interface CheckovParsed {
  findings: Finding[];
  version?: string;
  parsingErrors: string[];
  passed: number;
}

export function parseCheckovOutput(stdout: string, repoRoot: string, dir: string): CheckovParsed {
  const start = stdout.search(/[[{]/);
  if (start === -1) throw new Error('checkov printed no JSON');
  let json: unknown;
  try {
    json = JSON.parse(stdout.slice(start));
  } catch (err) {
    throw new Error(
      `checkov's JSON report (${stdout.length} bytes) is not valid JSON: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
  const raw = CheckovOutput.parse(json);
  const reports = Array.isArray(raw) ? raw : 'results' in raw ? [CheckovReport.parse(raw)] : [];
  const out: CheckovParsed = { findings: [], parsingErrors: [], passed: 0 };
  for (const rep of reports) {
    if (rep.summary.checkov_version) out.version = rep.summary.checkov_version;
    out.passed += rep.summary.passed ?? 0;
    out.parsingErrors.push(...rep.results.parsing_errors);
    for (const c of rep.results.failed_checks) {
      const mapping = mapCheckovId(c.check_id);
      const ruleId = mapping?.mode === 'direct' ? (mapping.rules[0] ?? c.check_id) : c.check_id;
      // Only point at Terraform source: in plan mode the path is the plan JSON unless enrichment found the .tf.
      const abs = c.file_abs_path ?? (c.file_path ? join(dir, c.file_path) : '');
      const source = /\.(tf|tfvars|tf\.json)$/.test(abs) || (rep.check_type === 'secrets' && abs !== '');
      const file = source ? toRepoPath(repoRoot, isAbsolute(abs) ? abs : join(dir, abs)) : undefined;
      out.findings.push(
        makeFinding({
          ruleId,
          source: 'checkov',
          nativeId: c.check_id,
          severity: /^CKV_SECRET_\d+$/.test(c.check_id) ? 'critical' : (CHECKOV_SEVERITY[c.check_id] ?? 'low'),
          level: 'advisory',
          // Module checks (CKV_TF_*) name the module call only.
          address:
            c.resource && c.check_id.startsWith('CKV_TF_') && !c.resource.includes('.')
              ? `module.${c.resource}`
              : c.resource || undefined,
          file,
          line: file ? c.file_line_range?.[0] : undefined,
          message: c.check_name || c.check_id,
        }),
      );
    }
  }
  return out;
}

function checkovEnv(home: string): Record<string, string> {
  return {
    ...offlineEnv(home),
    BC_SKIP_MAPPING: 'TRUE',
    CKV_GITHUB_CONFIG_FETCH_DATA: 'False',
    CKV_GITLAB_CONFIG_FETCH_DATA: 'False',
    CKV_BITBUCKET_CONFIG_FETCH_DATA: 'False',
    CKV_VALIDATE_SECRETS: 'False',
    CHECKOV_REQUEST_RETRIES: '0',
    CHECKOV_REQUEST_CONNECT_TIMEOUT: '1',
    LOG_LEVEL: 'ERROR',
    PYTHONDONTWRITEBYTECODE: '1',
  };
}

const COMMON_ARGS = [
  '--quiet',
  '--compact',
  '-o',
  'json',
  '--skip-download',
  '--skip-results-upload',
  '--download-external-modules',
  'false',
  '--soft-fail',
];

/**
 * checkov lists only the files it could not parse; the cause comes from our own HCL parser (file:line and its words),
 * or says that only checkov's parser trips on the file.
 */
async function parseCause(path: string, repoRoot: string, dir: string): Promise<string> {
  const abs = isAbsolute(path) ? path : join(dir, path);
  const rel = toRepoPath(repoRoot, abs);
  let source: string;
  try {
    source = await readFile(abs, 'utf8');
  } catch (err) {
    return `${rel}: cannot be read (${err instanceof Error ? err.message : String(err)})`;
  }
  try {
    await parseHclFile(rel, source);
    return `${rel}: checkov's HCL parser failed on it; the file is valid HCL for Terraform's parser (a construct checkov does not support)`;
  } catch (err) {
    return err instanceof HclParseError ? err.message : `${rel}: ${err instanceof Error ? err.message : String(err)}`;
  }
}

/** The venv's python from the checkov script's `#!` line (the worker runs it directly). */
async function pythonOf(tool: string): Promise<string | undefined> {
  const head = (await readFile(await realpath(tool))).subarray(0, 256).toString('latin1');
  const shebang = /^#!\s*(\S+)/.exec(head)?.[1];
  return shebang && /python[\d.]*$/.test(shebang) ? shebang : undefined;
}

/**
 * The same two checkov runs through the warm worker: the checkout's files (and the plan JSON) go over a pipe into the
 * worker's sandbox; paths in the report are mapped back. Throws WorkerUnavailable when the worker cannot do it.
 */
async function scanWithWorker(
  tool: string,
  input: ScanInput,
  hasPlan: boolean,
): Promise<{ results: CheckovParsed[]; version?: string; parseErrors: string[] }> {
  const status = await sandboxStatus();
  if (status.mode !== 'sandboxed' || workerLimit() === 0) throw new WorkerUnavailable('no sandbox or no workers');
  const python = await pythonOf(tool);
  if (!python) throw new WorkerUnavailable('checkov is not a Python script');
  const root = await realpath(input.repoRoot);
  const rel = relative(root, await realpath(input.dir));
  if (rel.startsWith('..') || isAbsolute(rel)) throw new WorkerUnavailable('the dir is outside the checkout');
  const repo = `${WORKER_SCAN_ROOT}/repo`;
  const dir = rel === '' ? repo : `${repo}/${rel}`;
  const files: WorkerFile[] = [
    ...(await collectFiles(root, input.signal)).map((f) => ({ ...f, path: `repo/${f.path}` })),
    { path: 'checkov.yml', data: Buffer.from('{}\n') },
  ];
  const config = `${WORKER_SCAN_ROOT}/checkov.yml`;
  const pool = checkovPool(python, tool, checkovEnv(SANDBOX_HOME));
  const scan = async (name: string, args: string[], extra: WorkerFile[]) => {
    const out = `${WORKER_SCAN_ROOT}/out-${name}`;
    const a = await pool.scan(
      [...files, ...extra],
      [...args, '--config-file', config, ...COMMON_ARGS, '--output-file-path', out],
      `out-${name}/results_json.json`,
      input.signal,
    );
    if (a.report === undefined) throw new WorkerUnavailable(`the worker's checkov wrote no report (exit ${a.exit})`);
    return { parsed: parseCheckovOutput(a.report, repo, dir), version: a.version };
  };
  const runs: Promise<{ parsed: CheckovParsed; version: string | undefined }>[] = [];
  if (!(input.planOnly && hasPlan)) runs.push(scan('dir', ['-d', dir, '--framework', 'terraform', 'secrets'], []));
  if (hasPlan) {
    const plan = input.planJsonPath ? await readFile(input.planJsonPath) : Buffer.from(JSON.stringify(input.planJson));
    runs.push(
      scan(
        'plan',
        [
          '-f',
          `${WORKER_SCAN_ROOT}/plan.json`,
          '--framework',
          'terraform_plan',
          '--repo-root-for-plan-enrichment',
          dir,
        ],
        [{ path: 'plan.json', data: plan }],
      ),
    );
  }
  const done = await Promise.all(runs);
  const results = done.map((d) => d.parsed);
  const parseErrors = results
    .flatMap((r) => r.parsingErrors)
    .map((p) => (isAbsolute(p) ? (hostPath(p, input.repoRoot) ?? p) : p));
  const version = results.find((r) => r.version)?.version ?? done[0]?.version;
  return { results, parseErrors, ...(version ? { version } : {}) };
}

/** One row of the report from checkov's parsed runs; files it could not parse make it a failure, with causes. */
async function report(
  results: CheckovParsed[],
  parsingErrors: string[],
  version: string | undefined,
  input: ScanInput,
  started: number,
): Promise<ScannerRun> {
  const findings = results.flatMap((r) => r.findings);
  if (parsingErrors.length > 0) {
    const causes = await Promise.all(parsingErrors.map((p) => parseCause(p, input.repoRoot, input.dir)));
    return {
      ...failed('checkov', `checkov could not parse ${causes.length} file(s):\n${causes.join('\n')}`, started, version),
      findings,
    };
  }
  return {
    name: 'checkov',
    status: 'ok',
    ...(version ? { version } : {}),
    durationMs: Date.now() - started,
    findings,
  };
}

export const checkovScanner: Scanner = {
  name: 'checkov',
  async run(input: ScanInput) {
    const started = Date.now();
    const tool = locateTool('checkov');
    if ('reason' in tool) return notRun('checkov', tool.reason, started);
    const hasPlanInput = input.planJson !== undefined || input.planJsonPath !== undefined;
    let viaWorker: Awaited<ReturnType<typeof scanWithWorker>> | undefined;
    try {
      viaWorker = await scanWithWorker(tool.path, input, hasPlanInput);
    } catch (err) {
      if (!(err instanceof WorkerUnavailable) || input.signal?.aborted) {
        if (input.signal?.aborted) return failed('checkov', 'cancelled', started);
        return failed('checkov', describeExecError(err), started);
      }
      // the one-shot way below
    }
    if (viaWorker) return report(viaWorker.results, viaWorker.parseErrors, viaWorker.version, input, started);
    const tmp = await privateTempDir('checkov');
    let version: string | undefined;
    try {
      const config = join(tmp.dir, 'checkov.yml');
      await writePrivate(config, '{}\n');
      const opts = {
        cwd: tmp.dir,
        env: checkovEnv(tmp.dir),
        timeoutMs: TIMEOUT_MS,
        okExitCodes: [1],
        sandbox: scannerPolicy({
          tool: tool.path,
          read: [input.repoRoot, input.dir, ...(input.planJsonPath ? [dirname(input.planJsonPath)] : [])],
          scratch: tmp.dir,
          // Its HCL grammar, compiled once by a warm-up instead of at every start (sandbox/tool-cache.ts).
          tmpFiles: await toolTmpFiles(tool.path, ['--version'], checkovEnv(tmp.dir)),
        }),
        ...(input.signal ? { signal: input.signal } : {}),
      };
      const hasPlan = input.planJson !== undefined || input.planJsonPath !== undefined;
      // One checkov process; its report lands in its own folder (results_json.json), read from there.
      const checkov = async (name: string, args: string[]): Promise<CheckovParsed> => {
        const outDir = join(tmp.dir, name);
        const r = await run(tool.path, [...args, '--output-file-path', outDir], opts);
        let text: string;
        try {
          text = await readFile(join(outDir, 'results_json.json'), 'utf8');
        } catch {
          const said = `${r.stderr}\n${r.stdout.slice(0, 2000)}`.trim().split('\n').slice(-15).join('\n');
          throw new Error(`checkov wrote no report (exit ${r.exitCode})${said ? `: ${said}` : ''}`);
        }
        return parseCheckovOutput(text, input.repoRoot, input.dir);
      };
      const runs: Promise<CheckovParsed>[] = [];
      if (!(input.planOnly && hasPlan)) {
        runs.push(
          checkov('dir', [
            '-d',
            input.dir,
            '--framework',
            'terraform',
            'secrets',
            '--config-file',
            config,
            ...COMMON_ARGS,
          ]),
        );
      }
      if (hasPlan) {
        let planPath = input.planJsonPath;
        if (!planPath) {
          planPath = join(tmp.dir, 'plan.json');
          await writePrivate(planPath, JSON.stringify(input.planJson));
        }
        runs.push(
          checkov('plan', [
            '-f',
            planPath,
            '--framework',
            'terraform_plan',
            '--repo-root-for-plan-enrichment',
            input.dir,
            '--config-file',
            config,
            ...COMMON_ARGS,
          ]),
        );
      }
      const results = await Promise.all(runs);
      version = results.find((r) => r.version)?.version ?? (await probeVersion(tool.path, ['--version'], input.signal)); // absent from the JSON when nothing was checked
      return await report(
        results,
        results.flatMap((r) => r.parsingErrors),
        version,
        input,
        started,
      );
    } catch (err) {
      return failed('checkov', describeExecError(err), started, version);
    } finally {
      await tmp.remove();
    }
  },
};
