// The queue contract, checked in-process on both drivers: idempotent enqueue, one job per key at a time, retries
// with backoff, permanent failures, the timeout that aborts a handler, and jobs that survive a stop.
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createEmbeddedQueue } from '../../src/queue/embedded-queue.js';
import { createPgBossQueue } from '../../src/queue/pg-boss-queue.js';
import { JobTimeoutError } from '../../src/queue/run-job.js';
import { PermanentJobError, type Queue, type QueueJob, type QueueOptions } from '../../src/queue/types.js';
import { createStore } from '../../src/store/create-store.js';
import type { SqlStore } from '../../src/store/sql-store.js';
import { postgresMissing, requirePostgres, startPostgres, type TestPostgres } from '../helpers/postgres.js';

const OPTS: QueueOptions = { maxAttempts: 3, retryDelaySeconds: 1, jobTimeoutSeconds: 30, pollIntervalSeconds: 0.5 };

async function waitUntil(what: string, cond: () => boolean | Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > until) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

interface Driver {
  /** A queue on a fresh backend; `reopen` gives a second queue on the same backend (a restarted process). */
  open(opts?: Partial<QueueOptions>): Promise<{ queue: Queue; reopen: () => Promise<Queue> }>;
}

let server: TestPostgres | undefined;
let dbCount = 0;
let embeddedStore: SqlStore | undefined;
afterAll(async () => {
  await embeddedStore?.close();
  await server?.stop();
});

const drivers: [string, Driver][] = [
  [
    'embedded',
    {
      async open(opts = {}) {
        embeddedStore ??= await createStore({ dataDir: 'memory://' });
        const store = embeddedStore;
        await store.sql.query('TRUNCATE jobs');
        return {
          queue: await createEmbeddedQueue(store, { ...OPTS, ...opts }),
          reopen: () => createEmbeddedQueue(store, { ...OPTS, ...opts }),
        };
      },
    },
  ],
];
if (!postgresMissing()) {
  drivers.push([
    'pg-boss',
    {
      async open(opts = {}) {
        server ??= await startPostgres();
        const databaseUrl = await server.createDatabase(`queue_${++dbCount}`);
        const make = () =>
          createPgBossQueue({ databaseUrl, ...OPTS, ...opts, sweepIntervalSeconds: 1, orphanAfterSeconds: 2 });
        return { queue: await make(), reopen: make };
      },
    },
  ]);
} else {
  requirePostgres('queue on pg-boss');
}

describe.each(drivers)('queue (%s)', (_, driver) => {
  const open: Queue[] = [];
  afterEach(async () => {
    for (const q of open.splice(0)) await q.stop();
  });
  const start = async (opts?: Partial<QueueOptions>) => {
    const q = await driver.open(opts);
    open.push(q.queue);
    return q;
  };

  it('enqueues idempotently and runs each job once, never two jobs of one key at once', async () => {
    const { queue } = await start();
    const id = await queue.enqueue({ kind: 'k', key: 'a', payload: { n: 0 }, idempotencyKey: 'delivery-0' });
    expect(await queue.enqueue({ kind: 'k', key: 'a', payload: { n: 0 }, idempotencyKey: 'delivery-0' })).toBe(id);
    for (let n = 1; n < 8; n++) await queue.enqueue({ kind: 'k', key: n % 2 ? 'a' : 'b', payload: { n } });

    const ran: number[] = [];
    const active = new Map<string, number>();
    let maxPerKey = 0;
    await queue.work(
      async (job) => {
        const now = (active.get(job.key) ?? 0) + 1;
        active.set(job.key, now);
        maxPerKey = Math.max(maxPerKey, now);
        await new Promise((r) => setTimeout(r, 150));
        ran.push(Number(job.payload['n']));
        active.set(job.key, now - 1);
      },
      { concurrency: 4 },
    );
    await waitUntil('8 jobs ran', () => ran.length >= 8);
    await waitUntil('queue empty', async () => (await queue.depth()).active === 0);
    expect(ran.sort()).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(maxPerKey).toBe(1);
    expect(await queue.depth()).toEqual({ queued: 0, active: 0, failed: 0 });
  });

  it('retries a transient failure with backoff, and fails a permanent one at once', async () => {
    const { queue } = await start();
    const attempts: Record<string, number[]> = { flaky: [], broken: [] };
    await queue.work(
      async (job: QueueJob) => {
        attempts[job.kind]?.push(job.attempt);
        if (job.kind === 'broken') throw new PermanentJobError('bad input');
        if (job.attempt === 1) throw new Error('ECONNRESET');
      },
      { concurrency: 2 },
    );
    await queue.enqueue({ kind: 'flaky', key: 'x', payload: {} });
    await queue.enqueue({ kind: 'broken', key: 'y', payload: {} });
    await waitUntil('flaky retried', () => (attempts['flaky']?.length ?? 0) >= 2);
    await waitUntil('settled', async () => {
      const d = await queue.depth();
      return d.active === 0 && d.queued === 0;
    });
    expect(attempts['flaky']).toEqual([1, 2]);
    expect(attempts['broken']).toEqual([1]);
    expect((await queue.depth()).failed).toBe(1);
  });

  it('aborts a job that exceeds its timeout and retries it', async () => {
    const { queue } = await start({ jobTimeoutSeconds: 1 });
    const reasons: unknown[] = [];
    let done = false;
    await queue.work(
      async (job) => {
        if (job.attempt === 1) {
          await new Promise<void>((resolve) => job.signal.addEventListener('abort', () => resolve(), { once: true }));
          reasons.push(job.signal.reason);
          throw job.signal.reason;
        }
        done = true;
      },
      { concurrency: 1 },
    );
    await queue.enqueue({ kind: 'slow', key: 'z', payload: {} });
    await waitUntil('retried after timeout', () => done);
    expect(reasons[0]).toBeInstanceOf(JobTimeoutError);
  });

  it('keeps a job that was running when the queue stopped, and runs it after a restart', async () => {
    const { queue, reopen } = await start();
    let started = false;
    await queue.work(
      async (job) => {
        started = true;
        await new Promise<void>((resolve) => job.signal.addEventListener('abort', () => resolve(), { once: true }));
        throw job.signal.reason;
      },
      { concurrency: 1 },
    );
    await queue.enqueue({ kind: 'long', key: 'w', payload: { v: 42 } });
    await waitUntil('started', () => started);
    await queue.stop();
    open.splice(open.indexOf(queue), 1);

    const again = await reopen();
    open.push(again);
    const seen: QueueJob[] = [];
    await again.work(
      async (job) => {
        seen.push(job);
      },
      { concurrency: 1 },
    );
    await waitUntil('ran after restart', () => seen.length > 0);
    expect(seen[0]).toMatchObject({ kind: 'long', key: 'w', payload: { v: 42 }, attempt: 2 });
  });
});
