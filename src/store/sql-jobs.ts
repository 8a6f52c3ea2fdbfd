// The embedded queue's jobs table and the webhook delivery ids on SQL: record a delivery once, enqueue a job once
// per idempotency key, claim (one active job per key), complete, fail (retry or give up), extend and reap leases,
// count, and purge old deliveries and finished jobs.
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { Row, SqlDriver, SqlExecutor } from './sql.js';
import { date, first, int, iso, json, nullableDate } from './sql-rows.js';
import type { JobRecord, JobState, NewJob } from './types.js';

const JOB_STATES = ['queued', 'active', 'completed', 'failed'] as const satisfies readonly JobState[];

const JobRow = z.object({
  id: z.string(),
  kind: z.string(),
  key: z.string(),
  payload: json,
  state: z.enum(JOB_STATES),
  attempt: int,
  max_attempts: int,
  run_after: date,
  locked_until: nullableDate,
  worker_id: z.string().nullable(),
  last_error: z.string().nullable(),
  idempotency_key: z.string().nullable(),
  created_at: date,
  updated_at: date,
});

function toJob(row: Row): JobRecord {
  const r = JobRow.parse(row);
  return {
    id: r.id,
    kind: r.kind,
    key: r.key,
    payload: r.payload,
    state: r.state,
    attempt: r.attempt,
    maxAttempts: r.max_attempts,
    runAfter: r.run_after,
    lockedUntil: r.locked_until,
    workerId: r.worker_id,
    lastError: r.last_error,
    idempotencyKey: r.idempotency_key,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

/** A row holding only an id (hoisted: zod compiles a schema when it is built, which is not free per row). */
const IdRow = z.object({ id: z.string() });

/** Arbitrary constant: serialises embedded-queue claims so two claimers never pick two jobs of one key. */
const CLAIM_LOCK = 7_245_002;

export async function recordDelivery(db: SqlExecutor, id: string, event: string): Promise<boolean> {
  const rows = await db.query(
    'INSERT INTO webhook_deliveries (id, event) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING RETURNING id',
    [id, event],
  );
  return rows.length > 0;
}

export async function recordDeliveries(
  db: SqlExecutor,
  deliveries: readonly { id: string; event: string }[],
): Promise<Set<string>> {
  if (deliveries.length === 0) return new Set();
  // One statement whatever the batch size: the ids travel as one JSON parameter. A batch holding one id twice
  // inserts it once (DO NOTHING also covers conflicts inside the statement) and returns it once.
  const rows = await db.query(
    `INSERT INTO webhook_deliveries (id, event)
     SELECT d.id, d.event FROM jsonb_to_recordset($1::jsonb) AS d (id text, event text)
     ON CONFLICT (id) DO NOTHING RETURNING id`,
    [JSON.stringify(deliveries.map((d) => ({ id: d.id, event: d.event })))],
  );
  return new Set(rows.map((r) => IdRow.parse(r).id));
}

/** A job as the jobs table's JSON input takes it. */
function jobInput(j: NewJob) {
  return {
    id: randomUUID(),
    kind: j.kind,
    key: j.key,
    payload: j.payload,
    max_attempts: j.maxAttempts,
    idempotency_key: j.idempotencyKey ?? null,
  };
}

/** Inserts the jobs of `source` (a relation with a `jobs` jsonb column of jobInput objects) into the jobs table. */
const INSERT_JOBS = (source: string) => `INSERT INTO jobs (id, kind, key, payload, state, max_attempts, idempotency_key)
       SELECT j.id, j.kind, j.key, j.payload, 'queued', j.max_attempts, j.idempotency_key
         FROM ${source}, jsonb_to_recordset(${source}.jobs)
           AS j (id text, kind text, key text, payload jsonb, max_attempts int, idempotency_key text)
       ON CONFLICT (idempotency_key) DO NOTHING`;

/**
 * A whole webhook write in ONE statement (atomic without BEGIN/COMMIT): record the delivery ids, and enqueue the jobs
 * of those that were new — an id given twice counts once, with its first jobs. Returns the new ids. `insertJobs` is
 * the queue's own insert, reading the CTE `firsts` (each new id and its `jobs`, as `toJobInput` made them); `params`
 * are its parameters from $2 on. The embedded queue inserts into the store's jobs table, pg-boss into its job table
 * (src/queue/pg-boss-accept.ts).
 */
export async function acceptDeliveriesWith<J>(
  db: SqlExecutor,
  batch: readonly { id: string; event: string; jobs: readonly J[] }[],
  toJobInput: (job: J) => unknown,
  insertJobs: string,
  params: readonly unknown[] = [],
): Promise<Set<string>> {
  if (batch.length === 0) return new Set();
  const input = batch.map((d, ord) => ({ ord, id: d.id, event: d.event, jobs: d.jobs.map(toJobInput) }));
  const rows = await db.query(
    `WITH input AS (
       SELECT d.ord, d.id, d.event, d.jobs FROM jsonb_to_recordset($1::jsonb) AS d (ord int, id text, event text, jobs jsonb)
     ), fresh AS (
       INSERT INTO webhook_deliveries (id, event)
       SELECT DISTINCT ON (id) id, event FROM input ORDER BY id, ord
       ON CONFLICT (id) DO NOTHING RETURNING id
     ), firsts AS (
       SELECT DISTINCT ON (i.id) i.id, i.jobs FROM input i JOIN fresh f ON f.id = i.id ORDER BY i.id, i.ord
     ), queued AS (
       ${insertJobs}
     )
     SELECT id FROM fresh`,
    [JSON.stringify(input), ...params],
  );
  return new Set(rows.map((r) => IdRow.parse(r).id));
}

/** The embedded deployment's webhook write: the delivery ids and the store's jobs table, in one statement. */
export function acceptDeliveries(
  db: SqlExecutor,
  batch: readonly { id: string; event: string; jobs: readonly NewJob[] }[],
): Promise<Set<string>> {
  return acceptDeliveriesWith(db, batch, jobInput, INSERT_JOBS('firsts'));
}

export async function enqueueJobs(db: SqlExecutor, jobs: readonly NewJob[]): Promise<void> {
  if (jobs.length === 0) return;
  await db.query(`WITH input AS (SELECT $1::jsonb AS jobs) ${INSERT_JOBS('input')}`, [
    JSON.stringify(jobs.map(jobInput)),
  ]);
}

export async function enqueueJob(db: SqlExecutor, job: NewJob): Promise<string> {
  const id = randomUUID();
  const inserted = await db.query(
    `INSERT INTO jobs (id, kind, key, payload, state, max_attempts, idempotency_key)
     VALUES ($1, $2, $3, $4::jsonb, 'queued', $5, $6) ON CONFLICT (idempotency_key) DO NOTHING RETURNING id`,
    [id, job.kind, job.key, JSON.stringify(job.payload), job.maxAttempts, job.idempotencyKey ?? null],
  );
  if (inserted.length > 0) return id;
  const existing = first(
    await db.query('SELECT id FROM jobs WHERE idempotency_key = $1', [job.idempotencyKey ?? null]),
  );
  return IdRow.parse(existing).id;
}

export async function claimJob(
  db: SqlDriver,
  workerId: string,
  lockMs: number,
  kinds?: string[],
): Promise<JobRecord | undefined> {
  return db.transaction(async (tx) => {
    // Without this, two claimers in READ COMMITTED could each see "no active job for key K" and both take one.
    await tx.query('SELECT pg_advisory_xact_lock($1)', [CLAIM_LOCK]);
    const row = first(
      await tx.query(
        `UPDATE jobs SET state = 'active', attempt = attempt + 1, worker_id = $1,
                locked_until = now() + $2::int * interval '1 millisecond', updated_at = now()
          WHERE id = (
            SELECT j.id FROM jobs j
             WHERE j.state = 'queued' AND j.run_after <= now()
               AND ($3::jsonb IS NULL OR j.kind IN (SELECT jsonb_array_elements_text($3::jsonb)))
               AND NOT EXISTS (SELECT 1 FROM jobs a WHERE a.key = j.key AND a.state = 'active')
             ORDER BY j.created_at, j.id
             LIMIT 1
             FOR UPDATE SKIP LOCKED)
          RETURNING *`,
        [workerId, Math.round(lockMs), kinds ? JSON.stringify(kinds) : null],
      ),
    );
    return row ? toJob(row) : undefined;
  });
}

export async function completeJob(db: SqlExecutor, id: string, workerId: string): Promise<boolean> {
  const rows = await db.query(
    `UPDATE jobs SET state = 'completed', locked_until = NULL, updated_at = now()
      WHERE id = $1 AND worker_id = $2 AND state = 'active' RETURNING id`,
    [id, workerId],
  );
  return rows.length > 0;
}

export async function failJob(
  db: SqlExecutor,
  id: string,
  workerId: string,
  error: string,
  retryAt: Date | null,
): Promise<boolean> {
  const rows = await db.query(
    `UPDATE jobs SET state = CASE WHEN $4::timestamptz IS NULL OR attempt >= max_attempts THEN 'failed' ELSE 'queued' END,
            run_after = COALESCE($4::timestamptz, run_after), last_error = $3, locked_until = NULL,
            worker_id = NULL, updated_at = now()
      WHERE id = $1 AND worker_id = $2 AND state = 'active' RETURNING id`,
    [id, workerId, error, retryAt && iso(retryAt)],
  );
  return rows.length > 0;
}

export async function extendJob(db: SqlExecutor, id: string, workerId: string, lockMs: number): Promise<boolean> {
  const rows = await db.query(
    `UPDATE jobs SET locked_until = now() + $3::int * interval '1 millisecond', updated_at = now()
      WHERE id = $1 AND worker_id = $2 AND state = 'active' RETURNING id`,
    [id, workerId, Math.round(lockMs)],
  );
  return rows.length > 0;
}

export async function reapJobs(db: SqlExecutor, options: { all?: boolean } = {}): Promise<string[]> {
  const rows = await db.query(
    `UPDATE jobs SET state = CASE WHEN attempt >= max_attempts THEN 'failed' ELSE 'queued' END,
            last_error = 'worker lost: the job was still active when its lock expired', locked_until = NULL,
            worker_id = NULL, run_after = now(), updated_at = now()
      WHERE state = 'active' AND ($1::boolean OR locked_until < now()) RETURNING id`,
    [options.all === true],
  );
  return rows.map((r) => IdRow.parse(r).id);
}

export async function getJob(db: SqlExecutor, id: string): Promise<JobRecord | undefined> {
  const row = first(await db.query('SELECT * FROM jobs WHERE id = $1', [id]));
  return row ? toJob(row) : undefined;
}

export async function countJobs(db: SqlExecutor): Promise<Record<JobState, number>> {
  const rows = await db.query('SELECT state, count(*)::int AS count FROM jobs GROUP BY state');
  const out: Record<JobState, number> = { queued: 0, active: 0, completed: 0, failed: 0 };
  for (const r of rows) {
    const c = z.object({ state: z.enum(JOB_STATES), count: int }).parse(r);
    out[c.state] = c.count;
  }
  return out;
}

export async function purgeHistory(
  db: SqlExecutor,
  before: { deliveries: Date; jobs: Date },
): Promise<{ deliveries: number; jobs: number }> {
  const deliveries = await db.query('DELETE FROM webhook_deliveries WHERE received_at < $1::timestamptz RETURNING id', [
    iso(before.deliveries),
  ]);
  const jobs = await db.query(
    `DELETE FROM jobs WHERE state IN ('completed', 'failed') AND updated_at < $1::timestamptz RETURNING id`,
    [iso(before.jobs)],
  );
  return { deliveries: deliveries.length, jobs: jobs.length };
}
