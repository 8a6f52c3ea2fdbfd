// `/infra revise <what to change>` on a pull request a person wrote, in the worker's intake (the commenter's
// permission is already checked): a fork is answered at once — infra-agent never pushes to a fork — and a same-repo
// branch gets a `revise` run on the PR's own thread (src/pipeline/pr-revise.ts adds commits on top of it). The
// commenter becomes one of those who asked for the change: they cannot approve its apply.
import { type GitHubClient, isForkPullRequest } from '../core/github.js';
import type { AppDeps } from '../github/deps.js';
import { enqueueRun } from '../github/enqueue.js';
import { forkReviseReply } from '../github/replies.js';
import type { IssueCommentEvent } from './payloads.js';

export async function intakePersonRevise(a: {
  deps: AppDeps;
  octokit: GitHubClient;
  event: ReturnType<typeof IssueCommentEvent.parse>;
  deliveryId: string;
  feedback: string;
  reply: (body: string) => Promise<unknown>;
}): Promise<void> {
  const { deps, octokit, event } = a;
  const repo = { owner: event.repository.owner.login, repo: event.repository.name };
  const pr = event.issue.number;
  const who = event.sender.login;
  const { data } = await octokit.rest.pulls.get({ ...repo, pull_number: pr });
  if (isForkPullRequest(data, `${repo.owner}/${repo.repo}`)) {
    await a.reply(forkReviseReply(who, data.head.repo?.full_name ?? 'a deleted fork'));
    return;
  }
  await deps.store.addRequester({
    repo: `${repo.owner}/${repo.repo}`,
    issue: pr,
    login: who,
    reason: 'command',
    detail: `revise:${event.comment.id}`,
  });
  await octokit.rest.reactions.createForIssueComment({ ...repo, comment_id: event.comment.id, content: 'eyes' });
  await enqueueRun(deps, a.deliveryId, {
    installationId: event.installation.id,
    ...repo,
    defaultBranch: event.repository.default_branch,
    kind: 'revise',
    issueNumber: pr,
    prNumber: pr,
    requester: who,
    trigger: 'command',
    commentId: event.comment.id,
    feedback: a.feedback,
    pullRequestRevise: true,
  });
}
