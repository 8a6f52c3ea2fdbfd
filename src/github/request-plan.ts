// The app asking itself to plan a pull request again: a stale plan at approval, or a project lock the PR waited for
// was released. The PR is read fresh (it must still be open). The app's own PR gets a `plan` run on its issue's key,
// so it serialises with every other run of that issue and never overlaps an apply; a person's PR gets the plan of
// every project it affects (src/pipeline/pr-plan.ts) on its own key.

import type { GitHubClient } from '../core/github.js';
import { ownedPullRequest } from '../store/ownership.js';
import type { AppDeps } from './deps.js';
import { enqueuePullRequestPlan, enqueueRun } from './enqueue.js';

export interface PlanRequestContext {
  installationId: number;
  owner: string;
  repo: string;
  defaultBranch: string;
}

/** Enqueue a plan run for `pr`; false when the PR is closed (nothing to plan). */
export async function requestPlanRun(
  deps: AppDeps,
  octokit: GitHubClient,
  ctx: PlanRequestContext,
  req: { pr: number; reason: string; requester: string; idempotencyId: string },
): Promise<boolean> {
  const { data: pr } = await octokit.rest.pulls.get({ owner: ctx.owner, repo: ctx.repo, pull_number: req.pr });
  if (pr.state !== 'open') return false;
  const owned = await ownedPullRequest(deps.store, `${ctx.owner}/${ctx.repo}`, pr, deps.botLogin);
  if (!owned) {
    // A person's PR (a fork's only after a maintainer asked once, which is what put it on a lock's waiting list).
    await enqueuePullRequestPlan(deps, {
      ...ctx,
      pr: req.pr,
      requester: req.requester,
      trigger: 'replan',
      idempotencyId: req.idempotencyId,
      reason: req.reason,
    });
    return true;
  }
  await enqueueRun(deps, req.idempotencyId, {
    ...ctx,
    kind: 'plan',
    issueNumber: owned.issueNumber,
    prNumber: req.pr,
    requester: req.requester,
    trigger: 'replan',
    reason: req.reason.slice(0, 500),
  });
  return true;
}
