// The queue on PostgreSQL, for several web and worker processes: pg-boss (v10) stores, fetches (SKIP LOCKED),
// retries with exponential backoff and expires jobs. Two things pg-boss v10 does not give us are added here with
// PostgreSQL session advisory locks, which the server releases by itself when a worker's connection dies:
// - per-key serialisation without head-of-line blocking (its 'singleton' policy fails the whole fetch when the
//   oldest job's key is busy, stalling every other key): a job holds `key:<key>` while it runs; a job whose key is
//   busy waits for it, then is retried if it waited too long;
// - fast recovery from a killed worker: a job holds `job:<id>` from fetch to end; a sweeper fails (→ retry) active
//   jobs whose job lock is free, instead of waiting for pg-boss's expiry (the job timeout, e.g. 30 minutes).
import { createHash, randomUUID } from 'node:crypto';
import pg from 'pg';
import PgBoss from 'pg-boss';
import { z } from 'zod';
import type { SqlExecutor } from '../store/sql.js';
import type { StoreTx } from '../store/types.js';
import { acceptIntoPgBoss } from './pg-boss-accept.js';
import { ABORT_GRACE_MS, errorMessage, runWithTimeout } from './run-job.js';
import {
  DEFAULT_QUEUE_OPTIONS,
  type DeliveryBatch,
  type EnqueueJob,
  type EnqueueOptions,
  type JobHandler,
  PermanentJobError,
  type Queue,
  type QueueDepth,
  type QueueOptions,
  type WorkOptions,
} from './types.js';

const QUEUE = 'infra-agent-jobs';
const SCHEMA = 'pgboss';

export interface PgBossQueueOptions extends Partial<QueueOptions> {
  databaseUrl: string;
  /**
   * The store's executor on the same database: with it the queue takes a webhook batch (delivery ids and their jobs)
   * in one statement (acceptDeliveries); without it the delivery writer uses a store transaction.
   */
  sql?: SqlExecutor;
  /** How long a job may wait for its key before it is retried later (default: the job timeout). */
  keyWaitSeconds?: number;
  /** How often active jobs are checked for a dead worker (default 15 s). */
  sweepIntervalSeconds?: number;
  /** An active job is only checked once it started this long ago (default 30 s). */
  orphanAfterSeconds?: number;
  /** pg-boss's own maintenance (expiry, archiving) interval (default 60 s). */
  maintenanceIntervalSeconds?: number;
  /** Errors of pg-boss's background work (it must not crash the process). */
  onError?: (err: Error) => void;
}

const JobData = z.object({ kind: z.string(), key: z.string(), payload: z.record(z.string(), z.unknown()) });

