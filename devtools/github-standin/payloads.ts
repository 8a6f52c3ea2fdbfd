// Webhook payloads built from the stand-in's current state: the issue, PR, comment and review objects in a delivery
// are exactly what the stand-in's API returns for them, as on GitHub, so an App sees one consistent world.
import type { JsonObject } from '../json.js';
import {
  issueCommentCreatedPayload,
  issuesLabeledPayload,
  issuesOpenedPayload,
  type PayloadContext,
  pullRequestClosedPayload,
  pullRequestOpenedPayload,
  pullRequestReviewSubmittedPayload,
  pullRequestSynchronizePayload,
} from '../webhooks.js';
import type { GitHubStandin } from './server.js';

export interface Webhook {
  event: string;
  payload: JsonObject;
}

export interface StandinWebhooks {
  issuesOpened(owner: string, repo: string, issue: number): Webhook;
  /** `sender` labelled the issue (it must be a user the test gave a permission to, or not, on purpose). */
  issuesLabeled(owner: string, repo: string, issue: number, label: string, sender: string): Webhook;
  /** The delivery for a comment made with `standin.addComment` (sender: its author). */
  issueCommentCreated(owner: string, repo: string, commentId: number): Webhook;
  pullRequestOpened(owner: string, repo: string, pull: number): Promise<Webhook>;
  /** A push to the PR's branch moved its head from `before` to the current head. */
  pullRequestSynchronize(owner: string, repo: string, pull: number, before: string, sender: string): Promise<Webhook>;
  pullRequestClosed(owner: string, repo: string, pull: number, sender: string): Promise<Webhook>;
  /** The delivery for a review made with `standin.addReview` (sender: the reviewer). */
  pullRequestReviewSubmitted(owner: string, repo: string, reviewId: number): Promise<Webhook>;
}

export function standinWebhooks(gh: GitHubStandin): StandinWebhooks {
  const context = (owner: string, repo: string, sender: string): PayloadContext => {
    const record = gh.state.repos.find(
      (r) => r.owner.toLowerCase() === owner.toLowerCase() && r.name.toLowerCase() === repo.toLowerCase(),
    );
    if (!record) throw new Error(`stand-in: no repository ${owner}/${repo}`);
    return {
      repository: gh.json.repository(owner, repo),
      sender: gh.json.user(sender),
      installationId: record.installationId,
    };
  };
  const pullRecord = (owner: string, repo: string, n: number) => {
    const p = gh.pull(owner, repo, n);
    if (!p) throw new Error(`stand-in: no PR ${owner}/${repo}#${n}`);
    return p;
  };
  return {
    issuesOpened(owner, repo, n) {
      const issue = gh.issue(owner, repo, n);
      if (!issue) throw new Error(`stand-in: no issue ${owner}/${repo}#${n}`);
      return {
        event: 'issues',
        payload: issuesOpenedPayload({ ...context(owner, repo, issue.user), issue: gh.json.issue(owner, repo, n) }),
      };
    },
    issuesLabeled(owner, repo, n, label, sender) {
      const issue = gh.issue(owner, repo, n) ?? gh.pull(owner, repo, n);
      if (!issue) throw new Error(`stand-in: no issue ${owner}/${repo}#${n}`);
      const record = gh.addLabel(owner, repo, label);
      if (!issue.labels.some((l) => l.toLowerCase() === record.name.toLowerCase())) issue.labels.push(record.name);
      const issueJson = gh.json.issue(owner, repo, n);
      const labels = Array.isArray(issueJson['labels']) ? issueJson['labels'] : [];
      const labelJson = labels.find(
        (l): l is JsonObject => typeof l === 'object' && l !== null && !Array.isArray(l) && l['name'] === label,
      );
      return {
        event: 'issues',
        payload: issuesLabeledPayload({
          ...context(owner, repo, sender),
          issue: issueJson,
          label: labelJson ?? label,
        }),
      };
    },
    issueCommentCreated(owner, repo, commentId) {
      const c = gh.state.comments.find((x) => x.id === commentId);
      if (!c) throw new Error(`stand-in: no comment ${commentId}`);
      return {
        event: 'issue_comment',
        payload: issueCommentCreatedPayload({
          ...context(owner, repo, c.user),
          issue: gh.json.issue(owner, repo, c.issueNumber),
          comment: gh.json.comment(commentId),
        }),
      };
    },
    async pullRequestOpened(owner, repo, n) {
      const p = pullRecord(owner, repo, n);
      return {
        event: 'pull_request',
        payload: pullRequestOpenedPayload({
          ...context(owner, repo, p.user),
          pullRequest: await gh.json.pullRequest(owner, repo, n),
        }),
      };
    },
    async pullRequestSynchronize(owner, repo, n, before, sender) {
      pullRecord(owner, repo, n);
      const pr = await gh.json.pullRequest(owner, repo, n);
      const head = pr['head'];
      const after = typeof head === 'object' && head !== null && !Array.isArray(head) ? head['sha'] : undefined;
      if (typeof after !== 'string') throw new Error(`stand-in: PR #${n} has no head sha`);
      return {
        event: 'pull_request',
        payload: pullRequestSynchronizePayload({ ...context(owner, repo, sender), pullRequest: pr, before, after }),
      };
    },
    async pullRequestClosed(owner, repo, n, sender) {
      pullRecord(owner, repo, n);
      return {
        event: 'pull_request',
        payload: pullRequestClosedPayload({
          ...context(owner, repo, sender),
          pullRequest: await gh.json.pullRequest(owner, repo, n),
        }),
      };
    },
    async pullRequestReviewSubmitted(owner, repo, reviewId) {
      const r = gh.state.reviews.find((x) => x.id === reviewId);
      if (!r) throw new Error(`stand-in: no review ${reviewId}`);
      return {
        event: 'pull_request_review',
        payload: pullRequestReviewSubmittedPayload({
          ...context(owner, repo, r.user),
          pullRequest: await gh.json.pullRequest(owner, repo, r.pullNumber),
          review: gh.json.review(reviewId),
        }),
      };
    },
  };
}
