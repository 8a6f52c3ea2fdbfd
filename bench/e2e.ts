// End to end: webhook → pull request opened, with a scripted zero-latency model, the GitHub stand-in, a git remote on
// disk, and REAL terraform and scanners, through our real App server in its own process (bench/lib/e2e-world.ts).
// (1) N sequential requests (separate issues, one at a time): p50/p95 of webhook → PR opened and → run finished.
// (2) 10 requests at once (10 issues labelled concurrently): time until all 10 PRs exist, per-request latencies.
// Baselines, from the same run: for (1) one runChecks pass (terraform + scanners) on the same change, called directly,
// so the ratio is the overhead of everything around it; for (2) 10 × the sequential p50
// (running them one after another), so the ratio shows what concurrency buys.
// The App's RSS is sampled during (2) for bench/memory.ts, and, when asked (`rssCurve`), during untimed rounds of
// 1, 2, 5… issues at once before (2): memory vs concurrent runs. `npx tsx bench/e2e.ts`; writes bench/results/e2e.json.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { defaultRepoConfig } from '../src/config/schema.js';
import { runChecks } from '../src/stages/checks.js';
import { readTreeRss, sampleTreeRss, type TreeRss } from './lib/child-process.js';
import { type AppMetrics, type E2EWorld, type RequestTiming, startE2EWorld } from './lib/e2e-world.js';
import { demoRepoFiles } from './lib/record-github.js';
import { describeMachine, type Machine, percentile, round, sleep } from './lib/stats.js';

const HERE = dirname(fileURLToPath(import.meta.url));

export interface LatencyFigures {
  n: number;
  ok: number;
  p50PrOpenedMs: number;
  p95PrOpenedMs: number;
  p50DoneMs: number;
  p95DoneMs: number;
  p50AckMs: number;
  maxAckMs: number;
}

/** Peak RSS (bytes) while `runs` issues labelled at once were handled, sampled every 100 ms. */
export interface RssPeak {
  self: number;
  tree: number;
  children: number;
  samples: number;
}

export interface CurvePoint extends RssPeak {
  /** Issues labelled at once in this round. */
  runs: number;
  /** Runs that opened their PR. */
  ok: number;
  /** First webhook sent → last run finished. */
  wallMs: number;
}

export interface MemorySample {
  idleAtStart: TreeRss;
  peakDuringConcurrent: RssPeak;
  /**
   * One round per count in `rssCurve` (ascending, before the timed concurrent phase, so a round's peak is not
   * inherited from a bigger one), then the timed concurrent phase itself as the last point.
   */
  curve: CurvePoint[];
  idleAfter: TreeRss;
}

export interface E2ERunResult {
  method: string;
  workerConcurrency: number;
  sequential: { timings: RequestTiming[]; figures: LatencyFigures };
  concurrent: {
    timings: RequestTiming[];
    figures: LatencyFigures;
    /** First webhook sent → last PR opened. */
    allPrsOpenedMs: number;
    /** First webhook sent → last run finished. */
    allDoneMs: number;
  };
  /** Mean seconds per stage over every run, from the App's /metrics. */
  stageMeansSec: Record<string, number>;
  /** Sequential p50 (→ PR opened) ÷ one direct runChecks pass on the same change (terraform + scanners). */
  ratioToChecks: number;
  checksStagesMeanMs: number;
  /** 10 at once, all PRs opened ÷ (10 × sequential p50 → PR opened). */
  ratioConcurrentToSerial: number;
  finished: Record<string, number>;
  memory: MemorySample;
  machine: Machine;
}

function figures(ts: RequestTiming[]): LatencyFigures {
  const opened = ts.flatMap((t) => (t.prOpenedMs === undefined ? [] : [t.prOpenedMs]));
  const done = ts.flatMap((t) => (t.doneMs === undefined ? [] : [t.doneMs]));
  const acks = ts.map((t) => t.ackMs);
  return {
    n: ts.length,
    ok: ts.filter((t) => t.ok).length,
    p50PrOpenedMs: percentile(opened, 50),
    p95PrOpenedMs: percentile(opened, 95),
    p50DoneMs: percentile(done, 50),
    p95DoneMs: percentile(done, 95),
    p50AckMs: percentile(acks, 50),
    maxAckMs: Math.max(0, ...acks),
  };
}

