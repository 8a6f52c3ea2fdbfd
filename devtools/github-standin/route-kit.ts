// What the stand-in's REST handlers are written with: the handler signature, the error that becomes an HTTP status,
// lookups of repositories, issues, PRs, comments and check runs, and the rules GitHub applies that its description
// does not express (65,536-character bodies, pagination, labels created on first use, closing keywords).
import { z } from 'zod';
import type { CommitInfo } from '../bare-repo.js';
import {
  type BuildContext,
  botLogin,
  findLabel,
  findRepo,
  labelObject,
  nodeId,
  reactionObject,
  userObject,
} from './objects.js';
import { completeComponent, type Json, type JsonObject } from './openapi.js';
import type {
  Annotation,
  CheckRunRecord,
  IssueLike,
  IssueRecord,
  LabelRecord,
  PullRecord,
  RepoRecord,
  Violation,
} from './state.js';

export const MAX_BODY_CHARS = 65_536;

export type Auth =
  | { kind: 'jwt' }
  | { kind: 'installation'; installationId: number; token: string; permissions: Record<string, string> };

export interface HandlerInput {
  params: Record<string, string>;
  query: URLSearchParams;
  body: unknown;
  auth: Auth;
  ctx: BuildContext;
  /** Absolute URL of this request (for pagination links). */
  requestUrl: URL;
  nextId(): number;
  issueToken(installationId: number, permissions: Record<string, string>): { token: string; expiresAt: string };
  autoCloseIssues: boolean;
  /** The request's Accept header ('' when absent). */
  accept: string;
}

export interface Reply {
  status: number;
  body?: Json | undefined;
  /** A non-JSON body (raw file contents). */
  raw?: { contentType: string; data: Buffer };
  headers?: Record<string, string>;
}

/** A GitHub error reply; with `violation` it is also recorded as something the App should never cause. */
export class HttpError extends Error {
  /** What went wrong in words for the violation log, when `message` is GitHub's terse text. */
  detail: string | undefined;
  constructor(
    readonly status: number,
    message: string,
    readonly errors: JsonObject[] = [],
    readonly violation?: Violation['kind'],
  ) {
    super(message);
  }

  withDetail(detail: string): this {
    this.detail = detail;
    return this;
  }
}

export const notFound = () => new HttpError(404, 'Not Found');
export const now = () => new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');

export function repoOf(input: HandlerInput): RepoRecord {
  const repo = findRepo(input.ctx.state, `${input.params['owner']}/${input.params['repo']}`);
  if (!repo) throw notFound();
  return repo;
}

export const keyOf = (r: RepoRecord) => `${r.owner}/${r.name}`;

export function num(input: HandlerInput, name: string): number {
  const n = Number(input.params[name]);
  if (!Number.isInteger(n)) throw notFound();
  return n;
}

/** The acting identity: the App's bot for installation tokens. */
export function actor(input: HandlerInput): string {
  return botLogin(input.ctx.app);
}

export function findIssueLike(input: HandlerInput, repo: RepoRecord, number: number): IssueRecord | PullRecord {
  const key = keyOf(repo);
  const found =
    input.ctx.state.issues.find((i) => i.repo === key && i.number === number) ??
    input.ctx.state.pulls.find((p) => p.repo === key && p.number === number);
  if (!found) throw notFound();
  return found;
}

export function findPull(input: HandlerInput, repo: RepoRecord, number: number): PullRecord {
  const p = input.ctx.state.pulls.find((x) => x.repo === keyOf(repo) && x.number === number);
  if (!p) throw notFound();
  return p;
}

export function nextNumber(input: HandlerInput, repo: RepoRecord): number {
  const key = keyOf(repo);
  const all = [...input.ctx.state.issues, ...input.ctx.state.pulls].filter((i) => i.repo === key);
  return all.reduce((m, i) => Math.max(m, i.number), 0) + 1;
}

/** GitHub counts characters, not UTF-16 units. */
export function checkBodyLength(body: string | null | undefined, resource: string): void {
  if (body == null) return;
  const length = Array.from(body).length;
  if (length > MAX_BODY_CHARS) {
    throw new HttpError(
      422,
      'Validation Failed',
      [
        {
          resource,
          code: 'custom',
          field: 'body',
          message: `body is too long (maximum is ${MAX_BODY_CHARS} characters)`,
        },
      ],
      'limit',
    );
  }
}

