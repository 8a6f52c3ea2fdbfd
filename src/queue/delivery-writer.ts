// The web role's one durable write per webhook: record the delivery id (dedupe) and enqueue its jobs in ONE
// statement (the queue's acceptDeliveries: the embedded queue's and pg-boss's on the store's database; a store
// transaction for a queue without it), and under load many deliveries in that same write (group commit). A
// delivery's promise resolves only after the commit that holds it, so the ack GitHub gets always follows a durable
// write; a failed write rejects (GitHub gets a 500 and redelivers, or the App's redelivery sweep asks for it) and
// leaves nothing.
//
// Batching needs no timer: the first delivery is written at once; deliveries that arrive while a write is in flight
// wait for it and then go together in the next one. Idle, a delivery costs one write; under load the write's round
// trip and the commit's flush are shared by the whole batch. One write at a time is measured, not assumed: two in
// flight on PostgreSQL gave fewer deliveries per second (2,628 and 2,700/s vs 2,813 and 3,012/s, bench/ingest.ts
// conditions) — the server's CPU went up 50 → 80 % for smaller batches.
import type { Store } from '../store/types.js';
import type { EnqueueJob, Queue } from './types.js';

export interface Delivery {
  /** X-GitHub-Delivery. */
  id: string;
  /** `issues.labeled`… */
  event: string;
}

export interface DeliveryWriter {
  /**
   * Record the delivery and enqueue its jobs, durably, before resolving. False when the delivery id was recorded
   * before (a redelivery of something accepted: nothing is enqueued again).
   */
  accept(delivery: Delivery, jobs: readonly EnqueueJob[]): Promise<boolean>;
}

export interface DeliveryWriterOptions {
  /** Most deliveries in one transaction (default 128). */
  maxBatch?: number;
}

interface Pending {
  delivery: Delivery;
  jobs: readonly EnqueueJob[];
  resolve: (accepted: boolean) => void;
  reject: (err: unknown) => void;
}

export function createDeliveryWriter(
  store: Store,
  queue: Pick<Queue, 'enqueueMany' | 'acceptDeliveries'>,
  options: DeliveryWriterOptions = {},
): DeliveryWriter {
  const maxBatch = Math.max(1, options.maxBatch ?? 128);
  let waiting: Pending[] = [];
  let writing = false;

  /** One write: the new ids among the batch, and the jobs of those (first occurrence of an id only). */
  async function write(batch: readonly Pending[]): Promise<Set<Pending>> {
    const firsts = (fresh: Set<string>) => {
      const accepted = new Set<Pending>();
      const taken = new Set<string>();
      for (const p of batch) {
        if (!fresh.has(p.delivery.id) || taken.has(p.delivery.id)) continue;
        taken.add(p.delivery.id);
        accepted.add(p);
      }
      return accepted;
    };
    // One statement where the queue can (both shipped queues); else one store transaction.
    if (queue.acceptDeliveries) return firsts(await queue.acceptDeliveries(batch));
    return store.transaction(async (tx) => {
      const accepted = firsts(await tx.store.recordDeliveries(batch.map((p) => p.delivery)));
      await queue.enqueueMany(
        [...accepted].flatMap((p) => p.jobs),
        { tx },
      );
      return accepted;
    });
  }

  async function settle(batch: readonly Pending[]): Promise<void> {
    try {
      const accepted = await write(batch);
      for (const p of batch) p.resolve(accepted.has(p));
    } catch (err) {
      if (batch.length === 1) {
        batch[0]?.reject(err);
        return;
      }
      // One bad delivery must not fail the others it happened to share a transaction with: each alone.
      for (const p of batch) await settle([p]);
    }
  }

  /** Runs once `accept` has set `writing`; writes batches until nothing waits. */
  async function drain(): Promise<void> {
    try {
      while (waiting.length > 0) {
        const batch = waiting.slice(0, maxBatch);
        waiting = waiting.slice(batch.length);
        await settle(batch);
      }
    } finally {
      writing = false;
    }
  }

  return {
    accept(delivery, jobs) {
      return new Promise<boolean>((resolve, reject) => {
        waiting.push({ delivery, jobs, resolve, reject });
        if (writing) return;
        // The batch starts after the deliveries already read in this turn of the event loop have joined it. Without
        // this, on the embedded store (PGlite runs each statement synchronously, the loop stands still meanwhile) the
        // first arrival always wrote alone: batches of one, 512 deliveries/s instead of 2,270–2,380 (bench/ingest.ts).
        writing = true;
        setImmediate(() => void drain());
      });
    },
  };
}
