// The durable state of infra-agent: one interface, two drivers (embedded PGlite by default, PostgreSQL when
// DATABASE_URL is set), one schema. Everything a restart must not lose lives behind this interface: webhook
// deliveries (dedupe), runs and their events, locks, saved plans (encrypted), overrides, the audit log, and the
// idempotency keys that keep GitHub side effects from happening twice.
import type { ModelUsage, Override, PlanSummary, RunKind, RunStatus } from '../core/types.js';
import type { SqlDriver } from './sql.js';

// ---- Runs -------------------------------------------------------------------------------------------------------

/** `owner/repo#12`: what runs are serialised on (one active run per issue/PR). */
export type RunKey = string;

/** URLs a run produced (PR, progress comment, check run…), by name. */
export type RunLinks = Record<string, string>;

export interface RunRecord {
  id: string;
  kind: RunKind;
  /** `owner/repo#12`. */
  key: RunKey;
  /** `owner/repo`. */
  repo: string;
  /** Issue or PR number. */
  number: number;
  status: RunStatus;
  /** Current stage (free text owned by the pipeline: 'queued', 'checkout', 'agent', 'publish', 'apply'…). */
  stage: string;
  /** 1 on the first execution; incremented each time a worker (re)starts it. */
  attempt: number;
  /** GitHub login that triggered it. */
  triggeredBy: string | null;
  /** What the run needs to start again from a safe stage (event payload subset, command args). */
  input: Record<string, unknown>;
  error: string | null;
  usage: ModelUsage | null;
  links: RunLinks;
  /** The worker that holds it while running (`host:pid:random`), and its last sign of life. */
  workerId: string | null;
  heartbeatAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
}

export interface NewRun {
  kind: RunKind;
  repo: string;
  number: number;
  triggeredBy?: string;
  input?: Record<string, unknown>;
  /** Defaults to 'queued'. */
  status?: RunStatus;
  stage?: string;
}

/** Fields a run update may set; omitted fields are left alone, `null` clears. */
export interface RunPatch {
  status?: RunStatus;
  stage?: string;
  attempt?: number;
  error?: string | null;
  usage?: ModelUsage | null;
  /** Merged into the existing links. */
  links?: RunLinks;
  workerId?: string | null;
  heartbeatAt?: Date | null;
  startedAt?: Date | null;
  finishedAt?: Date | null;
}

export interface RunFilter {
  key?: RunKey;
  repo?: string;
  kind?: RunKind;
  status?: RunStatus | RunStatus[];
  /** Newest first; default 100. */
  limit?: number;
}

export interface RunEventRecord {
  id: number;
  runId: string;
  stage: string;
  status: 'started' | 'ok' | 'failed' | 'skipped' | 'info';
  durationMs: number | null;
  /** Short and already redacted. */
  message: string | null;
  at: Date;
}

export type NewRunEvent = Omit<RunEventRecord, 'id' | 'at' | 'durationMs' | 'message'> & {
  durationMs?: number;
  message?: string;
};

// ---- Jobs (embedded queue only; pg-boss keeps its own tables) -------------------------------------------------

export type JobState = 'queued' | 'active' | 'completed' | 'failed';

