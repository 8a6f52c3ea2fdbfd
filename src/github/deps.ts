// What the web side (webhook handlers) needs: the store for delivery dedupe and runs, the queue to hand work to
// workers. Injected, so handler tests run on an in-memory store and a recording queue, and `serve` wires the real
// runtime (embedded PGlite or PostgreSQL + pg-boss).
import type { Logger } from 'pino';
import type { DeliveryWriter } from '../queue/delivery-writer.js';
import type { Queue } from '../queue/types.js';
import type { Store } from '../store/types.js';

export interface AppDeps {
  store: Store;
  queue: Pick<Queue, 'enqueue'>;
  /**
   * The server's batched delivery writer (dedupe + enqueue in one transaction shared by concurrent deliveries);
   * without it (handler tests), acceptJobs writes each delivery in a transaction of its own.
   */
  deliveries?: DeliveryWriter;
  /** This app's bot login (`<slug>[bot]`), when known: PR ownership then also requires that author. */
  botLogin?: string;
}

/**
 * What a webhook handler gets: the verified delivery and a logger. No GitHub client — a handler asks GitHub nothing
 * before the ack (Probot's own Context satisfies it, so handler tests can drive the routes through a Probot app).
 */
export interface WebhookContext {
  /** X-GitHub-Delivery. */
  id: string;
  name: string;
  payload: unknown;
  log: Pick<Logger, 'debug' | 'info' | 'warn' | 'error'>;
}
