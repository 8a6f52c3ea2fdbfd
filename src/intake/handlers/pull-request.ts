// pull_request events. Four jobs: (1) a person pushing to the app's PR (`synchronize`) re-runs plan and the gate on
// their commit, without the agent; (2) any PR that touches `.github/infra-agent.yml` gets an `infra-agent/config`
// check run (the worker validates the file at the PR head), so bad config fails where it was changed; (3) a PR a
// person opened or pushed to is handed to the worker's autoplan intake (forks and outsiders are refused there); (4) a closed
// PR (merged or not) releases its project locks, and the PRs that waited on them are queued to plan (an intake
// job: the worker reads each waiter's PR from GitHub).

import { isBot } from '../../core/github.js';
import { type ConfigCheckJob, JOB_KIND_CONFIG_CHECK, threadKey } from '../../core/jobs.js';
import type { AppDeps, WebhookContext } from '../../github/deps.js';
import { acceptDelivery, enqueueIntake, enqueueRun } from '../../github/enqueue.js';
import { ownedPullRequest } from '../../store/ownership.js';
import { PullRequestEvent, parsePayload } from '../payloads.js';

const CONFIG_CHECK_ACTIONS = new Set(['opened', 'synchronize', 'reopened']);

export async function handlePullRequest(ctx: WebhookContext, deps: AppDeps): Promise<void> {
  const event = parsePayload(PullRequestEvent, ctx);
  if (!event) return;
  if (event.action === 'closed') {
    await releaseOnClose(ctx, deps, event);
    return;
  }
  if (!CONFIG_CHECK_ACTIONS.has(event.action)) return;
  const pr = event.pull_request;
  // Forks: the installation token cannot push there, and the head is untrusted; the config check still runs.
  const repo = { owner: event.repository.owner.login, repo: event.repository.name };
  const owned = await ownedPullRequest(deps.store, `${repo.owner}/${repo.repo}`, pr, deps.botLogin);
  const humanPush = event.action === 'synchronize' && owned !== undefined && !isBot(event.sender);
  if (humanPush && owned) {
    // Whoever pushed is among those who asked for the change, whatever the commits' emails say (GitHub links a
    // commit to no account when its email is unknown): recorded before anything else, on every delivery.
    await deps.store.addRequester({
      repo: `${repo.owner}/${repo.repo}`,
      issue: owned.issueNumber,
      login: event.sender.login,
      reason: 'pusher',
      detail: pr.head.sha,
    });
  }
  const base = {
    installationId: event.installation.id,
    ...repo,
    defaultBranch: event.repository.default_branch,
  };
  const check: ConfigCheckJob = { type: JOB_KIND_CONFIG_CHECK, ...base, prNumber: pr.number, headSha: pr.head.sha };
  const accepted = await acceptDelivery(deps, { id: ctx.id, event: `${ctx.name}.${event.action}` }, async (tx) => {
    await deps.queue.enqueue(
      {
        kind: JOB_KIND_CONFIG_CHECK,
        key: `${threadKey(repo.owner, repo.repo, pr.number)}:config`,
        payload: check,
        idempotencyKey: `delivery:${ctx.id}:config`,
      },
      { tx },
    );
    if (!owned && !isBot(pr.user)) {
      // A person's PR (or a fork's): the worker reads config, permissions and changed files, then plans or says why not.
      await enqueueIntake(
        deps,
        ctx.id,
        { installationId: event.installation.id, event: 'pull_request.autoplan', payload: event },
        { ...repo, number: pr.number },
        tx,
      );
    }
    if (humanPush && owned) {
      const queued = await enqueueRun(
        deps,
        ctx.id,
        {
          ...base,
          kind: 'plan',
          issueNumber: owned.issueNumber,
          prNumber: pr.number,
          requester: event.sender.login,
          trigger: 'human-push',
        },
        tx,
      );
      ctx.log.info({ runId: queued.run.id, pr: pr.number }, 'human push: plan run enqueued');
    }
  });
  if (!accepted) ctx.log.info({ delivery: ctx.id }, 'duplicate delivery ignored');
}

/** Lock release and the re-plans of the PRs that waited read GitHub (each waiter's PR): done by the worker. */
async function releaseOnClose(
  ctx: WebhookContext,
  deps: AppDeps,
  event: ReturnType<typeof PullRequestEvent.parse>,
): Promise<void> {
  const accepted = await acceptDelivery(deps, { id: ctx.id, event: `${ctx.name}.${event.action}` }, (tx) =>
    enqueueIntake(
      deps,
      ctx.id,
      { installationId: event.installation.id, event: 'pull_request.closed', payload: event },
      { owner: event.repository.owner.login, repo: event.repository.name, number: event.pull_request.number },
      tx,
    ),
  );
  if (!accepted) ctx.log.info({ delivery: ctx.id }, 'duplicate delivery ignored');
}
