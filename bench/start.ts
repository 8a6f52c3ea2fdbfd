// Start to healthy, and the idle memory that follows: `node dist/cli.js serve` exactly as `npm start` runs it (the
// compiled output of `npm run build`, nothing compiled at start), timed from spawn until GET /healthz answers 200,
// then its resident memory (VmRSS, the process alone) sampled for 3 s and the peak kept. Configurations:
// - all-in-one on the embedded store: the first start on an empty data dir (initdb + migrations), then starts that
//   REOPEN that data dir (what a restart does);
// - the web role on PostgreSQL (`--role web`, DATABASE_URL, a throwaway cluster): first start, then restarts.
// Baseline, same run, alternated with ours: a bare Probot app (one empty handler, plain JS: bench/lib/bare-probot.mjs)
// timed the same way. GitHub's API (the App's identity at start, the redelivery sweep) is answered at once by a
// replay of the stand-in in its own process. `npx tsx bench/start.ts [--no-build]`; writes bench/results/start.json.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { findPostgresBin, freePort, startPostgres, type TestPostgres } from '../test/helpers/postgres.js';
import { readRss, startBenchChild } from './lib/child-process.js';
import { recordGitHub } from './lib/record-github.js';
import { describeMachine, type Machine, round, sleep } from './lib/stats.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, '..');
const REPLAY_GITHUB = join(HERE, 'lib', 'replay-github.ts');
const BARE = join(HERE, 'lib', 'bare-probot.mjs');
/** `--cli <path>`: another build's dist/cli.js (e.g. the code before a change, built elsewhere). */
const cliArg = process.argv.indexOf('--cli');
const CLI = cliArg > 0 && process.argv[cliArg + 1] ? (process.argv[cliArg + 1] ?? '') : join(ROOT, 'dist', 'cli.js');
const MB = 1024 * 1024;
const IDLE_WINDOW_MS = 3_000;

export interface StartSample {
  /** Spawn → /healthz 200. */
  ms: number;
  /** Peak VmRSS of the process over the 3 s after it was healthy, MB. */
  idleMb: number;
}

export interface StartSeries {
  name: string;
  samples: StartSample[];
  medianMs: number;
  medianIdleMb: number;
}

