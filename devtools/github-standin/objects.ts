// GitHub's JSON objects built from the stand-in's records: every field an App can meaningfully read (ids, numbers,
// node ids, URLs, head/base SHAs, users, labels) is set from state; `completeComponent` then fills the remaining
// fields GitHub's description requires with type-valid placeholders, so every response has GitHub's shape.
import { pathToFileURL } from 'node:url';
import { canMerge, countCommits, type DiffFile, diffFiles, listBranches, resolveCommit } from '../bare-repo.js';
import { completeComponent, type Json, type JsonObject } from './openapi.js';
import type {
  CheckRunRecord,
  CommentRecord,
  InstallationRecord,
  IssueLike,
  LabelRecord,
  PullRecord,
  ReactionRecord,
  RepoRecord,
  ReviewRecord,
  StandinState,
} from './state.js';

export interface AppIdentity {
  id: number;
  slug: string;
  name: string;
  clientId: string;
  ownerLogin: string;
  permissions: Record<string, string>;
  events: string[];
  createdAt: string;
}

export interface BuildContext {
  /** Base URL of the stand-in's API, without a trailing slash. */
  url: string;
  state: StandinState;
  app: AppIdentity;
}

export function nodeId(prefix: string, id: number): string {
  return `${prefix}_kwDO${Buffer.from(`standin:${id}`).toString('base64url')}`;
}

export const botLogin = (app: AppIdentity) => `${app.slug}[bot]`;

/** The user id for a login, assigned on first sight (bots by their `[bot]` suffix). */
/** A new open pull request record: what `POST /pulls` and a test's `addPullRequest` both make. */
export function newPullRecord(f: {
  repo: string;
  number: number;
  id: number;
  title: string;
  body: string | null;
  user: string;
  headRef: string;
  baseRef: string;
  at: string;
  draft?: boolean;
  maintainerCanModify?: boolean;
  forkOwner?: string;
}): PullRecord {
  return {
    kind: 'pull',
    repo: f.repo,
    number: f.number,
    id: f.id,
    nodeId: nodeId('PR', f.id),
    title: f.title,
    body: f.body,
    state: 'open',
    stateReason: null,
    labels: [],
    user: f.user,
    assignees: [],
    locked: false,
    createdAt: f.at,
    updatedAt: f.at,
    closedAt: null,
    bodyHistory: [],
    headRef: f.headRef,
    headShaAtClose: null,
    baseRef: f.baseRef,
    baseShaAtClose: null,
    draft: f.draft ?? false,
    merged: false,
    mergedAt: null,
    mergedBy: null,
    mergeCommitSha: null,
    maintainerCanModify: f.maintainerCanModify ?? true,
    mergeableOverride: null,
    ...(f.forkOwner ? { forkOwner: f.forkOwner } : {}),
  };
}

export function ensureUser(state: StandinState, login: string, type?: 'User' | 'Bot' | 'Organization') {
  let user = state.users.get(login);
  if (!user) {
    user = { id: 5_000_000 + state.users.size * 17 + 1, type: type ?? (login.endsWith('[bot]') ? 'Bot' : 'User') };
    state.users.set(login, user);
  } else if (type && user.type !== type) {
    user.type = type;
  }
  return user;
}

export function userObject(ctx: BuildContext, login: string): JsonObject {
  const u = ensureUser(ctx.state, login);
  const api = `${ctx.url}/users/${encodeURIComponent(login)}`;
  return {
    login,
    id: u.id,
    node_id: nodeId(u.type === 'Bot' ? 'BOT' : u.type === 'Organization' ? 'O' : 'U', u.id),
    avatar_url: `${ctx.url}/avatars/u/${u.id}`,
    gravatar_id: '',
    url: api,
    html_url: `${ctx.url}/${encodeURIComponent(login)}`,
    followers_url: `${api}/followers`,
    following_url: `${api}/following{/other_user}`,
    gists_url: `${api}/gists{/gist_id}`,
    starred_url: `${api}/starred{/owner}{/repo}`,
    subscriptions_url: `${api}/subscriptions`,
    organizations_url: `${api}/orgs`,
    repos_url: `${api}/repos`,
    events_url: `${api}/events{/privacy}`,
    received_events_url: `${api}/received_events`,
    type: u.type,
    user_view_type: 'public',
    site_admin: false,
  };
}

