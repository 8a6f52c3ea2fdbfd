// Recorded webhook payloads (@octokit/webhooks-examples: real deliveries GitHub sent) adjusted per test: the label,
// the sender, the comment body. Everything else stays as GitHub recorded it, so handlers meet real payload shapes.
import { createRequire } from 'node:module';
import type { WebhookDefinition } from '@octokit/webhooks-examples';

// The package's main is a JSON file; require keeps its declared type without an import attribute.
const examples: WebhookDefinition[] = createRequire(import.meta.url)('@octokit/webhooks-examples');

type Json = Record<string, unknown>;

function example(event: string, action: string, pick: (e: Json) => boolean = () => true): Json {
  const group = examples.find((e) => e.name === event);
  const found = group?.examples.find((e) => (e as Json)['action'] === action && pick(e as Json));
  if (!found) throw new Error(`no recorded ${event}.${action} example`);
  return structuredClone(found) as Json;
}

function obj(v: unknown): Json {
  if (typeof v !== 'object' || v === null) throw new Error('fixture shape changed');
  return v as Json;
}

export const INSTALLATION_ID = 4242;
export const OWNER = 'Codertocat';
export const REPO = 'Hello-World';
export const DEFAULT_BRANCH = 'master';

function user(login: string, type = 'User'): Json {
  return { login, id: 1000 + login.length, type, node_id: 'U_x', site_admin: false };
}

export function issueLabeled(opts: { label?: string; sender?: string; senderType?: string } = {}): Json {
  const p = example('issues', 'labeled');
  const label = { ...obj(p['label']), name: opts.label ?? 'infra-request' };
  p['label'] = label;
  obj(p['issue'])['labels'] = [label];
  obj(p['issue'])['title'] = 'Add a log bucket';
  p['sender'] = user(opts.sender ?? 'Codertocat', opts.senderType);
  p['installation'] = { id: INSTALLATION_ID, node_id: 'I_x' };
  return p;
}

export function issueOpened(opts: { labels: string[]; sender?: string }): Json {
  const p = example('issues', 'opened');
  const issue = obj(p['issue']);
  issue['labels'] = opts.labels.map((name, i) => ({
    id: i + 1,
    node_id: `L_${i}`,
    url: '',
    name,
    color: 'ededed',
    default: false,
    description: null,
  }));
  issue['title'] = 'Add a log bucket';
  delete issue['pull_request'];
  p['sender'] = user(opts.sender ?? 'Codertocat');
  p['installation'] = { id: INSTALLATION_ID, node_id: 'I_x' };
  return p;
}

export function issueComment(opts: {
  body: string;
  sender?: string;
  senderType?: string;
  pullRequest?: { body: string; author: string; authorType: string };
}): Json {
  const p = example('issue_comment', 'created');
  const sender = user(opts.sender ?? 'Codertocat', opts.senderType);
  Object.assign(obj(p['comment']), { id: 777, body: opts.body, user: sender });
  const issue = obj(p['issue']);
  issue['number'] = opts.pullRequest ? 9 : 1;
  issue['state'] = 'open';
  if (opts.pullRequest) {
    issue['pull_request'] = { url: `https://api.github.com/repos/${OWNER}/${REPO}/pulls/9` };
    issue['body'] = opts.pullRequest.body;
    issue['user'] = user(opts.pullRequest.author, opts.pullRequest.authorType);
  } else {
    delete issue['pull_request'];
  }
  p['sender'] = sender;
  p['installation'] = { id: INSTALLATION_ID, node_id: 'I_x' };
  return p;
}

export function pullRequestSynchronize(opts: {
  body: string;
  author: string;
  authorType: string;
  sender: string;
  senderType?: string;
}): Json {
  const p = example('pull_request', 'synchronize');
  const pr = obj(p['pull_request']);
  pr['number'] = 9;
  p['number'] = 9;
  pr['body'] = opts.body;
  pr['user'] = user(opts.author, opts.authorType);
  obj(pr['head'])['sha'] = 'a'.repeat(40);
  p['sender'] = user(opts.sender, opts.senderType);
  p['installation'] = { id: INSTALLATION_ID, node_id: 'I_x' };
  return p;
}

export function pullRequestReviewSubmitted(opts: {
  body: string;
  author: string;
  authorType: string;
  reviewer: string;
  reviewerType?: string;
  state?: string;
  prState?: string;
}): Json {
  const p = example('pull_request_review', 'submitted');
  const pr = obj(p['pull_request']);
  pr['number'] = 9;
  pr['body'] = opts.body;
  pr['state'] = opts.prState ?? 'open';
  pr['user'] = user(opts.author, opts.authorType);
  const reviewer = user(opts.reviewer, opts.reviewerType);
  Object.assign(obj(p['review']), {
    id: 5150,
    state: opts.state ?? 'approved',
    user: reviewer,
    commit_id: 'c'.repeat(40),
  });
  p['sender'] = reviewer;
  p['installation'] = { id: INSTALLATION_ID, node_id: 'I_x' };
  return p;
}

export function pullRequestClosed(opts: { merged: boolean; sender?: string; number?: number }): Json {
  const p = example('pull_request', 'closed');
  const pr = obj(p['pull_request']);
  pr['number'] = opts.number ?? 9;
  p['number'] = opts.number ?? 9;
  pr['merged'] = opts.merged;
  p['sender'] = user(opts.sender ?? 'Codertocat');
  p['installation'] = { id: INSTALLATION_ID, node_id: 'I_x' };
  return p;
}
