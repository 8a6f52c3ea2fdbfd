// Memory: resident set size of our App server process idle and at its peak during 10 concurrent runs, read from
// /proc/<pid>/status (VmRSS) every 100 ms. terraform, its providers, the scanners and git are child processes of the
// App, so two figures: the App process alone, and its whole process tree. Baseline, in the same run: a bare Probot
// app (empty handler) in its own process, idle. The concurrent runs are bench/e2e.ts's "10 at once" (the same run
// when bench/run.ts passes it in; otherwise a run of its own), preceded by untimed rounds of 1, 2 and 5 issues at
// once in the same App process: the curve of peak RSS vs concurrent runs, idle as its 0 point, drawn with the bare
// Probot idle as a baseline line. `npx tsx bench/memory.ts`; writes bench/results/memory.json and memory.svg.
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { generateAppKeyPair } from '../devtools/github-standin/index.js';
import { type E2ERunResult, runE2E } from './e2e.js';
import { readTreeRss, startBenchChild } from './lib/child-process.js';
import { describeMachine, type Machine, round, sleep } from './lib/stats.js';
import { lineChart } from './lib/svg-chart.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const APP_PROCESS = join(HERE, 'lib', 'app-process.ts');
const RESULTS = join(HERE, 'results');
const MB = 1024 * 1024;

/** The rounds before the 10 at once (bench/e2e.ts `rssCurve`): with idle as 0, the curve has 5 points. */
export const MEMORY_CURVE_ROUNDS = [1, 2, 5];

export interface MemoryCurvePoint {
  /** Issues labelled at once; 0 = idle, before any run. */
  runs: number;
  /** Peak RSS, MB: the App process, and the App plus its descendants. */
  self: number;
  tree: number;
  children: number;
  /** Wall time of the round (first webhook → last run finished), ms; 0 for idle. */
  wallMs: number;
}

export interface MemoryBenchResult {
  method: string;
  /** MB. */
  bareProbotIdle: number;
  oursIdle: number;
  oursIdleTree: number;
  oursPeakDuring10: number;
  oursPeakTreeDuring10: number;
  /** Most descendants (terraform, providers, scanners, git) alive at one sample. */
  peakChildren: number;
  samples: number;
  oursIdleAfter: number;
  /** ours idle ÷ bare Probot idle. */
  ratioIdle: number;
  /** Shared with bench/e2e.ts when run together. */
  concurrentRuns: number;
  /** Peak RSS vs issues labelled at once, ascending, in one App process; drawn to bench/results/memory.svg. */
  curve: MemoryCurvePoint[];
  /** Where the curve was drawn (relative to the repository). */
  curveSvg: string;
  machine: Machine;
}

async function bareProbotIdleRss(): Promise<number> {
  const { privateKey } = generateAppKeyPair();
  const child = await startBenchChild(APP_PROCESS, {
    kind: 'bare',
    appId: '1001',
    privateKey,
    webhookSecret: randomBytes(16).toString('hex'),
  });
  try {
    await sleep(2000);
    return (await readTreeRss(child.pid)).self;
  } finally {
    await child.stop();
  }
}

/** The SVG: peak RSS of the App process and of its whole tree vs runs at once, the bare Probot idle as baseline. */
export function memoryChart(curve: MemoryCurvePoint[], bareProbotIdle: number): string {
  const maxRuns = Math.max(...curve.map((p) => p.runs));
  return lineChart({
    title: 'Memory vs concurrent runs: peak RSS (0 = idle, before any run)',
    xLabel: 'issues labelled at once (worker concurrency 2)',
    yLabel: 'RSS, MB',
    series: [
      { name: 'App process', points: curve.map((p) => [p.runs, p.self]), labels: 'below' },
      { name: 'App + child processes', points: curve.map((p) => [p.runs, p.tree]) },
      {
        name: 'bare Probot, idle',
        labels: 'below',
        points: [
          [0, bareProbotIdle],
          [maxRuns, bareProbotIdle],
        ],
      },
    ],
    width: 720,
  });
}

export async function benchMemory(opts: { from?: E2ERunResult } = {}): Promise<MemoryBenchResult> {
  const machine = describeMachine();
  const bare = await bareProbotIdleRss();
  const e2e = opts.from ?? (await runE2E({ sequential: 0, concurrent: 10, rssCurve: MEMORY_CURVE_ROUNDS }));
  const m = e2e.memory;
  const mb = (bytes: number) => round(bytes / MB, 1);
  const curve: MemoryCurvePoint[] = [
    {
      runs: 0,
      self: mb(m.idleAtStart.self),
      tree: mb(m.idleAtStart.tree),
      children: m.idleAtStart.children,
      wallMs: 0,
    },
    ...m.curve.map((p) => ({
      runs: p.runs,
      self: mb(p.self),
      tree: mb(p.tree),
      children: p.children,
      wallMs: p.wallMs,
    })),
  ];
  await mkdir(RESULTS, { recursive: true });
  await writeFile(join(RESULTS, 'memory.svg'), memoryChart(curve, mb(bare)));
  return {
    method:
      'VmRSS from /proc every 100 ms: the App process, and the App plus all its descendants (terraform, providers, ' +
      'scanners, git); idle = 2 s after start, before any run; baseline = bare Probot app idle, same way',
    bareProbotIdle: mb(bare),
    oursIdle: mb(m.idleAtStart.self),
    oursIdleTree: mb(m.idleAtStart.tree),
    oursPeakDuring10: mb(m.peakDuringConcurrent.self),
    oursPeakTreeDuring10: mb(m.peakDuringConcurrent.tree),
    peakChildren: m.peakDuringConcurrent.children,
    samples: m.peakDuringConcurrent.samples,
    oursIdleAfter: mb(m.idleAfter.self),
    ratioIdle: bare > 0 ? round(m.idleAtStart.self / bare, 2) : 0,
    concurrentRuns: e2e.concurrent.timings.length,
    curve,
    curveSvg: 'bench/results/memory.svg',
    machine,
  };
}

/** "0: 240/240, 1: 300/900, …" — runs at once: App process / App + children peak, MB. */
export function renderCurvePoints(curve: MemoryCurvePoint[]): string {
  return curve.map((p) => `${p.runs}: ${p.self}/${p.tree}`).join(', ');
}

export function renderMemory(r: MemoryBenchResult): string {
  return [
    `Memory (RSS, MB; ${r.machine.cpus} CPUs, load ${r.machine.loadAvg[0]}):`,
    '',
    '| | App process | App + children |',
    '|---|---|---|',
    `| bare Probot, idle | ${r.bareProbotIdle} | |`,
    `| infra-agent, idle | ${r.oursIdle} | ${r.oursIdleTree} |`,
    `| infra-agent, peak during ${r.concurrentRuns} concurrent runs | ${r.oursPeakDuring10} | ${r.oursPeakTreeDuring10} (up to ${r.peakChildren} child processes) |`,
    `| infra-agent, idle after | ${r.oursIdleAfter} | |`,
    '',
    `Peak RSS vs runs at once (MB, App process/App + children; ${r.curveSvg}): ${renderCurvePoints(r.curve)}`,
  ].join('\n');
}

async function main(): Promise<void> {
  const result = await benchMemory();
  const out = join(RESULTS, 'memory.json');
  await mkdir(dirname(out), { recursive: true });
  await writeFile(out, `${JSON.stringify(result, null, 2)}\n`);
  process.stdout.write(`${renderMemory(result)}\n→ ${out}\n`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err: unknown) => {
    process.stderr.write(`bench/memory: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  });
}
