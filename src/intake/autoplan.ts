// The worker's intake of a pull request a person opened, reopened or pushed to: read the repo config (default
// branch), and either enqueue a plan of the PR (every project it affects, src/pipeline/pr-plan.ts) or say once, in
// the PR's one infra-agent comment, why it is not planned automatically — a fork, or an author without the
// configured permission (a plan runs the PR's code) — and how to proceed.
import type { Logger } from 'pino';
import { loadRepoConfig } from '../config/load.js';
import type { GitHubClient } from '../core/github.js';
import { isBot, isForkPullRequest } from '../core/github.js';
import { upsertComment } from '../github/comments.js';
import type { AppDeps } from '../github/deps.js';
import { enqueuePullRequestPlan } from '../github/enqueue.js';
import { checkPermission } from '../github/permissions.js';
import { prPlanComment } from '../github/pr-plan-report.js';
import { invalidConfigReply } from '../github/replies.js';
import { renderCode } from '../markdown/text.js';
import type { PullRequestEvent } from './payloads.js';

type PullRequestPayload = ReturnType<typeof PullRequestEvent.parse>;

export function notPlannedReply(
  why: { fork: string } | { login: string; required: string; actual: string },
  forkEnv: boolean,
): string {
  const reason =
    'fork' in why
      ? `it comes from a fork (${renderCode(why.fork)}), and a plan runs the pull request's code`
      : `@${why.login} has \`${why.actual}\` permission on this repository, and pull requests are planned automatically only for authors with \`${why.required}\` or more (a plan runs the pull request's code)`;
  return [
    `**infra-agent did not plan this pull request**: ${reason}.`,
    '',
    'A maintainer who has read the change can comment `/infra plan` to plan it' +
      (forkEnv
        ? '.'
        : ' — without the provider credentials of `terraform.env_passthrough`, unless `autoplan.fork_env_passthrough` allows them.'),
  ].join('\n');
}

export async function intakeAutoplan(
  event: PullRequestPayload,
  deliveryId: string,
  octokit: GitHubClient,
  deps: AppDeps & { log: Logger },
): Promise<void> {
  const repo = { owner: event.repository.owner.login, repo: event.repository.name };
  const pr = event.pull_request;
  if (pr.state !== 'open' || isBot(pr.user)) return;
  const comment = prPlanComment(repo, pr.number, deps.botLogin);
  const loaded = await loadRepoConfig(octokit, repo, event.repository.default_branch);
  if (!loaded.ok) {
    await upsertComment(octokit, deps.store, comment, invalidConfigReply(loaded.message));
    return;
  }
  const { autoplan } = loaded.config;
  if (!autoplan.enabled) return;
  const full = `${repo.owner}/${repo.repo}`;
  // Whoever wrote or pushed the change asked for it: recorded before anything else, as for the App's own PRs.
  await deps.store.addRequester({ repo: full, issue: pr.number, login: pr.user.login, reason: 'issue-author' });
  if (event.action === 'synchronize' && !isBot(event.sender)) {
    await deps.store.addRequester({
      repo: full,
      issue: pr.number,
      login: event.sender.login,
      reason: 'pusher',
      detail: pr.head.sha,
    });
  }
  if (isForkPullRequest(pr, event.repository.full_name)) {
    const fork = pr.head.repo?.full_name ?? 'a deleted fork';
    deps.log.info({ pr: pr.number, fork }, 'autoplan: fork, not planned');
    await upsertComment(octokit, deps.store, comment, notPlannedReply({ fork }, autoplan.fork_env_passthrough));
    return;
  }
  const required = autoplan.required_permission;
  for (const login of new Set([pr.user.login, ...(isBot(event.sender) ? [] : [event.sender.login])])) {
    const permission = await checkPermission(octokit, repo, login, required);
    if (permission.allowed) continue;
    deps.log.info({ pr: pr.number, login, actual: permission.actual }, 'autoplan: outsider, not planned');
    await upsertComment(
      octokit,
      deps.store,
      comment,
      notPlannedReply({ login, required, actual: permission.actual }, true),
    );
    return;
  }
  const queued = await enqueuePullRequestPlan(deps, {
    installationId: event.installation.id,
    ...repo,
    defaultBranch: event.repository.default_branch,
    pr: pr.number,
    requester: event.sender.login,
    trigger: 'autoplan',
    idempotencyId: deliveryId,
  });
  deps.log.info({ runId: queued.run.id, pr: pr.number }, 'autoplan: plan run enqueued');
}