const repoKey = (r: RepoRecord) => `${r.owner}/${r.name}`;

function repoUrls(ctx: BuildContext, r: RepoRecord): JsonObject {
  const api = `${ctx.url}/repos/${repoKey(r)}`;
  return {
    url: api,
    html_url: `${ctx.url}/${repoKey(r)}`,
    archive_url: `${api}/{archive_format}{/ref}`,
    assignees_url: `${api}/assignees{/user}`,
    blobs_url: `${api}/git/blobs{/sha}`,
    branches_url: `${api}/branches{/branch}`,
    collaborators_url: `${api}/collaborators{/collaborator}`,
    comments_url: `${api}/comments{/number}`,
    commits_url: `${api}/commits{/sha}`,
    compare_url: `${api}/compare/{base}...{head}`,
    contents_url: `${api}/contents/{+path}`,
    contributors_url: `${api}/contributors`,
    deployments_url: `${api}/deployments`,
    downloads_url: `${api}/downloads`,
    events_url: `${api}/events`,
    forks_url: `${api}/forks`,
    git_commits_url: `${api}/git/commits{/sha}`,
    git_refs_url: `${api}/git/refs{/sha}`,
    git_tags_url: `${api}/git/tags{/sha}`,
    hooks_url: `${api}/hooks`,
    issue_comment_url: `${api}/issues/comments{/number}`,
    issue_events_url: `${api}/issues/events{/number}`,
    issues_url: `${api}/issues{/number}`,
    keys_url: `${api}/keys{/key_id}`,
    labels_url: `${api}/labels{/name}`,
    languages_url: `${api}/languages`,
    merges_url: `${api}/merges`,
    milestones_url: `${api}/milestones{/number}`,
    notifications_url: `${api}/notifications{?since,all,participating}`,
    pulls_url: `${api}/pulls{/number}`,
    releases_url: `${api}/releases{/id}`,
    stargazers_url: `${api}/stargazers`,
    statuses_url: `${api}/statuses/{sha}`,
    subscribers_url: `${api}/subscribers`,
    subscription_url: `${api}/subscription`,
    tags_url: `${api}/tags`,
    teams_url: `${api}/teams`,
    trees_url: `${api}/git/trees{/sha}`,
  };
}

/** A repository as GitHub returns it. `clone_url` is the bare repository's `file://` URL, so an App can clone it. */
export function repoObject(ctx: BuildContext, r: RepoRecord, schema = 'full-repository'): JsonObject {
  const cloneUrl = pathToFileURL(r.remotePath).href;
  const openIssues = [...ctx.state.issues, ...ctx.state.pulls].filter(
    (i) => i.repo === repoKey(r) && i.state === 'open',
  ).length;
  return completeComponent(schema, {
    id: r.id,
    node_id: r.nodeId,
    name: r.name,
    full_name: repoKey(r),
    private: r.private,
    owner: userObject(ctx, r.owner),
    description: null,
    fork: false,
    ...repoUrls(ctx, r),
    clone_url: cloneUrl,
    git_url: cloneUrl,
    ssh_url: cloneUrl,
    svn_url: `${ctx.url}/${repoKey(r)}`,
    mirror_url: null,
    homepage: null,
    language: 'HCL',
    default_branch: r.defaultBranch,
    visibility: r.private ? 'private' : 'public',
    archived: false,
    disabled: false,
    has_issues: true,
    has_projects: false,
    has_wiki: false,
    has_pages: false,
    has_downloads: false,
    has_discussions: false,
    is_template: false,
    allow_merge_commit: true,
    allow_squash_merge: true,
    allow_rebase_merge: true,
    open_issues: openIssues,
    open_issues_count: openIssues,
    forks: 0,
    forks_count: 0,
    watchers: 0,
    watchers_count: 0,
    stargazers_count: 0,
    network_count: 0,
    subscribers_count: 0,
    size: 0,
    license: null,
    topics: [],
    created_at: r.createdAt,
    updated_at: r.createdAt,
    pushed_at: r.createdAt,
  });
}

