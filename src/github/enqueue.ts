// The one path from a webhook to a worker: record the run, enqueue its job keyed by the issue (so one run per issue
// or PR is active at a time and a second one waits), and audit who asked. The delivery id is the job's idempotency
// key: even if dedupe were bypassed, a re-delivered webhook cannot enqueue twice.
import { type IntakeJob, JOB_KIND_INTAKE, JOB_KIND_RUN, type RunJob, threadKey } from '../pipeline/job.js';
import type { RunRecord } from '../store/types.js';
import type { AppDeps } from './deps.js';

export interface EnqueuedRun {
  run: RunRecord;
  /** The run this one waits behind, when one was active. */
  waitsFor?: RunRecord;
}

export async function enqueueRun(
  deps: AppDeps,
  deliveryId: string,
  job: Omit<RunJob, 'type' | 'runId'>,
): Promise<EnqueuedRun> {
  const key = threadKey(job.owner, job.repo, job.issueNumber);
  const active = await deps.store.findActiveRun(key);
  const run = await deps.store.createRun({
    kind: job.kind,
    repo: `${job.owner}/${job.repo}`,
    number: job.issueNumber,
    triggeredBy: job.requester,
    input: { ...job, deliveryId },
  });
  const payload: RunJob = { type: JOB_KIND_RUN, runId: run.id, ...job };
  await deps.queue.enqueue({ kind: JOB_KIND_RUN, key, payload, idempotencyKey: `delivery:${deliveryId}` });
  await deps.store.audit({
    actor: job.requester,
    action: 'run.triggered',
    repo: `${job.owner}/${job.repo}`,
    target: `#${job.prNumber ?? job.issueNumber}`,
    details: { runId: run.id, kind: job.kind, trigger: job.trigger },
  });
  return active ? { run, waitsFor: active } : { run };
}

/**
 * Hand a webhook to the worker untouched by GitHub: the ack never waits on an API call. Keyed per issue or PR thread
 * (`…#N:intake`), so two commands on one thread are taken in order; the run they start goes on the thread's own key.
 */
export async function enqueueIntake(
  deps: AppDeps,
  deliveryId: string,
  intake: Omit<IntakeJob, 'type' | 'deliveryId'>,
  thread: { owner: string; repo: string; number: number },
): Promise<void> {
  const payload: IntakeJob = { type: JOB_KIND_INTAKE, deliveryId, ...intake };
  await deps.queue.enqueue({
    kind: JOB_KIND_INTAKE,
    key: `${threadKey(thread.owner, thread.repo, thread.number)}:intake`,
    payload,
    idempotencyKey: `delivery:${deliveryId}:intake`,
  });
}