export function parse<T>(schema: z.ZodType<T>, body: unknown): T {
  const r = schema.safeParse(body ?? {});
  if (!r.success) throw new HttpError(422, `Invalid request: ${z.prettifyError(r.error)}`, [], 'spec');
  return r.data;
}

export function paginate(input: HandlerInput, items: Json[]): Reply {
  const perPage = Math.min(100, Math.max(1, Number(input.query.get('per_page') ?? 30) || 30));
  const page = Math.max(1, Number(input.query.get('page') ?? 1) || 1);
  const last = Math.max(1, Math.ceil(items.length / perPage));
  const slice = items.slice((page - 1) * perPage, page * perPage);
  const link = (p: number, rel: string) => {
    const u = new URL(input.requestUrl);
    u.searchParams.set('per_page', String(perPage));
    u.searchParams.set('page', String(p));
    return `<${u.href}>; rel="${rel}"`;
  };
  const links: string[] = [];
  if (page < last) links.push(link(page + 1, 'next'), link(last, 'last'));
  if (page > 1) links.push(link(1, 'first'), link(page - 1, 'prev'));
  return { status: 200, body: slice, headers: links.length ? { link: links.join(', ') } : {} };
}

export function touch(i: IssueLike, body?: string | null): void {
  if (body !== undefined && body !== i.body) {
    i.bodyHistory.push(i.body);
    i.body = body;
  }
  i.updatedAt = now();
}

/** Label names as the issues API takes them (strings or `{name}`), each created when missing. */
export function issueLabelNames(
  input: HandlerInput,
  repo: RepoRecord,
  labels: (string | { name?: string | undefined })[],
): string[] {
  return labels.flatMap((l) => {
    const name = typeof l === 'string' ? l : l.name;
    return name ? [ensureLabel(input, repo, name).name] : [];
  });
}

export function ensureLabel(input: HandlerInput, repo: RepoRecord, name: string): LabelRecord {
  const key = keyOf(repo);
  const existing = findLabel(input.ctx.state, key, name);
  if (existing) return existing;
  const id = input.nextId();
  const label: LabelRecord = { repo: key, id, nodeId: nodeId('LA', id), name, color: 'ededed', description: null };
  input.ctx.state.labels.push(label);
  return label;
}

export function labelsOf(input: HandlerInput, i: IssueLike): Json[] {
  return i.labels.flatMap((name) => {
    const l = findLabel(input.ctx.state, i.repo, name);
    return l ? [labelObject(input.ctx, l)] : [];
  });
}

export function closeIssue(i: IssueLike, reason: IssueLike['stateReason']): void {
  if (i.state === 'closed') return;
  i.state = 'closed';
  i.stateReason = reason;
  i.closedAt = now();
  touch(i);
}

export const CLOSING = /\b(?:close[sd]?|fix(?:e[sd])?|resolve[sd]?)\s*:?\s+#(\d+)\b/gi;

// ---------------------------------------------------------------------------------------------------------------
// Bodies (already valid against the description; these narrow the types).

export const LabelsBody = z.union([
  z.array(z.string()),
  z.object({ labels: z.array(z.union([z.string(), z.object({ name: z.string() })])).optional() }),
  z.string(),
]);

export function labelNames(body: unknown): string[] {
  const b = parse(LabelsBody, body);
  if (typeof b === 'string') return [b];
  if (Array.isArray(b)) return b;
  return (b.labels ?? []).map((l) => (typeof l === 'string' ? l : l.name));
}

export const AnnotationSchema = z.object({
  path: z.string(),
  start_line: z.number(),
  end_line: z.number(),
  annotation_level: z.string(),
  message: z.string(),
  title: z.string().optional(),
  raw_details: z.string().optional(),
  start_column: z.number().optional(),
  end_column: z.number().optional(),
});

export const CheckRunBody = z.object({
  name: z.string().optional(),
  head_sha: z.string().optional(),
  details_url: z.string().optional(),
  external_id: z.string().optional(),
  status: z.enum(['queued', 'in_progress', 'completed', 'waiting', 'requested', 'pending']).optional(),
  conclusion: z.string().optional(),
  started_at: z.string().optional(),
  completed_at: z.string().optional(),
  output: z
    .object({
      title: z.string().optional(),
      summary: z.string().optional(),
      text: z.string().optional(),
      annotations: z.array(AnnotationSchema).optional(),
    })
    .optional(),
});

