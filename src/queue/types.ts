// The job queue's contract. Web processes verify a webhook and enqueue; workers run. Two drivers behind it: pg-boss
// on PostgreSQL (many processes), and an in-process queue on the embedded store's jobs table (one process). Both:
// durable across restarts, jobs with the same key never run at once, retries with backoff, a timeout per job.
import type { StoreTx } from '../store/types.js';

export interface EnqueueJob {
  /** What to do, e.g. 'run'. The handler dispatches on it. */
  kind: string;
  /** Serialisation key, e.g. `owner/repo#12`: two jobs with the same key never run at the same time. */
  key: string;
  payload: Record<string, unknown>;
  /** A second enqueue with the same key returns the first job's id instead of adding a job (webhook re-delivery). */
  idempotencyKey?: string;
}

/** Where an enqueue is written: inside a store transaction, so the job commits (or not) with the caller's rows. */
export interface EnqueueOptions {
  tx?: StoreTx;
}

export interface QueueJob {
  id: string;
  kind: string;
  key: string;
  payload: Record<string, unknown>;
  /** 1 on the first execution, 2 on the first retry… */
  attempt: number;
  /** True on the last execution the queue will make: a failure now is final (the run must end, not hang). */
  lastAttempt: boolean;
  /** Aborted when the job times out or the queue stops: stop work, kill child processes. */
  signal: AbortSignal;
}

/** Resolve = done. Throw = retried with backoff (until attempts run out); throw PermanentJobError = failed now. */
export type JobHandler = (job: QueueJob) => Promise<void>;

export interface WorkOptions {
  /** Jobs run at once in this process. */
  concurrency: number;
}

export interface QueueDepth {
  /** Waiting to run (including retries waiting for their backoff). */
  queued: number;
  active: number;
  failed: number;
}

export interface Queue {
  readonly driver: 'embedded' | 'pg-boss';
  /** Add a job durably; returns its id. With `tx`, the job is part of that store transaction. */
  enqueue(job: EnqueueJob, options?: EnqueueOptions): Promise<string>;
  /** Add several jobs durably in one statement (a job whose idempotency key exists is skipped). */
  enqueueMany(jobs: readonly EnqueueJob[], options?: EnqueueOptions): Promise<void>;
  /**
   * Record webhook delivery ids and enqueue the jobs of the new ones in ONE statement, where the driver can (the
   * embedded queue: its jobs live in the store). Returns the new ids. Absent: a store transaction does it.
   */
  acceptDeliveries?(batch: DeliveryBatch): Promise<Set<string>>;
  /** Start running jobs with the handler; resolves once the workers are started. */
  work(handler: JobHandler, options: WorkOptions): Promise<void>;
  /** Jobs per state (for /metrics). */
  depth(): Promise<QueueDepth>;
  /** Stop fetching, abort and wait for running jobs (they are retried later), release connections. */
  stop(): Promise<void>;
}

export interface QueueOptions {
  /** Executions per job including the first (default 4). */
  maxAttempts: number;
  /** First retry delay; doubles each retry (default 10 s). */
  retryDelaySeconds: number;
  /** A job running longer is aborted and retried (default 30 min). */
  jobTimeoutSeconds: number;
  /** How often an idle worker looks for jobs (default 1 s embedded, 2 s pg-boss). */
  pollIntervalSeconds: number;
}

export const DEFAULT_QUEUE_OPTIONS: QueueOptions = {
  maxAttempts: 4,
  retryDelaySeconds: 10,
  jobTimeoutSeconds: 30 * 60,
  pollIntervalSeconds: 1,
};

/** A failure that retrying cannot fix (bad input, a policy refusal): the job fails at once. */
export class PermanentJobError extends Error {
  override readonly name = 'PermanentJobError';
}

/** Webhook deliveries to record, each with the jobs to enqueue when its id is new. */
export type DeliveryBatch = readonly { delivery: { id: string; event: string }; jobs: readonly EnqueueJob[] }[];
