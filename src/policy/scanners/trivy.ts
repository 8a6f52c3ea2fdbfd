// Trivy (`trivy config`) on the root module dir: the maintained successor of tfsec, with the same AVD check ids, so
// rules.ts maps both alike. Offline by construction: the checks embedded in the binary (`--skip-check-update`), a
// private cache dir, no repo config or ignore file, proxies that point nowhere. Trivy honours inline `trivy:ignore`
// comments; the pre-plan guard blocks those (PRE-SUPPRESS-001, hard), so a suppressed check never reaches a pass.
import { isAbsolute, join } from 'node:path';
import { z } from 'zod';
import type { Finding } from '../../core/types.js';
import { run } from '../../sandbox/exec.js';
import { scannerPolicy } from '../../sandbox/policy.js';
import { makeFinding, parseSeverity } from '../findings.js';
import { toRepoPath } from '../module-tree.js';
import { mapTfsecId } from '../rules.js';
import { offlineEnv, runBinaryScanner, writePrivate } from './common.js';
import type { ScanInput, Scanner } from './types.js';

const TIMEOUT_MS = 300_000;

const Misconfiguration = z.object({
  ID: z.string().default(''),
  AVDID: z.string().default(''),
  Title: z.string().default(''),
  Description: z.string().default(''),
  Message: z.string().default(''),
  Resolution: z.string().default(''),
  Severity: z.string().default('LOW'),
  Status: z.string().default('FAIL'),
  CauseMetadata: z
    .object({
      Resource: z.string().default(''),
      StartLine: z.number().optional(),
      EndLine: z.number().optional(),
    })
    .partial()
    .default({}),
});
const TrivyReport = z.object({
  Results: z
    .array(
      z.object({
        Target: z.string().default(''),
        Misconfigurations: z.array(Misconfiguration).nullish(),
      }),
    )
    .nullish(),
});

/** Trivy's ids are "AVD-AWS-0107" (older) or "AWS-0107" (newer); rules.ts knows the AVD form. */
function avdId(id: string): string {
  return /^AVD-/.test(id) || !/^[A-Z]+-\d+$/.test(id) ? id : `AVD-${id}`;
}

export function parseTrivyOutput(stdout: string, repoRoot: string, dir: string): Finding[] {
  const start = stdout.indexOf('{');
  if (start === -1) {
    const said = stdout
      .split('\n')
      .filter((l) => /\b(FATAL|ERROR)\b/.test(l))
      .join(' ');
    throw new Error(said ? `trivy: ${said}` : 'trivy printed no JSON');
  }
  const report = TrivyReport.parse(JSON.parse(stdout.slice(start)));
  const findings: Finding[] = [];
  for (const result of report.Results ?? []) {
    for (const m of result.Misconfigurations ?? []) {
      if (m.Status !== 'FAIL') continue;
      const id = avdId(m.AVDID || m.ID);
      const mapping = mapTfsecId(id, id);
      const ruleId = mapping?.mode === 'direct' ? (mapping.rules[0] ?? id) : id;
      const target = result.Target;
      const file = target ? toRepoPath(repoRoot, isAbsolute(target) ? target : join(dir, target)) : undefined;
      const f = makeFinding({
        ruleId,
        source: 'trivy',
        nativeId: id,
        severity: parseSeverity(m.Severity),
        level: 'advisory',
        address: m.CauseMetadata.Resource || undefined,
        file,
        line: m.CauseMetadata.StartLine,
        message: m.Message || m.Title || m.Description || id,
        remediation: mapping ? undefined : m.Resolution || undefined,
      });
      if (m.ID && m.ID !== id) f.sourceIds.push(m.ID);
      findings.push(f);
    }
  }
  return findings;
}

export const trivyScanner: Scanner = {
  name: 'trivy',
  run: (input: ScanInput) =>
    runBinaryScanner('trivy', 'trivy', ['--version'], input.signal, async ({ tool, tmp }) => {
      const ignore = join(tmp, 'trivyignore');
      await writePrivate(ignore, '');
      const result = await run(
        tool,
        [
          'config',
          '--format',
          'json',
          '--quiet',
          '--skip-check-update',
          '--cache-dir',
          join(tmp, 'cache'),
          '--ignorefile',
          ignore,
          '--exit-code',
          '0',
          '--tf-exclude-downloaded-modules',
          input.dir,
        ],
        {
          cwd: tmp,
          env: { ...offlineEnv(tmp), TRIVY_NO_PROGRESS: 'true', TRIVY_DISABLE_TELEMETRY: 'true' },
          timeoutMs: TIMEOUT_MS,
          sandbox: scannerPolicy({ tool, read: [input.repoRoot, input.dir], scratch: tmp }),
          ...(input.signal ? { signal: input.signal } : {}),
        },
      );
      return { findings: parseTrivyOutput(result.stdout, input.repoRoot, input.dir) };
    }),
};
