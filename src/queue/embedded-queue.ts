// The queue of the embedded (zero-setup) deployment: one process runs web and worker, jobs live in the PGlite
// store's jobs table, so they survive a restart. Same semantics as the pg-boss queue: one active job per key (the
// claim query guarantees it), retries with exponential backoff, a timeout per job that aborts the handler. A job
// found active when the queue starts belonged to a process that died (only one process opens a PGlite directory),
// so it is put back at once.

import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Store } from '../store/types.js';
import { backoffDate, errorMessage, runWithTimeout } from './run-job.js';
import {
  DEFAULT_QUEUE_OPTIONS,
  type EnqueueJob,
  type EnqueueOptions,
  type JobHandler,
  PermanentJobError,
  type Queue,
  type QueueDepth,
  type QueueOptions,
  type WorkOptions,
} from './types.js';

/** How long a claimed job stays ours without a heartbeat; the heartbeat renews it a third of the way. */
const LEASE_MS = 60_000;

export interface EmbeddedQueue extends Queue {
  /** Resolves when no job is queued (retries waiting for their backoff included) or active: tests, one-shot CLI. */
  drain(): Promise<void>;
}

export async function createEmbeddedQueue(store: Store, options: Partial<QueueOptions> = {}): Promise<EmbeddedQueue> {
  const opts: QueueOptions = { ...DEFAULT_QUEUE_OPTIONS, ...options };
  const workerId = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  await store.reapJobs({ all: true });

  let stopping = false;
  const running = new Map<string, AbortController>();
  const slots: Promise<void>[] = [];
  const sleepers = new Set<() => void>();
  const wakeAll = () => {
    for (const w of [...sleepers]) w();
  };
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        sleepers.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      sleepers.add(done);
    });

  async function slot(handler: JobHandler): Promise<void> {
    while (!stopping) {
      let job: Awaited<ReturnType<Store['claimJob']>>;
      try {
        job = await store.claimJob(workerId, LEASE_MS);
      } catch {
        await sleep(opts.pollIntervalSeconds * 1000);
        continue;
      }
      if (!job) {
        await sleep(opts.pollIntervalSeconds * 1000);
        continue;
      }
      const controller = new AbortController();
      running.set(job.id, controller);
      const heartbeat = setInterval(() => {
        void store.extendJob(job.id, workerId, LEASE_MS).catch(() => {});
      }, LEASE_MS / 3);
      try {
        await runWithTimeout(
          handler,
          { ...job, lastAttempt: job.attempt >= job.maxAttempts },
          controller,
          opts.jobTimeoutSeconds * 1000,
        );
        await store.completeJob(job.id, workerId);
      } catch (err) {
        const permanent = err instanceof PermanentJobError;
        const retryAt = permanent || job.attempt >= job.maxAttempts ? null : backoffDate(opts, job.attempt);
        await store.failJob(job.id, workerId, errorMessage(err), stopping && !permanent ? new Date() : retryAt);
      } finally {
        clearInterval(heartbeat);
        running.delete(job.id);
      }
    }
  }

  const reaper = setInterval(() => {
    void store.reapJobs().catch(() => {});
  }, LEASE_MS / 2);
  reaper.unref();

  return {
    driver: 'embedded',
    async enqueue(job: EnqueueJob, options: EnqueueOptions = {}) {
      const id = await (options.tx?.store ?? store).enqueueJob({ ...job, maxAttempts: opts.maxAttempts });
      // Inside a transaction the job is not visible yet: the slots find it at their next poll.
      if (!options.tx) wakeAll();
      return id;
    },
    async enqueueMany(jobs: readonly EnqueueJob[], options: EnqueueOptions = {}) {
      await (options.tx?.store ?? store).enqueueJobs(jobs.map((job) => ({ ...job, maxAttempts: opts.maxAttempts })));
      if (!options.tx) wakeAll();
    },
    async acceptDeliveries(batch) {
      const fresh = await store.acceptDeliveries(
        batch.map((b) => ({
          ...b.delivery,
          jobs: b.jobs.map((job) => ({ ...job, maxAttempts: opts.maxAttempts })),
        })),
      );
      if (fresh.size > 0) wakeAll();
      return fresh;
    },
    async work(handler: JobHandler, { concurrency }: WorkOptions) {
      if (stopping) throw new Error('the queue is stopped');
      for (let i = 0; i < Math.max(1, concurrency); i++) slots.push(slot(handler));
    },
    async depth(): Promise<QueueDepth> {
      const c = await store.countJobs();
      return { queued: c.queued, active: c.active, failed: c.failed };
    },
    async drain() {
      for (;;) {
        const c = await store.countJobs();
        if (c.queued === 0 && c.active === 0) return;
        await sleep(Math.min(200, opts.pollIntervalSeconds * 1000));
      }
    },
    async stop() {
      stopping = true;
      clearInterval(reaper);
      for (const c of running.values()) c.abort(new Error('the queue is stopping'));
      wakeAll();
      await Promise.all(slots);
    },
  };
}