/**
 * The baseline for one request: runChecks (fmt, guard, init, validate, plan, scanners) called directly on the same
 * kind of change to the same repo (new words each pass), warm (after one untimed pass), in this process — the terraform and scanner work no tool can
 * skip. The median of `passes`, since one pass on a shared machine can be far off.
 */
async function directChecksMs(passes = 3): Promise<number> {
  const dir = await mkdtemp(join(tmpdir(), 'infra-agent-bench-e2e-checks-'));
  try {
    for (const [path, text] of Object.entries(await demoRepoFiles())) {
      await mkdir(dirname(join(dir, path)), { recursive: true });
      await writeFile(join(dir, path), text);
    }
    // Each pass checks a change the checker has not seen, as each request is: the same files with the request's own
    // words. An unchanged tree would hit the scanner result cache (src/policy/scanners/result-cache.ts) and measure a
    // warm re-check (tfsec 0.1–0.2 s instead of ~1.1 s) — work the App's run cannot skip.
    const change = (n: number) =>
      writeFile(
        join(dir, 'bench_0.tf'),
        `resource "terraform_data" "bench_0" {\n  input = "bench request ${n}"\n}\n\nresource "random_pet" "bench_0" {\n  length = 2\n}\n`,
      );
    await change(0);
    const project = { name: 'root', dir: '.', workspace: 'default', dependsOn: [] };
    await runChecks({ repoRoot: dir, project, config: defaultRepoConfig() });
    const times: number[] = [];
    for (let i = 0; i < passes; i++) {
      await change(i + 1);
      const t = performance.now();
      const r = await runChecks({ repoRoot: dir, project, config: defaultRepoConfig() });
      if (!r.plan) throw new Error('the baseline checks did not plan');
      times.push(Math.round(performance.now() - t));
    }
    return percentile(times, 50);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function stageMeans(m: AppMetrics): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [stage, { count, sumSec }] of Object.entries(m.stages)) {
    if (count > 0) out[stage] = round(sumSec / count, 2);
  }
  return out;
}

export interface E2EOptions {
  /** Sequential runs timed one at a time (after one untimed warm-up run). Default 5. */
  sequential?: number;
  /** Issues labelled at once in the timed concurrent phase. Default 10. */
  concurrent?: number;
  /** The App's worker concurrency; default as shipped (2). */
  concurrency?: number;
  /**
   * Untimed rounds of this many issues at once, each sampled for peak RSS, run ascending before the timed concurrent
   * phase (e.g. [1, 2, 5]; counts ≥ `concurrent` are dropped: that phase is the curve's last point). Default none.
   */
  rssCurve?: number[];
}

/** Label `count` issues at once and sample the App's RSS every 100 ms until every run has finished. */
async function sampledRound(
  world: E2EWorld,
  count: number,
): Promise<{ timings: RequestTiming[]; wallMs: number; point: CurvePoint }> {
  const sampler = sampleTreeRss(world.app.pid, 100);
  const t0 = performance.now();
  const timings = await world.trigger(count);
  const wallMs = Math.round(performance.now() - t0);
  const peak = sampler.stop();
  return {
    timings,
    wallMs,
    point: {
      runs: count,
      ok: timings.filter((t) => t.ok).length,
      wallMs,
      self: peak.peakSelf,
      tree: peak.peakTree,
      children: peak.peakChildren,
      samples: peak.samples,
    },
  };
}

