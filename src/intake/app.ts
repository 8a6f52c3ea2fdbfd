// The intake routes: one handler per webhook event, and nothing else. Handlers verify the payload's shape, dedupe and
// enqueue; the worker (src/pipeline) does the work. The web role's receiver (src/server/webhook-receiver.ts) serves
// them; createAppFn mounts the same routes on a Probot app (handler tests drive them with probot.receive). Events here
// must match `default_events` in app.yml.
import type { EmitterWebhookEventName } from '@octokit/webhooks';
import type { ApplicationFunction, Probot } from 'probot';
import type { AppDeps, WebhookContext } from '../github/deps.js';
import { handleIssueComment } from './handlers/issue-comment.js';
import { handleIssue } from './handlers/issues.js';
import { handlePullRequest } from './handlers/pull-request.js';
import { handlePullRequestReview } from './handlers/pull-request-review.js';

/** Events the app subscribes to (app.yml `default_events` lists exactly these). */
export const SUBSCRIBED_EVENTS = ['issues', 'issue_comment', 'pull_request', 'pull_request_review'] as const;

type IntakeHandler = (ctx: WebhookContext, deps: AppDeps) => Promise<void>;

export const INTAKE_ROUTES: readonly (readonly [EmitterWebhookEventName[], IntakeHandler])[] = [
  [['issues.opened', 'issues.labeled'], handleIssue],
  [['issue_comment.created'], handleIssueComment],
  [
    ['pull_request.opened', 'pull_request.synchronize', 'pull_request.reopened', 'pull_request.closed'],
    handlePullRequest,
  ],
  [['pull_request_review.submitted'], handlePullRequestReview],
];

export function createAppFn(deps: AppDeps): ApplicationFunction {
  return (app: Probot) => {
    for (const [events, handler] of INTAKE_ROUTES) app.on(events, (ctx) => handler(ctx, deps));
  };
}
