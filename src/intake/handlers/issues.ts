// issues.opened / issues.labeled: an issue carrying the trigger label starts a `generate` run. The handler asks GitHub
// nothing (the ack must not wait on it): it drops what cannot be a trigger (pull requests, bots, no label), dedupes the
// delivery and enqueues an intake job; the worker reads the config (which names the label), checks the labeller's
// permission, reacts 👀 and enqueues the run (src/github/intake.ts).
import { isBot } from '../../core/github.js';
import type { AppDeps, WebhookContext } from '../../github/deps.js';
import { acceptJobs, intakeJob } from '../../github/enqueue.js';
import { IssuesEvent, parsePayload } from '../payloads.js';

export async function handleIssue(ctx: WebhookContext, deps: AppDeps): Promise<void> {
  const event = parsePayload(IssuesEvent, ctx);
  if (!event) return;
  if (event.action !== 'opened' && event.action !== 'labeled') return;
  if (event.issue.pull_request !== undefined || isBot(event.sender)) return;
  // An opened issue without labels or a label event without a label can never be a trigger.
  if (event.action === 'opened' && event.issue.labels.length === 0) return;
  if (event.action === 'labeled' && !event.label) return;

  // Any label: the trigger label is configurable, and the config is read by the worker (another label is dropped
  // there without a run record or a comment).
  const accepted = await acceptJobs(deps, { id: ctx.id, event: `${ctx.name}.${event.action}` }, [
    intakeJob(
      ctx.id,
      { installationId: event.installation.id, event: 'issues', payload: event },
      { owner: event.repository.owner.login, repo: event.repository.name, number: event.issue.number },
    ),
  ]);
  if (!accepted) ctx.log.info({ delivery: ctx.id }, 'duplicate delivery ignored');
}