export function applyCheckRun(c: CheckRunRecord, b: z.infer<typeof CheckRunBody>): void {
  if (b.name !== undefined) c.name = b.name;
  if (b.details_url !== undefined) c.detailsUrl = b.details_url;
  if (b.external_id !== undefined) c.externalId = b.external_id;
  if (b.started_at !== undefined) c.startedAt = b.started_at;
  if (b.status !== undefined) c.status = b.status;
  if (b.conclusion !== undefined) {
    // Providing a conclusion completes the run, as GitHub does.
    c.conclusion = b.conclusion;
    c.status = 'completed';
  }
  if (b.completed_at !== undefined) c.completedAt = b.completed_at;
  if (c.status === 'completed') {
    if (c.conclusion === null)
      throw new HttpError(
        422,
        'Invalid request.\n\n"conclusion" is required when "status" is "completed".',
        [],
        'spec',
      );
    c.completedAt ??= now();
  }
  if (b.output) {
    if (b.output.title !== undefined) c.output.title = b.output.title;
    if (b.output.summary !== undefined) c.output.summary = b.output.summary;
    if (b.output.text !== undefined) c.output.text = b.output.text;
    for (const a of b.output.annotations ?? []) {
      const annotation: Annotation = { ...a };
      c.annotations.push(annotation);
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------

export type Handler = (input: HandlerInput) => Promise<Reply> | Reply;

/** GitHub links a commit to an account by its noreply address (`[id+]login@users.noreply.github.com`). */
export function loginForEmail(input: HandlerInput, email: string): string | undefined {
  const m = /^(?:\d+\+)?([^@]+)@users\.noreply\.github\.com$/i.exec(email);
  const login = m?.[1];
  return login && input.ctx.state.users.has(login) ? login : undefined;
}

export function commitObject(input: HandlerInput, repo: RepoRecord, c: CommitInfo): JsonObject {
  const api = `${input.ctx.url}/repos/${keyOf(repo)}`;
  const author = loginForEmail(input, c.author.email);
  const committer = loginForEmail(input, c.committer.email);
  return completeComponent('commit', {
    sha: c.sha,
    node_id: nodeId('C', Number.parseInt(c.sha.slice(0, 8), 16)),
    url: `${api}/commits/${c.sha}`,
    html_url: `${input.ctx.url}/${keyOf(repo)}/commit/${c.sha}`,
    comments_url: `${api}/commits/${c.sha}/comments`,
    commit: {
      url: `${api}/git/commits/${c.sha}`,
      author: { name: c.author.name, email: c.author.email, date: c.author.date },
      committer: { name: c.committer.name, email: c.committer.email, date: c.committer.date },
      message: c.message,
      comment_count: 0,
      tree: { sha: c.tree, url: `${api}/git/trees/${c.tree}` },
    },
    author: author ? userObject(input.ctx, author) : null,
    committer: committer ? userObject(input.ctx, committer) : null,
    parents: c.parents.map((sha) => ({
      sha,
      url: `${api}/commits/${sha}`,
      html_url: `${input.ctx.url}/${keyOf(repo)}/commit/${sha}`,
    })),
  });
}

export function findComment(input: HandlerInput) {
  const repo = repoOf(input);
  const id = num(input, 'comment_id');
  const c = input.ctx.state.comments.find((x) => x.repo === keyOf(repo) && x.id === id && !x.deleted);
  if (!c) throw notFound();
  return c;
}

export function findCheckRun(input: HandlerInput): CheckRunRecord {
  const repo = repoOf(input);
  const id = num(input, 'check_run_id');
  const c = input.ctx.state.checkRuns.find((x) => x.repo === keyOf(repo) && x.id === id);
  if (!c) throw notFound();
  return c;
}

export function react(
  input: HandlerInput,
  repo: string,
  subject: { type: 'issue'; number: number } | { type: 'comment'; id: number },
): Reply {
  const b = parse(z.object({ content: z.string() }), input.body);
  const user = actor(input);
  const same = input.ctx.state.reactions.find(
    (r) =>
      r.repo === repo &&
      r.user === user &&
      r.content === b.content &&
      r.subject.type === subject.type &&
      (r.subject.type === 'issue'
        ? subject.type === 'issue' && r.subject.number === subject.number
        : subject.type === 'comment' && r.subject.id === subject.id),
  );
  // GitHub answers 200 with the existing reaction when the same user reacts the same way twice.
  if (same) return { status: 200, body: reactionObject(input.ctx, same) };
  const id = input.nextId();
  const r = { repo, id, nodeId: nodeId('REA', id), subject, content: b.content, user, createdAt: now() };
  input.ctx.state.reactions.push(r);
  return { status: 201, body: reactionObject(input.ctx, r) };
}
