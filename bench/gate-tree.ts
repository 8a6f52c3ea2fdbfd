// Benchmark: the whole gate (pre-plan guard, tfsec, checkov, OPA; Trivy when installed) without a plan on a generated
// ~1,000-file multi-cloud tree: wall time and peak memory (this process plus every scanner it starts, VmRSS sampled
// every 100 ms). Baselines from the same run: the sum of the scanners' own times (what running them one after
// another would cost) and this process's RSS just before the gate starts.
// `npx tsx bench/gate-tree.ts`; writes bench/results/gate-tree.json. `benchGateTree()` is exported for bench/run.ts.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PolicyConfigSchema } from '../src/config/schema.js';
import { runGate } from '../src/policy/gate.js';
import { readTreeRss, sampleTreeRss } from './lib/child-process.js';
import { generateCloudTree } from './lib/generate-cloud-tree.js';
import { describeMachine } from './lib/stats.js';

const HERE = dirname(fileURLToPath(import.meta.url));

export interface GateTreeBenchResult {
  files: number;
  resources: number;
  wallMs: number;
  sumOfScannersMs: number;
  scanners: Record<string, { status: string; ms: number; findings: number }>;
  rssBeforeBytes: number;
  peakSelfBytes: number;
  peakTreeBytes: number;
  peakChildren: number;
  findings: { hard: number; soft: number; advisory: number };
  verdict: string;
  /** 1-minute load average at the start and at the end (the machine is shared). */
  loadAvg: [number, number];
}

export async function benchGateTree(opts: { out?: string } = {}): Promise<GateTreeBenchResult> {
  const root = await mkdtemp(join(tmpdir(), 'bench-gate-tree-'));
  try {
    const tree = await generateCloudTree(root);
    const config = PolicyConfigSchema.parse({});
    const loadStart = describeMachine().loadAvg[0];
    const before = await readTreeRss(process.pid);
    const sampler = sampleTreeRss(process.pid, 100);
    const started = performance.now();
    const v = await runGate({ dir: root, repoRoot: root, config });
    const wallMs = Math.round(performance.now() - started);
    const peak = sampler.stop();
    const scanners: GateTreeBenchResult['scanners'] = {};
    for (const s of v.scanners) scanners[s.name] = { status: s.status, ms: s.durationMs, findings: s.findings.length };
    const count = (l: string) => v.findings.filter((f) => f.level === l).length;
    const result: GateTreeBenchResult = {
      files: tree.files,
      resources: tree.resources,
      wallMs,
      sumOfScannersMs: v.scanners.reduce((a, s) => a + s.durationMs, 0),
      scanners,
      rssBeforeBytes: before.self,
      peakSelfBytes: peak.peakSelf,
      peakTreeBytes: peak.peakTree,
      peakChildren: peak.peakChildren,
      findings: { hard: count('hard'), soft: count('soft'), advisory: count('advisory') },
      verdict: v.status,
      loadAvg: [loadStart, describeMachine().loadAvg[0]],
    };
    const out = opts.out ?? join(HERE, 'results', 'gate-tree.json');
    await mkdir(dirname(out), { recursive: true });
    await writeFile(out, `${JSON.stringify(result, null, 2)}\n`);
    return result;
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  benchGateTree().then(
    (r) => {
      const mb = (b: number) => `${Math.round(b / 1024 / 1024)} MB`;
      process.stdout.write(
        `${r.files} files, ${r.resources} resources: gate ${r.wallMs} ms (sum of scanners ${r.sumOfScannersMs} ms), ` +
          `peak RSS ${mb(r.peakTreeBytes)} with scanners (${mb(r.peakSelfBytes)} this process, ${mb(r.rssBeforeBytes)} before)\n` +
          `${JSON.stringify(r.scanners)}\n${JSON.stringify(r.findings)} → ${r.verdict}; load ${r.loadAvg.join(' → ')}\n`,
      );
    },
    (err: unknown) => {
      process.stderr.write(`bench/gate-tree: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
