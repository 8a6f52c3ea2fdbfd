// How a run's failure is told: a transient one (GitHub 5xx, a rate limit, the network) goes back to the queue; a bug
// (a TypeError, a payload that did not match its schema) is never shown as-is — the user reads "internal error",
// the run id to quote and how to retry, and the details go to the log.
import { isRateLimit, isTransient } from '../core/github.js';
import type { RunJob } from '../core/jobs.js';
import { redact } from '../util/redact.js';

export { isRateLimit, isTransient };

export interface AttemptInfo {
  /** The queue will not run this job again: a transient failure now ends the run. */
  lastAttempt: boolean;
}

/** Programming errors: their text means nothing to a user and may show internals. */
const INTERNAL = new Set(['TypeError', 'RangeError', 'ReferenceError', 'SyntaxError', 'ZodError']);

export function isInternalError(err: unknown): boolean {
  return err instanceof Error && INTERNAL.has(err.name);
}

/** What a user may read about a failure (redacted, bounded); a bug becomes "internal error" with the run id. */
export function failureMessage(err: unknown, runId: string): string {
  if (isInternalError(err)) return `internal error (run id \`${runId}\`); the details are in infra-agent's log`;
  return redact(err instanceof Error ? err.message : String(err)).slice(0, 1500);
}

/** How to try again, for the kind of run that failed. */
export function retryHint(job: Pick<RunJob, 'kind'>, fallback: string): string {
  if (job.kind === 'apply') return 'Approve the pull request again to retry.';
  if (job.kind === 'generate') return fallback;
  return 'Comment `/infra plan` (or repeat your command) on the pull request to retry.';
}
