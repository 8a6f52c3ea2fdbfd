// The stand-in's in-memory GitHub: the records behind every response, kept as plain arrays so a test can assert on
// exactly what the App did (the PR body it wrote, the comments it edited in place, the check runs it created).
// Branch heads and file contents are not copied here: they are read from the real bare repository every time.

export type Permission = 'admin' | 'maintain' | 'write' | 'triage' | 'read' | 'none';

export interface RepoRecord {
  id: number;
  nodeId: string;
  owner: string;
  ownerId: number;
  name: string;
  defaultBranch: string;
  /** The bare git repository that holds this repository's branches. */
  remotePath: string;
  installationId: number;
  private: boolean;
  createdAt: string;
}

export interface InstallationRecord {
  id: number;
  account: string;
  accountId: number;
  accountType: 'Organization' | 'User';
  permissions: Record<string, string>;
  events: string[];
  createdAt: string;
}

export interface TokenRecord {
  token: string;
  installationId: number;
  expiresAt: number;
  permissions: Record<string, string>;
}

/** What issues and pull requests share: on GitHub every PR is also an issue, with one number sequence per repo. */
export interface IssueLike {
  repo: string;
  number: number;
  id: number;
  nodeId: string;
  title: string;
  body: string | null;
  state: 'open' | 'closed';
  stateReason: 'completed' | 'not_planned' | 'reopened' | null;
  labels: string[];
  user: string;
  assignees: string[];
  locked: boolean;
  createdAt: string;
  updatedAt: string;
  closedAt: string | null;
  /** Earlier bodies, oldest first: lets a test see a body was edited in place rather than replaced. */
  bodyHistory: (string | null)[];
}

export interface IssueRecord extends IssueLike {
  kind: 'issue';
}

export interface PullRecord extends IssueLike {
  kind: 'pull';
  headRef: string;
  /** The head branch's SHA when the PR was closed or merged (a deleted branch must still answer). */
  headShaAtClose: string | null;
  baseRef: string;
  /** Base SHA as of the last merge; open PRs read the live branch. */
  baseShaAtClose: string | null;
  draft: boolean;
  merged: boolean;
  mergedAt: string | null;
  mergedBy: string | null;
  mergeCommitSha: string | null;
  maintainerCanModify: boolean;
  /** Forced by a test (`setMergeable`); otherwise computed from git. */
  mergeableOverride: boolean | null;
  /**
   * A PR from a fork: the fork's owner. Its head commits live in the base repository under `refs/pull/N/head`, as
   * on GitHub (the fork's own repository is not a remote here), and `head.repo` is the fork.
   */
  forkOwner?: string;
}

export interface CommentRecord {
  repo: string;
  issueNumber: number;
  id: number;
  nodeId: string;
  body: string;
  user: string;
  createdAt: string;
  updatedAt: string;
  minimized: boolean;
  minimizedReason: string | null;
  deleted: boolean;
  bodyHistory: string[];
}

/** A comment as GitHub makes it: never edited, minimized or deleted yet. */
export function newComment(
  c: Pick<CommentRecord, 'repo' | 'issueNumber' | 'id' | 'nodeId' | 'body' | 'user' | 'createdAt'>,
): CommentRecord {
  return { ...c, updatedAt: c.createdAt, minimized: false, minimizedReason: null, deleted: false, bodyHistory: [] };
}

export interface ReactionRecord {
  repo: string;
  id: number;
  nodeId: string;
  subject: { type: 'issue'; number: number } | { type: 'comment'; id: number };
  content: string;
  user: string;
  createdAt: string;
}

export interface LabelRecord {
  repo: string;
  id: number;
  nodeId: string;
  name: string;
  color: string;
  description: string | null;
}

export interface ReviewRecord {
  repo: string;
  pullNumber: number;
  id: number;
  nodeId: string;
  user: string;
  state: 'APPROVED' | 'CHANGES_REQUESTED' | 'COMMENTED' | 'DISMISSED' | 'PENDING';
  body: string;
  commitId: string;
  submittedAt: string;
}

