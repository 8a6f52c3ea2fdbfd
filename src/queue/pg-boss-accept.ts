// The web role's whole webhook write on PostgreSQL in ONE statement (atomic without BEGIN/COMMIT, one round trip):
// record the delivery ids and insert the pg-boss job rows of the new ones — an id given twice counts once, with its
// first jobs. pg-boss's own insert (boss.insert) would need a transaction around it and the delivery insert, i.e.
// four round trips per batch, and its statement costs twice this one per row (bench/ingest.ts). The rows are written
// as pg-boss 10's insert writes a job sent with no options: every setting comes from the queue's row (retry limit,
// delay and backoff, expiry, retention, policy, dead letter), with pg-boss's own fallbacks. That parity is a test
// (test/queue/pg-boss-accept.test.ts compares every column with a row boss.insert wrote), and pg-boss is pinned.
import { z } from 'zod';
import type { SqlExecutor } from '../store/sql.js';

const IdRow = z.object({ id: z.string() });

export interface AcceptInput {
  delivery: { id: string; event: string };
  /** pg-boss job ids (jobIdFor the idempotency key) and their data. */
  jobs: readonly { id: string; data: unknown }[];
}

/** pg-boss 10's job columns for a job sent without options, from its insertJobs statement (plans.js). */
export const ACCEPT_SQL = `WITH input AS (
    SELECT d.ord, d.id, d.event, d.jobs FROM jsonb_to_recordset($1::jsonb) AS d (ord int, id text, event text, jobs jsonb)
  ), fresh AS (
    INSERT INTO webhook_deliveries (id, event)
    SELECT DISTINCT ON (id) id, event FROM input ORDER BY id, ord
    ON CONFLICT (id) DO NOTHING RETURNING id
  ), firsts AS (
    SELECT DISTINCT ON (i.id) i.id, i.jobs FROM input i JOIN fresh f ON f.id = i.id ORDER BY i.id, i.ord
  ), queued AS (
    INSERT INTO pgboss.job (id, name, data, priority, start_after, singleton_key, singleton_on, dead_letter, expire_in,
                            keep_until, retry_limit, retry_delay, retry_backoff, policy)
    SELECT j.id, q.name, j.data, 0, now(), NULL, NULL, q.dead_letter,
      CASE WHEN q.expire_seconds IS NOT NULL THEN q.expire_seconds * interval '1s' ELSE interval '15 minutes' END,
      now() + CAST(COALESCE((q.retention_minutes * 60)::text, '14 days') AS interval),
      COALESCE(q.retry_limit, 2),
      CASE WHEN COALESCE(q.retry_backoff, false) THEN GREATEST(q.retry_delay, 1) ELSE COALESCE(q.retry_delay, 0) END,
      COALESCE(q.retry_backoff, false),
      q.policy
    FROM firsts, jsonb_to_recordset(firsts.jobs) AS j (id uuid, data jsonb), pgboss.queue q
    WHERE q.name = $2
    ON CONFLICT DO NOTHING
  )
  SELECT id FROM fresh`;

export async function acceptIntoPgBoss(
  db: SqlExecutor,
  queue: string,
  batch: readonly AcceptInput[],
): Promise<Set<string>> {
  if (batch.length === 0) return new Set();
  const input = batch.map((b, ord) => ({ ord, id: b.delivery.id, event: b.delivery.event, jobs: b.jobs }));
  const rows = await db.query(ACCEPT_SQL, [JSON.stringify(input), queue]);
  return new Set(rows.map((r) => IdRow.parse(r).id));
}
