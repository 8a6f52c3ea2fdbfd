// How cost grows (issue #17 item 5): curves, not points, drawn as SVG in bench/results/ beside the table.
//   checks.svg   — runChecks wall time on a root module of 10, 100 and 1,000 resources (warm checkov worker)
//   ingest.svg   — webhook deliveries/s vs concurrent connections, ours (web role) and bare Probot (bench/ingest.ts)
// (index.svg — index time vs file count — is drawn by bench/index.ts.) Writes bench/results/curves.json.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { defaultRepoConfig } from '../src/config/schema.js';
import { stopCheckovWorkers } from '../src/policy/scanners/checkov-worker.js';
import { runChecks } from '../src/stages/checks.js';
import { moduleOf } from './checkov.js';
import { benchIngest } from './ingest.js';
import { round } from './lib/stats.js';
import { lineChart } from './lib/svg-chart.js';

const RESULTS = resolve(dirname(fileURLToPath(import.meta.url)), 'results');

export interface CurvesBenchResult {
  checks: { resources: number; ms: number }[];
  ingest: { connections: number; oursPerSec: number; barePerSec: number; oursP99Ms: number }[];
  loadAvg1m: number;
  date: string;
}

async function checksCurve(sizes: number[]): Promise<CurvesBenchResult['checks']> {
  const base = await mkdtemp(join(tmpdir(), 'infra-agent-bench-curves-'));
  const project = { name: 'bench', dir: '.', workspace: 'default', dependsOn: [] };
  const out: CurvesBenchResult['checks'] = [];
  try {
    // One untimed pass first: the checkov worker's start-up (bwrap, Python, import) is not the cost of a module size.
    const warm = join(base, 'warm-up');
    await mkdir(warm, { recursive: true });
    await writeFile(join(warm, 'main.tf'), moduleOf(10));
    await runChecks({ repoRoot: warm, project, config: defaultRepoConfig() });
    for (const n of sizes) {
      const dir = join(base, `m${n}`);
      await mkdir(dir, { recursive: true });
      await writeFile(join(dir, 'main.tf'), moduleOf(n));
      const t = performance.now();
      const r = await runChecks({ repoRoot: dir, project, config: defaultRepoConfig() });
      if (!r.plan) throw new Error(`the ${n}-resource module did not plan: ${JSON.stringify(r.stages)}`);
      out.push({ resources: n, ms: Math.round(performance.now() - t) });
    }
  } finally {
    stopCheckovWorkers();
    await rm(base, { recursive: true, force: true });
  }
  return out;
}

async function ingestCurve(connections: number[]): Promise<CurvesBenchResult['ingest']> {
  const out: CurvesBenchResult['ingest'] = [];
  for (const c of connections) {
    const r = await benchIngest({ connections: c, durationSec: 5, warmupSec: 1, forged: 0, rounds: 1 });
    const ours = r.ours.find((s) => !s.name.includes('as shipped')) ?? r.ours[0];
    if (!ours) throw new Error('ingest bench measured nothing of ours');
    out.push({ connections: c, oursPerSec: ours.reqPerSec, barePerSec: r.bare.reqPerSec, oursP99Ms: ours.p99Ms });
  }
  return out;
}

export async function benchCurves(
  opts: { checks?: number[]; connections?: number[] } = {},
): Promise<CurvesBenchResult> {
  const load = loadavg()[0] ?? 0;
  await mkdir(RESULTS, { recursive: true });
  const checks = await checksCurve(opts.checks ?? [10, 100, 1000]);
  await writeFile(
    join(RESULTS, 'checks.svg'),
    lineChart({
      title: 'Checks stage (fmt, guard, init, validate, plan, scanners) vs module size',
      xLabel: 'resources in the root module',
      yLabel: 'ms',
      series: [{ name: 'runChecks wall time', points: checks.map((p) => [p.resources, p.ms]) }],
    }),
  );
  const ingest = opts.connections?.length === 0 ? [] : await ingestCurve(opts.connections ?? [1, 4, 16, 64]);
  if (ingest.length > 0) {
    await writeFile(
      join(RESULTS, 'ingest.svg'),
      lineChart({
        title: 'Webhook ingestion vs concurrent connections',
        xLabel: 'connections',
        yLabel: 'deliveries/s',
        series: [
          { name: 'infra-agent web role', points: ingest.map((p) => [p.connections, p.oursPerSec]) },
          { name: 'bare Probot (empty handler)', points: ingest.map((p) => [p.connections, p.barePerSec]) },
        ],
      }),
    );
  }
  return { checks, ingest, loadAvg1m: round(load, 2), date: new Date().toISOString() };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const r = await benchCurves();
  await writeFile(join(RESULTS, 'curves.json'), `${JSON.stringify(r, null, 2)}\n`);
  process.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
}
