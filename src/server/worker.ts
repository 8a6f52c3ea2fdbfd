// The worker side: one queue handler that parses the job payload (it crossed a process boundary) and dispatches to
// the webhook intake (config, permission, 👀, then the run is enqueued), the run pipeline, the apply run or the
// config check. Failures the pipeline reports to the user end the job; transient ones are
// thrown so the queue retries with backoff.

import { JobPayloadSchema } from '../core/jobs.js';
import { executeDriftJob } from '../drift/run.js';
import { runIntake } from '../intake/intake.js';
import { executeApplyRun } from '../pipeline/apply-run.js';
import { runConfigCheck } from '../pipeline/config-check.js';
import { executePullRequestPlan } from '../pipeline/pr-plan.js';
import { executePullRequestRevise } from '../pipeline/pr-revise.js';
import { executeRun } from '../pipeline/run.js';
import { type JobHandler, PermanentJobError } from '../queue/types.js';
import type { WorkerDeps } from '../stages/deps.js';

export function createJobHandler(deps: WorkerDeps): JobHandler {
  return async (job) => {
    const parsed = JobPayloadSchema.safeParse(job.payload);
    if (!parsed.success)
      throw new PermanentJobError(`job ${job.id}: bad payload: ${parsed.error.issues[0]?.message ?? ''}`);
    const payload = parsed.data;
    if (payload.type === 'intake') {
      if (!deps.queue) throw new PermanentJobError(`job ${job.id}: an intake job needs the queue to start its run`);
      const octokit = deps.installationClient
        ? await deps.installationClient(payload.installationId)
        : (await deps.installation(payload.installationId)).octokit;
      await runIntake(payload, octokit, {
        store: deps.store,
        queue: deps.queue,
        log: deps.log.child({ delivery: payload.deliveryId }),
        ...(deps.botLogin ? { botLogin: deps.botLogin } : {}),
      });
    } else if (payload.type === 'run' && payload.kind === 'apply')
      await executeApplyRun(payload, deps, job.signal, { lastAttempt: job.lastAttempt });
    else if (payload.type === 'run' && payload.pullRequestRevise)
      await executePullRequestRevise(payload, deps, job.signal, { lastAttempt: job.lastAttempt });
    else if (payload.type === 'run' && payload.pullRequestPlan)
      await executePullRequestPlan(payload, deps, job.signal, { lastAttempt: job.lastAttempt });
    else if (payload.type === 'run') await executeRun(payload, deps, job.signal, { lastAttempt: job.lastAttempt });
    else if (payload.type === 'drift') await executeDriftJob(payload, deps, job.signal);
    else await runConfigCheck(payload, deps);
  };
}
