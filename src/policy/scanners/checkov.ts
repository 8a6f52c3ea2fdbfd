// checkov on the root module dir (`--framework terraform`) and, when there is a plan, on the plan JSON
// (`--framework terraform_plan`, enriched with file:line from the dir). Offline by construction: no API key, no
// guideline or module downloads, no repo/user config files, proxies that point nowhere. checkov reports no severity
// offline, so rules.ts decides; unmapped checks are advisory.
import { isAbsolute, join } from 'node:path';
import { z } from 'zod';
import type { Finding } from '../../core/types.js';
import { run } from '../../util/exec.js';
import { makeFinding } from '../findings.js';
import { toRepoPath } from '../module-tree.js';
import { CHECKOV_SEVERITY, mapCheckovId } from '../rules.js';
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
  const raw = CheckovOutput.parse(JSON.parse(stdout.slice(start)));
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
      const file = abs.endsWith('.tf') ? toRepoPath(repoRoot, isAbsolute(abs) ? abs : join(dir, abs)) : undefined;
      out.findings.push(
        makeFinding({
          ruleId,
          source: 'checkov',
          nativeId: c.check_id,
          severity: CHECKOV_SEVERITY[c.check_id] ?? 'low',
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
  '-o',
  'json',
  '--skip-download',
  '--skip-results-upload',
  '--download-external-modules',
  'false',
  '--soft-fail',
];

export const checkovScanner: Scanner = {
  name: 'checkov',
  async run(input: ScanInput) {
    const started = Date.now();
    const tool = locateTool('checkov');
    if ('reason' in tool) return notRun('checkov', tool.reason, started);
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
        ...(input.signal ? { signal: input.signal } : {}),
      };
      const hasPlan = input.planJson !== undefined || input.planJsonPath !== undefined;
      const runs: Promise<CheckovParsed>[] = [];
      if (!(input.planOnly && hasPlan)) {
        runs.push(
          run(
            tool.path,
            ['-d', input.dir, '--framework', 'terraform', '--config-file', config, ...COMMON_ARGS],
            opts,
          ).then((r) => parseCheckovOutput(r.stdout, input.repoRoot, input.dir)),
        );
      }
      if (hasPlan) {
        let planPath = input.planJsonPath;
        if (!planPath) {
          planPath = join(tmp.dir, 'plan.json');
          await writePrivate(planPath, JSON.stringify(input.planJson));
        }
        runs.push(
          run(
            tool.path,
            [
              '-f',
              planPath,
              '--framework',
              'terraform_plan',
              '--repo-root-for-plan-enrichment',
              input.dir,
              '--config-file',
              config,
              ...COMMON_ARGS,
            ],
            opts,
          ).then((r) => parseCheckovOutput(r.stdout, input.repoRoot, input.dir)),
        );
      }
      const results = await Promise.all(runs);
      version = results.find((r) => r.version)?.version ?? (await probeVersion(tool.path, ['--version'], input.signal)); // absent from the JSON when nothing was checked
      const parsingErrors = results.flatMap((r) => r.parsingErrors);
      const findings = results.flatMap((r) => r.findings);
      if (parsingErrors.length > 0) {
        const files = parsingErrors.map((p) => (isAbsolute(p) ? toRepoPath(input.repoRoot, p) : p));
        return { ...failed('checkov', `checkov could not parse: ${files.join(', ')}`, started, version), findings };
      }
      return {
        name: 'checkov',
        status: 'ok',
        ...(version ? { version } : {}),
        durationMs: Date.now() - started,
        findings,
      };
    } catch (err) {
      return failed('checkov', describeExecError(err), started, version);
    } finally {
      await tmp.remove();
    }
  },
};
