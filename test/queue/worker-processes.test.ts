// Real worker processes: one killed with SIGKILL mid-run and restarted (embedded store and PostgreSQL), and two
// workers racing on one PostgreSQL. Side effects are counted in the store, so "exactly once" is checked on what
// actually happened, not on what a worker says.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRuntime, type Runtime } from '../../src/queue/runtime.js';
import { ExecError, run } from '../../src/sandbox/exec.js';
import { createStore } from '../../src/store/create-store.js';
import type { AuditRecord, Store } from '../../src/store/types.js';
import { projectRoot } from '../../src/toolchain/tools.js';
import { postgresMissing, requirePostgres, startPostgres, type TestPostgres } from '../helpers/postgres.js';

const ENTRY = path.join(projectRoot(), 'test/queue/worker-entry.ts');

interface WorkerArgs {
  backend: 'pglite' | 'postgres';
  target: string;
  markers: string;
  name: string;
  scenario: 'crash' | 'apply-crash' | 'contend';
  enqueue?: boolean;
  concurrency?: number;
}

/** Start a worker process; resolves when it exits (rejects with ExecError when it fails or is killed). */
function startWorker(args: WorkerArgs): Promise<unknown> {
  return run(process.execPath, ['--import', 'tsx', ENTRY, JSON.stringify(args)], {
    cwd: projectRoot(),
    timeoutMs: 150_000,
  });
}

