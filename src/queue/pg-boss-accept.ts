// The web role's whole webhook write on PostgreSQL in ONE statement (atomic without BEGIN/COMMIT, one round trip):
// record the delivery ids and insert the pg-boss job rows of the new ones — an id given twice counts once, with its
// first jobs. pg-boss's own insert (boss.insert) would need a transaction around it and the delivery insert, i.e.
// four round trips per batch, and its statement costs twice this one per row (bench/ingest.ts). The rows are written
// as pg-boss 10's insert writes a job sent with no options: every setting comes from the queue's row (retry limit,
// delay and backoff, expiry, retention, policy, dead letter), with pg-boss's own fallbacks. That parity is a test
// (test/queue/pg-boss-accept.test.ts compares every column with a row boss.insert wrote), and pg-boss is pinned.
import type { SqlExecutor } from '../store/sql.js';
import { acceptDeliveriesWith } from '../store/sql-jobs.js';

export interface AcceptInput {
  delivery: { id: string; event: string };
  /** pg-boss job ids (jobIdFor the idempotency key) and their data. */
  jobs: readonly { id: string; data: unknown }[];
}

/**
 * pg-boss 10's job columns for a job sent without options, from its insertJobs statement (plans.js); reads the CTE
 * `firsts` of acceptDeliveriesWith, $2 is the queue's name.
 */
export const INSERT_PG_BOSS_JOBS = `INSERT INTO pgboss.job (id, name, data, priority, start_after, singleton_key, singleton_on,
                            dead_letter, expire_in, keep_until, retry_limit, retry_delay, retry_backoff, policy)
    SELECT j.id, q.name, j.data, 0, now(), NULL, NULL, q.dead_letter,
      CASE WHEN q.expire_seconds IS NOT NULL THEN q.expire_seconds * interval '1s' ELSE interval '15 minutes' END,
      now() + CAST(COALESCE((q.retention_minutes * 60)::text, '14 days') AS interval),
      COALESCE(q.retry_limit, 2),
      CASE WHEN COALESCE(q.retry_backoff, false) THEN GREATEST(q.retry_delay, 1) ELSE COALESCE(q.retry_delay, 0) END,
      COALESCE(q.retry_backoff, false),
      q.policy
    FROM firsts, jsonb_to_recordset(firsts.jobs) AS j (id uuid, data jsonb), pgboss.queue q
    WHERE q.name = $2
    ON CONFLICT DO NOTHING`;

export function acceptIntoPgBoss(db: SqlExecutor, queue: string, batch: readonly AcceptInput[]): Promise<Set<string>> {
  return acceptDeliveriesWith(
    db,
    batch.map((b) => ({ ...b.delivery, jobs: b.jobs })),
    (job) => job,
    INSERT_PG_BOSS_JOBS,
    [queue],
  );
}
