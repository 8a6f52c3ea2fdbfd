// The web role's durable write, on both deployments (embedded PGlite + its queue; PostgreSQL + pg-boss): a delivery
// is acknowledged only once its id and its job are committed (read back from ANOTHER connection at the moment the
// promise resolves), deliveries arriving together share one transaction, a store failure before the ack leaves
// nothing behind so GitHub's redelivery is accepted and enqueued exactly once, and one bad delivery does not fail
// the others it was batched with.
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createDeliveryWriter, type DeliveryWriter } from '../../src/queue/delivery-writer.js';
import { createEmbeddedQueue } from '../../src/queue/embedded-queue.js';
import { createPgBossQueue, jobIdFor } from '../../src/queue/pg-boss-queue.js';
import type { EnqueueJob, Queue, QueueJob } from '../../src/queue/types.js';
import { createStore } from '../../src/store/create-store.js';
import type { SqlDriver, SqlExecutor } from '../../src/store/sql.js';
import type { SqlStore } from '../../src/store/sql-store.js';
import { storeFaults } from '../helpers/faulty-store.js';
import { postgresMissing, requirePostgres, startPostgres, type TestPostgres } from '../helpers/postgres.js';

interface Backend {
  store: SqlStore;
  queue: Queue;
  writer: DeliveryWriter;
  faults: ReturnType<typeof storeFaults>;
  /** Statements that recorded delivery ids (one per write). */
  writes(): number;
  /** Read from a connection of its own (PostgreSQL: a new client, so only committed rows are seen). */
  deliveryStored(id: string): Promise<boolean>;
  jobsFor(id: string): Promise<number>;
  /** The statement that writes jobs, for fault rules. */
  jobInsert: RegExp;
  close(): Promise<void>;
}

const Count = z.object({ n: z.coerce.number() });
let server: TestPostgres | undefined;
let dbCount = 0;
afterAll(async () => {
  await server?.stop();
});

type Kind = 'embedded' | 'pg-boss, one transaction' | 'pg-boss, one statement';

async function open(kind: Kind): Promise<Backend> {
  const faults = storeFaults();
  let writes = 0;
  const counting = (exec: SqlExecutor): SqlExecutor => ({
    query(sql, params) {
      if (/INSERT INTO webhook_deliveries/.test(sql)) writes += 1;
      return exec.query(sql, params);
    },
  });
  const wrapDriver = (driver: SqlDriver): SqlDriver => {
    const faulty = faults.wrap(driver);
    return {
      ...faulty,
      query: (sql, params) => counting(faulty).query(sql, params),
      transaction: (fn) => faulty.transaction((tx) => fn(counting(tx))),
    };
  };
  if (kind === 'embedded') {
    const store = await createStore({ dataDir: 'memory://', wrapDriver });
    const queue = await createEmbeddedQueue(store, {});
    const count = async (sql: string, id: string) => Count.parse((await store.sql.query(sql, [id]))[0]).n;
    return {
      store,
      queue,
      writer: createDeliveryWriter(store, queue),
      faults,
      writes: () => writes,
      deliveryStored: async (id) => (await count('SELECT count(*) AS n FROM webhook_deliveries WHERE id = $1', id)) > 0,
      jobsFor: (id) => count('SELECT count(*) AS n FROM jobs WHERE idempotency_key = $1', `delivery:${id}:intake`),
      jobInsert: /INSERT INTO (jobs|webhook_deliveries)/,
      async close() {
        await queue.stop();
        await store.close();
      },
    };
  }
  server ??= await startPostgres();
  const databaseUrl = await server.createDatabase(`writer_${++dbCount}`);
  const store = await createStore({ databaseUrl, wrapDriver });
  // As the server wires it (the store's executor: one statement per batch), and without (a store transaction).
  const queue = await createPgBossQueue({
    databaseUrl,
    pollIntervalSeconds: 0.5,
    ...(kind === 'pg-boss, one statement' ? { sql: store.sql } : {}),
  });
  const reader = new pg.Pool({ connectionString: databaseUrl, max: 2 });
  const count = async (sql: string, id: string) => Count.parse((await reader.query(sql, [id])).rows[0]).n;
  return {
    store,
    queue,
    writer: createDeliveryWriter(store, queue),
    faults,
    writes: () => writes,
    deliveryStored: async (id) => (await count('SELECT count(*) AS n FROM webhook_deliveries WHERE id = $1', id)) > 0,
    jobsFor: (id) =>
      count('SELECT count(*) AS n FROM pgboss.job WHERE id = $1::uuid', jobIdFor(`delivery:${id}:intake`)),
    jobInsert: /INSERT INTO pgboss\.job/,
    async close() {
      await queue.stop();
      await store.close();
      await reader.end();
    },
  };
}

function intake(id: string, n: number, payload: Record<string, unknown> = { n }): EnqueueJob {
  return { kind: 'intake', key: `acme/infra#${n}:intake`, payload, idempotencyKey: `delivery:${id}:intake` };
}

const kinds: Kind[] = ['embedded'];
if (!postgresMissing()) kinds.push('pg-boss, one transaction', 'pg-boss, one statement');
else requirePostgres('delivery writer on PostgreSQL + pg-boss');