async function waitForFile(file: string, worker: Promise<unknown>, timeoutMs = 90_000): Promise<string> {
  let failed: unknown;
  worker.catch((err: unknown) => {
    failed = err;
  });
  const until = Date.now() + timeoutMs;
  while (!existsSync(file)) {
    if (failed) throw new Error(`worker died before writing ${path.basename(file)}: ${describeError(failed)}`);
    if (Date.now() > until) throw new Error(`no ${path.basename(file)} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return readFileSync(file, 'utf8');
}

function describeError(err: unknown): string {
  return err instanceof ExecError ? `${err.message}\n${err.tail(40)}` : String(err);
}

async function sigkill(worker: Promise<unknown>, pidFile: string): Promise<void> {
  const pid = Number(readFileSync(pidFile, 'utf8'));
  process.kill(pid, 'SIGKILL');
  const err = await worker.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ExecError);
  expect(err instanceof ExecError ? err.signal : undefined).toBe('SIGKILL');
}

function count(entries: AuditRecord[], action: string): number {
  return entries.filter((e) => e.action === action).length;
}

interface Backend {
  name: 'pglite' | 'postgres';
  /** A fresh target (data dir or database URL) for one test. */
  target(): Promise<string>;
  /** Open the store on a target after the workers are gone (PGlite allows one process at a time). */
  open(target: string): Promise<Store & { close(): Promise<void> }>;
}

let server: TestPostgres | undefined;
let dbCount = 0;
const work = mkdtempSync(path.join(tmpdir(), 'infra-agent-workers-'));
afterAll(async () => {
  await server?.stop();
  rmSync(work, { recursive: true, force: true });
});

const backends: [string, Backend][] = [
  [
    'embedded (PGlite)',
    {
      name: 'pglite',
      target: async () => mkdtempSync(path.join(work, 'data-')),
      open: (target) => createStore({ dataDir: target }),
    },
  ],
];
if (!postgresMissing()) {
  backends.push([
    'PostgreSQL (pg-boss)',
    {
      name: 'postgres',
      target: async () => {
        server ??= await startPostgres();
        return server.createDatabase(`workers_${++dbCount}`);
      },
      open: (target) => createStore({ databaseUrl: target }),
    },
  ]);
} else {
  requirePostgres('worker processes on PostgreSQL');
}

describe.each(backends)('a worker killed with SIGKILL mid-run, %s', (_, backend) => {
  it('resumes the run after restart: it completes once, with one PR and one progress comment', async () => {
    const target = await backend.target();
    const markers = mkdtempSync(path.join(work, 'markers-'));
    const base = { backend: backend.name, target, markers, scenario: 'crash' as const, enqueue: true };

    const a = startWorker({ ...base, name: 'a' });
    await waitForFile(path.join(markers, 'started-1'), a);
    await sigkill(a, path.join(markers, 'pid-a'));

    // The restarted worker enqueues again with the same idempotency key (a re-delivered webhook): still one job.
    await startWorker({ ...base, name: 'b' }).catch((err: unknown) => {
      throw new Error(describeError(err));
    });
    expect(readFileSync(path.join(markers, 'outcome-2'), 'utf8')).toBe('run');

    const store = await backend.open(target);
    try {
      const audit = await store.listAudit({ limit: 1000 });
      expect(count(audit, 'pr.created')).toBe(1);
      expect(count(audit, 'comment.created')).toBe(1);
      expect(count(audit, 'job.started')).toBe(2);
      expect(count(audit, 'job.completed')).toBe(1);
      const runs = await store.listRuns({ key: 'acme/infra#12' });
      expect(runs).toHaveLength(1);
      expect(runs[0]).toMatchObject({ status: 'succeeded', attempt: 2, links: { pr: 'pr.created:1' } });
      const events = await store.listRunEvents(runs[0]?.id ?? '');
      expect(events.some((e) => e.status === 'info' && /resumed after an interruption/.test(e.message ?? ''))).toBe(
        true,
      );
    } finally {
      await store.close();
    }
  });

  it('never re-runs an interrupted apply: the run needs a human and keeps its lock', async () => {
    const target = await backend.target();
    const markers = mkdtempSync(path.join(work, 'markers-'));
    const base = { backend: backend.name, target, markers, scenario: 'apply-crash' as const, enqueue: true };

    const a = startWorker({ ...base, name: 'a' });
    await waitForFile(path.join(markers, 'started-1'), a);
    await sigkill(a, path.join(markers, 'pid-a'));
    await startWorker({ ...base, name: 'b' }).catch((err: unknown) => {
      throw new Error(describeError(err));
    });
    expect(readFileSync(path.join(markers, 'outcome-2'), 'utf8')).toBe('needs-human');

    const store = await backend.open(target);
    try {
      const audit = await store.listAudit({ limit: 1000 });
      expect(count(audit, 'terraform.apply')).toBe(1);
      expect(count(audit, 'apply.interrupted')).toBe(1);
      const [runRow] = await store.listRuns({ key: 'acme/infra#12' });
      expect(runRow).toMatchObject({ kind: 'apply', status: 'needs-human', stage: 'applying:network', attempt: 1 });
      expect(runRow?.error).toMatch(/not re-run automatically/);
      const lock = await store.getLock({ repo: 'acme/infra', project: 'network', workspace: 'default' });
      expect(lock?.holder).toEqual({ pr: 12, runId: runRow?.id });
    } finally {
      await store.close();
    }
  });
});

if (!postgresMissing()) {
  describe('two worker processes on one PostgreSQL', () => {
    let target: string;
    let web: Runtime;
    beforeAll(async () => {
      server ??= await startPostgres();
      target = await server.createDatabase('contend');
      web = await createRuntime({ role: 'web', databaseUrl: target });
    });
    afterAll(async () => {
      await web?.close();
    });

    it('never run the same job, two jobs of one key, or hold the same lock at once', async () => {
      const jobs = 18;
      const ids: string[] = [];
      for (let n = 1; n <= jobs; n++) {
        ids.push(await web.queue.enqueue({ kind: 'contend', key: `acme/infra#${n % 3}`, payload: { n } }));
      }
      const markers = mkdtempSync(path.join(work, 'markers-'));
      const base = { backend: 'postgres' as const, target, markers, scenario: 'contend' as const, concurrency: 3 };
      await Promise.all([startWorker({ ...base, name: 'w1' }), startWorker({ ...base, name: 'w2' })]).catch(
        (err: unknown) => {
          throw new Error(describeError(err));
        },
      );

      const audit = (await web.store.listAudit({ limit: 10_000 })).reverse();
      const started = audit.filter((a) => a.action === 'job.started');
      // Every job ran, and ran once.
      expect(started.map((a) => a.target).sort()).toEqual([...ids].sort());

      const intervals = (startAction: string, endAction: string) =>
        audit
          .filter((a) => a.action === startAction)
          .map((s) => {
            const end = audit.find((e) => e.action === endAction && e.target === s.target);
            if (!end) throw new Error(`${s.target}: ${startAction} without ${endAction}`);
            return { job: s.target, key: String(s.details['key']), start: s.at.getTime(), end: end.at.getTime() };
          });
      const overlapping = (list: { start: number; end: number }[]) => {
        const sorted = [...list].sort((x, y) => x.start - y.start);
        return sorted.some((x, i) => i > 0 && x.start < (sorted[i - 1]?.end ?? 0));
      };

      const locks = intervals('lock.acquired', 'lock.released');
      expect(locks).toHaveLength(jobs);
      expect(overlapping(locks)).toBe(false);

      const runs = intervals('job.started', 'job.ended');
      for (const key of ['acme/infra#0', 'acme/infra#1', 'acme/infra#2']) {
        expect(overlapping(runs.filter((r) => r.key === key))).toBe(false);
      }
      // Both processes took part (otherwise the test proves nothing about two workers).
      expect(new Set(started.map((a) => a.actor))).toEqual(new Set(['w1', 'w2']));
      expect(await web.queue.depth()).toEqual({ queued: 0, active: 0, failed: 0 });
    });
  });
}
