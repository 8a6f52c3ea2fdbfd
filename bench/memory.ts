// Memory: resident set size of our App server process idle and at its peak during 10 concurrent runs, read from
// /proc/<pid>/status (VmRSS) every 100 ms. terraform, its providers, the scanners and git are child processes of the
// App, so two figures: the App process alone, and its whole process tree. Baseline, in the same run: a bare Probot
// app (empty handler) in its own process, idle. The concurrent runs are bench/e2e.ts's "10 at once" (the same run
// when bench/run.ts passes it in; otherwise a run of its own). `npx tsx bench/memory.ts`; writes
// bench/results/memory.json.
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { generateAppKeyPair } from '../devtools/github-standin/index.js';
import { type E2ERunResult, runE2E } from './e2e.js';
import { readTreeRss, startBenchChild } from './lib/child-process.js';
import { describeMachine, type Machine, round, sleep } from './lib/stats.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const APP_PROCESS = join(HERE, 'lib', 'app-process.ts');
const MB = 1024 * 1024;

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

export async function benchMemory(opts: { from?: E2ERunResult } = {}): Promise<MemoryBenchResult> {
  const machine = describeMachine();
  const bare = await bareProbotIdleRss();
  const e2e = opts.from ?? (await runE2E({ sequential: 0, concurrent: 10 }));
  const m = e2e.memory;
  const mb = (bytes: number) => round(bytes / MB, 1);
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
    machine,
  };
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
  ].join('\n');
}

async function main(): Promise<void> {
  const result = await benchMemory();
  const out = join(HERE, 'results', 'memory.json');
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
