// One lifecycle for the runs that work on an existing pull request (a plan of a person's PR, a revise of it): claim
// the attempt, beat the heartbeat, get the installation's client, and end the attempt exactly one way — succeeded,
// stopped with a message for the thread, back to the queue on a transient failure, or failed with the reason.

import type { GitHubClient } from '../core/github.js';
import type { RunJob } from '../core/jobs.js';
import type { Logger } from '../observability/logger.js';
import { metrics } from '../observability/metrics.js';
import type { WorkerDeps } from '../stages/deps.js';
import { beginRunAttempt, endRunAttempt, startRunHeartbeat } from '../stages/run-state.js';
import type { Workspace } from '../stages/workspace.js';
import { type AttemptInfo, failureMessage, isTransient } from './failure.js';

/** The run cannot go on; `message` is safe Markdown for the thread. `succeeded` when stopping is the right answer. */
export class StopPrRun extends Error {
  override readonly name = 'StopPrRun';
  constructor(
    message: string,
    readonly outcome: 'failed' | 'succeeded' = 'failed',
  ) {
    super(message);
  }
}

export interface PrRunContext {
  octokit: GitHubClient;
  token: string;
  log: Logger;
  /** The run's checkout, removed when the run ends whatever happens. */
  held: { ws?: Workspace };
}

export interface PrRunSpec {
  kind: 'plan' | 'revise';
  /** The run's work; throws StopPrRun to end with a message. */
  work: (ctx: PrRunContext) => Promise<void>;
  /** Tells the thread why the run ended without its result; `retryable` when a plain failure can be retried. */
  report: (octokit: GitHubClient, message: string, retryable: boolean) => Promise<void>;
}

export async function runPullRequestJob(
  job: RunJob,
  deps: WorkerDeps,
  signal: AbortSignal,
  info: AttemptInfo,
  spec: PrRunSpec,
): Promise<void> {
  const attempt = await beginRunAttempt(deps.store, job.runId);
  if (attempt.action !== 'run') return;
  const log = deps.log.child({ runId: job.runId, pr: job.prNumber });
  const stopHeartbeat = startRunHeartbeat(deps.store, job.runId);
  let octokit: GitHubClient | undefined;
  const held: { ws?: Workspace } = {};
  try {
    const inst = await deps.installation(job.installationId);
    octokit = inst.octokit;
    await spec.work({ octokit, token: inst.token, log, held });
    await endRunAttempt(deps.store, job.runId, { status: 'succeeded' });
    metrics.recordRun(spec.kind, 'succeeded');
  } catch (err) {
    const stopped = err instanceof StopPrRun;
    if (!stopped && isTransient(err) && !signal.aborted && !info.lastAttempt) {
      log.warn({ err: failureMessage(err, job.runId) }, `transient failure: the ${spec.kind} goes back to the queue`);
      await endRunAttempt(deps.store, job.runId, { status: 'queued', error: failureMessage(err, job.runId) });
      throw err;
    }
    const message = stopped ? err.message : `The ${spec.kind} failed: ${failureMessage(err, job.runId)}`;
    const outcome = stopped ? err.outcome : 'failed';
    log.info({ outcome, message }, `pull request ${spec.kind} stopped`);
    if (octokit) {
      await spec
        .report(octokit, message, !stopped)
        .catch((e) => log.warn({ err: failureMessage(e, job.runId) }, `the ${spec.kind} reply could not be posted`));
    }
    await endRunAttempt(
      deps.store,
      job.runId,
      outcome === 'failed' ? { status: 'failed', error: message.slice(0, 500) } : { status: 'succeeded' },
    );
    metrics.recordRun(spec.kind, outcome);
  } finally {
    stopHeartbeat();
    await held.ws?.remove().catch(() => {});
  }
}
