// A local GitHub for the offline demo and the end-to-end tests: a real HTTP server on 127.0.0.1 that authenticates
// a GitHub App (RS256 JWT → installation token), serves the REST operations such an App uses from in-memory state
// and real bare git repositories, and holds every request to GitHub's OpenAPI description. A request GitHub would
// refuse gets GitHub's error AND lands in `violations`, so a test can assert the App never sent one.
import { generateKeyPairSync, type KeyObject, randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { git, resolveCommit } from '../bare-repo.js';
import { type GraphqlResult, handleGraphql } from './graphql.js';
import { deliverToHook } from './hook-deliveries.js';
import { publicKeyOf, verifyAppJwt } from './jwt.js';
import {
  type AppIdentity,
  type BuildContext,
  botLogin,
  commentObject,
  ensureUser,
  installationObject,
  issueObject,
  newPullRecord,
  nodeId,
  pullHeadRef,
  pullObject,
  repoObject,
  reviewObject,
  userObject,
} from './objects.js';
import {
  type JsonObject,
  matchRoute,
  type Operation,
  preloadSpec,
  validateRequest,
  validateResponse,
} from './openapi.js';
import {
  type Auth,
  HANDLERS,
  type HandlerInput,
  HttpError,
  permits,
  REQUIRED_PERMISSIONS,
  type Reply,
} from './routes.js';
import {
  type CommentRecord,
  emptyState,
  type HookDeliveryRecord,
  type InstallationRecord,
  type IssueRecord,
  type LabelRecord,
  newComment,
  type Permission,
  type PullRecord,
  type RepoRecord,
  type RequestLogEntry,
  type ResponseViolation,
  type ReviewRecord,
  type StandinState,
  type Violation,
} from './state.js';

/** What the App's manifest (app.yml) is expected to ask for; tests can narrow it to prove least privilege. */
export const DEFAULT_APP_PERMISSIONS: Record<string, string> = {
  contents: 'write',
  issues: 'write',
  pull_requests: 'write',
  checks: 'write',
  metadata: 'read',
  members: 'read',
};

export const DEFAULT_APP_EVENTS = ['issues', 'issue_comment', 'pull_request', 'pull_request_review', 'push'];

export interface StandinOptions {
  appId?: number;
  appSlug?: string;
  appName?: string;
  /**
   * The App's key (PEM, private or public): JWTs must verify against it. When omitted a fresh RSA key pair is
   * generated and its private half is on `standin.app.privateKey`, to hand to the App as PRIVATE_KEY.
   */
  appKey?: string;
  /** Permissions granted to installations that do not set their own (default: DEFAULT_APP_PERMISSIONS). */
  permissions?: Record<string, string>;
  events?: string[];
  /** Check each of our own responses against the description (recorded in `responseViolations`). Default true. */
  validateResponses?: boolean;
  /** Merging a PR into the default branch closes the issues its body says it closes (`Closes #N`). Default true. */
  autoCloseIssues?: boolean;
  tokenTtlSeconds?: number;
  port?: number;
  /** Called after each request is answered (the demo prints these). */
  onRequest?: (entry: RequestLogEntry) => void;
}

export interface GitHubStandin {
  /** `http://127.0.0.1:PORT` — the REST base URL. `${url}/api/v3` works too (Probot's GHE_HOST form). */
  url: string;
  /** `http://127.0.0.1:PORT/api/v3`, what Probot derives from GHE_HOST=127.0.0.1:PORT with GHE_PROTOCOL=http. */
  apiV3Url: string;
  /** `host:port`, for Probot's GHE_HOST. */
  host: string;
  app: { id: number; slug: string; botLogin: string; botId: number; privateKey: string | undefined };
  state: StandinState;
  requests: RequestLogEntry[];
  violations: Violation[];
  responseViolations: ResponseViolation[];

  addInstallation(opts: {
    id: number;
    account: string;
    accountType?: 'Organization' | 'User';
    permissions?: Record<string, string>;
  }): InstallationRecord;
  addRepo(opts: {
    owner: string;
    name: string;
    remotePath: string;
    defaultBranch?: string;
    installationId?: number;
    private?: boolean;
  }): RepoRecord;
  addIssue(opts: {
    owner: string;
    repo: string;
    number?: number;
    title: string;
    body?: string | null;
    labels?: string[];
    user?: string;
  }): IssueRecord;
  /**
   * A pull request a person opened from `head` (a branch of the repository) into `base` (default: the default
   * branch). With `fork`, the PR comes from that user's fork: its commits move to `refs/pull/N/head` (where GitHub
   * keeps a fork PR's head in the base repository) and the branch `head` is removed from the base repository.
   */
  addPullRequest(opts: {
    owner: string;
    repo: string;
    head: string;
    base?: string;
    title: string;
    body?: string | null;
    user: string;
    fork?: string;
  }): Promise<PullRecord>;
  /** A comment by a person (e.g. `/infra revise …`), to then send the matching issue_comment webhook. */
  addComment(opts: { owner: string; repo: string; issueNumber: number; user: string; body: string }): CommentRecord;
  /** A review by a person on the PR's current head (or `commitId`), to then send pull_request_review. */
  addReview(opts: {
    owner: string;
    repo: string;
    pullNumber: number;
    user: string;
    state?: ReviewRecord['state'];
    body?: string;
    commitId?: string;
  }): Promise<ReviewRecord>;
  /** A repository label (created as the App's `addLabels` would, or with a colour and description). */
  addLabel(owner: string, repo: string, name: string, opts?: { color?: string; description?: string }): LabelRecord;
  setPermission(owner: string, repo: string, user: string, permission: Permission): void;
  addTeamMember(org: string, team: string, user: string, role?: 'member' | 'maintainer'): void;
  /** Force `mergeable` (null: compute it from git again). */
  setMergeable(owner: string, repo: string, pullNumber: number, value: boolean | null): void;

  issue(owner: string, repo: string, number: number): IssueRecord | undefined;
  pull(owner: string, repo: string, number: number): PullRecord | undefined;
  /** The PRs of a repo, optionally only those from a head branch. */
  pulls(owner: string, repo: string, opts?: { head?: string; state?: 'open' | 'closed' | 'all' }): PullRecord[];
  /** Live comments on an issue or PR, oldest first. */
  comments(owner: string, repo: string, number: number): CommentRecord[];

  /** JSON objects as GitHub puts them in webhook payloads, from current state. */
  json: {
    user(login: string): JsonObject;
    repository(owner: string, repo: string): JsonObject;
    issue(owner: string, repo: string, number: number): JsonObject;
    comment(id: number): JsonObject;
    pullRequest(owner: string, repo: string, number: number): Promise<JsonObject>;
    review(id: number): JsonObject;
    installation(id: number): JsonObject;
  };

  /** Where the App's webhook is (its URL and secret): what `deliverWebhook` and redeliveries POST to. */
  setWebhook(url: string, secret: string): void;
  /** Deliver a webhook to the App as GitHub does (signed, recorded in `GET /app/hook/deliveries`). */
  deliverWebhook(event: string, payload: JsonObject, guid?: string): Promise<HookDeliveryRecord>;
  /** Forget the request log and violations (e.g. between the phases of a test). */
  clearLog(): void;
  close(): Promise<void>;
}

const JWT_OPERATIONS = new Set([
  'apps/get-authenticated',
  'apps/list-installations',
  'apps/get-installation',
  'apps/get-repo-installation',
  'apps/get-org-installation',
  'apps/get-user-installation',
  'apps/create-installation-access-token',
  'apps/list-webhook-deliveries',
  'apps/redeliver-webhook-delivery',
]);

const DOCS = 'https://docs.github.com/rest';
const MAX_REQUEST_BYTES = 25 * 1024 * 1024;

/** An RSA key pair in the formats GitHub hands out (PKCS#1 private key), for a test App. */
export function generateAppKeyPair(): { privateKey: string; publicKey: string } {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    privateKey: privateKey.export({ type: 'pkcs1', format: 'pem' }).toString(),
    publicKey: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_REQUEST_BYTES) {
        reject(new HttpError(413, 'Request body too large'));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

const now = () => new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');

export async function startGitHubStandin(options: StandinOptions = {}): Promise<GitHubStandin> {
  // Parse the 13 MB description before listening, so the first request is not the slow one.
  preloadSpec();
  let privateKey: string | undefined;
  let publicKey: KeyObject;
  if (options.appKey) {
    publicKey = publicKeyOf(options.appKey);
    privateKey = options.appKey.includes('PRIVATE KEY') ? options.appKey : undefined;
  } else {
    const pair = generateAppKeyPair();
    privateKey = pair.privateKey;
    publicKey = publicKeyOf(pair.publicKey);
  }
  const state = emptyState();
  const app: AppIdentity = {
    id: options.appId ?? 1001,
    slug: options.appSlug ?? 'infra-agent',
    name: options.appName ?? 'infra-agent',
    clientId: 'Iv1.standin000000000',
    ownerLogin: 'standin-owner',
    permissions: options.permissions ?? DEFAULT_APP_PERMISSIONS,
    events: options.events ?? DEFAULT_APP_EVENTS,
    createdAt: now(),
  };
  const bot = ensureUser(state, botLogin(app), 'Bot');
  const requests: RequestLogEntry[] = [];
  const violations: Violation[] = [];
  const responseViolations: ResponseViolation[] = [];
  const validateResponses = options.validateResponses ?? true;
  const ttl = options.tokenTtlSeconds ?? 3600;
  let idCounter = 1_000_000;
  const nextId = () => ++idCounter;
  // Writes are applied one at a time, as GitHub serialises them per repository; reads run freely.
  let writeChain: Promise<unknown> = Promise.resolve();

  const ctx: BuildContext = { url: '', state, app };

  const issueToken = (installationId: number, permissions: Record<string, string>) => {
    const token = `ghs_${randomBytes(27).toString('base64url').slice(0, 36)}`;
    const expiresAtMs = Date.now() + ttl * 1000;
    state.tokens.push({ token, installationId, expiresAt: expiresAtMs, permissions });
    return { token, expiresAt: new Date(expiresAtMs).toISOString().replace(/\.\d{3}Z$/, 'Z') };
  };

  function authenticate(header: string | undefined): { auth: Auth | undefined; kind: RequestLogEntry['auth'] } {
    if (!header) return { auth: undefined, kind: 'none' };
    const m = /^(bearer|token)\s+(\S+)$/i.exec(header.trim());
    const credential = m?.[2];
    if (!credential) return { auth: undefined, kind: 'invalid' };
    const t = state.tokens.find((x) => x.token === credential);
    if (t) {
      if (t.expiresAt <= Date.now()) return { auth: undefined, kind: 'invalid' };
      return {
        auth: { kind: 'installation', installationId: t.installationId, token: t.token, permissions: t.permissions },
        kind: 'installation',
      };
    }
    if (credential.split('.').length === 3) return { auth: { kind: 'jwt' }, kind: 'jwt' };
    return { auth: undefined, kind: 'invalid' };
  }

  function errorBody(err: HttpError): JsonObject {
    return {
      message: err.message,
      documentation_url: DOCS,
      status: String(err.status),
      ...(err.errors.length ? { errors: err.errors } : {}),
    };
  }

  async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = (req.method ?? 'GET').toUpperCase();
    const requestUrl = new URL(req.url ?? '/', ctx.url);
    let path = requestUrl.pathname;
    if (path === '/api/v3' || path.startsWith('/api/v3/')) path = path.slice('/api/v3'.length) || '/';
    const query: Record<string, string> = Object.fromEntries(requestUrl.searchParams);
    const { auth, kind } = authenticate(req.headers.authorization);
    const entry: RequestLogEntry = {
      method,
      path,
      query,
      operationId: null,
      status: 0,
      body: undefined,
      auth: kind,
      at: now(),
      durationMs: 0,
    };
    const started = performance.now();
    let reply: Reply;
    let op: Operation | undefined;
    const violate = (v: Omit<Violation, 'method' | 'path' | 'operationId'>) =>
      violations.push({ ...v, method, path, operationId: entry.operationId });
    try {
      const raw = await readBody(req);
      let body: unknown;
      if (raw.length > 0) {
        try {
          body = JSON.parse(raw.toString('utf8'));
        } catch {
          throw new HttpError(400, 'Problems parsing JSON', [], 'bad-json');
        }
      }
      entry.body = body;
      const page = method === 'GET' ? htmlPage(path) : undefined;
      if (page) {
        entry.operationId = 'html';
        reply = page;
      } else if (method === 'POST' && (path === '/graphql' || requestUrl.pathname === '/api/graphql')) {
        entry.operationId = 'graphql';
        const result = await runExclusive(async () => serveGraphql(auth, body));
        if (result.violation) violate({ kind: 'graphql', message: result.violation });
        reply = { status: 200, body: result.body };
      } else {
        const match = matchRoute(method, path);
        if ('error' in match) {
          const what =
            match.error === 'method'
              ? `${method} is not an operation on ${match.template} in GitHub's REST API`
              : `${method} ${path} is not a route in GitHub's REST API`;
          throw new HttpError(404, 'Not Found', [], 'unknown-route').withDetail(what);
        }
        op = match.operation;
        entry.operationId = op.operationId;
        const problems = validateRequest(match, requestUrl.searchParams, { present: raw.length > 0, value: body });
        if (problems.length) {
          const limit = problems.some((p) => /must NOT have more than/.test(p));
          throw new HttpError(422, `Invalid request.\n\n${problems.join('\n')}`, [], limit ? 'limit' : 'spec');
        }
        const handler = HANDLERS[op.operationId];
        if (!handler) {
          throw new HttpError(501, `The GitHub stand-in does not implement ${op.operationId}`, [], 'unimplemented');
        }
        const authed = authorize(op.operationId, match.params, auth, req.headers.authorization);
        const input: HandlerInput = {
          params: match.params,
          query: requestUrl.searchParams,
          body,
          auth: authed,
          ctx,
          requestUrl,
          nextId,
          issueToken,
          autoCloseIssues: options.autoCloseIssues ?? true,
          accept: req.headers.accept ?? '',
        };
        reply = method === 'GET' ? await handler(input) : await runExclusive(async () => handler(input));
      }
    } catch (err) {
      if (err instanceof HttpError) {
        if (err.violation) violate({ kind: err.violation, message: err.detail ?? err.message });
        reply = { status: err.status, body: errorBody(err) };
      } else {
        const message = err instanceof Error ? (err.stack ?? err.message) : String(err);
        violate({ kind: 'standin-error', message });
        reply = { status: 500, body: { message: `GitHub stand-in error: ${message}`, documentation_url: DOCS } };
      }
    }
    if (op && validateResponses && reply.status < 400 && reply.raw === undefined) {
      const problems = validateResponse(op, reply.status, reply.body ?? null);
      if (problems.length)
        responseViolations.push({ method, path, operationId: op.operationId, status: reply.status, problems });
    }
    entry.status = reply.status;
    entry.durationMs = Math.round(performance.now() - started);
    requests.push(entry);
    const headers: Record<string, string> = {
      'x-github-request-id': randomUUID(),
      'x-github-api-version-selected': '2022-11-28',
      'x-ratelimit-limit': '5000',
      'x-ratelimit-remaining': '4999',
      'x-ratelimit-used': '1',
      'x-ratelimit-resource': 'core',
      'x-ratelimit-reset': String(Math.floor(Date.now() / 1000) + 3600),
      ...(reply.headers ?? {}),
    };
    if (reply.raw) {
      res.writeHead(reply.status, { ...headers, 'content-type': reply.raw.contentType });
      res.end(reply.raw.data);
    } else if (reply.body === undefined || reply.status === 204) {
      res.writeHead(reply.status, headers);
      res.end();
    } else {
      res.writeHead(reply.status, { ...headers, 'content-type': 'application/json; charset=utf-8' });
      res.end(JSON.stringify(reply.body));
    }
    options.onRequest?.(entry);
  }

  /**
   * The `html_url` of an issue or PR as a plain page (title, state, body, comments), so the demo's links open in a
   * browser. Not part of the API; never a violation.
   */
  function htmlPage(path: string): Reply | undefined {
    const m = /^\/([^/]+)\/([^/]+)\/(pull|issues)\/(\d+)$/.exec(path);
    if (!m) return undefined;
    const [, owner = '', repo = '', , n = ''] = m;
    const key = state.repos.find((r) => r.owner === owner && r.name === repo);
    if (!key) return undefined;
    const item = [...state.issues, ...state.pulls].find((i) => i.repo === `${owner}/${repo}` && i.number === Number(n));
    if (!item) return undefined;
    const esc = (t: string) => t.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
    const comments = state.comments
      .filter((c) => c.repo === item.repo && c.issueNumber === item.number && !c.deleted)
      .map(
        (c) =>
          `<section><h3>${esc(c.user)}${c.minimized ? ` (hidden: ${esc(c.minimizedReason ?? '')})` : ''}</h3><pre>${esc(c.body)}</pre></section>`,
      );
    const html = `<!doctype html><meta charset="utf-8"><title>${esc(item.title)}</title><h1>${esc(item.title)} #${item.number}</h1><p>${item.kind === 'pull' && item.merged ? 'merged' : item.state} · ${esc(item.user)} · labels: ${esc(item.labels.join(', '))}</p><pre>${esc(item.body ?? '')}</pre>${comments.join('')}`;
    return { status: 200, raw: { contentType: 'text/html; charset=utf-8', data: Buffer.from(html) } };
  }

  function runExclusive<T>(fn: () => Promise<T>): Promise<T> {
    const next = writeChain.then(fn, fn);
    writeChain = next.catch(() => undefined);
    return next;
  }

  /** GitHub's authentication and authorisation for an operation; throws GitHub's error for each refusal. */
  function authorize(
    operationId: string,
    params: Record<string, string>,
    auth: Auth | undefined,
    header?: string,
  ): Auth {
    if (JWT_OPERATIONS.has(operationId)) {
      const jwt = /^bearer\s+(\S+)$/i.exec(header?.trim() ?? '')?.[1];
      if (!jwt || auth?.kind !== 'jwt')
        throw new HttpError(401, 'A JSON web token could not be decoded', [], 'auth').withDetail(
          `${operationId} needs the App's JWT (Authorization: Bearer <jwt>)`,
        );
      const check = verifyAppJwt(jwt, publicKey, app.id);
      if (!check.ok) throw new HttpError(401, check.reason, [], 'auth');
      return auth;
    }
    if (!auth) throw new HttpError(401, header ? 'Bad credentials' : 'Requires authentication', [], 'auth');
    if (auth.kind === 'jwt')
      throw new HttpError(
        403,
        'A JSON web token cannot be used for this endpoint; use an installation token',
        [],
        'auth',
      );
    const owner = params['owner'];
    const name = params['repo'];
    if (owner && name) {
      const repo = state.repos.find(
        (r) => r.owner.toLowerCase() === owner.toLowerCase() && r.name.toLowerCase() === name.toLowerCase(),
      );
      if (repo && repo.installationId !== auth.installationId)
        throw new HttpError(404, 'Not Found', [], 'auth').withDetail(
          `installation ${auth.installationId} has no access to ${owner}/${name} (installation ${repo.installationId})`,
        );
    }
    const org = params['org'];
    if (org) {
      const inst = state.installations.find((i) => i.id === auth.installationId);
      if (!inst || inst.account.toLowerCase() !== org.toLowerCase())
        throw new HttpError(404, 'Not Found', [], 'auth').withDetail(
          `installation ${auth.installationId} is not installed on ${org}`,
        );
    }
    const needs = REQUIRED_PERMISSIONS[operationId];
    if (needs && !permits(auth.permissions, needs))
      throw new HttpError(403, 'Resource not accessible by integration', [], 'auth').withDetail(
        `${operationId} needs ${needs.map(([n, l]) => `${n}:${l}`).join(' or ')}; the token has ${JSON.stringify(auth.permissions)}`,
      );
    return auth;
  }

  function serveGraphql(auth: Auth | undefined, body: unknown): GraphqlResult {
    if (auth?.kind !== 'installation') throw new HttpError(401, 'Bad credentials', [], 'auth');
    const needs = REQUIRED_PERMISSIONS['graphql'] ?? [];
    if (!permits(auth.permissions, needs))
      throw new HttpError(403, 'Resource not accessible by integration', [], 'auth');
    return handleGraphql(state, body);
  }

  const server = createServer((req, res) => {
    serve(req, res).catch((err: unknown) => {
      violations.push({
        kind: 'standin-error',
        method: req.method ?? '',
        path: req.url ?? '',
        operationId: null,
        message: String(err),
      });
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('stand-in: server has no TCP address');
  const host = `127.0.0.1:${address.port}`;
  ctx.url = `http://${host}`;

  const repoRecord = (owner: string, name: string) => {
    const r = state.repos.find(
      (x) => x.owner.toLowerCase() === owner.toLowerCase() && x.name.toLowerCase() === name.toLowerCase(),
    );
    if (!r) throw new Error(`stand-in: no repository ${owner}/${name} (addRepo first)`);
    return r;
  };

  const standin: GitHubStandin = {
    url: ctx.url,
    apiV3Url: `${ctx.url}/api/v3`,
    host,
    app: { id: app.id, slug: app.slug, botLogin: botLogin(app), botId: bot.id, privateKey },
    state,
    requests,
    violations,
    responseViolations,

    addInstallation({ id, account, accountType = 'Organization', permissions }) {
      const existing = state.installations.find((i) => i.id === id);
      if (existing) return existing;
      ensureUser(state, account, accountType);
      const inst: InstallationRecord = {
        id,
        account,
        accountId: ensureUser(state, account).id,
        accountType,
        permissions: permissions ?? app.permissions,
        events: app.events,
        createdAt: now(),
      };
      state.installations.push(inst);
      return inst;
    },
    addRepo({ owner, name, remotePath, defaultBranch = 'main', installationId = 1, private: isPrivate = true }) {
      standin.addInstallation({ id: installationId, account: owner });
      const id = nextId();
      const repo: RepoRecord = {
        id,
        nodeId: nodeId('R', id),
        owner,
        ownerId: ensureUser(state, owner).id,
        name,
        defaultBranch,
        remotePath,
        installationId,
        private: isPrivate,
        createdAt: now(),
      };
      state.repos.push(repo);
      return repo;
    },
    addIssue({ owner, repo, number, title, body = null, labels = [], user = 'octocat' }) {
      const r = repoRecord(owner, repo);
      const key = `${r.owner}/${r.name}`;
      const taken = [...state.issues, ...state.pulls].filter((i) => i.repo === key);
      const n = number ?? taken.reduce((m, i) => Math.max(m, i.number), 0) + 1;
      if (taken.some((i) => i.number === n)) throw new Error(`stand-in: ${key}#${n} already exists`);
      for (const l of labels) standin.addLabel(owner, repo, l);
      ensureUser(state, user);
      const id = nextId();
      const at = now();
      const issue: IssueRecord = {
        kind: 'issue',
        repo: key,
        number: n,
        id,
        nodeId: nodeId('I', id),
        title,
        body,
        state: 'open',
        stateReason: null,
        labels: [...labels],
        user,
        assignees: [],
        locked: false,
        createdAt: at,
        updatedAt: at,
        closedAt: null,
        bodyHistory: [],
      };
      state.issues.push(issue);
      return issue;
    },
    async addPullRequest({ owner, repo, head, base, title, body = null, user, fork }) {
      const r = repoRecord(owner, repo);
      const key = `${r.owner}/${r.name}`;
      const baseRef = base ?? r.defaultBranch;
      const headSha = await resolveCommit(r.remotePath, `refs/heads/${head}`);
      if (!headSha) throw new Error(`stand-in: no branch ${head} in ${key}`);
      if (!(await resolveCommit(r.remotePath, `refs/heads/${baseRef}`)))
        throw new Error(`stand-in: no branch ${baseRef} in ${key}`);
      const taken = [...state.issues, ...state.pulls].filter((i) => i.repo === key);
      const n = taken.reduce((m, i) => Math.max(m, i.number), 0) + 1;
      ensureUser(state, user);
      if (fork) {
        ensureUser(state, fork);
        await git(r.remotePath, ['update-ref', pullHeadRef(n), headSha]);
        await git(r.remotePath, ['update-ref', '-d', `refs/heads/${head}`, headSha]);
      }
      const id = nextId();
      const at = now();
      const p = newPullRecord({
        repo: key,
        number: n,
        id,
        title,
        body,
        user,
        headRef: head,
        baseRef,
        at,
        maintainerCanModify: fork === undefined,
        ...(fork ? { forkOwner: fork } : {}),
      });
      state.pulls.push(p);
      return p;
    },
    addComment({ owner, repo, issueNumber, user, body }) {
      const r = repoRecord(owner, repo);
      const key = `${r.owner}/${r.name}`;
      if (![...state.issues, ...state.pulls].some((i) => i.repo === key && i.number === issueNumber))
        throw new Error(`stand-in: no issue or PR ${key}#${issueNumber}`);
      ensureUser(state, user);
      const id = nextId();
      const c = newComment({ repo: key, issueNumber, id, nodeId: nodeId('IC', id), body, user, createdAt: now() });
      state.comments.push(c);
      return c;
    },
    async addReview({ owner, repo, pullNumber, user, state: reviewState = 'APPROVED', body = '', commitId }) {
      const r = repoRecord(owner, repo);
      const p = standin.pull(owner, repo, pullNumber);
      if (!p) throw new Error(`stand-in: no PR ${owner}/${repo}#${pullNumber}`);
      const live = p.forkOwner ? pullHeadRef(p.number) : `refs/heads/${p.headRef}`;
      const sha = commitId ?? p.headShaAtClose ?? (await resolveCommit(r.remotePath, live));
      if (!sha) throw new Error(`stand-in: PR #${pullNumber} has no head commit`);
      ensureUser(state, user);
      const id = nextId();
      const review: ReviewRecord = {
        repo: p.repo,
        pullNumber,
        id,
        nodeId: nodeId('PRR', id),
        user,
        state: reviewState,
        body,
        commitId: sha,
        submittedAt: now(),
      };
      state.reviews.push(review);
      return review;
    },
    addLabel(owner, repo, name, opts = {}) {
      const r = repoRecord(owner, repo);
      const key = `${r.owner}/${r.name}`;
      const existing = state.labels.find((x) => x.repo === key && x.name.toLowerCase() === name.toLowerCase());
      if (existing) return existing;
      const id = nextId();
      const label: LabelRecord = {
        repo: key,
        id,
        nodeId: nodeId('LA', id),
        name,
        color: opts.color ?? 'ededed',
        description: opts.description ?? null,
      };
      state.labels.push(label);
      return label;
    },
    setPermission(owner, repo, user, permission) {
      const r = repoRecord(owner, repo);
      const key = `${r.owner}/${r.name}`;
      ensureUser(state, user);
      let m = state.permissions.get(key);
      if (!m) {
        m = new Map();
        state.permissions.set(key, m);
      }
      m.set(user, permission);
    },
    addTeamMember(org, team, user, role = 'member') {
      ensureUser(state, user);
      state.teamMemberships.push({ org, team, user, role, state: 'active' });
    },
    setMergeable(owner, repo, pullNumber, value) {
      const p = standin.pull(owner, repo, pullNumber);
      if (!p) throw new Error(`stand-in: no PR ${owner}/${repo}#${pullNumber}`);
      p.mergeableOverride = value;
    },

    issue(owner, repo, number) {
      const r = repoRecord(owner, repo);
      return state.issues.find((i) => i.repo === `${r.owner}/${r.name}` && i.number === number);
    },
    pull(owner, repo, number) {
      const r = repoRecord(owner, repo);
      return state.pulls.find((p) => p.repo === `${r.owner}/${r.name}` && p.number === number);
    },
    pulls(owner, repo, opts = {}) {
      const r = repoRecord(owner, repo);
      const want = opts.state ?? 'all';
      return state.pulls.filter(
        (p) =>
          p.repo === `${r.owner}/${r.name}` &&
          (opts.head === undefined || p.headRef === opts.head) &&
          (want === 'all' || p.state === want),
      );
    },
    comments(owner, repo, number) {
      const r = repoRecord(owner, repo);
      return state.comments.filter((c) => c.repo === `${r.owner}/${r.name}` && c.issueNumber === number && !c.deleted);
    },

    json: {
      user: (login) => userObject(ctx, login),
      repository: (owner, repo) => repoObject(ctx, repoRecord(owner, repo), 'repository'),
      issue(owner, repo, number) {
        const i = standin.issue(owner, repo, number) ?? standin.pull(owner, repo, number);
        if (!i) throw new Error(`stand-in: no issue ${owner}/${repo}#${number}`);
        return issueObject(ctx, i);
      },
      comment(id) {
        const c = state.comments.find((x) => x.id === id);
        if (!c) throw new Error(`stand-in: no comment ${id}`);
        return commentObject(ctx, c);
      },
      async pullRequest(owner, repo, number) {
        const p = standin.pull(owner, repo, number);
        if (!p) throw new Error(`stand-in: no PR ${owner}/${repo}#${number}`);
        return pullObject(ctx, p, true);
      },
      review(id) {
        const r = state.reviews.find((x) => x.id === id);
        if (!r) throw new Error(`stand-in: no review ${id}`);
        return reviewObject(ctx, r);
      },
      installation(id) {
        const inst = state.installations.find((i) => i.id === id);
        if (!inst) throw new Error(`stand-in: no installation ${id}`);
        return installationObject(ctx, inst);
      },
    },

    setWebhook(url, secret) {
      state.hook = { url, secret };
    },
    deliverWebhook(event, payload, guid) {
      return deliverToHook(state, nextId, {
        event,
        rawBody: JSON.stringify(payload),
        guid: guid ?? randomUUID(),
        redelivery: false,
        appId: app.id,
      });
    },
    clearLog() {
      requests.length = 0;
      violations.length = 0;
      responseViolations.length = 0;
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return standin;
}
