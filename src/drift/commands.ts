// `/infra drift [project]` (any issue or PR: a check now, answered in the thread) and `/infra reconcile code|revert`
// (a drift issue only, write permission at least: the reconciling pull request). Called by the intake after the
// repo config loaded and the sender passed the configured permission. Whether an issue is a drift issue comes from
// the store's record (drift_status.issue_number), never from its title, label or body.
import type { Logger } from 'pino';
import type { RepoConfig } from '../config/schema.js';
import { type DriftJob, driftQueueKey, JOB_KIND_DRIFT } from '../core/drift-job.js';
import type { GitHubClient, RepoRef } from '../core/github.js';
import { PERMISSIONS } from '../core/github.js';
import type { AppDeps } from '../github/deps.js';
import { checkPermission, type Permission } from '../github/permissions.js';
import { unauthorisedReply } from '../github/replies.js';
import { requestReconcile } from './run.js';

export interface DriftCommandContext {
  deps: AppDeps & { log: Logger };
  octokit: GitHubClient;
  repo: RepoRef;
  installationId: number;
  defaultBranch: string;
  deliveryId: string;
  config: RepoConfig;
  issueNumber: number;
  isPullRequest: boolean;
  commentId: number;
  sender: string;
  reply: (body: string) => Promise<unknown>;
}

/** The stricter of two permissions. */
function atLeast(a: Permission, b: Permission): Permission {
  return PERMISSIONS.indexOf(a) >= PERMISSIONS.indexOf(b) ? a : b;
}

export async function handleDriftCommand(
  command: { kind: 'drift'; project?: string } | { kind: 'reconcile'; mode: 'code' | 'revert' },
  ctx: DriftCommandContext,
): Promise<void> {
  const { deps, octokit, repo } = ctx;
  const full = `${repo.owner}/${repo.repo}`;
  if (command.kind === 'drift') {
    await octokit.rest.reactions.createForIssueComment({ ...repo, comment_id: ctx.commentId, content: 'eyes' });
    const payload: DriftJob = {
      type: JOB_KIND_DRIFT,
      installationId: ctx.installationId,
      owner: repo.owner,
      repo: repo.repo,
      defaultBranch: ctx.defaultBranch,
      trigger: 'command',
      requester: ctx.sender,
      replyTo: ctx.issueNumber,
      ...(command.project ? { projects: [command.project] } : {}),
    };
    await deps.queue.enqueue({
      kind: JOB_KIND_DRIFT,
      key: driftQueueKey(repo.owner, repo.repo),
      payload,
      idempotencyKey: `delivery:${ctx.deliveryId}:drift`,
    });
    await deps.store.audit({
      actor: ctx.sender,
      action: 'drift.requested',
      repo: full,
      target: `#${ctx.issueNumber}`,
      details: { project: command.project ?? null },
    });
    return;
  }

  // reconcile
  const required = atLeast(ctx.config.trigger.required_permission, 'write');
  if (required !== ctx.config.trigger.required_permission) {
    const permission = await checkPermission(octokit, repo, ctx.sender, required);
    if (!permission.allowed) {
      await ctx.reply(unauthorisedReply(ctx.sender, required, `\`/infra reconcile ${command.mode}\``));
      return;
    }
  }
  const [record] = ctx.isPullRequest ? [] : await deps.store.listDrift({ repo: full, issueNumber: ctx.issueNumber });
  if (!record) {
    await ctx.reply(
      '`/infra reconcile` works on a drift issue infra-agent opened (it keeps its own record of them). ' +
        'Comment `/infra drift` to check for drift now.',
    );
    return;
  }
  if (record.state === 'clean') {
    await ctx.reply('The last drift check found no drift: there is nothing to reconcile.');
    return;
  }
  if (record.state === 'error') {
    await ctx.reply(
      'The last drift check failed, so there is no drift to reconcile against yet: fix the error shown above, then comment `/infra drift`.',
    );
    return;
  }
  await octokit.rest.reactions.createForIssueComment({ ...repo, comment_id: ctx.commentId, content: 'eyes' });
  const queued = await requestReconcile(
    deps,
    {
      installationId: ctx.installationId,
      owner: repo.owner,
      repo: repo.repo,
      defaultBranch: ctx.defaultBranch,
    },
    {
      issueNumber: ctx.issueNumber,
      project: record.project,
      mode: command.mode,
      requester: ctx.sender,
      idempotencyId: ctx.deliveryId,
      commentId: ctx.commentId,
    },
  );
  deps.log.info({ runId: queued.run.id, mode: command.mode, issue: ctx.issueNumber }, 'reconcile run enqueued');
}
