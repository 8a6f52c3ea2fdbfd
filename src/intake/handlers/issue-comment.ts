// issue_comment.created: `/infra …` commands on an issue or on the app's own PR. The handler asks GitHub nothing:
// bots (and the app itself) and comments without a command are dropped, the delivery is deduped and an intake job
// enqueued. The worker loads the config, answers help and unknown commands, checks the commenter's permission and
// starts the run or handles unlock/override (src/intake/intake.ts).

import { isBot } from '../../core/github.js';
import type { AppDeps, WebhookContext } from '../../github/deps.js';
import { acceptJobs, intakeJob } from '../../github/enqueue.js';
import { IssueCommentEvent, parsePayload } from '../payloads.js';

export async function handleIssueComment(ctx: WebhookContext, deps: AppDeps): Promise<void> {
  const event = parsePayload(IssueCommentEvent, ctx);
  if (!event) return;
  if (event.action !== 'created' || isBot(event.sender) || isBot(event.comment.user)) return;
  // The command parser (a Markdown parser under it) is loaded by the first comment, not by every web process.
  const { parseCommand } = await import('../commands.js');
  if (!parseCommand(event.comment.body ?? '')) return;
  const accepted = await acceptJobs(deps, { id: ctx.id, event: `${ctx.name}.${event.action}` }, [
    intakeJob(
      ctx.id,
      { installationId: event.installation.id, event: 'issue_comment', payload: event },
      { owner: event.repository.owner.login, repo: event.repository.name, number: event.issue.number },
    ),
  ]);
  if (!accepted) ctx.log.info({ delivery: ctx.id }, 'duplicate delivery ignored');
}