/** The whole e2e measurement (and the memory samples, taken during the concurrent phase and the `rssCurve` rounds). */
export async function runE2E(opts: E2EOptions = {}) {
  const machine = describeMachine();
  const sequentialRuns = opts.sequential ?? 5;
  const concurrentRuns = opts.concurrent ?? 10;
  const world = await startE2EWorld(opts.concurrency ? { concurrency: opts.concurrency } : {});
  try {
    await sleep(2000);
    const idleAtStart = await readTreeRss(world.app.pid);
    // One untimed run first: fills the provider plugin cache and the OS cache, as any live server has them.
    await world.trigger(1);
    const sequential: RequestTiming[] = [];
    for (let i = 0; i < sequentialRuns; i++) sequential.push(...(await world.trigger(1)));

    const checksBaselineMs = await directChecksMs();

    const curve: CurvePoint[] = [];
    const rounds = [...new Set(opts.rssCurve ?? [])].filter((n) => n > 0 && n < concurrentRuns).sort((a, b) => a - b);
    for (const n of rounds) curve.push((await sampledRound(world, n)).point);

    const { timings: concurrent, wallMs: wall, point: last } = await sampledRound(world, concurrentRuns);
    curve.push(last);
    await sleep(2000);
    const idleAfter = await readTreeRss(world.app.pid);

    const m = await world.metrics();
    const means = stageMeans(m);
    const checksMs = checksBaselineMs;
    const seq = figures(sequential);
    const conc = figures(concurrent);
    // Latencies are measured from each request's own send, and all were sent at t0 (within the ack time).
    const allPrsOpenedMs = Math.max(
      0,
      ...concurrent.flatMap((t) => (t.prOpenedMs === undefined ? [] : [t.prOpenedMs])),
    );
    const result: E2ERunResult = {
      method:
        'real App server (--role all, embedded store) in its own process; GitHub stand-in, git remote on disk, ' +
        'scripted zero-latency model (write a terraform_data + random_pet, run_checks, finish), real terraform, ' +
        'tfsec, checkov and OPA; one untimed warm-up run; latencies from the signed webhook being sent',
      workerConcurrency: opts.concurrency ?? 2,
      sequential: { timings: sequential, figures: seq },
      concurrent: { timings: concurrent, figures: conc, allPrsOpenedMs, allDoneMs: Math.round(wall) },
      stageMeansSec: means,
      checksStagesMeanMs: Math.round(checksMs),
      ratioToChecks: checksMs > 0 ? round(seq.p50PrOpenedMs / checksMs, 2) : 0,
      ratioConcurrentToSerial:
        seq.p50PrOpenedMs > 0 ? round(allPrsOpenedMs / (concurrentRuns * seq.p50PrOpenedMs), 2) : 0,
      finished: m.finished,
      memory: {
        idleAtStart,
        peakDuringConcurrent: { self: last.self, tree: last.tree, children: last.children, samples: last.samples },
        curve,
        idleAfter,
      },
      machine,
    };
    return result;
  } finally {
    await world.close();
  }
}

export type E2EBenchResult = E2ERunResult;

export async function benchE2E(opts: E2EOptions = {}): Promise<E2EBenchResult> {
  return runE2E(opts);
}

const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

export function renderE2E(r: E2EBenchResult): string {
  const q = r.sequential.figures;
  const c = r.concurrent.figures;
  return [
    `End to end, webhook → PR (worker concurrency ${r.workerConcurrency}, ${r.machine.cpus} CPUs, load ${r.machine.loadAvg[0]}):`,
    '',
    '| | runs ok | p50 → PR opened | p95 → PR opened | p50 → run done | p95 → run done | p50 ack |',
    '|---|---|---|---|---|---|---|',
    `| sequential | ${q.ok}/${q.n} | ${s(q.p50PrOpenedMs)} | ${s(q.p95PrOpenedMs)} | ${s(q.p50DoneMs)} | ${s(q.p95DoneMs)} | ${q.p50AckMs} ms |`,
    `| 10 at once | ${c.ok}/${c.n} | ${s(c.p50PrOpenedMs)} | ${s(c.p95PrOpenedMs)} | ${s(c.p50DoneMs)} | ${s(c.p95DoneMs)} | ${c.p50AckMs} ms (max ${c.maxAckMs}) |`,
    '',
    `10 at once: all PRs opened after ${s(r.concurrent.allPrsOpenedMs)}, all runs done after ${s(r.concurrent.allDoneMs)} ` +
      `(ratio to 10 × sequential p50: ${r.ratioConcurrentToSerial})`,
    `one direct checks pass (terraform + scanners) on the same change: ${s(r.checksStagesMeanMs)}; sequential p50 ÷ that: ${r.ratioToChecks}`,
    `stage means (s): ${Object.entries(r.stageMeansSec)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}`,
    `runs finished: ${JSON.stringify(r.finished)}`,
  ].join('\n');
}

async function main(): Promise<void> {
  const result = await benchE2E();
  const out = join(HERE, 'results', 'e2e.json');
  await mkdir(dirname(out), { recursive: true });
  await writeFile(out, `${JSON.stringify(result, null, 2)}\n`);
  process.stdout.write(`${renderE2E(result)}\n→ ${out}\n`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err: unknown) => {
    process.stderr.write(`bench/e2e: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  });
}
