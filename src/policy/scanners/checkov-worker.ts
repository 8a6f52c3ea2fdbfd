// The warm checkov worker: a Python process that imported checkov once, inside bubblewrap with no network and nothing
// of the host but the toolchain and its own script (no checkout, no App data dir, no other run's files). A scan sends
// the files over the worker's stdin; the worker writes them into its private tmpfs, forks a child that runs checkov on
// them, answers with checkov's JSON report, and empties its tmpfs before the next request (checkov-worker-py.ts).
// Each worker runs one scan at a time; the pool holds at most INFRA_AGENT_CHECKOV_WORKERS of them (default 2, 0 turns
// the worker off), started on first use and stopped after a minute idle, so an idle App holds no Python process.
// Anything the worker cannot do (sandbox off, too many files, a crash, a bad answer) is a WorkerUnavailable: the
// scanner then runs checkov the one-shot way, with the same result.

import { readdir, readFile, readlink, realpath, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { createInterface } from 'node:readline';
import { type SandboxedChild, startSandboxed } from '../../sandbox/exec.js';
import { scannerPolicy } from '../../sandbox/policy.js';
import { CHECKOV_WORKER_PY } from './checkov-worker-py.js';
import { privateTempDir, writePrivate } from './common.js';

/** The worker cannot answer this request; run checkov the one-shot way. */
export class WorkerUnavailable extends Error {
  override readonly name = 'WorkerUnavailable';
}

export interface WorkerFile {
  path: string;
  data: Buffer;
  exec?: boolean;
}

export interface WorkerAnswer {
  exit: number;
  report: string | undefined;
  log: string;
}

/** Where the worker puts a request's files (inside its sandbox): checkov's paths start here. */
export const WORKER_SCAN_ROOT = '/tmp/scan';
const MAX_FILES = 20_000;
const MAX_BYTES = 32 * 1024 * 1024;
const MAX_ANSWER_CHARS = 64 * 1024 * 1024;
const IDLE_MS = 60_000;
const START_TIMEOUT_MS = 120_000;

export function workerLimit(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env['INFRA_AGENT_CHECKOV_WORKERS'];
  if (raw === undefined || raw === '') return 2;
  const n = Number(raw);
  return Number.isInteger(n) && n >= 0 ? Math.min(n, 8) : 2;
}

/**
 * Every file of the checkout but `.git`, as checkov would see it through a read-only bind: symlinks that resolve
 * inside the root are followed (files and dirs, each real dir once), the rest are left out.
 */
export async function collectFiles(root: string, signal?: AbortSignal): Promise<WorkerFile[]> {
  const realRoot = await realpath(root);
  const inside = (p: string) => p === realRoot || p.startsWith(`${realRoot}${sep}`);
  const out: WorkerFile[] = [];
  const seen = new Set<string>();
  let bytes = 0;
  const visit = async (dir: string, rel: string): Promise<void> => {
    signal?.throwIfAborted();
    const real = await realpath(dir);
    if (seen.has(real)) return;
    seen.add(real);
    for (const e of await readdir(dir, { withFileTypes: true })) {
      if (rel === '' && e.name === '.git') continue;
      const abs = join(dir, e.name);
      const name = rel === '' ? e.name : `${rel}/${e.name}`;
      let isDir = e.isDirectory();
      let isFile = e.isFile();
      if (e.isSymbolicLink()) {
        const target = await realpath(abs).catch(() => undefined);
        if (!target || !inside(target) || (await readlink(abs)).length === 0) continue;
        const st = await stat(target);
        isDir = st.isDirectory();
        isFile = st.isFile();
      }
      if (isDir) await visit(abs, name);
      else if (isFile) {
        const st = await stat(abs);
        bytes += st.size;
        if (out.length >= MAX_FILES || bytes > MAX_BYTES)
          throw new WorkerUnavailable(
            `the checkout is larger than the worker takes (${MAX_FILES} files, ${MAX_BYTES} bytes)`,
          );
        out.push({ path: name, data: await readFile(abs), ...((st.mode & 0o111) !== 0 ? { exec: true } : {}) });
      }
    }
  };
  await visit(realRoot, '');
  return out;
}

interface Pending {
  id: number;
  resolve: (a: WorkerAnswer) => void;
  reject: (e: Error) => void;
}

class Worker {
  private proc: SandboxedChild | undefined;
  private scratch: { dir: string; remove: () => Promise<void> } | undefined;
  private ready: Promise<void> | undefined;
  private current: Pending | undefined;
  private queue: Array<{ line: string; pending: Pending }> = [];
  private idleTimer: NodeJS.Timeout | undefined;
  private nextId = 1;
  version: string | undefined;
  dead = false;

  constructor(
    private readonly python: string,
    /** The checkov script: its venv and interpreter are what the sandbox shows of the toolchain. */
    private readonly tool: string,
    private readonly env: Record<string, string>,
    private readonly onExit: (w: Worker) => void,
  ) {}

  get load(): number {
    return this.queue.length + (this.current ? 1 : 0);
  }

  private start(): Promise<void> {
    this.ready ??= (async () => {
      this.scratch = await privateTempDir('checkov-worker');
      const script = join(this.scratch.dir, 'worker.py');
      await writePrivate(script, CHECKOV_WORKER_PY);
      // The script's dir is its only host path besides the toolchain; read-only, and it holds nothing but the script.
      const policy = scannerPolicy({ tool: this.tool, read: [], scratch: this.scratch.dir });
      const proc = await startSandboxed(this.python, ['-B', script], {
        sandbox: { ...policy, readOnly: [...policy.readOnly, this.scratch.dir], writable: [] },
        env: this.env,
      });
      this.proc = proc;
      let stderr = '';
      proc.child.stderr.on('data', (c: Buffer) => {
        stderr = (stderr + c.toString('utf8')).slice(-4000);
      });
      const lines = createInterface({ input: proc.child.stdout, crlfDelay: Number.POSITIVE_INFINITY });
      let started: (() => void) | undefined;
      let failedStart: ((e: Error) => void) | undefined;
      const first = new Promise<void>((res, rej) => {
        started = () => res();
        failedStart = rej;
      });
      const timer = setTimeout(
        () => this.stop(new WorkerUnavailable('the checkov worker did not start in time')),
        START_TIMEOUT_MS,
      );
      lines.on('line', (line) => {
        if (line.length > MAX_ANSWER_CHARS) return this.stop(new WorkerUnavailable('oversized answer'));
        let msg: unknown;
        try {
          msg = JSON.parse(line);
        } catch {
          return this.stop(
            new WorkerUnavailable(`the checkov worker said something that is not JSON: ${line.slice(0, 200)}`),
          );
        }
        if (typeof msg !== 'object' || msg === null) return this.stop(new WorkerUnavailable('bad answer'));
        const m = msg as Record<string, unknown>;
        if (m['ready'] === true) {
          clearTimeout(timer);
          if (typeof m['version'] === 'string') this.version = m['version'];
          started?.();
          return;
        }
        const cur = this.current;
        if (!cur || m['id'] !== cur.id) return this.stop(new WorkerUnavailable('an answer to no request'));
        this.current = undefined;
        cur.resolve({
          exit: typeof m['exit'] === 'number' ? m['exit'] : 1,
          report: typeof m['report'] === 'string' ? m['report'] : undefined,
          log: typeof m['log'] === 'string' ? m['log'] : '',
        });
        this.pump();
      });
      proc.child.on('exit', (code, sig) => {
        clearTimeout(timer);
        const why = new WorkerUnavailable(
          `the checkov worker exited (${sig ?? code})${stderr ? `: ${stderr.trim().split('\n').slice(-3).join(' | ')}` : ''}`,
        );
        failedStart?.(why);
        this.stop(why);
      });
      proc.child.stdin.on('error', () => {});
      await first;
    })();
    return this.ready;
  }

  /** One request; rejects with WorkerUnavailable when the worker could not answer it. */
  async request(files: WorkerFile[], args: string[], report: string, signal?: AbortSignal): Promise<WorkerAnswer> {
    if (this.dead) throw new WorkerUnavailable('the checkov worker is gone');
    if (this.idleTimer) clearTimeout(this.idleTimer);
    const id = this.nextId++;
    const line = `${JSON.stringify({
      id,
      args,
      report,
      files: files.map((f) => ({ path: f.path, data: f.data.toString('base64'), ...(f.exec ? { exec: true } : {}) })),
    })}\n`;
    const answer = new Promise<WorkerAnswer>((resolve, reject) => {
      this.queue.push({ line, pending: { id, resolve, reject } });
    });
    const onAbort = () => this.stop(new WorkerUnavailable('cancelled'));
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      await this.start();
      this.pump();
      return await answer;
    } finally {
      signal?.removeEventListener('abort', onAbort);
      if (this.load === 0 && !this.dead) {
        this.idleTimer = setTimeout(() => this.stop(), IDLE_MS).unref();
        this.hold(false);
      }
    }
  }

  /**
   * An idle worker does not keep the process alive (a CLI exits when its work is done; the worker dies with it
   * through bwrap's --die-with-parent); one with a request in flight does.
   */
  private hold(on: boolean): void {
    const c = this.proc?.child;
    if (!c) return;
    for (const h of [c, c.stdin, c.stdout, c.stderr] as { ref(): void; unref(): void }[]) {
      if (on) h.ref();
      else h.unref();
    }
  }

  private pump(): void {
    if (this.current || this.dead || !this.proc) return;
    const next = this.queue.shift();
    if (!next) return;
    this.current = next.pending;
    this.hold(true);
    this.proc.child.stdin.write(next.line);
  }

  stop(why: Error = new WorkerUnavailable('the checkov worker stopped')): void {
    if (this.dead) return;
    this.dead = true;
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.proc?.kill();
    const all = [...(this.current ? [this.current] : []), ...this.queue.map((q) => q.pending)];
    this.current = undefined;
    this.queue = [];
    for (const p of all) p.reject(why);
    void this.scratch?.remove();
    this.onExit(this);
  }
}