export interface JobRecord {
  id: string;
  kind: string;
  /** Serialisation key: two jobs with the same key never run at once. */
  key: string;
  payload: Record<string, unknown>;
  state: JobState;
  attempt: number;
  maxAttempts: number;
  /** Not picked before this time (backoff). */
  runAfter: Date;
  /** Set when picked: past it, the job is considered abandoned (worker died or hung) and is retried. */
  lockedUntil: Date | null;
  workerId: string | null;
  lastError: string | null;
  idempotencyKey: string | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface NewJob {
  kind: string;
  key: string;
  payload: Record<string, unknown>;
  /** A second enqueue with the same idempotency key returns the first job's id. */
  idempotencyKey?: string;
  maxAttempts: number;
}

// ---- Locks ------------------------------------------------------------------------------------------------------

export interface LockHolder {
  pr: number;
  runId: string;
}

export interface LockTarget {
  repo: string;
  /** Project name (or dir). */
  project: string;
  workspace: string;
}

export interface LockRecord extends LockTarget {
  holder: LockHolder;
  acquiredAt: Date;
}

export type LockResult = { acquired: true; lock: LockRecord } | { acquired: false; holder: LockRecord };

// ---- Saved plans ------------------------------------------------------------------------------------------------

export interface PlanTarget {
  repo: string;
  pr: number;
  project: string;
  workspace: string;
}

export interface NewSavedPlan extends PlanTarget {
  headSha: string;
  baseSha: string;
  /** sha256 (hex) of the plaintext plan bytes: what a reviewer approves. */
  planHash: string;
  bytes: Buffer;
  summary: PlanSummary;
  runId: string;
}

export interface SavedPlanRecord extends PlanTarget {
  id: string;
  headSha: string;
  baseSha: string;
  planHash: string;
  summary: PlanSummary;
  runId: string;
  sizeBytes: number;
  createdAt: Date;
}

export interface SavedPlanWithBytes extends SavedPlanRecord {
  /** Decrypted, auth tag verified, sha256 re-checked against planHash. */
  bytes: Buffer;
}

// ---- Drift ------------------------------------------------------------------------------------------------------

export interface DriftTarget {
  repo: string;
  project: string;
  workspace: string;
}

/** The last drift check of a project and the issue that reports it: how the App finds its drift issue. */
export interface DriftStatusRecord extends DriftTarget {
  state: 'clean' | 'drifted' | 'error';
  /** The open drift issue, null when there is none. */
  issueNumber: number | null;
  /** When the current drift (or failure) was first seen; null when clean. */
  firstSeenAt: Date | null;
  lastCheckedAt: Date;
  /** The last check's report (owned and parsed by src/drift). */
  report: Record<string, unknown>;
  updatedAt: Date;
}

export type NewDriftStatus = Omit<DriftStatusRecord, 'updatedAt'>;

// ---- Overrides, audit -------------------------------------------------------------------------------------------

export interface NewAuditEntry {
  /** GitHub login, or 'infra-agent' for the app itself. */
  actor: string;
  /** e.g. 'run.triggered', 'plan.approved', 'policy.overridden', 'apply.started', 'lock.released'. */
  action: string;
  repo: string;
  /** What it acted on: `#12`, a project, a run id. */
  target: string;
  details?: Record<string, unknown>;
}

export interface AuditRecord extends Required<NewAuditEntry> {
  id: number;
  at: Date;
}

// ---- Pull requests and requesters (authority: written by the App, never read from a body) ---------------------

/** A pull request the App opened: which issue it closes and which run opened it. */
export interface PullRequestLink {
  repo: string;
  pr: number;
  issue: number;
  runId: string;
  branch: string;
  createdAt: Date;
}

/**
 * Why a login is counted among the people who asked for a change (who then cannot approve it unless
 * `apply.allow_self_approval`): the issue's author, who labelled it or asked by command, who pushed to the PR's
 * branch, and the linked author and committer of each commit on it.
 */
export type RequesterReason = 'issue-author' | 'labeller' | 'command' | 'pusher' | 'commit-author' | 'commit-committer';

export interface RequesterRecord {
  repo: string;
  /** The issue the change was asked for (a PR's requesters are its issue's). */
  issue: number;
  login: string;
  reason: RequesterReason;
  /** A commit SHA, a PR number: what the reason refers to. */
  detail: string;
  at: Date;
}

export type NewRequester = Omit<RequesterRecord, 'at' | 'detail'> & { detail?: string };

// ---- The store --------------------------------------------------------------------------------------------------

/**
 * One open transaction: the store bound to it, and the raw executor for a queue driver that writes its job in the
 * same transaction (pg-boss's `db` option). Nothing done through it is visible to others before commit.
 */
export interface StoreTx {
  store: Store;
  sql: { query(sql: string, params?: readonly unknown[]): Promise<Record<string, unknown>[]> };
}

export interface Store {
  /** 'pglite' (embedded) or 'postgres'. */
  readonly driver: 'pglite' | 'postgres';

  /**
   * Run fn in one transaction: everything it does through `tx` commits together or not at all (e.g. a delivery
   * record with its job, a run with its job). Calls on the outer store inside fn are NOT part of it (and on the
   * embedded store they wait for it: use `tx.store`).
   */
  transaction<T>(fn: (tx: StoreTx) => Promise<T>): Promise<T>;

