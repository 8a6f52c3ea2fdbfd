// The Store on SQL: one implementation for both drivers (PGlite and PostgreSQL), each part in its own module
// (sql-runs, sql-jobs, sql-coordination, sql-plans, sql-records); this class holds the driver and the plan key and
// binds transactions. Everything that must be atomic is one statement or one transaction — locks are
// `INSERT … ON CONFLICT`, job claims take a row with `FOR UPDATE SKIP LOCKED` under a transaction-scoped advisory
// lock, idempotency keys are insert-if-absent — so two workers on one database can never both win. Rows are parsed
// with zod on the way out: the database is a boundary too (a hand edit, an old row, a driver that returns strings).
import type { Override, RunKind, RunStatus } from '../core/types.js';
import { type PlanKey, parsePlanKey } from './plan-crypto.js';
import type { SqlDriver, SqlExecutor } from './sql.js';
import {
  acquireLock,
  getDrift,
  getLock,
  listDrift,
  listLocks,
  putDrift,
  releaseLock,
  releaseProjectSlot,
  takeProjectSlot,
} from './sql-coordination.js';
import {
  acceptDeliveries,
  claimJob,
  completeJob,
  countJobs,
  enqueueJob,
  enqueueJobs,
  extendJob,
  failJob,
  getJob,
  purgeHistory,
  reapJobs,
  recordDeliveries,
  recordDelivery,
} from './sql-jobs.js';
import { getPlan, listPlans, purgePlans, savePlan } from './sql-plans.js';
import {
  addOverride,
  addRequester,
  audit,
  deleteKey,
  getKey,
  getPullRequestLink,
  linkPullRequest,
  listAudit,
  listKeys,
  listOverrides,
  listRequesters,
  putKey,
  putKeyIfAbsent,
} from './sql-records.js';
import {
  addRunEvent,
  countRuns,
  createRun,
  findActiveRun,
  getRun,
  listRunEvents,
  listRuns,
  transitionRun,
  updateRun,
} from './sql-runs.js';
import type {
  AuditRecord,
  DriftStatusRecord,
  DriftTarget,
  JobRecord,
  JobState,
  LockHolder,
  LockRecord,
  LockResult,
  LockTarget,
  NewAuditEntry,
  NewDriftStatus,
  NewJob,
  NewRequester,
  NewRun,
  NewRunEvent,
  NewSavedPlan,
  PlanTarget,
  PullRequestLink,
  RequesterRecord,
  RunEventRecord,
  RunFilter,
  RunKey,
  RunPatch,
  RunRecord,
  SavedPlanRecord,
  SavedPlanWithBytes,
  Store,
  StoreTx,
} from './types.js';

export class SqlStore implements Store {
  readonly driver: 'pglite' | 'postgres';
  private planKey: PlanKey | undefined;

  constructor(
    private readonly db: SqlDriver,
    private readonly planKeyText: string | undefined,
  ) {
    this.driver = db.name;
  }

  /** Parsed on first use, so a deployment that never saves plans needs no key. */
  private key(): PlanKey {
    this.planKey ??= parsePlanKey(this.planKeyText);
    return this.planKey;
  }

  async transaction<T>(fn: (tx: StoreTx) => Promise<T>): Promise<T> {
    return this.db.transaction((exec) => {
      const bound: SqlDriver = {
        name: this.db.name,
        query: (sql, params) => exec.query(sql, params),
        exec: () => Promise.reject(new Error('no multi-statement scripts inside a transaction')),
        // Nested: the same transaction (PostgreSQL has no nested BEGIN; savepoints are not needed here).
        transaction: (inner) => inner(exec),
        close: async () => {},
      };
      return fn({ store: new SqlStore(bound, this.planKeyText), sql: exec });
    });
  }

  recordDelivery(id: string, event: string): Promise<boolean> {
    return recordDelivery(this.db, id, event);
  }

  recordDeliveries(deliveries: readonly { id: string; event: string }[]): Promise<Set<string>> {
    return recordDeliveries(this.db, deliveries);
  }

  acceptDeliveries(batch: readonly { id: string; event: string; jobs: readonly NewJob[] }[]): Promise<Set<string>> {
    return acceptDeliveries(this.db, batch);
  }

  enqueueJobs(jobs: readonly NewJob[]): Promise<void> {
    return enqueueJobs(this.db, jobs);
  }

  enqueueJob(job: NewJob): Promise<string> {
    return enqueueJob(this.db, job);
  }

  claimJob(workerId: string, lockMs: number, kinds?: string[]): Promise<JobRecord | undefined> {
    return claimJob(this.db, workerId, lockMs, kinds);
  }

  completeJob(id: string, workerId: string): Promise<boolean> {
    return completeJob(this.db, id, workerId);
  }

  failJob(id: string, workerId: string, error: string, retryAt: Date | null): Promise<boolean> {
    return failJob(this.db, id, workerId, error, retryAt);
  }

  extendJob(id: string, workerId: string, lockMs: number): Promise<boolean> {
    return extendJob(this.db, id, workerId, lockMs);
  }

  reapJobs(options: { all?: boolean } = {}): Promise<string[]> {
    return reapJobs(this.db, options);
  }

  getJob(id: string): Promise<JobRecord | undefined> {
    return getJob(this.db, id);
  }

