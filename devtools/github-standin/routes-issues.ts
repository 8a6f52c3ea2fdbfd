// Issues and their comments, labels and reactions (a PR is an issue here too, as on GitHub).
// Handlers keyed by the operationId of GitHub's REST description (see routes.ts).
import { z } from 'zod';
import { commentObject, findLabel, issueObject, labelObject, nodeId, reactionObject } from './objects.js';
import {
  actor,
  checkBodyLength,
  closeIssue,
  ensureLabel,
  findComment,
  findIssueLike,
  type Handler,
  HttpError,
  issueLabelNames,
  keyOf,
  labelNames,
  labelsOf,
  nextNumber,
  notFound,
  now,
  num,
  paginate,
  parse,
  react,
  repoOf,
  touch,
} from './route-kit.js';
import { type IssueRecord, newComment } from './state.js';

export const ISSUE_HANDLERS: Record<string, Handler> = {
  // --- Issues ---
  'issues/get': (input) => {
    const i = findIssueLike(input, repoOf(input), num(input, 'issue_number'));
    return { status: 200, body: issueObject(input.ctx, i) };
  },
  'issues/create': (input) => {
    const repo = repoOf(input);
    const b = parse(
      z.object({
        title: z.union([z.string(), z.number()]),
        body: z.string().nullable().optional(),
        labels: z.array(z.union([z.string(), z.object({ name: z.string().optional() })])).optional(),
        assignees: z.array(z.string()).optional(),
      }),
      input.body,
    );
    checkBodyLength(b.body, 'Issue');
    const id = input.nextId();
    const at = now();
    const issue: IssueRecord = {
      kind: 'issue',
      repo: keyOf(repo),
      number: nextNumber(input, repo),
      id,
      nodeId: nodeId('I', id),
      title: String(b.title),
      body: b.body ?? null,
      state: 'open',
      stateReason: null,
      labels: issueLabelNames(input, repo, b.labels ?? []),
      user: actor(input),
      assignees: b.assignees ?? [],
      locked: false,
      createdAt: at,
      updatedAt: at,
      closedAt: null,
      bodyHistory: [],
    };
    input.ctx.state.issues.push(issue);
    return { status: 201, body: issueObject(input.ctx, issue) };
  },
  'issues/update': (input) => {
    const repo = repoOf(input);
    const i = findIssueLike(input, repo, num(input, 'issue_number'));
    const b = parse(
      z.object({
        title: z.union([z.string(), z.number()]).nullable().optional(),
        body: z.string().nullable().optional(),
        state: z.enum(['open', 'closed']).optional(),
        state_reason: z.enum(['completed', 'not_planned', 'reopened']).nullable().optional(),
        labels: z.array(z.union([z.string(), z.object({ name: z.string().optional() })])).optional(),
        assignees: z.array(z.string()).optional(),
      }),
      input.body,
    );
    checkBodyLength(b.body, 'Issue');
    if (b.title != null) i.title = String(b.title);
    if (b.body !== undefined) touch(i, b.body);
    if (b.labels) i.labels = issueLabelNames(input, repo, b.labels);
    if (b.assignees) i.assignees = b.assignees;
    if (b.state === 'closed') closeIssue(i, b.state_reason ?? 'completed');
    if (b.state === 'open' && i.state === 'closed') {
      if (i.kind === 'pull' && i.merged) throw new HttpError(422, 'Validation Failed: cannot reopen a merged PR');
      i.state = 'open';
      i.stateReason = 'reopened';
      i.closedAt = null;
    }
    touch(i);
    return { status: 200, body: issueObject(input.ctx, i) };
  },
  'issues/list-comments': (input) => {
    const repo = repoOf(input);
    const i = findIssueLike(input, repo, num(input, 'issue_number'));
    const since = input.query.get('since');
    const list = input.ctx.state.comments.filter(
      (c) => c.repo === i.repo && c.issueNumber === i.number && !c.deleted && (!since || c.updatedAt >= since),
    );
    return paginate(
      input,
      list.map((c) => commentObject(input.ctx, c)),
    );
  },
  'issues/create-comment': (input) => {
    const repo = repoOf(input);
    const i = findIssueLike(input, repo, num(input, 'issue_number'));
    const b = parse(z.object({ body: z.string() }), input.body);
    checkBodyLength(b.body, 'IssueComment');
    if (i.locked) throw new HttpError(403, 'Unable to create comment because issue is locked.');
    const id = input.nextId();
    const c = newComment({
      repo: i.repo,
      issueNumber: i.number,
      id,
      nodeId: nodeId('IC', id),
      body: b.body,
      user: actor(input),
      createdAt: now(),
    });
    input.ctx.state.comments.push(c);
    touch(i);
    const body = commentObject(input.ctx, c);
    return { status: 201, body, headers: { location: `${input.ctx.url}/repos/${i.repo}/issues/comments/${id}` } };
  },
  'issues/get-comment': (input) => {
    const c = findComment(input);
    return { status: 200, body: commentObject(input.ctx, c) };
  },
  'issues/update-comment': (input) => {
    const c = findComment(input);
    const b = parse(z.object({ body: z.string() }), input.body);
    checkBodyLength(b.body, 'IssueComment');
    if (b.body !== c.body) {
      c.bodyHistory.push(c.body);
      c.body = b.body;
    }
    c.updatedAt = now();
    return { status: 200, body: commentObject(input.ctx, c) };
  },
  'issues/delete-comment': (input) => {
    const c = findComment(input);
    c.deleted = true;
    return { status: 204 };
  },
  'reactions/create-for-issue': (input) => {
    const repo = repoOf(input);
    const i = findIssueLike(input, repo, num(input, 'issue_number'));
    return react(input, i.repo, { type: 'issue', number: i.number });
  },
  'reactions/list-for-issue': (input) => {
    const repo = repoOf(input);
    const i = findIssueLike(input, repo, num(input, 'issue_number'));
    const content = input.query.get('content');
    const list = input.ctx.state.reactions.filter(
      (r) =>
        r.repo === i.repo &&
        r.subject.type === 'issue' &&
        r.subject.number === i.number &&
        (!content || r.content === content),
    );
    return paginate(
      input,
      list.map((r) => reactionObject(input.ctx, r)),
    );
  },
  'reactions/create-for-issue-comment': (input) => {
    const c = findComment(input);
    return react(input, c.repo, { type: 'comment', id: c.id });
  },
  'issues/list-labels-on-issue': (input) => {
    const i = findIssueLike(input, repoOf(input), num(input, 'issue_number'));
    return paginate(input, labelsOf(input, i));
  },
  'issues/add-labels': (input) => {
    const repo = repoOf(input);
    const i = findIssueLike(input, repo, num(input, 'issue_number'));
    for (const name of labelNames(input.body)) {
      const l = ensureLabel(input, repo, name);
      if (!i.labels.some((x) => x.toLowerCase() === l.name.toLowerCase())) i.labels.push(l.name);
    }
    touch(i);
    return { status: 200, body: labelsOf(input, i) };
  },
  'issues/set-labels': (input) => {
    const repo = repoOf(input);
    const i = findIssueLike(input, repo, num(input, 'issue_number'));
    i.labels = labelNames(input.body).map((name) => ensureLabel(input, repo, name).name);
    touch(i);
    return { status: 200, body: labelsOf(input, i) };
  },
  'issues/remove-label': (input) => {
    const repo = repoOf(input);
    const i = findIssueLike(input, repo, num(input, 'issue_number'));
    const name = (input.params['name'] ?? '').toLowerCase();
    const before = i.labels.length;
    i.labels = i.labels.filter((l) => l.toLowerCase() !== name);
    if (i.labels.length === before) throw new HttpError(404, 'Label does not exist');
    touch(i);
    return { status: 200, body: labelsOf(input, i) };
  },
  'issues/create-label': (input) => {
    const repo = repoOf(input);
    const b = parse(
      z.object({ name: z.string(), color: z.string().optional(), description: z.string().optional() }),
      input.body,
    );
    if (findLabel(input.ctx.state, keyOf(repo), b.name))
      throw new HttpError(422, 'Validation Failed', [{ resource: 'Label', code: 'already_exists', field: 'name' }]);
    const l = ensureLabel(input, repo, b.name);
    l.color = (b.color ?? 'ededed').replace(/^#/, '');
    l.description = b.description ?? null;
    return { status: 201, body: labelObject(input.ctx, l) };
  },
  'issues/get-label': (input) => {
    const l = findLabel(input.ctx.state, keyOf(repoOf(input)), input.params['name'] ?? '');
    if (!l) throw notFound();
    return { status: 200, body: labelObject(input.ctx, l) };
  },
  'issues/list-labels-for-repo': (input) => {
    const key = keyOf(repoOf(input));
    return paginate(
      input,
      input.ctx.state.labels.filter((l) => l.repo === key).map((l) => labelObject(input.ctx, l)),
    );
  },
};