export interface StartBenchResult {
  method: string;
  bare: StartSeries;
  allInOneFirst: StartSeries;
  allInOneReopen: StartSeries;
  webFirst?: StartSeries;
  webReopen?: StartSeries;
  notes: string[];
  machine: Machine;
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return 0;
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] ?? 0) : ((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2;
}

function series(name: string, samples: StartSample[]): StartSeries {
  return {
    name,
    samples,
    medianMs: round(median(samples.map((s) => s.ms))),
    medianIdleMb: round(median(samples.map((s) => s.idleMb)), 1),
  };
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}

/** Spawn, poll /healthz every 20 ms until 200, then sample RSS for the idle window; always stopped after. */
async function timeStart(args: string[], env: Record<string, string>): Promise<StartSample> {
  const port = await freePort();
  let output = '';
  const t0 = performance.now();
  const child = spawn(process.execPath, [...args, ...(args[0] === CLI ? ['--port', String(port)] : [])], {
    cwd: ROOT,
    env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '/root', PORT: String(port), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const keep = (b: Buffer) => {
    output = (output + b.toString()).slice(-4000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  try {
    const until = Date.now() + 120_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`${args.join(' ')} exited ${child.exitCode}:\n${output}`);
      if (Date.now() > until) throw new Error(`${args.join(' ')} was not healthy within 120 s:\n${output}`);
      const ok = await fetch(`http://127.0.0.1:${port}/healthz`).then(
        (r) => r.status === 200,
        () => false,
      );
      if (ok) break;
      await sleep(20);
    }
    const ms = performance.now() - t0;
    let peak = 0;
    const end = Date.now() + IDLE_WINDOW_MS;
    while (Date.now() < end) {
      peak = Math.max(peak, await readRss(child.pid ?? 0));
      await sleep(100);
    }
    return { ms: round(ms), idleMb: round(peak / MB, 1) };
  } finally {
    await stop(child);
  }
}

async function build(): Promise<void> {
  const child = spawn(
    process.execPath,
    [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'],
    {
      cwd: ROOT,
      stdio: 'inherit',
    },
  );
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  if (code !== 0) throw new Error(`npm run build (tsc -p tsconfig.build.json) failed with ${code}`);
}

export async function benchStart(opts: { rounds?: number; build?: boolean } = {}): Promise<StartBenchResult> {
  const machine = describeMachine();
  const rounds = opts.rounds ?? 3;
  const notes: string[] = [];
  if (opts.build !== false) await build();
  const recorded = await recordGitHub();
  const replay = await startBenchChild(REPLAY_GITHUB, { routes: recorded.routes });
  const work = await mkdtemp(join(tmpdir(), 'infra-agent-bench-start-'));
  let postgres: TestPostgres | undefined;
  try {
    const keyPath = join(work, 'app.pem');
    await writeFile(keyPath, recorded.privateKey, { mode: 0o600 });
    // Throwaway values for this bench only; `serve` reads them from its environment, as an operator sets them.
    const app = {
      APP_ID: recorded.appId,
      PRIVATE_KEY_PATH: keyPath,
      WEBHOOK_SECRET: randomBytes(16).toString('hex'),
      INFRA_AGENT_LOG_LEVEL: 'warn',
      LOG_LEVEL: 'warn',
    };
    const ours = {
      ...app,
      GITHUB_API_URL: replay.url,
      ANTHROPIC_API_KEY: 'sk-ant-bench-start-0000000000',
      INFRA_AGENT_PLAN_KEY: randomBytes(32).toString('hex'),
      NODE_ENV: 'production',
    };
    const bare: StartSample[] = [];
    const first: StartSample[] = [];
    const reopen: StartSample[] = [];
    const webFirst: StartSample[] = [];
    const webReopen: StartSample[] = [];
    if (findPostgresBin()) postgres = await startPostgres();
    else notes.push('PostgreSQL binaries not found: the web role on PostgreSQL was not measured');
    for (let r = 0; r < rounds; r++) {
      bare.push(await timeStart([BARE], app));
      const dataDir = join(work, `data-${r}`);
      await mkdir(dataDir);
      const embedded = { ...ours, INFRA_AGENT_DATA_DIR: dataDir };
      first.push(await timeStart([CLI, 'serve', '--role', 'all'], embedded));
      reopen.push(await timeStart([CLI, 'serve', '--role', 'all'], embedded));
      if (postgres) {
        const databaseUrl = await postgres.createDatabase(`start_${r}`);
        webFirst.push(await timeStart([CLI, 'serve', '--role', 'web'], { ...ours, DATABASE_URL: databaseUrl }));
        webReopen.push(await timeStart([CLI, 'serve', '--role', 'web'], { ...ours, DATABASE_URL: databaseUrl }));
      }
    }
    return {
      method:
        `spawn → GET /healthz 200 (polled every 20 ms), then peak VmRSS over ${IDLE_WINDOW_MS / 1000} s; ` +
        `${rounds} rounds, each: bare Probot, ours first start on an empty data dir, ours reopening it` +
        (postgres ? ', web role on PostgreSQL first start and restart' : ''),
      bare: series('bare Probot, empty handler (plain JS)', bare),
      allInOneFirst: series('serve --role all, embedded store, first start (empty data dir)', first),
      allInOneReopen: series('serve --role all, embedded store, reopening its data dir', reopen),
      ...(postgres
        ? {
            webFirst: series('serve --role web, PostgreSQL, first start (migrations)', webFirst),
            webReopen: series('serve --role web, PostgreSQL, restart', webReopen),
          }
        : {}),
      notes,
      machine,
    };
  } finally {
    await replay.stop();
    await postgres?.stop();
    await rm(work, { recursive: true, force: true });
  }
}

/** Rows for bench/run.ts's table (same shape as its Row). */
export function startRows(
  r: StartBenchResult,
): { figure: string; ours: string; baseline: string; ratio: string; note: string }[] {
  const bare = `${r.bare.medianMs} ms, ${r.bare.medianIdleMb} MB`;
  const row = (s: StartSeries, goal: string) => ({
    figure: `Start → healthy and idle RSS: ${s.name}`,
    ours: `${s.medianMs} ms, ${s.medianIdleMb} MB (median of ${s.samples.length})`,
    baseline: `bare Probot start: ${bare}`,
    ratio: `${round(s.medianMs / r.bare.medianMs, 2)} (time)`,
    note: goal,
  });
  return [
    row(r.allInOneFirst, 'goal: first start < 300 MB'),
    row(r.allInOneReopen, 'goal: healthy < 3 s, idle < 180 MB'),
    ...(r.webReopen ? [row(r.webReopen, 'goal: web role idle < 120 MB')] : []),
  ];
}

export function renderStart(r: StartBenchResult): string {
  const rows = [
    r.bare,
    r.allInOneFirst,
    r.allInOneReopen,
    ...(r.webFirst ? [r.webFirst] : []),
    ...(r.webReopen ? [r.webReopen] : []),
  ];
  return [
    `Start to healthy and idle RSS (${r.machine.cpus} CPUs, load ${r.machine.loadAvg.join(' / ')}):`,
    '',
    '| process | start → healthy, median ms | each | idle RSS, median MB | each |',
    '|---|---|---|---|---|',
    ...rows.map(
      (s) =>
        `| ${s.name} | ${s.medianMs} | ${s.samples.map((x) => x.ms).join(', ')} | ${s.medianIdleMb} | ${s.samples.map((x) => x.idleMb).join(', ')} |`,
    ),
    '',
    `ratio (reopen ÷ bare Probot start): ${round(r.allInOneReopen.medianMs / r.bare.medianMs, 2)}`,
    ...r.notes.map((n) => `note: ${n}`),
  ].join('\n');
}

async function main(): Promise<void> {
  const result = await benchStart({ build: !process.argv.includes('--no-build') && cliArg < 0 });
  const outArg = process.argv.indexOf('--out');
  const out = outArg > 0 ? (process.argv[outArg + 1] ?? '') : join(HERE, 'results', 'start.json');
  await mkdir(dirname(out), { recursive: true });
  await writeFile(out, `${JSON.stringify(result, null, 2)}\n`);
  process.stdout.write(`${renderStart(result)}\n→ ${out}\n`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err: unknown) => {
    process.stderr.write(`bench/start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  });
}
