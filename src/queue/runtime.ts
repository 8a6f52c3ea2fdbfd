// The durable pieces a process needs, chosen from the environment: the store (embedded PGlite or PostgreSQL) and the
// queue that goes with it (in-process on the embedded store, pg-boss on PostgreSQL). `infra-agent serve` builds one
// runtime per process and wires the web and worker roles onto it.
import { createStore, resolveDatabaseUrl } from '../store/create-store.js';
import { type RetentionOptions, startRetention } from '../store/retention.js';
import type { Store, StoreOptions } from '../store/types.js';
import type { PgBossQueueOptions } from './pg-boss-queue.js';
import type { Queue, QueueOptions } from './types.js';

export type Role = 'web' | 'worker' | 'all';

export interface RuntimeOptions extends StoreOptions {
  role: Role;
  /** Queue tuning; the pg-boss-only fields are ignored by the embedded queue. */
  queue?: Partial<QueueOptions> & Omit<PgBossQueueOptions, 'databaseUrl' | keyof QueueOptions>;
  /** Purging of old plans, delivery ids and jobs, run by worker processes; `false` turns it off (tests). */
  retention?: RetentionOptions | false;
}

export interface Runtime {
  role: Role;
  store: Store;
  queue: Queue;
  /** Stop the queue (running jobs are aborted and retried later), then close the store. */
  close(): Promise<void>;
}

/** Store + queue for this process: PostgreSQL + pg-boss when a database URL is given (or DATABASE_URL), else embedded. */
export async function createRuntime(options: RuntimeOptions): Promise<Runtime> {
  const databaseUrl = resolveDatabaseUrl(options);
  if (!databaseUrl && options.role !== 'all') {
    throw new Error(
      `--role ${options.role} needs DATABASE_URL (PostgreSQL): the embedded store runs web and worker in one process, use --role all`,
    );
  }
  const store = await createStore({
    ...options,
    ...(databaseUrl ? { databaseUrl } : {}),
  });
  try {
    // Only the queue this process uses is loaded (pg-boss is not, on the embedded store).
    const queue = databaseUrl
      ? await (await import('./pg-boss-queue.js')).createPgBossQueue({
          databaseUrl,
          sql: store.sql,
          ...(options.queue ?? {}),
        })
      : await (await import('./embedded-queue.js')).createEmbeddedQueue(store, options.queue ?? {});
    const stopRetention =
      options.role !== 'web' && options.retention !== false ? startRetention(store, options.retention ?? {}) : () => {};
    return {
      role: options.role,
      store,
      queue,
      async close() {
        stopRetention();
        try {
          await queue.stop();
        } finally {
          await store.close();
        }
      },
    };
  } catch (err) {
    await store.close();
    throw err;
  }
}
