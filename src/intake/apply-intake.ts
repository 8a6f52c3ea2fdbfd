// The worker's intake for the two ways to apply that are not a review: `/infra apply [project…]` (apply.on: comment)
// and the merge of a pull request (apply.on: merge). Both only enqueue an `apply` run on the PR's thread — the issue
// an App PR closes, or a person's PR's own number once the App planned it — and the run decides every requirement
// on fresh data, exactly as for an approval. A merge in a repo that applies on merge keeps the PR's locks: the apply
// run releases them when it is done.
import { loadRepoConfig } from '../config/load.js';
import type { GitHubClient } from '../core/github.js';
import { planSetKey } from '../core/plan-set-key.js';
import type { AppDeps } from '../github/deps.js';
import { enqueueRun } from '../github/enqueue.js';
import { ownedPullRequest } from '../store/ownership.js';
import type { IssueCommentEvent, PullRequestEvent } from './payloads.js';

type Repo = { owner: string; repo: string };

/** The run thread of a PR the App can apply: its issue (App PR) or its own number (a person's PR it planned). */
export async function applyThread(
  deps: AppDeps,
  repo: Repo,
  pr: { number: number; user: { login: string; type: string } },
): Promise<number | undefined> {
  const full = `${repo.owner}/${repo.repo}`;
  const owned = await ownedPullRequest(deps.store, full, pr, deps.botLogin);
  if (owned) return owned.issueNumber;
  // A person's PR the App planned has a plan set (validated by the apply run that reads it).
  return (await deps.store.getKey(planSetKey(full, pr.number))) !== undefined ? pr.number : undefined;
}

/** `/infra apply [project…]` on a PR, by someone with the command permission (checked by the caller). */
export async function intakeApplyCommand(a: {
  deps: AppDeps;
  event: ReturnType<typeof IssueCommentEvent.parse>;
  deliveryId: string;
  projects: string[];
  reply: (body: string) => Promise<unknown>;
  react: () => Promise<unknown>;
}): Promise<void> {
  const { deps, event } = a;
  const repo = { owner: event.repository.owner.login, repo: event.repository.name };
  const who = event.sender.login;
  if (event.issue.pull_request === undefined) {
    await a.reply('`/infra apply` works on a pull request infra-agent planned: comment there.');
    return;
  }
  if (event.issue.state !== 'open') return;
  // In a repo that applies another way, the apply run answers how (the requirement `apply-mode`).
  const thread = await applyThread(deps, repo, event.issue);
  if (thread === undefined) {
    await a.reply(
      `@${who} **nothing was applied**: infra-agent has not planned this pull request. Comment \`/infra plan\` first, review the plan, then \`/infra apply\`.`,
    );
    return;
  }
  await a.react();
  await enqueueRun(deps, a.deliveryId, {
    installationId: event.installation.id,
    ...repo,
    defaultBranch: event.repository.default_branch,
    kind: 'apply',
    issueNumber: thread,
    prNumber: event.issue.number,
    requester: who,
    trigger: 'command',
    commentId: event.comment.id,
    applyRequest: {
      via: 'comment',
      commentId: event.comment.id,
      login: who,
      userType: event.sender.type,
      projects: a.projects,
    },
  });
}

/**
 * A merged PR in a repo that applies on merge, which the App planned: enqueue its apply (the merge commit and who
 * merged are read from GitHub, not the payload). True when an apply run was enqueued: the caller then keeps the
 * PR's locks (the run releases them once applied).
 */
export async function intakeMergeApply(
  deps: AppDeps,
  octokit: GitHubClient,
  event: ReturnType<typeof PullRequestEvent.parse>,
  deliveryId: string,
): Promise<boolean> {
  if (event.pull_request.merged !== true) return false;
  const repo = { owner: event.repository.owner.login, repo: event.repository.name };
  const loaded = await loadRepoConfig(octokit, repo, event.repository.default_branch);
  if (!loaded.ok || loaded.config.apply.on !== 'merge' || !loaded.config.apply.enabled) return false;
  const thread = await applyThread(deps, repo, event.pull_request);
  if (thread === undefined) return false;
  const { data: pr } = await octokit.rest.pulls.get({ ...repo, pull_number: event.pull_request.number });
  const sha = pr.merge_commit_sha ?? '';
  if (!pr.merged || !/^[0-9a-f]{40}$/.test(sha)) return false;
  const merger = pr.merged_by ?? event.sender;
  await enqueueRun(deps, deliveryId, {
    installationId: event.installation.id,
    ...repo,
    defaultBranch: event.repository.default_branch,
    kind: 'apply',
    issueNumber: thread,
    prNumber: pr.number,
    requester: merger.login,
    trigger: 'merge',
    applyRequest: { via: 'merge', login: merger.login, userType: merger.type ?? 'User', mergeCommitSha: sha },
  });
  return true;
}
