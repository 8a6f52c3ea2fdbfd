// issue_comment.created: `/infra …` commands on an issue or on the app's own PR. Bots (and the app itself) are
// ignored; the commenter needs the configured permission; unknown commands get the help. Work goes to the queue.
import { handleOverrideCommand, handleUnlockCommand } from '../../apply/handlers.js';
import { loadRepoConfig } from '../../config/load.js';
import { OctokitApplyPort } from '../apply-port.js';
import { parseCommand, renderHelp } from '../commands.js';
import type { AppDeps, WebhookContext } from '../deps.js';
import { enqueueRun } from '../enqueue.js';
import { refreshPolicyReport } from '../override-report.js';
import { ownedPullRequest } from '../ownership.js';
import { IssueCommentEvent, isBot } from '../payloads.js';
import { checkPermission } from '../permissions.js';
import {
  invalidConfigReply,
  notOwnPullRequestReply,
  onPullRequestOnlyReply,
  queuedBehindReply,
  reviseOnIssueReply,
  unauthorisedReply,
  unknownCommandReply,
} from '../replies.js';
import { requestPlanRun } from '../request-plan.js';

export async function handleIssueComment(ctx: WebhookContext, deps: AppDeps): Promise<void> {
  const event = IssueCommentEvent.parse(ctx.payload);
  if (event.action !== 'created' || isBot(event.sender) || isBot(event.comment.user)) return;
  const command = parseCommand(event.comment.body ?? '');
  if (!command) return;
  if (!(await deps.store.recordDelivery(ctx.id, `${ctx.name}.${event.action}`))) {
    ctx.log.info({ delivery: ctx.id }, 'duplicate delivery ignored');
    return;
  }

  const repo = { owner: event.repository.owner.login, repo: event.repository.name };
  const issue_number = event.issue.number;
  const reply = (body: string) => ctx.octokit.rest.issues.createComment({ ...repo, issue_number, body });

  const loaded = await loadRepoConfig(ctx.octokit, repo, event.repository.default_branch);
  if (!loaded.ok) {
    await reply(invalidConfigReply(loaded.message));
    return;
  }
  const required = loaded.config.trigger.required_permission;
  const help = renderHelp({ requiredPermission: required });
  if (command.kind === 'help') {
    await reply(help);
    return;
  }
  if (command.kind === 'unknown') {
    await reply(unknownCommandReply(command.word, help));
    return;
  }

  const who = event.sender.login;
  const permission = await checkPermission(ctx.octokit, repo, who, required);
  if (!permission.allowed) {
    await reply(unauthorisedReply(who, required, `\`/infra ${command.kind}\``));
    return;
  }
  const isPullRequest = event.issue.pull_request !== undefined;
  if (command.kind === 'unlock' || command.kind === 'override') {
    // Store writes and one reply: quick enough to do here rather than queue.
    if (!isPullRequest) {
      await reply(onPullRequestOnlyReply(command.kind));
      return;
    }
    if (event.issue.state !== 'open' && command.kind === 'override') return;
    const owned = ownedPullRequest(event.issue, deps.botLogin);
    if (!owned) {
      await reply(notOwnPullRequestReply());
      return;
    }
    const port = new OctokitApplyPort(ctx.octokit, repo, deps.store, `comment-${event.comment.id}`);
    if (command.kind === 'unlock') {
      await handleUnlockCommand(
        {
          store: deps.store,
          port,
          requestPlan: async (req) => {
            await requestPlanRun(
              deps,
              ctx.octokit,
              { installationId: event.installation.id, ...repo, defaultBranch: event.repository.default_branch },
              { pr: req.pr, reason: req.reason, requester: who, idempotencyId: `${ctx.id}:unlock:${req.pr}` },
            );
          },
        },
        { pr: issue_number, login: who, ...(command.project ? { project: command.project } : {}) },
      );
    } else {
      const outcome = await handleOverrideCommand(
        { store: deps.store, port },
        { pr: issue_number, login: who, ruleId: command.ruleId, reason: command.reason, config: loaded.config },
      );
      if (outcome.ok) {
        await refreshPolicyReport(ctx.octokit, deps.store, repo, issue_number, loaded.config).catch((err) =>
          ctx.log.warn({ err: err instanceof Error ? err.message : String(err) }, 'policy report not refreshed'),
        );
      }
    }
    await ctx.octokit.rest.reactions.createForIssueComment({ ...repo, comment_id: event.comment.id, content: 'eyes' });
    return;
  }

  const common = {
    installationId: event.installation.id,
    ...repo,
    defaultBranch: event.repository.default_branch,
    requester: who,
    trigger: 'command' as const,
    commentId: event.comment.id,
  };
  let queued: Awaited<ReturnType<typeof enqueueRun>>;
  if (!isPullRequest) {
    // On an issue: `/infra plan` retries the request (the worker finds an existing PR instead of opening another).
    if (command.kind === 'revise') {
      await reply(reviseOnIssueReply());
      return;
    }
    queued = await enqueueRun(deps, ctx.id, {
      ...common,
      kind: 'generate',
      issueNumber: issue_number,
      ...(command.project ? { project: command.project } : {}),
    });
  } else {
    if (event.issue.state !== 'open') return;
    const owned = ownedPullRequest(event.issue, deps.botLogin);
    if (!owned) {
      await reply(notOwnPullRequestReply());
      return;
    }
    queued = await enqueueRun(deps, ctx.id, {
      ...common,
      kind: command.kind,
      issueNumber: owned.issueNumber,
      prNumber: issue_number,
      ...(command.kind === 'revise' ? { feedback: command.feedback } : {}),
      ...(command.kind === 'plan' && command.project ? { project: command.project } : {}),
    });
  }
  await ctx.octokit.rest.reactions.createForIssueComment({ ...repo, comment_id: event.comment.id, content: 'eyes' });
  if (queued.waitsFor) await reply(queuedBehindReply(command.kind, queued.waitsFor.id));
  ctx.log.info({ runId: queued.run.id, kind: command.kind }, 'command run enqueued');
}
