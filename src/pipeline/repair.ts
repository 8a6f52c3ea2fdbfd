// The repair sweep, at worker start and then periodically: what a crash, an older version or a long GitHub outage
// left behind is finished, never left hanging.
// - A run `queued` that nothing moved for a while (an older version created the run and died before its job) gets
//   its job again; starting a run is a compare-and-set, so a run that had a job after all still runs once.
// - A run that ended while GitHub was unreachable could not say so in its thread: its final word was kept
//   (`pending-notice:<run id>`) and is posted now, into the progress comment (or reply) the run owned.
import { z } from 'zod';
import { RunJobSchema } from '../core/jobs.js';
import { OctokitApplyPort } from '../github/apply-port.js';
import { upsertComment } from '../github/comments.js';
import type { EnqueueJob, Queue } from '../queue/types.js';
import type { WorkerDeps } from '../stages/deps.js';
import type { RunRecord, Store } from '../store/types.js';
import { progressTarget } from './run.js';

export const PENDING_NOTICE = 'pending-notice:';

export interface RepairOptions {
  queue: Pick<Queue, 'enqueue'>;
  jobFor: (run: RunRecord) => EnqueueJob;
  /** A queued run untouched this long is given its job again (default 10 minutes). */
  queuedStaleMs?: number;
  now?: Date;
}

/** Give stranded queued runs their job back; returns them. */
export async function requeueStrandedRuns(store: Store, options: RepairOptions): Promise<RunRecord[]> {
  const before = (options.now ?? new Date()).getTime() - (options.queuedStaleMs ?? 10 * 60_000);
  const out: RunRecord[] = [];
  for (const run of await store.listRuns({ status: 'queued', limit: 1000 })) {
    if (run.updatedAt.getTime() > before) continue;
    const job = options.jobFor(run);
    await options.queue.enqueue({ ...job, idempotencyKey: `repair:${run.id}:${run.attempt}` });
    await store.addRunEvent({
      runId: run.id,
      stage: run.stage,
      status: 'info',
      message: 'queued without progress: its job was enqueued again by the repair sweep',
    });
    out.push(run);
  }
  return out;
}

const ApplyInput = z.object({ prNumber: z.number().int().positive() });

/** Post the final words GitHub was down for; returns how many were delivered. */
export async function postPendingNotices(
  store: Store,
  deps: Pick<WorkerDeps, 'installation' | 'installationClient' | 'log' | 'botLogin'>,
): Promise<number> {
  let posted = 0;
  for (const { key, value } of await store.listKeys(PENDING_NOTICE)) {
    const runId = key.slice(PENDING_NOTICE.length);
    const run = await store.getRun(runId);
    const job = RunJobSchema.safeParse({ ...(run?.input ?? {}), type: 'run', runId });
    if (!run || !job.success) {
      await store.deleteKey(key);
      continue;
    }
    const j = job.data;
    try {
      const octokit = deps.installationClient
        ? await deps.installationClient(j.installationId)
        : (await deps.installation(j.installationId)).octokit;
      const repo = { owner: j.owner, repo: j.repo };
      if (j.kind === 'apply') {
        const pr = ApplyInput.parse(j).prNumber;
        await new OctokitApplyPort(octokit, repo, store, runId).comment(pr, value);
      } else {
        const target = progressTarget(j, deps.botLogin) ?? {
          repo,
          issueNumber: j.prNumber ?? j.issueNumber,
          key: `notice-comment:${runId}`,
          marker: `<!-- infra-agent:notice=${runId} -->`,
        };
        const title =
          j.kind === 'generate' ? `issue #${j.issueNumber}` : `${j.kind} on #${j.prNumber ?? j.issueNumber}`;
        await upsertComment(
          octokit,
          store,
          target,
          `### infra-agent · ${title} · ❌ stopped\n\n${value}\n\n<sub>run \`${runId}\`</sub>\n${target.marker}`,
        );
      }
      await store.deleteKey(key);
      posted += 1;
    } catch (err) {
      deps.log.warn({ runId, err: err instanceof Error ? err.message : String(err) }, 'pending notice not posted yet');
    }
  }
  return posted;
}
