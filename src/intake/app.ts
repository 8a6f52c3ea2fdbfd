// The Probot app function: registers one handler per event and nothing else. Handlers verify, dedupe and enqueue;
// the worker (src/pipeline) does the work. Events here must match `default_events` in app.yml.
import type { ApplicationFunction, Probot } from 'probot';
import type { AppDeps, WebhookContext } from '../github/deps.js';
import { handleIssueComment } from './handlers/issue-comment.js';
import { handleIssue } from './handlers/issues.js';
import { handlePullRequest } from './handlers/pull-request.js';
import { handlePullRequestReview } from './handlers/pull-request-review.js';

/** Events the app subscribes to (app.yml `default_events` lists exactly these). */
export const SUBSCRIBED_EVENTS = ['issues', 'issue_comment', 'pull_request', 'pull_request_review'] as const;

export function createAppFn(deps: AppDeps): ApplicationFunction {
  return (app: Probot) => {
    const wrap = (handler: (ctx: WebhookContext, deps: AppDeps) => Promise<void>) => (ctx: WebhookContext) =>
      handler(ctx, deps);
    app.on(['issues.opened', 'issues.labeled'], wrap(handleIssue));
    app.on('issue_comment.created', wrap(handleIssueComment));
    app.on(
      ['pull_request.opened', 'pull_request.synchronize', 'pull_request.reopened', 'pull_request.closed'],
      wrap(handlePullRequest),
    );
    app.on('pull_request_review.submitted', wrap(handlePullRequestReview));
  };
}
