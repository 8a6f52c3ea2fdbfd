// The drift job: check one repository's projects (all of them, or the named ones) on the default branch. Enqueued
// by the scheduler (one per due schedule slot, claimed in the store so several workers enqueue it once) and by
// `/infra drift`. Keyed per repository in the queue, so a repository's checks never run at once.
import { z } from 'zod';

export const JOB_KIND_DRIFT = 'drift';

export const DriftJobSchema = z.object({
  type: z.literal(JOB_KIND_DRIFT),
  installationId: z.number().int().positive(),
  owner: z.string().min(1).max(100),
  repo: z.string().min(1).max(100),
  defaultBranch: z.string().min(1).max(255),
  /** Project names to check; absent: every project of the repository. */
  projects: z.array(z.string().min(1).max(64)).max(100).optional(),
  trigger: z.enum(['schedule', 'command']),
  /** The schedule slot (ISO time) this check is for. */
  slot: z.string().max(40).optional(),
  /** `/infra drift`: who asked and where the answer goes. */
  requester: z.string().min(1).max(100).optional(),
  replyTo: z.number().int().positive().optional(),
});
export type DriftJob = z.infer<typeof DriftJobSchema>;

export function driftQueueKey(owner: string, repo: string): string {
  return `drift:${owner}/${repo}`;
}