export interface Annotation {
  path: string;
  start_line: number;
  end_line: number;
  annotation_level: string;
  message: string;
  title?: string | undefined;
  raw_details?: string | undefined;
  start_column?: number | undefined;
  end_column?: number | undefined;
}

export interface CheckRunRecord {
  repo: string;
  id: number;
  nodeId: string;
  name: string;
  headSha: string;
  status: 'queued' | 'in_progress' | 'completed' | 'waiting' | 'requested' | 'pending';
  conclusion: string | null;
  startedAt: string | null;
  completedAt: string | null;
  detailsUrl: string | null;
  externalId: string | null;
  output: { title: string | null; summary: string | null; text: string | null };
  /** Every annotation sent, across create and updates (GitHub appends them). */
  annotations: Annotation[];
  /** How many PATCHes it received. */
  updates: number;
}

export interface TeamMembershipRecord {
  org: string;
  team: string;
  user: string;
  role: 'member' | 'maintainer';
  state: 'active' | 'pending';
}

export interface StandinState {
  repos: RepoRecord[];
  installations: InstallationRecord[];
  tokens: TokenRecord[];
  issues: IssueRecord[];
  pulls: PullRecord[];
  comments: CommentRecord[];
  reactions: ReactionRecord[];
  labels: LabelRecord[];
  reviews: ReviewRecord[];
  checkRuns: CheckRunRecord[];
  teamMemberships: TeamMembershipRecord[];
  /** `owner/repo` → login → permission. */
  permissions: Map<string, Map<string, Permission>>;
  /** login → user id, assigned on first sight so every response names a user the same way. */
  users: Map<string, { id: number; type: 'User' | 'Bot' | 'Organization' }>;
  /** The App's webhook (where `deliverWebhook` and redeliveries POST), once set. */
  hook: { url: string; secret: string } | undefined;
  /** Every delivery attempt to the App's webhook, oldest first (what `GET /app/hook/deliveries` lists). */
  hookDeliveries: HookDeliveryRecord[];
}

/** One delivery attempt of a webhook to the App, as GitHub records it. */
export interface HookDeliveryRecord {
  id: number;
  /** X-GitHub-Delivery: shared by a delivery and its redeliveries. */
  guid: string;
  deliveredAt: string;
  redelivery: boolean;
  /** Seconds. */
  duration: number;
  /** "OK", "Invalid HTTP Response: 500", "failed to connect". */
  status: string;
  statusCode: number;
  event: string;
  action: string | null;
  installationId: number | null;
  repositoryId: number | null;
  /** The exact bytes sent, re-sent by a redelivery. */
  rawBody: string;
}

export function emptyState(): StandinState {
  return {
    repos: [],
    installations: [],
    tokens: [],
    issues: [],
    pulls: [],
    comments: [],
    reactions: [],
    labels: [],
    reviews: [],
    checkRuns: [],
    teamMemberships: [],
    permissions: new Map(),
    users: new Map(),
    hook: undefined,
    hookDeliveries: [],
  };
}

/** One HTTP request the stand-in answered. */
export interface RequestLogEntry {
  method: string;
  /** Path without the `/api/v3` prefix or query. */
  path: string;
  query: Record<string, string>;
  /** The description's operation, e.g. `issues/create-comment`, or `graphql`. */
  operationId: string | null;
  status: number;
  body: unknown;
  auth: 'jwt' | 'installation' | 'none' | 'invalid';
  at: string;
  /** Time to answer, including git work and response validation. */
  durationMs: number;
}

/** A request GitHub would have refused, or that the stand-in could not serve: the App has a bug (or we do). */
export interface Violation {
  kind: 'unknown-route' | 'spec' | 'limit' | 'auth' | 'unimplemented' | 'graphql' | 'bad-json' | 'standin-error';
  method: string;
  path: string;
  operationId: string | null;
  message: string;
}

/** A response of ours that does not match GitHub's documented schema: a stand-in bug. */
export interface ResponseViolation {
  method: string;
  path: string;
  operationId: string;
  status: number;
  problems: string[];
}
