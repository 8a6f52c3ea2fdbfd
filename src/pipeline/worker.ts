// The worker side: one queue handler that parses the job payload (it crossed a process boundary) and dispatches to
// the run pipeline, the apply run or the config check. Failures the pipeline reports to the user end the job; transient ones are
// thrown so the queue retries with backoff.
import { type JobHandler, PermanentJobError } from '../queue/types.js';
import { executeApplyRun } from './apply-run.js';
import { runConfigCheck } from './config-check.js';
import type { WorkerDeps } from './deps.js';
import { JobPayloadSchema } from './job.js';
import { executeRun } from './run.js';

export function createJobHandler(deps: WorkerDeps): JobHandler {
  return async (job) => {
    const parsed = JobPayloadSchema.safeParse(job.payload);
    if (!parsed.success)
      throw new PermanentJobError(`job ${job.id}: bad payload: ${parsed.error.issues[0]?.message ?? ''}`);
    const payload = parsed.data;
    if (payload.type === 'run' && payload.kind === 'apply') await executeApplyRun(payload, deps, job.signal);
    else if (payload.type === 'run') await executeRun(payload, deps, job.signal);
    else await runConfigCheck(payload, deps);
  };
}