describe.each(kinds)('delivery writer (%s)', (kind) => {
  it('acks a delivery only once its id and job are committed, and batches deliveries that arrive together', {
    timeout: 120_000,
  }, async () => {
    const b = await open(kind);
    try {
      const ids = Array.from({ length: 40 }, () => randomUUID());
      const seenAtAck: { stored: boolean; jobs: number }[] = [];
      await Promise.all(
        ids.map((id, n) =>
          b.writer.accept({ id, event: 'issues.labeled' }, [intake(id, n)]).then(async (accepted) => {
            expect(accepted).toBe(true);
            // At the moment of the ack, another connection sees both rows: the write was committed first.
            seenAtAck.push({ stored: await b.deliveryStored(id), jobs: await b.jobsFor(id) });
          }),
        ),
      );
      expect(seenAtAck).toHaveLength(40);
      expect(seenAtAck.every((s) => s.stored && s.jobs === 1)).toBe(true);
      // 40 deliveries, not 40 writes: they go together once the event-loop turn that handed them over is done.
      expect(b.writes()).toBeGreaterThanOrEqual(1);
      expect(b.writes()).toBeLessThanOrEqual(4);
    } finally {
      await b.close();
    }
  });

  it('deliveries handled in separate callbacks of one event-loop turn share one write', {
    timeout: 120_000,
  }, async () => {
    // As requests read together arrive: each in its own callback, not in one synchronous loop. The first used to be
    // written alone at once (on the embedded store PGlite then held the thread, so under load every write was one
    // delivery); the batch now starts after the turn, with all of them.
    const b = await open(kind);
    try {
      const before = b.writes();
      const ids = Array.from({ length: 12 }, () => randomUUID());
      const accepted = await Promise.all(
        ids.map(
          (id, n) =>
            new Promise<boolean>((resolve, reject) =>
              setImmediate(() =>
                b.writer.accept({ id, event: 'issues.labeled' }, [intake(id, n)]).then(resolve, reject),
              ),
            ),
        ),
      );
      expect(accepted).toEqual(ids.map(() => true));
      expect(b.writes() - before).toBe(1);
    } finally {
      await b.close();
    }
  });

  it('a redelivery (same id, in the same batch or later) is refused and enqueues nothing more', {
    timeout: 120_000,
  }, async () => {
    const b = await open(kind);
    try {
      const id = randomUUID();
      const first = await Promise.all([
        b.writer.accept({ id, event: 'issues.labeled' }, [intake(id, 1)]),
        b.writer.accept({ id, event: 'issues.labeled' }, [intake(id, 1)]),
        b.writer.accept({ id, event: 'issues.labeled' }, [intake(id, 1)]),
      ]);
      expect(first.filter(Boolean)).toHaveLength(1);
      expect(await b.writer.accept({ id, event: 'issues.labeled' }, [intake(id, 1)])).toBe(false);
      expect(await b.jobsFor(id)).toBe(1);
    } finally {
      await b.close();
    }
  });

  it('a store failure before the ack loses nothing: every delivery is refused, nothing is left, the redelivery runs once', {
    timeout: 120_000,
  }, async () => {
    const b = await open(kind);
    try {
      const ids = Array.from({ length: 10 }, () => randomUUID());
      b.faults.add({ sql: b.jobInsert, times: 1_000 });
      const results = await Promise.allSettled(
        ids.map((id, n) => b.writer.accept({ id, event: 'issues.labeled' }, [intake(id, n)])),
      );
      expect(results.map((r) => r.status)).toEqual(ids.map(() => 'rejected'));
      for (const id of ids) expect(await b.deliveryStored(id)).toBe(false);
      // The store is back; GitHub redelivers each (same id): accepted and enqueued exactly once.
      b.faults.clear();
      const again = await Promise.all(
        ids.map((id, n) => b.writer.accept({ id, event: 'issues.labeled' }, [intake(id, n)])),
      );
      expect(again).toEqual(ids.map(() => true));
      for (const id of ids) expect(await b.jobsFor(id)).toBe(1);
      // And the jobs are the queue's own: a worker takes every one of them.
      const ran: QueueJob[] = [];
      await b.queue.work(
        async (job) => {
          ran.push(job);
        },
        { concurrency: 2 },
      );
      const until = Date.now() + 60_000;
      while (ran.length < ids.length && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
      expect(ran.map((j) => j.kind)).toEqual(ids.map(() => 'intake'));
      expect(ran.map((j) => Number(j.payload['n'])).sort((x, y) => x - y)).toEqual(ids.map((_, n) => n));
    } finally {
      await b.close();
    }
  });

  it('one delivery the store cannot take fails alone, not the others batched with it', {
    timeout: 120_000,
  }, async () => {
    const b = await open(kind);
    try {
      const ids = Array.from({ length: 6 }, () => randomUUID());
      // PostgreSQL's jsonb refuses a NUL character: a payload that can never be stored.
      const results = await Promise.allSettled(
        ids.map((id, n) =>
          b.writer.accept({ id, event: 'issues.labeled' }, [intake(id, n, n === 3 ? { body: 'a\u0000b' } : { n })]),
        ),
      );
      expect(results.map((r) => r.status)).toEqual(ids.map((_, n) => (n === 3 ? 'rejected' : 'fulfilled')));
      for (const [n, id] of ids.entries()) {
        expect(await b.deliveryStored(id)).toBe(n !== 3);
        expect(await b.jobsFor(id)).toBe(n === 3 ? 0 : 1);
      }
    } finally {
      await b.close();
    }
  });
});
