// A web-only runtime on the embedded store. createRuntime refuses `--role web` without PostgreSQL (one embedded
// process must run both roles), but the ingestion test and bench need the web path with no worker consuming the
// queue, so they build it here from a store they opened (in memory, on disk, or behind injected faults).
import { createEmbeddedQueue } from '../../src/queue/embedded-queue.js';
import type { Runtime } from '../../src/queue/runtime.js';
import type { SqlStore } from '../../src/store/sql-store.js';

export async function embeddedWebRuntime(store: SqlStore): Promise<Runtime> {
  const queue = await createEmbeddedQueue(store, {});
  return {
    role: 'web',
    store,
    queue,
    async close() {
      await queue.stop();
      await store.close();
    },
  };
}
