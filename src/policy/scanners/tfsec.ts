// tfsec on the root module dir. It exits non-zero when it finds issues (we pass --soft-fail and accept 1 anyway),
// prints a "joining the Trivy family" banner on stderr, and must not honour the repo's own ignores or config:
// suppressions are the pre-plan guard's business (PRE-SUPPRESS-001), so tfsec reports what is really there.
import { isAbsolute, join } from 'node:path';
import { z } from 'zod';
import type { Finding } from '../../core/types.js';
import { run } from '../../util/exec.js';
import { makeFinding, parseSeverity } from '../findings.js';
import { toRepoPath } from '../module-tree.js';
import { mapTfsecId } from '../rules.js';
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

const TIMEOUT_MS = 180_000;

const TfsecResult = z.object({
  rule_id: z.string(),
  long_id: z.string().default(''),
  rule_description: z.string().default(''),
  description: z.string().default(''),
  severity: z.string().default('LOW'),
  resolution: z.string().optional(),
  resource: z.string().default(''),
  location: z.object({ filename: z.string(), start_line: z.number(), end_line: z.number() }).partial().default({}),
});
const TfsecOutput = z.object({ results: z.array(TfsecResult).nullable().default([]) });

export function parseTfsecOutput(stdout: string, repoRoot: string, dir: string): Finding[] {
  const start = stdout.indexOf('{');
  if (start === -1) throw new Error('tfsec printed no JSON');
  const parsed = TfsecOutput.parse(JSON.parse(stdout.slice(start)));
  const findings: Finding[] = [];
  for (const r of parsed.results ?? []) {
    const longId = r.long_id || r.rule_id;
    const mapping = mapTfsecId(longId, r.rule_id);
    const ruleId = mapping?.mode === 'direct' ? (mapping.rules[0] ?? longId) : longId;
    const filename = r.location.filename;
    const f = makeFinding({
      ruleId,
      source: 'tfsec',
      nativeId: longId,
      severity: parseSeverity(r.severity),
      level: 'advisory',
      address: r.resource || undefined,
      file: filename ? toRepoPath(repoRoot, isAbsolute(filename) ? filename : join(dir, filename)) : undefined,
      line: r.location.start_line,
      message: r.description || r.rule_description || longId,
      remediation: mapping ? undefined : r.resolution,
    });
    if (r.rule_id !== longId) f.sourceIds.push(r.rule_id);
    findings.push(f);
  }
  return findings;
}

export const tfsecScanner: Scanner = {
  name: 'tfsec',
  async run(input: ScanInput) {
    const started = Date.now();
    const tool = locateTool('tfsec');
    if ('reason' in tool) return notRun('tfsec', tool.reason, started);
    const version = await probeVersion(tool.path, ['--version'], input.signal);
    const tmp = await privateTempDir('tfsec');
    try {
      const config = join(tmp.dir, 'config.json');
      const checks = join(tmp.dir, 'checks');
      await writePrivate(config, '{}');
      const result = await run(
        tool.path,
        [
          input.dir,
          '--format',
          'json',
          '--no-colour',
          '--no-ignores',
          '--no-module-downloads',
          '--exclude-downloaded-modules',
          '--disable-grouping',
          '--soft-fail',
          '--config-file',
          config,
          '--custom-check-dir',
          checks,
        ],
        {
          cwd: tmp.dir,
          env: offlineEnv(tmp.dir),
          timeoutMs: TIMEOUT_MS,
          okExitCodes: [1],
          ...(input.signal ? { signal: input.signal } : {}),
        },
      );
      const findings = parseTfsecOutput(result.stdout, input.repoRoot, input.dir);
      return {
        name: 'tfsec',
        status: 'ok',
        ...(version ? { version } : {}),
        durationMs: Date.now() - started,
        findings,
      };
    } catch (err) {
      return failed('tfsec', describeExecError(err), started, version);
    } finally {
      await tmp.remove();
    }
  },
};
