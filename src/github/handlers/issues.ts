// issues.opened / issues.labeled: an issue carrying the trigger label starts a `generate` run. The handler only
// verifies (label, permission, config), dedupes the delivery, reacts 👀 and enqueues; the worker does the work.
import { loadRepoConfig } from '../../config/load.js';
import type { AppDeps, WebhookContext } from '../deps.js';
import { enqueueRun } from '../enqueue.js';
import { IssuesEvent, isBot } from '../payloads.js';
import { checkPermission } from '../permissions.js';
import { invalidConfigReply, queuedBehindReply, unauthorisedReply } from '../replies.js';

export async function handleIssue(ctx: WebhookContext, deps: AppDeps): Promise<void> {
  const event = IssuesEvent.parse(ctx.payload);
  if (event.action !== 'opened' && event.action !== 'labeled') return;
  if (event.issue.pull_request !== undefined || isBot(event.sender)) return;
  // Cheap pre-filter before any API call: an opened issue without labels or a label event without a label.
  if (event.action === 'opened' && event.issue.labels.length === 0) return;
  if (event.action === 'labeled' && !event.label) return;

  if (!(await deps.store.recordDelivery(ctx.id, `${ctx.name}.${event.action}`))) {
    ctx.log.info({ delivery: ctx.id }, 'duplicate delivery ignored');
    return;
  }
  const repo = { owner: event.repository.owner.login, repo: event.repository.name };
  const issue_number = event.issue.number;
  const loaded = await loadRepoConfig(ctx.octokit, repo, event.repository.default_branch);
  if (!loaded.ok) {
    // Only complain when the label could have been ours: an invalid file means we cannot know the trigger label.
    await ctx.octokit.rest.issues.createComment({ ...repo, issue_number, body: invalidConfigReply(loaded.message) });
    return;
  }
  const { trigger } = loaded.config;
  const carriesLabel =
    event.action === 'labeled'
      ? event.label?.name === trigger.label
      : event.issue.labels.some((l) => l.name === trigger.label);
  if (!carriesLabel) return;

  const who = event.sender.login;
  const permission = await checkPermission(ctx.octokit, repo, who, trigger.required_permission);
  if (!permission.allowed) {
    ctx.log.info({ who, actual: permission.actual }, 'trigger refused: permission');
    await ctx.octokit.rest.issues.createComment({
      ...repo,
      issue_number,
      body: unauthorisedReply(
        who,
        trigger.required_permission,
        `Starting infra-agent with the \`${trigger.label}\` label`,
      ),
    });
    return;
  }

  await ctx.octokit.rest.reactions.createForIssue({ ...repo, issue_number, content: 'eyes' });
  const queued = await enqueueRun(deps, ctx.id, {
    installationId: event.installation.id,
    ...repo,
    defaultBranch: event.repository.default_branch,
    kind: 'generate',
    issueNumber: issue_number,
    requester: who,
    trigger: event.action === 'opened' ? 'opened' : 'label',
  });
  if (queued.waitsFor) {
    await ctx.octokit.rest.issues.createComment({
      ...repo,
      issue_number,
      body: queuedBehindReply('generate', queued.waitsFor.id),
    });
  }
  ctx.log.info({ runId: queued.run.id, issue: issue_number }, 'generate run enqueued');
}