  /** Record a webhook delivery id; false when it was already seen (drop the re-delivery). */
  recordDelivery(id: string, event: string): Promise<boolean>;
  /** Record many delivery ids in one statement; returns the ids that were new (each id counted once). */
  recordDeliveries(deliveries: readonly { id: string; event: string }[]): Promise<Set<string>>;

  /** Create a run with attempt 0, status 'queued' unless given. */
  createRun(run: NewRun): Promise<RunRecord>;
  /** A run by id, or undefined. */
  getRun(id: string): Promise<RunRecord | undefined>;
  /** Apply a patch and return the updated run; throws when the run does not exist. */
  updateRun(id: string, patch: RunPatch): Promise<RunRecord>;
  /** Apply a patch only if the run is in one of `from` (atomic compare-and-set); undefined when it was not. */
  transitionRun(id: string, from: RunStatus[], patch: RunPatch): Promise<RunRecord | undefined>;
  /** The newest queued/running/needs-human run for a key (optionally of one kind), or undefined. */
  findActiveRun(key: RunKey, kind?: RunKind): Promise<RunRecord | undefined>;
  /** Runs matching the filter, newest first. */
  listRuns(filter?: RunFilter): Promise<RunRecord[]>;
  /** Number of runs per kind and status (for /metrics). */
  countRuns(): Promise<{ kind: RunKind; status: RunStatus; count: number }[]>;

  /** Append a stage event to a run. */
  addRunEvent(event: NewRunEvent): Promise<RunEventRecord>;
  /** A run's events in order. */
  listRunEvents(runId: string): Promise<RunEventRecord[]>;

  /** Insert a job (or return the existing id for the same idempotency key). */
  enqueueJob(job: NewJob): Promise<string>;
  /** Add many jobs in one statement; a job whose idempotency key exists is skipped. */
  enqueueJobs(jobs: readonly NewJob[]): Promise<void>;
  /** Record delivery ids and enqueue the jobs of the new ones, in one statement; returns the new ids. */
  acceptDeliveries(batch: readonly { id: string; event: string; jobs: readonly NewJob[] }[]): Promise<Set<string>>;
  /** Atomically pick the oldest runnable job whose key has no active job; lock it until now + lockMs. */
  claimJob(workerId: string, lockMs: number, kinds?: string[]): Promise<JobRecord | undefined>;
  /** Mark an active job completed (only if still held by workerId); false when it was not. */
  completeJob(id: string, workerId: string): Promise<boolean>;
  /** Record a failure: re-queue after retryAt, or mark failed when retryAt is null or attempts are used up. */
  failJob(id: string, workerId: string, error: string, retryAt: Date | null): Promise<boolean>;
  /** Extend the lock of a job this worker holds (heartbeat); false when it lost it. */
  extendJob(id: string, workerId: string, lockMs: number): Promise<boolean>;
  /** Re-queue active jobs whose lock expired (all active ones with `all`: embedded start) or fail them when out of attempts; returns ids. */
  reapJobs(options?: { all?: boolean }): Promise<string[]>;
  /** A job by id. */
  getJob(id: string): Promise<JobRecord | undefined>;
  /** Jobs per state. */
  countJobs(): Promise<Record<JobState, number>>;

  /** Take the lock if free or already held by the same PR (re-entrant); else report the current holder. Atomic. */
  acquireLock(req: LockTarget & { holder: LockHolder }): Promise<LockResult>;
  /** Release a lock; when `pr` is given only if that PR holds it. True when a lock was removed. */
  releaseLock(target: LockTarget & { pr?: number }): Promise<boolean>;
  /** The current lock, or undefined. */
  getLock(target: LockTarget): Promise<LockRecord | undefined>;
  /** All locks, optionally of one repo or held by one PR. */
  listLocks(filter?: { repo?: string; pr?: number }): Promise<LockRecord[]>;

  /**
   * Take the execution slot of a project+workspace (one terraform plan/apply at a time across every run, issue and
   * PR) for `leaseMs`; true when taken or already ours (then the lease is renewed). A holder that dies stops
   * renewing and its slot expires.
   */
  takeProjectSlot(target: LockTarget, holder: string, leaseMs: number): Promise<boolean>;
  /** Give the slot back (only if `holder` has it). */
  releaseProjectSlot(target: LockTarget, holder: string): Promise<void>;

