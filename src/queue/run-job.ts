// What both queue drivers do around a handler: a timeout that aborts it (the signal reaches child processes through
// sandbox/exec), a bounded wait for it to stop, and the retry schedule.
import { redact } from '../util/redact.js';
import type { JobHandler, QueueOptions } from './types.js';

export class JobTimeoutError extends Error {
  override readonly name = 'JobTimeoutError';
}

/** After an abort, how long a handler gets to wind down before its job is given up (and retried). */
export const ABORT_GRACE_MS = 30_000;

export interface JobToRun {
  id: string;
  kind: string;
  key: string;
  payload: Record<string, unknown>;
  attempt: number;
  lastAttempt: boolean;
}

/**
 * Run the handler with an abort signal fired after timeoutMs (or by the caller's controller, e.g. on stop). A
 * handler that settles after its signal fired has not finished its work: that is a failure, so the job is retried.
 */
export async function runWithTimeout(
  handler: JobHandler,
  job: JobToRun,
  controller: AbortController,
  timeoutMs: number,
): Promise<void> {
  const timer = setTimeout(
    () => controller.abort(new JobTimeoutError(`job ${job.kind} ${job.key} timed out after ${timeoutMs / 1000}s`)),
    timeoutMs,
  );
  let graceTimer: NodeJS.Timeout | undefined;
  const abandoned = new Promise<never>((_, reject) => {
    const onAbort = () => {
      graceTimer = setTimeout(() => reject(controller.signal.reason), ABORT_GRACE_MS);
    };
    if (controller.signal.aborted) onAbort();
    else controller.signal.addEventListener('abort', onAbort, { once: true });
  });
  abandoned.catch(() => {});
  try {
    await Promise.race([handler({ ...job, signal: controller.signal }), abandoned]);
    if (controller.signal.aborted) throw controller.signal.reason;
  } finally {
    clearTimeout(timer);
    clearTimeout(graceTimer);
  }
}

/** Exponential backoff with ±20 % jitter, so retries of a burst do not all land at once. */
export function backoffDate(opts: Pick<QueueOptions, 'retryDelaySeconds'>, attempt: number): Date {
  const base = opts.retryDelaySeconds * 1000 * 2 ** Math.max(0, attempt - 1);
  const jitter = base * 0.2 * (Math.random() * 2 - 1);
  return new Date(Date.now() + Math.round(base + jitter));
}

/** What is stored as a job's last error: short and redacted (it is read back into logs and /metrics labels). */
export function errorMessage(err: unknown): string {
  const text = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  return redact(text).slice(0, 2000);
}