export function appObject(ctx: BuildContext): JsonObject {
  return completeComponent('integration', {
    id: ctx.app.id,
    slug: ctx.app.slug,
    node_id: nodeId('A', ctx.app.id),
    client_id: ctx.app.clientId,
    owner: userObject(ctx, ctx.app.ownerLogin),
    name: ctx.app.name,
    description: 'GitHub stand-in app',
    external_url: `${ctx.url}/apps/${ctx.app.slug}`,
    html_url: `${ctx.url}/apps/${ctx.app.slug}`,
    created_at: ctx.app.createdAt,
    updated_at: ctx.app.createdAt,
    permissions: ctx.app.permissions,
    events: ctx.app.events,
  });
}

export function installationObject(ctx: BuildContext, inst: InstallationRecord): JsonObject {
  ensureUser(ctx.state, inst.account, inst.accountType);
  return completeComponent('installation', {
    id: inst.id,
    account: userObject(ctx, inst.account),
    repository_selection: 'selected',
    access_tokens_url: `${ctx.url}/app/installations/${inst.id}/access_tokens`,
    repositories_url: `${ctx.url}/installation/repositories`,
    html_url: `${ctx.url}/organizations/${inst.account}/settings/installations/${inst.id}`,
    app_id: ctx.app.id,
    client_id: ctx.app.clientId,
    app_slug: ctx.app.slug,
    target_id: ensureUser(ctx.state, inst.account).id,
    target_type: inst.accountType,
    permissions: inst.permissions,
    events: inst.events,
    created_at: inst.createdAt,
    updated_at: inst.createdAt,
    single_file_name: null,
    has_multiple_single_files: false,
    single_file_paths: [],
    suspended_by: null,
    suspended_at: null,
  });
}

export function labelObject(ctx: BuildContext, l: LabelRecord): JsonObject {
  return {
    id: l.id,
    node_id: l.nodeId,
    url: `${ctx.url}/repos/${l.repo}/labels/${encodeURIComponent(l.name)}`,
    name: l.name,
    description: l.description,
    color: l.color,
    default: false,
  };
}

export function findLabel(state: StandinState, repo: string, name: string): LabelRecord | undefined {
  return state.labels.find((l) => l.repo === repo && l.name.toLowerCase() === name.toLowerCase());
}

function authorAssociation(ctx: BuildContext, repo: string, login: string): string {
  if (login.endsWith('[bot]')) return 'NONE';
  const [owner] = repo.split('/');
  if (owner === login) return 'OWNER';
  const perm = ctx.state.permissions.get(repo)?.get(login);
  return perm && perm !== 'none' ? 'COLLABORATOR' : 'NONE';
}

export function issueObject(ctx: BuildContext, i: IssueLike & { kind: 'issue' | 'pull' }): JsonObject {
  const api = `${ctx.url}/repos/${i.repo}/issues/${i.number}`;
  const comments = ctx.state.comments.filter((c) => c.repo === i.repo && c.issueNumber === i.number && !c.deleted);
  const pull =
    i.kind === 'pull'
      ? {
          pull_request: {
            url: `${ctx.url}/repos/${i.repo}/pulls/${i.number}`,
            html_url: `${ctx.url}/${i.repo}/pull/${i.number}`,
            diff_url: `${ctx.url}/${i.repo}/pull/${i.number}.diff`,
            patch_url: `${ctx.url}/${i.repo}/pull/${i.number}.patch`,
            merged_at: ctx.state.pulls.find((p) => p.repo === i.repo && p.number === i.number)?.mergedAt ?? null,
          },
        }
      : {};
  return completeComponent('issue', {
    id: i.id,
    node_id: i.nodeId,
    url: api,
    repository_url: `${ctx.url}/repos/${i.repo}`,
    labels_url: `${api}/labels{/name}`,
    comments_url: `${api}/comments`,
    events_url: `${api}/events`,
    html_url: `${ctx.url}/${i.repo}/${i.kind === 'pull' ? 'pull' : 'issues'}/${i.number}`,
    number: i.number,
    state: i.state,
    state_reason: i.stateReason,
    title: i.title,
    body: i.body,
    user: userObject(ctx, i.user),
    labels: i.labels.flatMap((name) => {
      const l = findLabel(ctx.state, i.repo, name);
      return l ? [labelObject(ctx, l)] : [];
    }),
    assignee: i.assignees[0] ? userObject(ctx, i.assignees[0]) : null,
    assignees: i.assignees.map((a) => userObject(ctx, a)),
    milestone: null,
    locked: i.locked,
    active_lock_reason: null,
    comments: comments.length,
    ...pull,
    closed_at: i.closedAt,
    created_at: i.createdAt,
    updated_at: i.updatedAt,
    closed_by: null,
    author_association: authorAssociation(ctx, i.repo, i.user),
    draft: false,
  });
}