  /** Encrypt and store a plan (AES-256-GCM); replaces nothing: the newest for a target wins on read. */
  savePlan(plan: NewSavedPlan): Promise<SavedPlanRecord>;
  /** The newest plan for a target (or the one with planHash), decrypted and verified; undefined when none. */
  getPlan(target: PlanTarget & { planHash?: string }): Promise<SavedPlanWithBytes | undefined>;
  /** Metadata of the saved plans of a PR, newest first (no decryption). */
  listPlans(filter: { repo: string; pr: number }): Promise<SavedPlanRecord[]>;
  /** Delete plans created before the date; returns how many. */
  purgePlans(olderThan: Date): Promise<number>;
  /** Delete webhook delivery ids and finished (completed/failed) embedded jobs older than the dates. */
  purgeHistory(before: { deliveries: Date; jobs: Date }): Promise<{ deliveries: number; jobs: number }>;

  /** A project's drift status, or undefined when it was never checked. */
  getDrift(target: DriftTarget): Promise<DriftStatusRecord | undefined>;
  /** Insert or replace a project's drift status. */
  putDrift(status: NewDriftStatus): Promise<DriftStatusRecord>;
  /** Drift statuses, optionally of one repo or of the drift issue with that number. */
  listDrift(filter?: { repo?: string; issueNumber?: number }): Promise<DriftStatusRecord[]>;

  /** Record an override given on a PR (it carries its planHash: never reused for another plan). */
  addOverride(target: { repo: string; pr: number }, override: Override): Promise<void>;
  /** Overrides of a PR for one plan hash. */
  listOverrides(filter: { repo: string; pr: number; planHash: string }): Promise<Override[]>;

  /** Record that the App opened `pr` for `issue` (first write wins: a PR never moves to another issue). */
  linkPullRequest(link: Omit<PullRequestLink, 'createdAt'>): Promise<PullRequestLink>;
  /** The App's record of a PR it opened, or undefined (then it is not the App's PR, whatever its body says). */
  getPullRequestLink(repo: string, pr: number): Promise<PullRequestLink | undefined>;
  /** Count a login among an issue's requesters for a reason (idempotent per login, reason and detail). */
  addRequester(requester: NewRequester): Promise<void>;
  /** An issue's requesters, oldest first. */
  listRequesters(repo: string, issue: number): Promise<RequesterRecord[]>;

  /** Append to the audit log. */
  audit(entry: NewAuditEntry): Promise<void>;
  /** Audit entries, newest first (default limit 100). */
  listAudit(filter?: { repo?: string; action?: string; limit?: number }): Promise<AuditRecord[]>;

  /** The value stored under an idempotency key, or undefined. */
  getKey(key: string): Promise<string | undefined>;
  /** Store (or overwrite) a value under a key. */
  putKey(key: string, value: string): Promise<void>;
  /** Store a value only if the key is new; returns the winner's value and whether it was ours. */
  putKeyIfAbsent(key: string, value: string): Promise<{ inserted: boolean; value: string }>;
  /** Remove a key (e.g. a claim whose side effect failed before reaching GitHub). */
  deleteKey(key: string): Promise<void>;
  /** Keys (and values) starting with a prefix, oldest first, at most `limit` (default 100). */
  listKeys(prefix: string, limit?: number): Promise<{ key: string; value: string }[]>;

  /** Close connections (PGlite flushes to disk). */
  close(): Promise<void>;
}

export interface StoreOptions {
  /** PostgreSQL URL; when absent the embedded store is used. */
  databaseUrl?: string;
  /** Embedded data directory (default INFRA_AGENT_DATA_DIR or `.data/`); `memory://` for an in-memory store. */
  dataDir?: string;
  /** 32-byte key for saved plans (base64 or hex); default INFRA_AGENT_PLAN_KEY. Checked when a plan is saved/read. */
  planKey?: string;
  /** Wrap the SQL driver after migrations (the fault-injection suite fails chosen statements through this). */
  wrapDriver?: (driver: SqlDriver) => SqlDriver;
}