  countJobs(): Promise<Record<JobState, number>> {
    return countJobs(this.db);
  }

  purgeHistory(before: { deliveries: Date; jobs: Date }): Promise<{ deliveries: number; jobs: number }> {
    return purgeHistory(this.db, before);
  }

  createRun(run: NewRun): Promise<RunRecord> {
    return createRun(this.db, run);
  }

  getRun(id: string): Promise<RunRecord | undefined> {
    return getRun(this.db, id);
  }

  updateRun(id: string, patch: RunPatch): Promise<RunRecord> {
    return updateRun(this.db, id, patch);
  }

  transitionRun(id: string, from: RunStatus[], patch: RunPatch): Promise<RunRecord | undefined> {
    return transitionRun(this.db, id, from, patch);
  }

  findActiveRun(key: RunKey, kind?: RunKind): Promise<RunRecord | undefined> {
    return findActiveRun(this.db, key, kind);
  }

  listRuns(filter: RunFilter = {}): Promise<RunRecord[]> {
    return listRuns(this.db, filter);
  }

  countRuns(): Promise<{ kind: RunKind; status: RunStatus; count: number }[]> {
    return countRuns(this.db);
  }

  addRunEvent(event: NewRunEvent): Promise<RunEventRecord> {
    return addRunEvent(this.db, event);
  }

  listRunEvents(runId: string): Promise<RunEventRecord[]> {
    return listRunEvents(this.db, runId);
  }

  acquireLock(req: LockTarget & { holder: LockHolder }): Promise<LockResult> {
    return acquireLock(this.db, req);
  }

  releaseLock(target: LockTarget & { pr?: number }): Promise<boolean> {
    return releaseLock(this.db, target);
  }

  getLock(target: LockTarget): Promise<LockRecord | undefined> {
    return getLock(this.db, target);
  }

  listLocks(filter: { repo?: string; pr?: number } = {}): Promise<LockRecord[]> {
    return listLocks(this.db, filter);
  }

  getDrift(target: DriftTarget): Promise<DriftStatusRecord | undefined> {
    return getDrift(this.db, target);
  }

  putDrift(s: NewDriftStatus): Promise<DriftStatusRecord> {
    return putDrift(this.db, s);
  }

  listDrift(filter: { repo?: string; issueNumber?: number } = {}): Promise<DriftStatusRecord[]> {
    return listDrift(this.db, filter);
  }

  takeProjectSlot(target: LockTarget, holder: string, leaseMs: number): Promise<boolean> {
    return takeProjectSlot(this.db, target, holder, leaseMs);
  }

  releaseProjectSlot(target: LockTarget, holder: string): Promise<void> {
    return releaseProjectSlot(this.db, target, holder);
  }

  savePlan(plan: NewSavedPlan): Promise<SavedPlanRecord> {
    return savePlan(this.db, () => this.key(), plan);
  }

  getPlan(target: PlanTarget & { planHash?: string }): Promise<SavedPlanWithBytes | undefined> {
    return getPlan(this.db, () => this.key(), target);
  }

  listPlans(filter: { repo: string; pr: number }): Promise<SavedPlanRecord[]> {
    return listPlans(this.db, filter);
  }

  purgePlans(olderThan: Date): Promise<number> {
    return purgePlans(this.db, olderThan);
  }

  addOverride(target: { repo: string; pr: number }, override: Override): Promise<void> {
    return addOverride(this.db, target, override);
  }

  listOverrides(filter: { repo: string; pr: number; planHash: string }): Promise<Override[]> {
    return listOverrides(this.db, filter);
  }

  linkPullRequest(link: Omit<PullRequestLink, 'createdAt'>): Promise<PullRequestLink> {
    return linkPullRequest(this.db, link);
  }

  getPullRequestLink(repo: string, pr: number): Promise<PullRequestLink | undefined> {
    return getPullRequestLink(this.db, repo, pr);
  }

  addRequester(requester: NewRequester): Promise<void> {
    return addRequester(this.db, requester);
  }

  listRequesters(repo: string, issue: number): Promise<RequesterRecord[]> {
    return listRequesters(this.db, repo, issue);
  }

  audit(entry: NewAuditEntry): Promise<void> {
    return audit(this.db, entry);
  }

  listAudit(filter: { repo?: string; action?: string; limit?: number } = {}): Promise<AuditRecord[]> {
    return listAudit(this.db, filter);
  }

  getKey(key: string): Promise<string | undefined> {
    return getKey(this.db, key);
  }

  putKey(key: string, value: string): Promise<void> {
    return putKey(this.db, key, value);
  }

  putKeyIfAbsent(key: string, value: string): Promise<{ inserted: boolean; value: string }> {
    return putKeyIfAbsent(this.db, key, value);
  }

  deleteKey(key: string): Promise<void> {
    return deleteKey(this.db, key);
  }

  listKeys(prefix: string, limit = 100): Promise<{ key: string; value: string }[]> {
    return listKeys(this.db, prefix, limit);
  }

  /**
   * The raw driver: for the pg-boss queue's one-statement webhook write on the same database, and for tests that must
   * look at what is stored (e.g. that plan bytes are not in clear).
   */
  get sql(): SqlExecutor {
    return this.db;
  }

  async close(): Promise<void> {
    await this.db.close();
  }
}