export function commentObject(ctx: BuildContext, c: CommentRecord): JsonObject {
  const isPull = ctx.state.pulls.some((p) => p.repo === c.repo && p.number === c.issueNumber);
  return completeComponent('issue-comment', {
    id: c.id,
    node_id: c.nodeId,
    url: `${ctx.url}/repos/${c.repo}/issues/comments/${c.id}`,
    html_url: `${ctx.url}/${c.repo}/${isPull ? 'pull' : 'issues'}/${c.issueNumber}#issuecomment-${c.id}`,
    body: c.body,
    user: userObject(ctx, c.user),
    created_at: c.createdAt,
    updated_at: c.updatedAt,
    issue_url: `${ctx.url}/repos/${c.repo}/issues/${c.issueNumber}`,
    author_association: authorAssociation(ctx, c.repo, c.user),
    performed_via_github_app: c.user === botLogin(ctx.app) ? appObject(ctx) : null,
  });
}

export function reactionObject(ctx: BuildContext, r: ReactionRecord): JsonObject {
  return { id: r.id, node_id: r.nodeId, user: userObject(ctx, r.user), content: r.content, created_at: r.createdAt };
}

export function reviewObject(ctx: BuildContext, r: ReviewRecord): JsonObject {
  const html = `${ctx.url}/${r.repo}/pull/${r.pullNumber}#pullrequestreview-${r.id}`;
  const pullUrl = `${ctx.url}/repos/${r.repo}/pulls/${r.pullNumber}`;
  return completeComponent('pull-request-review', {
    id: r.id,
    node_id: r.nodeId,
    user: userObject(ctx, r.user),
    body: r.body,
    state: r.state,
    html_url: html,
    pull_request_url: pullUrl,
    _links: { html: { href: html }, pull_request: { href: pullUrl } },
    submitted_at: r.submittedAt,
    commit_id: r.commitId,
    author_association: authorAssociation(ctx, r.repo, r.user),
  });
}

export function findRepo(state: StandinState, repo: string): RepoRecord | undefined {
  const [owner, name] = repo.split('/');
  return state.repos.find(
    (r) => r.owner.toLowerCase() === owner?.toLowerCase() && r.name.toLowerCase() === name?.toLowerCase(),
  );
}

/** The live head and base SHAs of a PR (frozen at close/merge, as GitHub keeps them). */
export async function pullShas(
  state: StandinState,
  p: PullRecord,
): Promise<{ head: string | null; base: string | null }> {
  const repo = findRepo(state, p.repo);
  if (!repo) return { head: null, base: null };
  if (p.headShaAtClose && p.baseShaAtClose) return { head: p.headShaAtClose, base: p.baseShaAtClose };
  // One git process for both ends: reading refs is the stand-in's most frequent git call.
  const branches = await listBranches(repo.remotePath);
  const forkHead = p.forkOwner ? await resolveCommit(repo.remotePath, pullHeadRef(p.number)) : undefined;
  const head = p.headShaAtClose ?? (p.forkOwner ? (forkHead ?? null) : (branches.get(p.headRef) ?? null));
  const base = p.baseShaAtClose ?? branches.get(p.baseRef) ?? null;
  return { head, base };
}

