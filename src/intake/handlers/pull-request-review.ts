// pull_request_review.submitted: an approving review of a PR the app planned (its own, or a person's) asks to apply
// the reviewed plan. The handler does no work (GitHub gives a webhook 10 s): it drops what is not an approval by a
// person, dedupes the delivery and enqueues an `apply` run on the PR's thread (the issue an App PR closes, or a
// person's PR's own number), so it serialises with that thread's plan and revise runs. Every requirement (the repo's
// `apply.on`, who approved, which plan, locks, verdict) is decided by the worker on fresh data.

import { isBot } from '../../core/github.js';
import type { AppDeps, WebhookContext } from '../../github/deps.js';
import { acceptDelivery, enqueueIntake, enqueueRun } from '../../github/enqueue.js';
import { applyThread } from '../apply-intake.js';
import { PullRequestReviewEvent, parsePayload } from '../payloads.js';

export async function handlePullRequestReview(ctx: WebhookContext, deps: AppDeps): Promise<void> {
  const event = parsePayload(PullRequestReviewEvent, ctx);
  if (!event) return;
  if (event.action !== 'submitted') return;
  const reviewer = event.review.user;
  // Only an approval by a person can apply; comments and change requests are read at approval time.
  if (!reviewer || event.review.state.toLowerCase() !== 'approved' || isBot(reviewer) || isBot(event.sender)) return;
  const pr = event.pull_request;
  if (pr.state !== 'open') return;
  const repo = { owner: event.repository.owner.login, repo: event.repository.name };
  const thread = await applyThread(deps, repo, pr);
  // A PR the app never planned and without any of our markers is none of our business: no bot reply.
  // The marker reader (a Markdown parser under it) is loaded by the first such review, not by every web process.
  if (thread === undefined) {
    const { readMarkers } = await import('../../markdown/markers.js');
    if (Object.keys(readMarkers(pr.body)).length === 0) return;
  }
  if (thread !== undefined && !/^[0-9a-f]{40}$/.test(event.review.commit_id)) return;
  const accepted = await acceptDelivery(deps, { id: ctx.id, event: `${ctx.name}.${event.action}` }, async (tx) => {
    if (thread === undefined) {
      // It carries our markers but the app did not open it (a copied body): the worker says so; nothing is applied.
      await enqueueIntake(
        deps,
        ctx.id,
        { installationId: event.installation.id, event: 'pull_request_review.not-app-pr', payload: event },
        { ...repo, number: pr.number },
        tx,
      );
      return;
    }
    const queued = await enqueueRun(
      deps,
      ctx.id,
      {
        installationId: event.installation.id,
        ...repo,
        defaultBranch: event.repository.default_branch,
        kind: 'apply',
        issueNumber: thread,
        prNumber: pr.number,
        requester: reviewer.login,
        trigger: 'approval',
        review: {
          id: event.review.id,
          login: reviewer.login,
          userType: reviewer.type,
          commitId: event.review.commit_id,
        },
      },
      tx,
    );
    ctx.log.info({ runId: queued.run.id, pr: pr.number, review: event.review.id }, 'apply run enqueued');
  });
  if (!accepted) ctx.log.info({ delivery: ctx.id }, 'duplicate delivery ignored');
}
