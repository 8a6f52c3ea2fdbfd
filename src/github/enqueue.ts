// The one path from a webhook to a worker: record the run, enqueue its job keyed by the issue (so one run per issue
// or PR is active at a time and a second one waits), and audit who asked — all in ONE store transaction, so there is
// never a run without its job (a crash between the two used to leave a run `queued` forever) and never a job
// without its run. The delivery id names the run: a retried intake finds the run it already made instead of making
// a second one. On the web side the delivery record joins the same transaction (acceptDelivery), so a failed enqueue
// leaves no record behind and GitHub's redelivery (or the App's redelivery sweep) runs it.
import { type IntakeJob, JOB_KIND_INTAKE, JOB_KIND_RUN, type RunJob, threadKey } from '../core/jobs.js';
import type { EnqueueJob } from '../queue/types.js';
import type { RunRecord, StoreTx } from '../store/types.js';
import type { AppDeps } from './deps.js';

export interface EnqueuedRun {
  run: RunRecord;
  /** The run this one waits behind, when one was active. */
  waitsFor?: RunRecord;
}

/**
 * Record the delivery and do `work` (enqueue) in one transaction. False when the delivery was already recorded: a
 * re-delivery of something that was accepted, dropped. When `work` throws, nothing is recorded and the error
 * reaches Probot (a 500 to GitHub, which redelivers).
 */
export async function acceptDelivery(
  deps: AppDeps,
  delivery: { id: string; event: string },
  work: (tx: StoreTx) => Promise<void>,
): Promise<boolean> {
  return deps.store.transaction(async (tx) => {
    if (!(await tx.store.recordDelivery(delivery.id, delivery.event))) return false;
    await work(tx);
    return true;
  });
}

export async function enqueueRun(
  deps: AppDeps,
  deliveryId: string,
  job: Omit<RunJob, 'type' | 'runId'>,
  tx?: StoreTx,
): Promise<EnqueuedRun> {
  if (!tx) return deps.store.transaction((own) => enqueueRun(deps, deliveryId, job, own));
  const store = tx.store;
  const key = threadKey(job.owner, job.repo, job.issueNumber);
  const active = await store.findActiveRun(key);
  // One run per delivery: a retried intake (or a second enqueue of the same request) gets the first run back.
  const named = `run-for-delivery:${deliveryId}`;
  const earlier = await store.getKey(named);
  const existing = earlier ? await store.getRun(earlier) : undefined;
  if (existing) return { run: existing };
  const run = await store.createRun({
    kind: job.kind,
    repo: `${job.owner}/${job.repo}`,
    number: job.issueNumber,
    triggeredBy: job.requester,
    input: { ...job, deliveryId },
  });
  await store.putKey(named, run.id);
  const payload: RunJob = { type: JOB_KIND_RUN, runId: run.id, ...job };
  await deps.queue.enqueue({ kind: JOB_KIND_RUN, key, payload, idempotencyKey: `delivery:${deliveryId}` }, { tx });
  await store.audit({
    actor: job.requester,
    action: 'run.triggered',
    repo: `${job.owner}/${job.repo}`,
    target: `#${job.prNumber ?? job.issueNumber}`,
    details: { runId: run.id, kind: job.kind, trigger: job.trigger },
  });
  return active && active.id !== run.id ? { run, waitsFor: active } : { run };
}

/**
 * Record the delivery and enqueue `jobs` durably before the ack, the common case of a handler that only hands work
 * to the worker: through the server's batched writer (one transaction for the deliveries arriving together), else
 * in a transaction of its own. False when the delivery was recorded before (a redelivery: nothing enqueued).
 */
export async function acceptJobs(
  deps: AppDeps,
  delivery: { id: string; event: string },
  jobs: readonly EnqueueJob[],
): Promise<boolean> {
  if (deps.deliveries) return deps.deliveries.accept(delivery, jobs);
  return acceptDelivery(deps, delivery, async (tx) => {
    for (const job of jobs) await deps.queue.enqueue(job, { tx });
  });
}

/**
 * The job that hands a webhook to the worker untouched by GitHub: the ack never waits on an API call. Keyed per
 * issue or PR thread (`…#N:intake`), so two commands on one thread are taken in order; the run they start goes on
 * the thread's own key.
 */
export function intakeJob(
  deliveryId: string,
  intake: Omit<IntakeJob, 'type' | 'deliveryId'>,
  thread: { owner: string; repo: string; number: number },
): EnqueueJob {
  const payload: IntakeJob = { type: JOB_KIND_INTAKE, deliveryId, ...intake };
  return {
    kind: JOB_KIND_INTAKE,
    key: `${threadKey(thread.owner, thread.repo, thread.number)}:intake`,
    payload,
    idempotencyKey: `delivery:${deliveryId}:intake`,
  };
}

/** Enqueue the intake job of a webhook (see intakeJob), inside `tx` when given. */
export async function enqueueIntake(
  deps: AppDeps,
  deliveryId: string,
  intake: Omit<IntakeJob, 'type' | 'deliveryId'>,
  thread: { owner: string; repo: string; number: number },
  tx?: StoreTx,
): Promise<void> {
  await deps.queue.enqueue(intakeJob(deliveryId, intake, thread), tx ? { tx } : {});
}

export interface PullRequestPlanRequest {
  installationId: number;
  owner: string;
  repo: string;
  defaultBranch: string;
  pr: number;
  requester: string;
  trigger: RunJob['trigger'];
  /** Names the run: the same id twice gives the same run back. */
  idempotencyId: string;
  reason?: string;
  projects?: string[];
  commentId?: number;
}

/**
 * Enqueue the plan of a PR, every project it affects (src/pipeline/pr-plan.ts): autoplan, a lock freed, a command.
 * Keyed by the PR's own thread (one run at a time per PR).
 */
export function enqueuePullRequestPlan(deps: AppDeps, req: PullRequestPlanRequest, tx?: StoreTx): Promise<EnqueuedRun> {
  return enqueueRun(
    deps,
    req.idempotencyId,
    {
      installationId: req.installationId,
      owner: req.owner,
      repo: req.repo,
      defaultBranch: req.defaultBranch,
      kind: 'plan',
      issueNumber: req.pr,
      prNumber: req.pr,
      requester: req.requester,
      trigger: req.trigger,
      pullRequestPlan: true,
      ...(req.reason ? { reason: req.reason.slice(0, 500) } : {}),
      ...(req.projects?.length ? { projects: req.projects } : {}),
      ...(req.commentId ? { commentId: req.commentId } : {}),
    },
    tx,
  );
}