/** Where GitHub keeps a PR's head commits in the base repository (the only place a fork's commits are, here). */
export function pullHeadRef(number: number): string {
  return `refs/pull/${number}/head`;
}

async function pullBranch(ctx: BuildContext, p: PullRecord, which: 'head' | 'base', sha: string | null) {
  const repo = findRepo(ctx.state, p.repo);
  const ref = which === 'head' ? p.headRef : p.baseRef;
  const fork = which === 'head' ? p.forkOwner : undefined;
  const owner = fork ?? repo?.owner ?? p.repo.split('/')[0] ?? '';
  let repoJson: JsonObject | null = repo ? repoObject(ctx, repo, 'repository') : null;
  if (repo && fork) {
    // The fork: the same repository under its owner, `fork: true` (its id and node id made distinct).
    const forkRecord = { ...repo, owner: fork, id: repo.id + 500_000, nodeId: `${repo.nodeId}F` };
    repoJson = { ...repoObject(ctx, forkRecord, 'repository'), fork: true };
  }
  return {
    label: `${owner}:${ref}`,
    ref,
    sha: sha ?? '0'.repeat(40),
    user: userObject(ctx, owner),
    repo: repoJson,
  };
}

/**
 * A pull request. `full` adds what only the single-PR endpoints return (mergeable, counts); GitHub computes
 * `mergeable` in the background and we compute it from git on each read, unless a test forced it.
 */
export async function pullObject(ctx: BuildContext, p: PullRecord, full: boolean): Promise<JsonObject> {
  const api = `${ctx.url}/repos/${p.repo}/pulls/${p.number}`;
  const html = `${ctx.url}/${p.repo}/pull/${p.number}`;
  const issueApi = `${ctx.url}/repos/${p.repo}/issues/${p.number}`;
  const shas = await pullShas(ctx.state, p);
  const base: JsonObject = {
    url: api,
    id: p.id,
    node_id: p.nodeId,
    html_url: html,
    diff_url: `${html}.diff`,
    patch_url: `${html}.patch`,
    issue_url: issueApi,
    commits_url: `${api}/commits`,
    review_comments_url: `${api}/comments`,
    review_comment_url: `${ctx.url}/repos/${p.repo}/pulls/comments{/number}`,
    comments_url: `${issueApi}/comments`,
    statuses_url: `${ctx.url}/repos/${p.repo}/statuses/${shas.head ?? ''}`,
    number: p.number,
    state: p.state,
    locked: p.locked,
    title: p.title,
    user: userObject(ctx, p.user),
    body: p.body,
    // The description types a pull request's label description as a string (an issue's as string | null): a label
    // made without one is given '' here, a type-valid placeholder, so a PR's labels validate in every listing.
    labels: p.labels.flatMap((name) => {
      const l = findLabel(ctx.state, p.repo, name);
      return l ? [labelObject(ctx, { ...l, description: l.description ?? '' })] : [];
    }),
    milestone: null,
    active_lock_reason: null,
    created_at: p.createdAt,
    updated_at: p.updatedAt,
    closed_at: p.closedAt,
    merged_at: p.mergedAt,
    merge_commit_sha: p.mergeCommitSha,
    assignee: p.assignees[0] ? userObject(ctx, p.assignees[0]) : null,
    assignees: p.assignees.map((a) => userObject(ctx, a)),
    requested_reviewers: [],
    requested_teams: [],
    head: await pullBranch(ctx, p, 'head', shas.head),
    base: await pullBranch(ctx, p, 'base', shas.base),
    _links: {
      self: { href: api },
      html: { href: html },
      issue: { href: issueApi },
      comments: { href: `${issueApi}/comments` },
      review_comments: { href: `${api}/comments` },
      review_comment: { href: `${ctx.url}/repos/${p.repo}/pulls/comments{/number}` },
      commits: { href: `${api}/commits` },
      statuses: { href: `${ctx.url}/repos/${p.repo}/statuses/${shas.head ?? ''}` },
    },
    author_association: authorAssociation(ctx, p.repo, p.user),
    auto_merge: null,
    draft: p.draft,
  };
  if (!full) return completeComponent('pull-request-simple', base);
  const repo = findRepo(ctx.state, p.repo);
  let mergeable: boolean | null = p.mergeableOverride;
  let commits = 0;
  let additions = 0;
  let deletions = 0;
  let changed = 0;
  if (repo && shas.head && shas.base) {
    const stats = await diffStats(repo.remotePath, shas.base, shas.head);
    if (mergeable === null && p.state === 'open') mergeable = stats.mergeable;
    ({ commits, additions, deletions, changed } = stats);
  }
  const comments = ctx.state.comments.filter((c) => c.repo === p.repo && c.issueNumber === p.number && !c.deleted);
  const mergeableState: Json = p.merged
    ? 'unknown'
    : p.state === 'closed'
      ? 'unknown'
      : mergeable === false
        ? 'dirty'
        : mergeable === null
          ? 'unknown'
          : 'clean';
  return completeComponent('pull-request', {
    ...base,
    merged: p.merged,
    mergeable: p.state === 'open' ? mergeable : null,
    rebaseable: p.state === 'open' ? mergeable : null,
    mergeable_state: mergeableState,
    merged_by: p.mergedBy ? userObject(ctx, p.mergedBy) : null,
    comments: comments.length,
    review_comments: 0,
    maintainer_can_modify: p.maintainerCanModify,
    commits,
    additions,
    deletions,
    changed_files: changed,
  });
}

