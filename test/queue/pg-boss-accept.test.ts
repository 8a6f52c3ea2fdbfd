// The web role's one-statement write on PostgreSQL inserts pg-boss job rows itself (src/queue/pg-boss-accept.ts).
// Those rows must be what pg-boss's own insert writes for the same job: every column compared with a row boss.insert
// wrote in the same database (the times as offsets from start_after), so a pg-boss upgrade that changes its insert
// fails here, not in production. And a job written this way is fetched and run by a pg-boss worker.
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { acceptIntoPgBoss } from '../../src/queue/pg-boss-accept.js';
import { createPgBossQueue, jobIdFor } from '../../src/queue/pg-boss-queue.js';
import type { QueueJob } from '../../src/queue/types.js';
import { createStore } from '../../src/store/create-store.js';
import { postgresMissing, requirePostgres, startPostgres, type TestPostgres } from '../helpers/postgres.js';

let server: TestPostgres | undefined;
afterAll(async () => {
  await server?.stop();
});

const COLUMNS = `name, priority, data, state, retry_limit, retry_count, retry_delay, retry_backoff, singleton_key,
  singleton_on, expire_in, dead_letter, policy, started_on, completed_on, output,
  extract(epoch FROM start_after - created_on)::int AS start_offset,
  extract(epoch FROM keep_until - start_after)::int AS keep_for`;

if (postgresMissing()) requirePostgres('the pg-boss one-statement write');

describe.skipIf(postgresMissing())('pg-boss rows written in one statement', () => {
  it('have every column pg-boss’s own insert gives the same job, and a worker runs them', {
    timeout: 120_000,
  }, async () => {
    server ??= await startPostgres();
    const databaseUrl = await server.createDatabase('accept_parity');
    const store = await createStore({ databaseUrl });
    const queue = await createPgBossQueue({ databaseUrl, pollIntervalSeconds: 0.5, sql: store.sql });
    const reader = new pg.Client({ connectionString: databaseUrl });
    await reader.connect();
    try {
      const data = { kind: 'intake', key: 'acme/infra#1:intake', payload: { n: 1 } };
      await queue.enqueueMany([{ ...data, idempotencyKey: 'theirs' }]);
      const fresh = await acceptIntoPgBoss(store.sql, 'infra-agent-jobs', [
        { delivery: { id: 'd-1', event: 'issues.labeled' }, jobs: [{ id: jobIdFor('ours'), data }] },
        // The same delivery id again in the batch: one delivery, its first jobs only.
        { delivery: { id: 'd-1', event: 'issues.labeled' }, jobs: [{ id: jobIdFor('second'), data }] },
      ]);
      expect([...fresh]).toEqual(['d-1']);
      const row = async (id: string) =>
        (await reader.query(`SELECT ${COLUMNS} FROM pgboss.job WHERE id = $1::uuid`, [id])).rows;
      const theirs = await row(jobIdFor('theirs'));
      const ours = await row(jobIdFor('ours'));
      expect(theirs).toHaveLength(1);
      expect(ours).toEqual(theirs);
      expect(await row(jobIdFor('second'))).toEqual([]);

      // A redelivery enqueues nothing.
      const again = await acceptIntoPgBoss(store.sql, 'infra-agent-jobs', [
        { delivery: { id: 'd-1', event: 'issues.labeled' }, jobs: [{ id: jobIdFor(randomUUID()), data }] },
      ]);
      expect(again.size).toBe(0);
      expect(Number((await reader.query('SELECT count(*) AS n FROM pgboss.job')).rows[0].n)).toBe(2);

      const seen: QueueJob[] = [];
      await queue.work(
        async (job) => {
          seen.push(job);
        },
        { concurrency: 1 },
      );
      const until = Date.now() + 60_000;
      while (seen.length < 2 && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
      expect(seen.map((j) => j.key)).toEqual([data.key, data.key]);
      expect(seen.map((j) => j.payload)).toEqual([data.payload, data.payload]);
    } finally {
      await reader.end();
      await queue.stop();
      await store.close();
    }
  });
});