/** The App's checkov workers (one pool per process and python). */
class WorkerPool {
  private workers: Worker[] = [];
  /** Scans answered by a warm worker (tests and benches read it). */
  served = 0;

  constructor(
    private readonly python: string,
    private readonly tool: string,
    private readonly env: Record<string, string>,
  ) {}

  async scan(files: WorkerFile[], args: string[], report: string, signal?: AbortSignal) {
    const limit = workerLimit();
    if (limit === 0) throw new WorkerUnavailable('INFRA_AGENT_CHECKOV_WORKERS=0');
    let w = this.workers.find((x) => x.load === 0);
    if (!w && this.workers.length < limit) {
      w = new Worker(this.python, this.tool, this.env, (gone) => {
        this.workers = this.workers.filter((x) => x !== gone);
      });
      this.workers.push(w);
    }
    w ??= this.workers.reduce((a, b) => (b.load < a.load ? b : a));
    const answer = await w.request(files, args, report, signal);
    this.served++;
    return { ...answer, version: w.version };
  }

  stop(): void {
    for (const w of [...this.workers]) w.stop();
  }
}

const pools = new Map<string, WorkerPool>();

export function checkovPool(python: string, tool: string, env: Record<string, string>): WorkerPool {
  let pool = pools.get(python);
  if (!pool) {
    pool = new WorkerPool(python, tool, env);
    pools.set(python, pool);
  }
  return pool;
}

/** Scans answered by warm workers so far, over every pool (for tests and benchmarks). */
export function workerScans(): number {
  let n = 0;
  for (const p of pools.values()) n += p.served;
  return n;
}

/** Stops every worker (tests; the App's workers otherwise die with it through bwrap's --die-with-parent). */
export function stopCheckovWorkers(): void {
  for (const p of pools.values()) p.stop();
}

/** Host path of a file checkov named inside the worker, or undefined when it is not one of the checkout's. */
export function hostPath(workerPath: string, repoRoot: string): string | undefined {
  const base = `${WORKER_SCAN_ROOT}/repo`;
  if (workerPath !== base && !workerPath.startsWith(`${base}/`)) return undefined;
  return join(repoRoot, relative(base, workerPath));
}
