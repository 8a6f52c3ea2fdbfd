// Long-running helper processes for the benchmarks (the App server, the bare Probot app, the replaying GitHub), so
// each server has its own event loop and its own RSS, apart from the load generator. They start through
// src/sandbox/exec.ts like every other process: the config (which holds the App's key and webhook secret, never passed
// in the environment) goes in a 0600 file, and the child writes `{ pid, url }` to a ready file when it listens.
// Also reads a process tree's resident memory from /proc, for the memory figure.
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { ExecError, type ExecResult, run } from '../../src/sandbox/exec.js';
import { projectRoot } from '../../src/toolchain/tools.js';
import { sleep } from './stats.js';

const ReadySchema = z.object({ pid: z.number().int().positive(), url: z.string().url() });

export interface BenchChild {
  pid: number;
  url: string;
  /** SIGTERM, wait for a clean exit (the child closes its server and store), SIGKILL the group after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
  /** The child's stderr so far is only known once it exits; this is the tail after stop(), for error reports. */
  output(): string;
}

/**
 * Start `node --import tsx <script> <config.json> <ready.json>` from the project root. Resolves when the child has
 * written its ready file; rejects (with the child's output) if it exits first or does not start within `timeoutMs`.
 */
export async function startBenchChild(
  script: string,
  config: unknown,
  opts: { timeoutMs?: number; env?: Record<string, string> } = {},
): Promise<BenchChild> {
  const dir = await mkdtemp(join(tmpdir(), 'infra-agent-bench-child-'));
  const configPath = join(dir, 'config.json');
  const readyPath = join(dir, 'ready.json');
  await writeFile(configPath, JSON.stringify(config), { mode: 0o600 });
  const abort = new AbortController();
  let settled: { result?: ExecResult; error?: unknown } | undefined;
  const done = run(
    process.execPath,
    [
      // e.g. BENCH_NODE_ARGS='--cpu-prof --cpu-prof-dir=/tmp/prof' to profile the server under load.
      ...(process.env['BENCH_NODE_ARGS']?.split(' ').filter(Boolean) ?? []),
      '--import',
      'tsx',
      script,
      configPath,
      readyPath,
    ],
    {
      cwd: projectRoot(),
      signal: abort.signal,
      outputCap: 256 * 1024,
      env: { NODE_ENV: 'production', ...(opts.env ?? {}) },
    },
  ).then(
    (result) => {
      settled = { result };
    },
    (error: unknown) => {
      settled = { error };
    },
  );
  const describe = () => {
    const e = settled?.error;
    if (e instanceof ExecError) return `${e.message}\n${e.tail(30)}`;
    if (e) return String(e);
    return settled?.result ? `${settled.result.stderr}\n${settled.result.stdout}`.trim() : '';
  };

  const until = Date.now() + (opts.timeoutMs ?? 90_000);
  let ready: z.infer<typeof ReadySchema> | undefined;
  while (!ready) {
    if (settled) {
      await rm(dir, { recursive: true, force: true });
      throw new Error(`${script} exited before it was ready: ${describe()}`);
    }
    if (Date.now() > until) {
      abort.abort();
      await done;
      await rm(dir, { recursive: true, force: true });
      throw new Error(`${script} did not become ready: ${describe()}`);
    }
    try {
      ready = ReadySchema.parse(JSON.parse(await readFile(readyPath, 'utf8')));
    } catch {
      await sleep(100);
    }
  }
  // The config holds secrets: gone as soon as the child has read it.
  await rm(dir, { recursive: true, force: true });
  const { pid, url } = ready;
  return {
    pid,
    url,
    async stop(graceMs = 15_000) {
      if (settled) return;
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        // already gone
      }
      const t = setTimeout(() => abort.abort(), graceMs);
      await done;
      clearTimeout(t);
    },
    output: describe,
  };
}

/** Resident set size (VmRSS) of one process in bytes, or 0 when it has exited. */
export async function readRss(pid: number): Promise<number> {
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
    return m?.[1] ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** Every live descendant of `root` (children, grandchildren…), from the parent pids in /proc/<pid>/stat. */
export async function descendants(root: number): Promise<number[]> {
  const parentOf = new Map<number, number>();
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = await readFile(`/proc/${name}/stat`, 'utf8');
      // Fields after the command name, which is in parentheses and may itself contain spaces or parentheses.
      const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      parentOf.set(Number(name), Number(rest[1]));
    } catch {
      // exited while we looked
    }
  }
  const out: number[] = [];
  const frontier = [root];
  while (frontier.length > 0) {
    const p = frontier.pop();
    for (const [pid, ppid] of parentOf) {
      if (ppid === p) {
        out.push(pid);
        frontier.push(pid);
      }
    }
  }
  return out;
}

export interface TreeRss {
  /** The process itself. */
  self: number;
  /** The process and all its descendants (terraform, providers, scanners, git). */
  tree: number;
  /** How many descendants were alive. */
  children: number;
}

/** RSS of a process and of its whole tree (shared pages are counted once per process, as `ps` does). */
export async function readTreeRss(pid: number): Promise<TreeRss> {
  const self = await readRss(pid);
  const kids = await descendants(pid);
  let tree = self;
  for (const k of kids) tree += await readRss(k);
  return { self, tree, children: kids.length };
}

export interface RssSampler {
  /** Stop sampling and return the peaks and the samples' count. */
  stop(): { peakSelf: number; peakTree: number; peakChildren: number; samples: number };
}

/** Sample a process tree's RSS every `everyMs` until stopped. */
export function sampleTreeRss(pid: number, everyMs = 100): RssSampler {
  let peakSelf = 0;
  let peakTree = 0;
  let peakChildren = 0;
  let samples = 0;
  let stopped = false;
  const loop = async () => {
    while (!stopped) {
      const r = await readTreeRss(pid);
      if (r.self > 0) {
        samples += 1;
        peakSelf = Math.max(peakSelf, r.self);
        peakTree = Math.max(peakTree, r.tree);
        peakChildren = Math.max(peakChildren, r.children);
      }
      await sleep(everyMs);
    }
  };
  void loop();
  return {
    stop() {
      stopped = true;
      return { peakSelf, peakTree, peakChildren, samples };
    },
  };
}
