// The REST operations the stand-in serves, keyed by the operationId of GitHub's description, each a small function
// of (path params, query, validated body) → reply. Bodies have already passed the description's schema by the time
// a handler runs; the zod parses below only narrow their types. GitHub rules the description does not express
// (65,536-character bodies, labels created on first use, a PR number shared with issues) live here.
import { z } from 'zod';
import {
  type CommitInfo,
  listBranches,
  listCommits,
  listTree,
  type MergeMethod,
  mergeBranch,
  readTreeEntry,
  resolveCommit,
} from '../bare-repo.js';
import { deliverToHook } from './hook-deliveries.js';
import {
  appObject,
  type BuildContext,
  botLogin,
  checkRunObject,
  commentObject,
  diffStats,
  ensureUser,
  findLabel,
  findRepo,
  installationObject,
  issueObject,
  labelObject,
  newPullRecord,
  nodeId,
  pullObject,
  pullShas,
  reactionObject,
  repoObject,
  reviewObject,
  userObject,
} from './objects.js';
import { completeComponent, type Json, type JsonObject } from './openapi.js';
import type {
  Annotation,
  CheckRunRecord,
  IssueLike,
  IssueRecord,
  LabelRecord,
  Permission,
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

const notFound = () => new HttpError(404, 'Not Found');
const now = () => new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');

function repoOf(input: HandlerInput): RepoRecord {
  const repo = findRepo(input.ctx.state, `${input.params['owner']}/${input.params['repo']}`);
  if (!repo) throw notFound();
  return repo;
}

const keyOf = (r: RepoRecord) => `${r.owner}/${r.name}`;

function num(input: HandlerInput, name: string): number {
  const n = Number(input.params[name]);
  if (!Number.isInteger(n)) throw notFound();
  return n;
}

/** The acting identity: the App's bot for installation tokens. */
function actor(input: HandlerInput): string {
  return botLogin(input.ctx.app);
}

function findIssueLike(input: HandlerInput, repo: RepoRecord, number: number): IssueRecord | PullRecord {
  const key = keyOf(repo);
  const found =
    input.ctx.state.issues.find((i) => i.repo === key && i.number === number) ??
    input.ctx.state.pulls.find((p) => p.repo === key && p.number === number);
  if (!found) throw notFound();
  return found;
}

function findPull(input: HandlerInput, repo: RepoRecord, number: number): PullRecord {
  const p = input.ctx.state.pulls.find((x) => x.repo === keyOf(repo) && x.number === number);
  if (!p) throw notFound();
  return p;
}

function nextNumber(input: HandlerInput, repo: RepoRecord): number {
  const key = keyOf(repo);
  const all = [...input.ctx.state.issues, ...input.ctx.state.pulls].filter((i) => i.repo === key);
  return all.reduce((m, i) => Math.max(m, i.number), 0) + 1;
}

/** GitHub counts characters, not UTF-16 units. */
function checkBodyLength(body: string | null | undefined, resource: string): void {
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

function parse<T>(schema: z.ZodType<T>, body: unknown): T {
  const r = schema.safeParse(body ?? {});
  if (!r.success) throw new HttpError(422, `Invalid request: ${z.prettifyError(r.error)}`, [], 'spec');
  return r.data;
}

function paginate(input: HandlerInput, items: Json[]): Reply {
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

function touch(i: IssueLike, body?: string | null): void {
  if (body !== undefined && body !== i.body) {
    i.bodyHistory.push(i.body);
    i.body = body;
  }
  i.updatedAt = now();
}

/** Label names as the issues API takes them (strings or `{name}`), each created when missing. */
function issueLabelNames(
  input: HandlerInput,
  repo: RepoRecord,
  labels: (string | { name?: string | undefined })[],
): string[] {
  return labels.flatMap((l) => {
    const name = typeof l === 'string' ? l : l.name;
    return name ? [ensureLabel(input, repo, name).name] : [];
  });
}

function ensureLabel(input: HandlerInput, repo: RepoRecord, name: string): LabelRecord {
  const key = keyOf(repo);
  const existing = findLabel(input.ctx.state, key, name);
  if (existing) return existing;
  const id = input.nextId();
  const label: LabelRecord = { repo: key, id, nodeId: nodeId('LA', id), name, color: 'ededed', description: null };
  input.ctx.state.labels.push(label);
  return label;
}

function labelsOf(input: HandlerInput, i: IssueLike): Json[] {
  return i.labels.flatMap((name) => {
    const l = findLabel(input.ctx.state, i.repo, name);
    return l ? [labelObject(input.ctx, l)] : [];
  });
}

function closeIssue(i: IssueLike, reason: IssueLike['stateReason']): void {
  if (i.state === 'closed') return;
  i.state = 'closed';
  i.stateReason = reason;
  i.closedAt = now();
  touch(i);
}

const CLOSING = /\b(?:close[sd]?|fix(?:e[sd])?|resolve[sd]?)\s*:?\s+#(\d+)\b/gi;

// ---------------------------------------------------------------------------------------------------------------
// Bodies (already valid against the description; these narrow the types).

const LabelsBody = z.union([
  z.array(z.string()),
  z.object({ labels: z.array(z.union([z.string(), z.object({ name: z.string() })])).optional() }),
  z.string(),
]);

function labelNames(body: unknown): string[] {
  const b = parse(LabelsBody, body);
  if (typeof b === 'string') return [b];
  if (Array.isArray(b)) return b;
  return (b.labels ?? []).map((l) => (typeof l === 'string' ? l : l.name));
}

const AnnotationSchema = z.object({
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

const CheckRunBody = z.object({
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

function applyCheckRun(c: CheckRunRecord, b: z.infer<typeof CheckRunBody>): void {
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

export const HANDLERS: Record<string, Handler> = {
  // --- App authentication (JWT) ---
  'apps/get-authenticated': ({ ctx }) => ({ status: 200, body: appObject(ctx) }),
  'apps/list-installations': (input) =>
    paginate(
      input,
      input.ctx.state.installations.map((i) => installationObject(input.ctx, i)),
    ),
  'apps/get-installation': (input) => {
    const inst = input.ctx.state.installations.find((i) => i.id === num(input, 'installation_id'));
    if (!inst) throw notFound();
    return { status: 200, body: installationObject(input.ctx, inst) };
  },
  'apps/get-repo-installation': (input) => {
    const repo = repoOf(input);
    const inst = input.ctx.state.installations.find((i) => i.id === repo.installationId);
    if (!inst) throw notFound();
    return { status: 200, body: installationObject(input.ctx, inst) };
  },
  'apps/create-installation-access-token': (input) => {
    const inst = input.ctx.state.installations.find((i) => i.id === num(input, 'installation_id'));
    if (!inst) throw notFound();
    const b = parse(z.object({ permissions: z.record(z.string(), z.string()).optional() }).loose(), input.body);
    const permissions = b.permissions ?? inst.permissions;
    for (const [name, level] of Object.entries(permissions)) {
      if (!permits(inst.permissions, [[name, level]]))
        throw new HttpError(422, `The permissions requested are not granted to this installation.`, [], 'auth');
    }
    const issued = input.issueToken(inst.id, permissions);
    const repos = input.ctx.state.repos.filter((r) => r.installationId === inst.id);
    return {
      status: 201,
      body: completeComponent('installation-token', {
        token: issued.token,
        expires_at: issued.expiresAt,
        permissions,
        repository_selection: 'selected',
        repositories: repos.map((r) => repoObject(input.ctx, r, 'repository')),
      }),
    };
  },

  'apps/list-repos-accessible-to-installation': (input) => {
    if (input.auth.kind !== 'installation') throw new HttpError(403, 'requires an installation token', [], 'auth');
    const id = input.auth.installationId;
    const repos = input.ctx.state.repos.filter((r) => r.installationId === id);
    const perPage = Math.min(100, Math.max(1, Number(input.query.get('per_page') ?? 30) || 30));
    const page = Math.max(1, Number(input.query.get('page') ?? 1) || 1);
    const slice = repos.slice((page - 1) * perPage, page * perPage);
    return {
      status: 200,
      body: {
        total_count: repos.length,
        repository_selection: 'selected',
        repositories: slice.map((r) => repoObject(input.ctx, r, 'repository')),
      },
    };
  },
  // --- The App's webhook deliveries (JWT) ---
  'apps/list-webhook-deliveries': (input) => {
    const perPage = Math.min(100, Math.max(1, Number(input.query.get('per_page') ?? 30) || 30));
    const cursor = Number(input.query.get('cursor') ?? Number.POSITIVE_INFINITY);
    const wanted = input.query.get('status');
    const all = [...input.ctx.state.hookDeliveries]
      .reverse()
      .filter((d) => d.id <= cursor)
      .filter((d) =>
        wanted === 'success'
          ? d.statusCode >= 200 && d.statusCode < 400
          : wanted === 'failure'
            ? d.statusCode >= 400
            : true,
      );
    const page = all.slice(0, perPage);
    const next = all[perPage];
    const headers: Record<string, string> = {};
    if (next) {
      const u = new URL(input.requestUrl);
      u.searchParams.set('per_page', String(perPage));
      u.searchParams.set('cursor', String(next.id));
      headers['link'] = `<${u.href}>; rel="next"`;
    }
    return {
      status: 200,
      headers,
      body: page.map((d) => ({
        id: d.id,
        guid: d.guid,
        delivered_at: d.deliveredAt,
        redelivery: d.redelivery,
        duration: d.duration,
        status: d.status,
        status_code: d.statusCode,
        event: d.event,
        action: d.action,
        installation_id: d.installationId,
        repository_id: d.repositoryId,
        throttled_at: null,
      })),
    };
  },
  'apps/redeliver-webhook-delivery': async (input) => {
    const id = num(input, 'delivery_id');
    const d = input.ctx.state.hookDeliveries.find((x) => x.id === id);
    if (!d) throw notFound();
    await deliverToHook(input.ctx.state, input.nextId, {
      event: d.event,
      rawBody: d.rawBody,
      guid: d.guid,
      redelivery: true,
      appId: input.ctx.app.id,
    });
    return { status: 202, body: {} };
  },

  // --- Repositories ---
  'repos/get': (input) => ({ status: 200, body: repoObject(input.ctx, repoOf(input)) }),
  'repos/get-content': async (input) => {
    const repo = repoOf(input);
    const ref = input.query.get('ref') ?? repo.defaultBranch;
    const path = input.params['path'] ?? '';
    const full = /^[0-9a-f]{40}$/.test(ref) || ref.startsWith('refs/') ? ref : `refs/heads/${ref}`;
    const sha = (await resolveCommit(repo.remotePath, full)) ?? (await resolveCommit(repo.remotePath, ref));
    if (!sha) throw new HttpError(404, `No commit found for the ref ${ref}`);
    const entry = await readTreeEntry(repo.remotePath, sha, path);
    if (!entry) throw notFound();
    const key = keyOf(repo);
    const links = (p: string, type: 'file' | 'dir', blobSha: string) => {
      const api = `${input.ctx.url}/repos/${key}/contents/${p}?ref=${encodeURIComponent(ref)}`;
      const html = `${input.ctx.url}/${key}/${type === 'dir' ? 'tree' : 'blob'}/${encodeURIComponent(ref)}/${p}`;
      const gitUrl = `${input.ctx.url}/repos/${key}/git/${type === 'dir' ? 'trees' : 'blobs'}/${blobSha}`;
      return { url: api, html_url: html, git_url: gitUrl, _links: { self: api, git: gitUrl, html } };
    };
    if (entry.type === 'file') {
      // `Accept: application/vnd.github.raw` (Probot's context.config() asks this way) returns the bytes alone.
      if (/vnd\.github(?:\.v3)?\.raw/.test(input.accept)) {
        return { status: 200, raw: { contentType: 'application/vnd.github.raw; charset=utf-8', data: entry.content } };
      }
      return {
        status: 200,
        body: {
          type: 'file',
          encoding: 'base64',
          size: entry.size,
          name: entry.path.split('/').pop() ?? entry.path,
          path: entry.path,
          // GitHub wraps base64 at 60 columns; clients must cope, so we do too.
          content: `${(entry.content.toString('base64').match(/.{1,60}/g) ?? []).join('\n')}\n`,
          sha: entry.sha,
          download_url: `${input.ctx.url}/raw/${key}/${encodeURIComponent(ref)}/${entry.path}`,
          ...links(entry.path, 'file', entry.sha),
        },
      };
    }
    return {
      status: 200,
      body: entry.entries.map((e) => ({
        type: e.type,
        size: e.size,
        name: e.name,
        path: e.path,
        sha: e.sha,
        download_url: e.type === 'file' ? `${input.ctx.url}/raw/${key}/${encodeURIComponent(ref)}/${e.path}` : null,
        ...links(e.path, e.type, e.sha),
      })),
    };
  },
  'repos/get-collaborator-permission-level': (input) => {
    const repo = repoOf(input);
    const login = input.params['username'] ?? '';
    const role: Permission = input.ctx.state.permissions.get(keyOf(repo))?.get(login) ?? 'none';
    // The legacy `permission` field folds maintain into write and triage into read; role_name keeps the role.
    const permission = role === 'maintain' ? 'write' : role === 'triage' ? 'read' : role;
    const perms = {
      admin: role === 'admin',
      maintain: role === 'admin' || role === 'maintain',
      push: ['admin', 'maintain', 'write'].includes(role),
      triage: ['admin', 'maintain', 'write', 'triage'].includes(role),
      pull: role !== 'none',
    };
    return {
      status: 200,
      body: completeComponent('repository-collaborator-permission', {
        permission,
        role_name: role,
        user: { ...userObject(input.ctx, login), permissions: perms, role_name: role },
      }),
    };
  },
  'repos/list-branches': async (input) => {
    const repo = repoOf(input);
    const branches = await listBranches(repo.remotePath);
    return paginate(
      input,
      [...branches].map(([name, sha]) => ({
        name,
        commit: { sha, url: `${input.ctx.url}/repos/${keyOf(repo)}/commits/${sha}` },
        protected: false,
      })),
    );
  },
  'repos/get-branch': async (input) => {
    const repo = repoOf(input);
    const name = input.params['branch'] ?? '';
    const sha = await resolveCommit(repo.remotePath, `refs/heads/${name}`);
    if (!sha) throw new HttpError(404, 'Branch not found');
    const api = `${input.ctx.url}/repos/${keyOf(repo)}`;
    return {
      status: 200,
      body: completeComponent('branch-with-protection', {
        name,
        commit: completeComponent('commit', {
          sha,
          node_id: nodeId('C', Number.parseInt(sha.slice(0, 8), 16)),
          url: `${api}/commits/${sha}`,
          html_url: `${input.ctx.url}/${keyOf(repo)}/commit/${sha}`,
          comments_url: `${api}/commits/${sha}/comments`,
          commit: {
            url: `${api}/git/commits/${sha}`,
            message: '',
            comment_count: 0,
            tree: { sha, url: `${api}/git/trees/${sha}` },
            author: null,
            committer: null,
          },
          author: null,
          committer: null,
          parents: [],
        }),
        _links: { html: `${input.ctx.url}/${keyOf(repo)}/tree/${name}`, self: `${api}/branches/${name}` },
        protected: false,
        protection: { enabled: false },
        protection_url: `${api}/branches/${name}/protection`,
      }),
    };
  },
  'git/get-ref': async (input) => {
    const repo = repoOf(input);
    const ref = (input.params['ref'] ?? '').replace(/^refs\//, '');
    const sha = await resolveCommit(repo.remotePath, `refs/${ref}`);
    if (!sha) throw notFound();
    const api = `${input.ctx.url}/repos/${keyOf(repo)}`;
    return {
      status: 200,
      body: {
        ref: `refs/${ref}`,
        node_id: nodeId('REF', Number.parseInt(sha.slice(0, 8), 16)),
        url: `${api}/git/refs/${ref}`,
        object: { type: 'commit', sha, url: `${api}/git/commits/${sha}` },
      },
    };
  },

  'git/get-tree': async (input) => {
    const repo = repoOf(input);
    const ref = input.params['tree_sha'] ?? '';
    const full = /^[0-9a-f]{40}$/.test(ref) || ref.startsWith('refs/') ? ref : `refs/heads/${ref}`;
    const listed = await listTree(repo.remotePath, full);
    if (!listed) throw notFound();
    const recursive = input.query.get('recursive') !== null;
    const api = `${input.ctx.url}/repos/${keyOf(repo)}/git`;
    const entries = recursive ? listed.entries : listed.entries.filter((e) => !e.path.includes('/'));
    return {
      status: 200,
      body: completeComponent('git-tree', {
        sha: listed.tree,
        url: `${api}/trees/${listed.tree}`,
        truncated: false,
        tree: entries.map((e) => ({
          path: e.path,
          mode: e.mode,
          type: e.type,
          sha: e.sha,
          ...(e.type === 'blob' ? { size: e.size } : {}),
          url: `${api}/${e.type === 'blob' ? 'blobs' : 'trees'}/${e.sha}`,
        })),
      }),
    };
  },

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
    const at = now();
    const c = {
      repo: i.repo,
      issueNumber: i.number,
      id,
      nodeId: nodeId('IC', id),
      body: b.body,
      user: actor(input),
      createdAt: at,
      updatedAt: at,
      minimized: false,
      minimizedReason: null,
      deleted: false,
      bodyHistory: [],
    };
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

  // --- Pull requests ---
  'pulls/create': async (input) => {
    const repo = repoOf(input);
    const b = parse(
      z.object({
        title: z.string().optional(),
        head: z.string(),
        head_repo: z.string().optional(),
        base: z.string(),
        body: z.string().optional(),
        draft: z.boolean().optional(),
        maintainer_can_modify: z.boolean().optional(),
        issue: z.number().optional(),
      }),
      input.body,
    );
    checkBodyLength(b.body, 'PullRequest');
    const headRef = b.head.includes(':') ? b.head.slice(b.head.indexOf(':') + 1) : b.head;
    const invalid = (field: string, message: string) =>
      new HttpError(422, 'Validation Failed', [{ resource: 'PullRequest', code: 'invalid', field, message }]);
    const headSha = await resolveCommit(repo.remotePath, `refs/heads/${headRef}`);
    if (!headSha) throw invalid('head', `head: branch ${headRef} does not exist`);
    const baseSha = await resolveCommit(repo.remotePath, `refs/heads/${b.base}`);
    if (!baseSha) throw invalid('base', `base: branch ${b.base} does not exist`);
    if (headSha === baseSha) throw invalid('head', `No commits between ${b.base} and ${headRef}`);
    const existing = input.ctx.state.pulls.find(
      (p) => p.repo === keyOf(repo) && p.state === 'open' && p.headRef === headRef && p.baseRef === b.base,
    );
    if (existing)
      throw new HttpError(422, 'Validation Failed', [
        {
          resource: 'PullRequest',
          code: 'custom',
          message: `A pull request already exists for ${repo.owner}:${headRef}.`,
        },
      ]);
    if (b.title === undefined && b.issue === undefined) throw invalid('title', 'title is required');
    const id = input.nextId();
    const at = now();
    const p = newPullRecord({
      repo: keyOf(repo),
      number: nextNumber(input, repo),
      id,
      title: b.title ?? '',
      body: b.body ?? null,
      user: actor(input),
      headRef,
      baseRef: b.base,
      at,
      draft: b.draft ?? false,
      maintainerCanModify: b.maintainer_can_modify ?? true,
    });
    input.ctx.state.pulls.push(p);
    return {
      status: 201,
      body: await pullObject(input.ctx, p, true),
      headers: { location: `${input.ctx.url}/repos/${p.repo}/pulls/${p.number}` },
    };
  },
  'pulls/get': async (input) => {
    const p = findPull(input, repoOf(input), num(input, 'pull_number'));
    return { status: 200, body: await pullObject(input.ctx, p, true) };
  },
  'pulls/update': async (input) => {
    const repo = repoOf(input);
    const p = findPull(input, repo, num(input, 'pull_number'));
    const b = parse(
      z.object({
        title: z.string().optional(),
        body: z.string().optional(),
        state: z.enum(['open', 'closed']).optional(),
        base: z.string().optional(),
        maintainer_can_modify: z.boolean().optional(),
      }),
      input.body,
    );
    checkBodyLength(b.body, 'PullRequest');
    if (b.title !== undefined) p.title = b.title;
    if (b.body !== undefined) touch(p, b.body);
    if (b.base !== undefined) {
      if (!(await resolveCommit(repo.remotePath, `refs/heads/${b.base}`)))
        throw new HttpError(422, 'Validation Failed', [{ resource: 'PullRequest', code: 'invalid', field: 'base' }]);
      p.baseRef = b.base;
    }
    if (b.maintainer_can_modify !== undefined) p.maintainerCanModify = b.maintainer_can_modify;
    if (b.state === 'closed' && p.state === 'open') {
      const shas = await pullShas(input.ctx.state, p);
      p.headShaAtClose = shas.head;
      closeIssue(p, null);
    } else if (b.state === 'open' && p.state === 'closed') {
      if (p.merged) throw new HttpError(422, 'Validation Failed: cannot reopen a merged pull request');
      p.state = 'open';
      p.closedAt = null;
      p.headShaAtClose = null;
    }
    touch(p);
    return { status: 200, body: await pullObject(input.ctx, p, true) };
  },
  'pulls/list': async (input) => {
    const repo = repoOf(input);
    const state = input.query.get('state') ?? 'open';
    const head = input.query.get('head');
    const base = input.query.get('base');
    const direction = input.query.get('direction') ?? 'desc';
    let list = input.ctx.state.pulls.filter((p) => p.repo === keyOf(repo) && (state === 'all' || p.state === state));
    if (head) {
      // `owner:branch`; GitHub ignores a filter without the owner part (it returns everything).
      const [owner, branch] = head.includes(':')
        ? [head.slice(0, head.indexOf(':')), head.slice(head.indexOf(':') + 1)]
        : [];
      if (owner !== undefined && branch !== undefined)
        list = list.filter(
          (p) => owner.toLowerCase() === (p.forkOwner ?? repo.owner).toLowerCase() && p.headRef === branch,
        );
    }
    if (base) list = list.filter((p) => p.baseRef === base);
    list = [...list].sort((a, b) => (direction === 'asc' ? a.number - b.number : b.number - a.number));
    const objects: Json[] = [];
    for (const p of list) objects.push(await pullObject(input.ctx, p, false));
    return paginate(input, objects);
  },
  'pulls/list-files': async (input) => {
    const repo = repoOf(input);
    const p = findPull(input, repo, num(input, 'pull_number'));
    const shas = await pullShas(input.ctx.state, p);
    if (!shas.head || !shas.base) return paginate(input, []);
    const { files } = await diffStats(repo.remotePath, shas.base, shas.head);
    return paginate(
      input,
      files.map((f) => ({
        sha: shas.head ?? '',
        filename: f.filename,
        status: f.status,
        additions: f.additions,
        deletions: f.deletions,
        changes: f.additions + f.deletions,
        blob_url: `${input.ctx.url}/${p.repo}/blob/${shas.head}/${f.filename}`,
        raw_url: `${input.ctx.url}/${p.repo}/raw/${shas.head}/${f.filename}`,
        contents_url: `${input.ctx.url}/repos/${p.repo}/contents/${f.filename}?ref=${shas.head}`,
        patch: f.patch,
        ...(f.previousFilename ? { previous_filename: f.previousFilename } : {}),
      })),
    );
  },
  'pulls/list-commits': async (input) => {
    const repo = repoOf(input);
    const p = findPull(input, repo, num(input, 'pull_number'));
    const shas = await pullShas(input.ctx.state, p);
    if (!shas.head || !shas.base) return paginate(input, []);
    const commits = await listCommits(repo.remotePath, shas.base, shas.head);
    return paginate(
      input,
      commits.map((c) => commitObject(input, repo, c)),
    );
  },
  'repos/get-commit': async (input) => {
    const repo = repoOf(input);
    const ref = input.params['ref'] ?? '';
    const sha =
      (await resolveCommit(repo.remotePath, `refs/heads/${ref}`)) ?? (await resolveCommit(repo.remotePath, ref));
    if (!sha) throw new HttpError(422, `No commit found for SHA: ${ref}`);
    const [c] = await listCommits(repo.remotePath, undefined, sha);
    if (!c) throw notFound();
    return { status: 200, body: commitObject(input, repo, c) };
  },
  'pulls/list-reviews': (input) => {
    const repo = repoOf(input);
    const p = findPull(input, repo, num(input, 'pull_number'));
    return paginate(
      input,
      input.ctx.state.reviews
        .filter((r) => r.repo === p.repo && r.pullNumber === p.number)
        .map((r) => reviewObject(input.ctx, r)),
    );
  },
  'pulls/check-if-merged': (input) => {
    const p = findPull(input, repoOf(input), num(input, 'pull_number'));
    return p.merged ? { status: 204 } : { status: 404, body: { message: 'Not Found' } };
  },
  'pulls/merge': async (input) => {
    const repo = repoOf(input);
    const p = findPull(input, repo, num(input, 'pull_number'));
    const b = parse(
      z
        .object({
          commit_title: z.string().optional(),
          commit_message: z.string().optional(),
          sha: z.string().optional(),
          merge_method: z.enum(['merge', 'squash', 'rebase']).optional(),
        })
        .nullable(),
      input.body,
    );
    if (p.merged || p.state !== 'open') throw new HttpError(405, 'Pull Request is not mergeable');
    const shas = await pullShas(input.ctx.state, p);
    if (!shas.head || !shas.base) throw new HttpError(405, 'Pull Request is not mergeable');
    if (b?.sha && b.sha !== shas.head)
      throw new HttpError(409, 'Head branch was modified. Review and try the merge again.');
    if (p.mergeableOverride === false) throw new HttpError(405, 'Pull Request is not mergeable');
    const method: MergeMethod = b?.merge_method ?? 'merge';
    const title =
      b?.commit_title ??
      (method === 'squash'
        ? `${p.title} (#${p.number})`
        : `Merge pull request #${p.number} from ${repo.owner}/${p.headRef}`);
    const message = b?.commit_message !== undefined ? `${title}\n\n${b.commit_message}` : `${title}\n\n${p.title}`;
    const merged = await mergeBranch(repo.remotePath, p.baseRef, shas.head, method, message);
    if (!merged) throw new HttpError(405, 'Pull Request is not mergeable');
    const at = now();
    p.merged = true;
    p.mergedAt = at;
    p.mergedBy = actor(input);
    p.mergeCommitSha = merged;
    p.headShaAtClose = shas.head;
    p.baseShaAtClose = shas.base;
    closeIssue(p, null);
    // Merging into the default branch closes the issues the PR says it closes, as GitHub does.
    if (input.autoCloseIssues && p.baseRef === repo.defaultBranch) {
      for (const m of `${p.title}\n${p.body ?? ''}`.matchAll(CLOSING)) {
        const issue = input.ctx.state.issues.find((i) => i.repo === p.repo && i.number === Number(m[1]));
        if (issue) closeIssue(issue, 'completed');
      }
    }
    return { status: 200, body: { sha: merged, merged: true, message: 'Pull Request successfully merged' } };
  },

  // --- Checks ---
  'checks/create': async (input) => {
    const repo = repoOf(input);
    const b = parse(CheckRunBody.extend({ name: z.string(), head_sha: z.string() }), input.body);
    if (!(await resolveCommit(repo.remotePath, b.head_sha)))
      throw new HttpError(422, 'No commit found for SHA: ' + b.head_sha, [], 'spec');
    const id = input.nextId();
    const c: CheckRunRecord = {
      repo: keyOf(repo),
      id,
      nodeId: nodeId('CR', id),
      name: b.name,
      headSha: b.head_sha,
      status: 'queued',
      conclusion: null,
      startedAt: now(),
      completedAt: null,
      detailsUrl: null,
      externalId: null,
      output: { title: null, summary: null, text: null },
      annotations: [],
      updates: 0,
    };
    applyCheckRun(c, b);
    input.ctx.state.checkRuns.push(c);
    return { status: 201, body: await checkRunObject(input.ctx, c) };
  },
  'checks/update': async (input) => {
    const c = findCheckRun(input);
    applyCheckRun(c, parse(CheckRunBody, input.body));
    c.updates += 1;
    return { status: 200, body: await checkRunObject(input.ctx, c) };
  },
  'checks/get': async (input) => ({ status: 200, body: await checkRunObject(input.ctx, findCheckRun(input)) }),
  'checks/list-for-ref': async (input) => {
    const repo = repoOf(input);
    const ref = input.params['ref'] ?? '';
    const sha =
      (/^[0-9a-f]{40}$/.test(ref) ? ref : undefined) ??
      (await resolveCommit(repo.remotePath, `refs/heads/${ref}`)) ??
      (await resolveCommit(repo.remotePath, ref));
    if (!sha) throw new HttpError(422, `No commit found for SHA: ${ref}`);
    const name = input.query.get('check_name');
    const status = input.query.get('status');
    const filter = input.query.get('filter') ?? 'latest';
    let runs = input.ctx.state.checkRuns.filter(
      (c) =>
        c.repo === keyOf(repo) && c.headSha === sha && (!name || c.name === name) && (!status || c.status === status),
    );
    if (filter === 'latest') {
      const latest = new Map<string, CheckRunRecord>();
      for (const c of runs) latest.set(c.name, c);
      runs = [...latest.values()];
    }
    runs = [...runs].sort((a, b) => b.id - a.id);
    const page = paginate(input, []);
    const perPage = Math.min(100, Math.max(1, Number(input.query.get('per_page') ?? 30) || 30));
    const pageNo = Math.max(1, Number(input.query.get('page') ?? 1) || 1);
    const slice = runs.slice((pageNo - 1) * perPage, pageNo * perPage);
    const objects: Json[] = [];
    for (const c of slice) objects.push(await checkRunObject(input.ctx, c));
    return { status: 200, body: { total_count: runs.length, check_runs: objects }, headers: page.headers ?? {} };
  },

  // --- Teams ---
  'teams/get-membership-for-user-in-org': (input) => {
    const { org = '', team_slug: team = '', username = '' } = input.params;
    const m = input.ctx.state.teamMemberships.find(
      (x) => x.org.toLowerCase() === org.toLowerCase() && x.team === team && x.user === username,
    );
    if (!m) throw notFound();
    ensureUser(input.ctx.state, username);
    return {
      status: 200,
      body: {
        url: `${input.ctx.url}/orgs/${org}/teams/${team}/memberships/${username}`,
        role: m.role,
        state: m.state,
      },
    };
  },
};

/** GitHub links a commit to an account by its noreply address (`[id+]login@users.noreply.github.com`). */
function loginForEmail(input: HandlerInput, email: string): string | undefined {
  const m = /^(?:\d+\+)?([^@]+)@users\.noreply\.github\.com$/i.exec(email);
  const login = m?.[1];
  return login && input.ctx.state.users.has(login) ? login : undefined;
}

function commitObject(input: HandlerInput, repo: RepoRecord, c: CommitInfo): JsonObject {
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

function findComment(input: HandlerInput) {
  const repo = repoOf(input);
  const id = num(input, 'comment_id');
  const c = input.ctx.state.comments.find((x) => x.repo === keyOf(repo) && x.id === id && !x.deleted);
  if (!c) throw notFound();
  return c;
}

function findCheckRun(input: HandlerInput): CheckRunRecord {
  const repo = repoOf(input);
  const id = num(input, 'check_run_id');
  const c = input.ctx.state.checkRuns.find((x) => x.repo === keyOf(repo) && x.id === id);
  if (!c) throw notFound();
  return c;
}

function react(
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

type Need = [permission: string, level: string];

/**
 * The installation permission each operation needs (any one of the alternatives), so an App whose manifest asks for
 * too little fails here as it would on GitHub.
 */
export const REQUIRED_PERMISSIONS: Record<string, Need[]> = {
  'repos/get': [['metadata', 'read']],
  'repos/get-content': [['contents', 'read']],
  'repos/get-collaborator-permission-level': [['metadata', 'read']],
  'repos/list-branches': [['metadata', 'read']],
  'repos/get-branch': [['metadata', 'read']],
  'git/get-ref': [['contents', 'read']],
  'git/get-tree': [['contents', 'read']],
  'issues/get': [
    ['issues', 'read'],
    ['pull_requests', 'read'],
  ],
  'issues/list-comments': [
    ['issues', 'read'],
    ['pull_requests', 'read'],
  ],
  'issues/get-comment': [
    ['issues', 'read'],
    ['pull_requests', 'read'],
  ],
  'issues/list-labels-on-issue': [
    ['issues', 'read'],
    ['pull_requests', 'read'],
  ],
  'issues/get-label': [
    ['issues', 'read'],
    ['pull_requests', 'read'],
  ],
  'issues/list-labels-for-repo': [
    ['issues', 'read'],
    ['pull_requests', 'read'],
  ],
  'reactions/list-for-issue': [
    ['issues', 'read'],
    ['pull_requests', 'read'],
  ],
  'apps/list-repos-accessible-to-installation': [['metadata', 'read']],
  'issues/create': [['issues', 'write']],
  'issues/update': [
    ['issues', 'write'],
    ['pull_requests', 'write'],
  ],
  'issues/create-comment': [
    ['issues', 'write'],
    ['pull_requests', 'write'],
  ],
  'issues/update-comment': [
    ['issues', 'write'],
    ['pull_requests', 'write'],
  ],
  'issues/delete-comment': [
    ['issues', 'write'],
    ['pull_requests', 'write'],
  ],
  'reactions/create-for-issue': [
    ['issues', 'write'],
    ['pull_requests', 'write'],
  ],
  'reactions/create-for-issue-comment': [
    ['issues', 'write'],
    ['pull_requests', 'write'],
  ],
  'issues/add-labels': [
    ['issues', 'write'],
    ['pull_requests', 'write'],
  ],
  'issues/set-labels': [
    ['issues', 'write'],
    ['pull_requests', 'write'],
  ],
  'issues/remove-label': [
    ['issues', 'write'],
    ['pull_requests', 'write'],
  ],
  'issues/create-label': [
    ['issues', 'write'],
    ['pull_requests', 'write'],
  ],
  'pulls/create': [['pull_requests', 'write']],
  'pulls/update': [['pull_requests', 'write']],
  'pulls/get': [['pull_requests', 'read']],
  'pulls/list': [['pull_requests', 'read']],
  'pulls/list-files': [['pull_requests', 'read']],
  'pulls/list-reviews': [['pull_requests', 'read']],
  'pulls/list-commits': [['pull_requests', 'read']],
  'repos/get-commit': [['contents', 'read']],
  'pulls/check-if-merged': [['pull_requests', 'read']],
  'pulls/merge': [['contents', 'write']],
  'checks/create': [['checks', 'write']],
  'checks/update': [['checks', 'write']],
  'checks/get': [['checks', 'read']],
  'checks/list-for-ref': [['checks', 'read']],
  'teams/get-membership-for-user-in-org': [['members', 'read']],
  graphql: [
    ['issues', 'write'],
    ['pull_requests', 'write'],
  ],
};

const LEVELS: Record<string, number> = { read: 1, write: 2, admin: 3 };

export function permits(granted: Record<string, string>, needs: Need[]): boolean {
  return needs.some(([name, level]) => (LEVELS[granted[name] ?? ''] ?? 0) >= (LEVELS[level] ?? 99));
}
