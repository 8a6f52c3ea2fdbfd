// tfsec on the root module dir. It exits non-zero when it finds issues (we pass --soft-fail and accept 1 anyway),
// prints a "joining the Trivy family" banner on stderr, and must not honour the repo's own ignores or config:
// suppressions are the pre-plan guard's business (PRE-SUPPRESS-001), so tfsec reports what is really there.
// tfsec (deprecated upstream, frozen at 1.28) cannot parse Terraform 1.5 `check {}` blocks ("Unsupported block
// type"): when the tree has some, tfsec scans a staged copy with those blocks blanked out (line numbers kept) and the
// run says so in a note. Trivy, checkov and OPA read the blocks as they are.
import { mkdir, readdir, readFile, realpath } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative } from 'node:path';
import { z } from 'zod';
import type { Finding } from '../../core/types.js';
import { run } from '../../sandbox/exec.js';
import { scannerPolicy } from '../../sandbox/policy.js';
import { makeFinding, parseSeverity } from '../findings.js';
import { loadModuleTree, toRepoPath } from '../module-tree.js';
import { mapTfsecId } from '../rules.js';
import { offlineEnv, runBinaryScanner, writePrivate } from './common.js';
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
  if (start === -1) {
    // tfsec prints its own error ("Error: scan failed: main.tf:5,1-6: Unsupported block type; …") on stdout.
    const said = stdout
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => /^error\b/i.test(l))
      .join(' ');
    throw new Error(
      said ? `tfsec: ${said}` : `tfsec printed no JSON${stdout.trim() ? `: ${stdout.trim().slice(0, 500)}` : ''}`,
    );
  }
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

interface Staged {
  /** Where tfsec scans: the staged copy of `dir`. */
  scanDir: string;
  /** The staged copy of the repository root (paths under it are repo paths). */
  root: string;
  /** Repo-relative file:line of every `check` block left out. */
  blanked: string[];
}

/** A copy of the module tree without its `check {}` blocks, or undefined when there are none. */
export async function stageWithoutCheckBlocks(
  dir: string,
  repoRoot: string,
  into: string,
): Promise<Staged | undefined> {
  const tree = await loadModuleTree(dir, repoRoot);
  const checks = tree.modules.flatMap((m) =>
    m.files.flatMap((f) => f.nodes.filter((n) => n.kind === 'check').map((n) => ({ file: f, node: n }))),
  );
  if (checks.length === 0) return undefined;
  const root = join(into, 'stage');
  for (const mod of tree.modules) {
    const target = join(root, relative(tree.repoRoot, mod.abs));
    await mkdir(target, { recursive: true });
    for (const name of await readdir(mod.abs)) {
      if (!/\.(tf|tfvars|tf\.json)$/.test(name)) continue;
      const text = await readFile(join(mod.abs, name), 'utf8').catch(() => undefined);
      if (text === undefined) continue;
      const lines = text.split('\n');
      for (const c of checks)
        if (c.file.abs === join(mod.abs, name))
          for (let i = c.node.line - 1; i < c.node.endLine && i < lines.length; i++) lines[i] = '';
      await mkdir(dirname(join(target, name)), { recursive: true });
      await writePrivate(join(target, name), lines.join('\n'));
    }
  }
  return {
    scanDir: join(root, relative(tree.repoRoot, await realpath(dir))),
    root,
    blanked: checks.map((c) => `${c.file.rel}:${c.node.line}`),
  };
}

export const tfsecScanner: Scanner = {
  name: 'tfsec',
  run: (input: ScanInput) =>
    runBinaryScanner('tfsec', 'tfsec', ['--version'], input.signal, async ({ tool, tmp }) => {
      const config = join(tmp, 'config.json');
      const checks = join(tmp, 'checks');
      await writePrivate(config, '{}');
      const staged = await stageWithoutCheckBlocks(input.dir, input.repoRoot, tmp).catch(() => undefined);
      const result = await run(
        tool,
        [
          staged?.scanDir ?? input.dir,
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
          cwd: tmp,
          env: offlineEnv(tmp),
          timeoutMs: TIMEOUT_MS,
          okExitCodes: [1],
          sandbox: scannerPolicy({ tool, read: [input.repoRoot, input.dir], scratch: tmp }),
          ...(input.signal ? { signal: input.signal } : {}),
        },
      );
      if (!staged) return { findings: parseTfsecOutput(result.stdout, input.repoRoot, input.dir) };
      return {
        findings: parseTfsecOutput(result.stdout, staged.root, staged.scanDir),
        notes: [`tfsec cannot parse check {} blocks; it scanned the code without them (${staged.blanked.join(', ')})`],
      };
    }),
};