/** A stable job id for an idempotency key: pg-boss ignores an insert whose id exists. */
export function jobIdFor(idempotencyKey: string): string {
  const h = createHash('sha256').update(`infra-agent-job:${idempotencyKey}`).digest('hex');
  // Shaped as a version-8 (custom) UUID, which is what pg-boss's uuid column and validation accept.
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-8${h.slice(13, 16)}-${((Number.parseInt(h.slice(16, 18), 16) & 0x3f) | 0x80).toString(16)}${h.slice(18, 20)}-${h.slice(20, 32)}`;
}

/** pg-boss's `db` option: run its statement in the caller's store transaction (same database), so the job commits
 * with the delivery or run it belongs to. */
function inTx(tx: StoreTx | undefined): { db?: PgBoss.Db } {
  if (!tx) return {};
  return {
    db: { executeSql: async (text: string, values: unknown[]) => ({ rows: await tx.sql.query(text, values) }) },
  };
}

const lockId = (kind: 'job' | 'key', value: string) => `infra-agent-${kind}:${value}`;

export async function createPgBossQueue(options: PgBossQueueOptions): Promise<Queue> {
  const opts: QueueOptions = { ...DEFAULT_QUEUE_OPTIONS, pollIntervalSeconds: 2, ...options };
  const keyWaitSeconds = options.keyWaitSeconds ?? opts.jobTimeoutSeconds;
  const onError = options.onError ?? (() => {});
  const boss = new PgBoss({
    connectionString: options.databaseUrl,
    schema: SCHEMA,
    max: 4,
    supervise: true,
    maintenanceIntervalSeconds: options.maintenanceIntervalSeconds ?? 60,
  });
  boss.on('error', (err) => onError(err));
  await boss.start();
  await boss.createQueue(QUEUE, {
    name: QUEUE,
    policy: 'standard',
    retryLimit: Math.max(0, opts.maxAttempts - 1),
    retryDelay: opts.retryDelaySeconds,
    retryBackoff: true,
    // pg-boss's own expiry is the last resort behind our timeout (and the sweeper): it must not fire first.
    expireInSeconds: Math.min(24 * 3600 - 1, opts.jobTimeoutSeconds + keyWaitSeconds + ABORT_GRACE_MS / 1000 + 60),
  });

  // Connections that hold the advisory locks of running jobs (one per job, plus the sweeper's), sized by work();
  // and one for depth(), which web processes call without ever working.
  let lockPool: pg.Pool | undefined;
  let statsPool: pg.Pool | undefined;
  const newPool = (max: number) => {
    const p = new pg.Pool({ connectionString: options.databaseUrl, max });
    p.on('error', (err) => onError(err));
    return p;
  };
  const running = new Map<string, AbortController>();
  let stopping = false;
  let sweeper: NodeJS.Timeout | undefined;

  async function waitForKey(client: pg.PoolClient, key: string, signal: AbortSignal): Promise<boolean> {
    const deadline = Date.now() + keyWaitSeconds * 1000;
    for (;;) {
      const res = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock(hashtextextended($1, 0)) AS ok', [
        lockId('key', key),
      ]);
      if (res.rows[0]?.ok) return true;
      if (signal.aborted || Date.now() > deadline) return false;
      await new Promise((r) => setTimeout(r, 500));
    }
  }

  async function runOne(locks: pg.Pool, handler: JobHandler, job: PgBoss.JobWithMetadata<unknown>): Promise<void> {
    const parsed = JobData.safeParse(job.data);
    if (!parsed.success) {
      onError(new Error(`job ${job.id} has malformed data; cancelled: ${parsed.error.message}`));
      await boss.cancel(QUEUE, job.id);
      return;
    }
    const data = parsed.data;
    const controller = new AbortController();
    running.set(job.id, controller);
    const client = await locks.connect();
    let broken = false;
    try {
      await client.query('SELECT pg_advisory_lock(hashtextextended($1, 0))', [lockId('job', job.id)]);
      if (!(await waitForKey(client, data.key, controller.signal))) {
        throw new Error(`another job for ${data.key} is still running: retried later`);
      }
      await runWithTimeout(
        handler,
        {
          id: job.id,
          kind: data.kind,
          key: data.key,
          payload: data.payload,
          attempt: job.retryCount + 1,
          lastAttempt: job.retryCount >= job.retryLimit,
        },
        controller,
        opts.jobTimeoutSeconds * 1000,
      );
    } catch (err) {
      if (err instanceof PermanentJobError) {
        // pg-boss retries every failure while retries remain; cancelling is how a job ends for good.
        await boss.cancel(QUEUE, job.id);
        return;
      }
      throw new Error(errorMessage(err));
    } finally {
      running.delete(job.id);
      try {
        await client.query('SELECT pg_advisory_unlock_all()');
      } catch {
        broken = true;
      }
      // A connection whose locks could not be released is closed: the server then releases them.
      client.release(broken);
    }
  }

  async function sweep(locks: pg.Pool): Promise<void> {
    const rows = await locks.query<{ id: string }>(
      `SELECT id::text AS id FROM ${SCHEMA}.job
        WHERE name = $1 AND state = 'active' AND started_on < now() - $2::int * interval '1 second'`,
      [QUEUE, options.orphanAfterSeconds ?? 30],
    );
    if (rows.rows.length === 0) return;
    const client = await locks.connect();
    try {
      for (const { id } of rows.rows) {
        if (running.has(id)) continue;
        const res = await client.query<{ free: boolean }>(
          'SELECT pg_try_advisory_lock(hashtextextended($1, 0)) AS free',
          [lockId('job', id)],
        );
        if (!res.rows[0]?.free) continue;
        await client.query('SELECT pg_advisory_unlock(hashtextextended($1, 0))', [lockId('job', id)]);
        // Nobody holds the job: its worker died. Failing it puts it back with backoff (or fails it for good).
        await boss.fail(QUEUE, id, { message: 'worker lost: it died while running the job' });
      }
    } finally {
      client.release();
    }
  }

  const acceptSql = options.sql;
  return {
    driver: 'pg-boss',
    async enqueue(job: EnqueueJob, options: EnqueueOptions = {}) {
      const id = job.idempotencyKey ? jobIdFor(job.idempotencyKey) : randomUUID();
      const tx = options.tx;
      const sent = await boss.send(QUEUE, { kind: job.kind, key: job.key, payload: job.payload }, { id, ...inTx(tx) });
      return sent ?? id;
    },
    ...(acceptSql
      ? {
          acceptDeliveries: (batch: DeliveryBatch) =>
            acceptIntoPgBoss(
              acceptSql,
              QUEUE,
              batch.map((b) => ({
                delivery: b.delivery,
                jobs: b.jobs.map((job) => ({
                  id: job.idempotencyKey ? jobIdFor(job.idempotencyKey) : randomUUID(),
                  data: { kind: job.kind, key: job.key, payload: job.payload },
                })),
              })),
            ),
        }
      : {}),
    async enqueueMany(jobs: readonly EnqueueJob[], options: EnqueueOptions = {}) {
      if (jobs.length === 0) return;
      // pg-boss's batch insert: one statement, the queue's retry and expiry settings as for send(), and an existing
      // id (the idempotency key's) skipped.
      await boss.insert(
        jobs.map((job) => ({
          id: job.idempotencyKey ? jobIdFor(job.idempotencyKey) : randomUUID(),
          name: QUEUE,
          data: { kind: job.kind, key: job.key, payload: job.payload },
        })),
        inTx(options.tx),
      );
    },
    async work(handler: JobHandler, { concurrency }: WorkOptions) {
      if (stopping) throw new Error('the queue is stopped');
      if (lockPool) throw new Error('work() was already called on this queue');
      const locks = newPool(Math.max(1, concurrency) + 1);
      lockPool = locks;
      // One pg-boss worker per slot, one job per fetch: pg-boss v10 runs a fetched batch as a unit.
      for (let i = 0; i < Math.max(1, concurrency); i++) {
        await boss.work(
          QUEUE,
          { batchSize: 1, includeMetadata: true, pollingIntervalSeconds: Math.max(0.5, opts.pollIntervalSeconds) },
          async (jobs) => {
            for (const job of jobs) await runOne(locks, handler, job);
          },
        );
      }
      sweeper ??= setInterval(
        () => {
          void sweep(locks).catch((err: unknown) => onError(err instanceof Error ? err : new Error(String(err))));
        },
        (options.sweepIntervalSeconds ?? 15) * 1000,
      );
    },
    async depth(): Promise<QueueDepth> {
      statsPool ??= newPool(1);
      const res = await statsPool.query<{ state: string; count: number }>(
        `SELECT state::text AS state, count(*)::int AS count FROM ${SCHEMA}.job WHERE name = $1 GROUP BY state`,
        [QUEUE],
      );
      const n = (s: string) => res.rows.find((r) => r.state === s)?.count ?? 0;
      return { queued: n('created') + n('retry'), active: n('active'), failed: n('failed') + n('cancelled') };
    },
    async stop() {
      if (stopping) return;
      stopping = true;
      clearInterval(sweeper);
      for (const c of running.values()) c.abort(new Error('the queue is stopping'));
      await boss.stop({ graceful: true, wait: true, timeout: ABORT_GRACE_MS + 5_000 });
      await lockPool?.end();
      await statsPool?.end();
    },
  };
}