interface DiffStats {
  files: DiffFile[];
  mergeable: boolean;
  commits: number;
  additions: number;
  deletions: number;
  changed: number;
}

// Pure functions of (repository, base SHA, head SHA), so computed once: a PR read costs one git call, not ten.
const statsCache = new Map<string, Promise<DiffStats>>();

export function diffStats(repoPath: string, base: string, head: string): Promise<DiffStats> {
  const key = `${repoPath}\0${base}\0${head}`;
  let stats = statsCache.get(key);
  if (!stats) {
    stats = (async () => {
      const files = await diffFiles(repoPath, base, head);
      return {
        files,
        mergeable: await canMerge(repoPath, base, head),
        commits: await countCommits(repoPath, base, head),
        additions: files.reduce((n, f) => n + f.additions, 0),
        deletions: files.reduce((n, f) => n + f.deletions, 0),
        changed: files.length,
      };
    })();
    stats.catch(() => statsCache.delete(key));
    statsCache.set(key, stats);
  }
  return stats;
}

export async function checkRunObject(ctx: BuildContext, c: CheckRunRecord): Promise<JsonObject> {
  const api = `${ctx.url}/repos/${c.repo}/check-runs/${c.id}`;
  const repo = findRepo(ctx.state, c.repo);
  // GitHub lists the open PRs whose head is this commit.
  const pulls: JsonObject[] = [];
  for (const p of ctx.state.pulls) {
    if (p.repo !== c.repo || p.state !== 'open') continue;
    const shas = await pullShas(ctx.state, p);
    if (shas.head !== c.headSha || !repo) continue;
    const mini = { id: repo.id, url: `${ctx.url}/repos/${c.repo}`, name: repo.name };
    pulls.push({
      id: p.id,
      number: p.number,
      url: `${ctx.url}/repos/${c.repo}/pulls/${p.number}`,
      head: { ref: p.headRef, sha: shas.head ?? '', repo: mini },
      base: { ref: p.baseRef, sha: shas.base ?? '', repo: mini },
    });
  }
  return completeComponent('check-run', {
    id: c.id,
    node_id: c.nodeId,
    head_sha: c.headSha,
    external_id: c.externalId,
    url: api,
    html_url: `${ctx.url}/${c.repo}/runs/${c.id}`,
    details_url: c.detailsUrl,
    status: c.status,
    conclusion: c.conclusion,
    started_at: c.startedAt,
    completed_at: c.completedAt,
    output: {
      title: c.output.title,
      summary: c.output.summary,
      text: c.output.text,
      annotations_count: c.annotations.length,
      annotations_url: `${api}/annotations`,
    },
    name: c.name,
    check_suite: { id: c.id },
    app: appObject(ctx),
    pull_requests: pulls,
  });
}
