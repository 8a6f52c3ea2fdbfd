// The Store on SQL: one implementation for both drivers (PGlite and PostgreSQL). Everything that must be atomic is
// one statement or one transaction here — locks are `INSERT … ON CONFLICT`, job claims take a row with
// `FOR UPDATE SKIP LOCKED` under a transaction-scoped advisory lock, idempotency keys are insert-if-absent — so two
// workers on one database can never both win. Rows are parsed with zod on the way out: the database is a
// boundary too (a hand edit, an old row, a driver that returns strings for numbers).
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { ModelUsage, Override, PlanSummary, RunKind, RunStatus } from '../core/types.js';
import { openPlan, type PlanKey, parsePlanKey, sealPlan, sha256Hex } from './plan-crypto.js';
import type { Row, SqlDriver, SqlExecutor } from './sql.js';
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
  RequesterReason,
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

// ---- Row parsing ----------------------------------------------------------------------------------------------

const RUN_KINDS = ['generate', 'revise', 'plan', 'apply'] as const satisfies readonly RunKind[];
const RUN_STATUSES = [
  'queued',
  'running',
  'succeeded',
  'failed',
  'cancelled',
  'needs-human',
] as const satisfies readonly RunStatus[];
const JOB_STATES = ['queued', 'active', 'completed', 'failed'] as const satisfies readonly JobState[];

const date = z.coerce.date();
const nullableDate = date.nullable();
const int = z.coerce.number().int();
const json = z.record(z.string(), z.unknown());
const bytes = z.instanceof(Uint8Array).transform((u) => Buffer.from(u.buffer, u.byteOffset, u.byteLength));

const ModelUsageSchema: z.ZodType<ModelUsage> = z.object({
  inputTokens: z.number(),
  outputTokens: z.number(),
  cacheReadTokens: z.number(),
  cacheWriteTokens: z.number(),
  costUsd: z.number(),
  turns: z.number(),
  durationMs: z.number(),
});

// The summary was validated by the plan parser when it was made; here we only check it is the shape we wrote.
const PlanSummarySchema = z.custom<PlanSummary>(
  (v) => typeof v === 'object' && v !== null && 'counts' in v && 'resources' in v && Array.isArray(v.resources),
  'not a plan summary',
);

const RunRow = z.object({
  id: z.string(),
  kind: z.enum(RUN_KINDS),
  key: z.string(),
  repo: z.string(),
  number: int,
  status: z.enum(RUN_STATUSES),
  stage: z.string(),
  attempt: int,
  triggered_by: z.string().nullable(),
  input: json,
  error: z.string().nullable(),
  usage: ModelUsageSchema.nullable(),
  links: z.record(z.string(), z.string()),
  worker_id: z.string().nullable(),
  heartbeat_at: nullableDate,
  created_at: date,
  updated_at: date,
  started_at: nullableDate,
  finished_at: nullableDate,
});

function toRun(row: Row): RunRecord {
  const r = RunRow.parse(row);
  return {
    id: r.id,
    kind: r.kind,
    key: r.key,
    repo: r.repo,
    number: r.number,
    status: r.status,
    stage: r.stage,
    attempt: r.attempt,
    triggeredBy: r.triggered_by,
    input: r.input,
    error: r.error,
    usage: r.usage,
    links: r.links,
    workerId: r.worker_id,
    heartbeatAt: r.heartbeat_at,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
  };
}

const RunEventRow = z.object({
  id: int,
  run_id: z.string(),
  stage: z.string(),
  status: z.enum(['started', 'ok', 'failed', 'skipped', 'info']),
  duration_ms: int.nullable(),
  message: z.string().nullable(),
  at: date,
});

function toRunEvent(row: Row): RunEventRecord {
  const r = RunEventRow.parse(row);
  return {
    id: r.id,
    runId: r.run_id,
    stage: r.stage,
    status: r.status,
    durationMs: r.duration_ms,
    message: r.message,
    at: r.at,
  };
}

const JobRow = z.object({
  id: z.string(),
  kind: z.string(),
  key: z.string(),
  payload: json,
  state: z.enum(JOB_STATES),
  attempt: int,
  max_attempts: int,
  run_after: date,
  locked_until: nullableDate,
  worker_id: z.string().nullable(),
  last_error: z.string().nullable(),
  idempotency_key: z.string().nullable(),
  created_at: date,
  updated_at: date,
});

function toJob(row: Row): JobRecord {
  const r = JobRow.parse(row);
  return {
    id: r.id,
    kind: r.kind,
    key: r.key,
    payload: r.payload,
    state: r.state,
    attempt: r.attempt,
    maxAttempts: r.max_attempts,
    runAfter: r.run_after,
    lockedUntil: r.locked_until,
    workerId: r.worker_id,
    lastError: r.last_error,
    idempotencyKey: r.idempotency_key,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

const LockRow = z.object({
  repo: z.string(),
  project: z.string(),
  workspace: z.string(),
  pr: int,
  run_id: z.string(),
  acquired_at: date,
});

function toLock(row: Row): LockRecord {
  const r = LockRow.parse(row);
  return {
    repo: r.repo,
    project: r.project,
    workspace: r.workspace,
    holder: { pr: r.pr, runId: r.run_id },
    acquiredAt: r.acquired_at,
  };
}

const PlanMetaRow = z.object({
  id: z.string(),
  repo: z.string(),
  pr: int,
  project: z.string(),
  workspace: z.string(),
  head_sha: z.string(),
  base_sha: z.string(),
  plan_hash: z.string(),
  summary: PlanSummarySchema,
  run_id: z.string(),
  size_bytes: int,
  created_at: date,
});

const PlanSealedRow = z.object({
  key_id: z.string(),
  nonce: bytes,
  auth_tag: bytes,
  ciphertext: bytes,
});

function toPlanMeta(row: Row): SavedPlanRecord {
  const r = PlanMetaRow.parse(row);
  return {
    id: r.id,
    repo: r.repo,
    pr: r.pr,
    project: r.project,
    workspace: r.workspace,
    headSha: r.head_sha,
    baseSha: r.base_sha,
    planHash: r.plan_hash,
    summary: r.summary,
    runId: r.run_id,
    sizeBytes: r.size_bytes,
    createdAt: r.created_at,
  };
}

const OverrideRow = z.object({
  rule_id: z.string(),
  by_login: z.string(),
  at: z.string(),
  reason: z.string(),
  plan_hash: z.string().nullable(),
});

const AuditRow = z.object({
  id: int,
  at: date,
  actor: z.string(),
  action: z.string(),
  repo: z.string(),
  target: z.string(),
  details: json,
});

/** What the ciphertext is bound to: moving it to another plan's row makes it fail authentication. */
function planAad(p: PlanTarget & { planHash: string }): string {
  return JSON.stringify(['infra-agent/plan/v1', p.repo, p.pr, p.project, p.workspace, p.planHash]);
}

function iso(d: Date): string {
  return d.toISOString();
}

const DriftRow = z.object({
  repo: z.string(),
  project: z.string(),
  workspace: z.string(),
  state: z.enum(['clean', 'drifted', 'error']),
  issue_number: int.nullable(),
  first_seen_at: nullableDate,
  last_checked_at: date,
  report: json,
  updated_at: date,
});

function toDrift(row: Row): DriftStatusRecord {
  const r = DriftRow.parse(row);
  return {
    repo: r.repo,
    project: r.project,
    workspace: r.workspace,
    state: r.state,
    issueNumber: r.issue_number,
    firstSeenAt: r.first_seen_at,
    lastCheckedAt: r.last_checked_at,
    report: r.report,
    updatedAt: r.updated_at,
  };
}

function first(rows: Row[]): Row | undefined {
  return rows[0];
}

/** Arbitrary constant: serialises embedded-queue claims so two claimers never pick two jobs of one key. */
const CLAIM_LOCK = 7_245_002;

// ---- The store ------------------------------------------------------------------------------------------------

const REQUESTER_REASONS = [
  'issue-author',
  'labeller',
  'command',
  'pusher',
  'commit-author',
  'commit-committer',
] as const satisfies readonly RequesterReason[];

const LinkRow = z.object({
  repo: z.string(),
  pr: int,
  issue: int,
  run_id: z.string(),
  branch: z.string(),
  created_at: date,
});

const RequesterRow = z.object({
  repo: z.string(),
  issue: int,
  login: z.string(),
  reason: z.enum(REQUESTER_REASONS),
  detail: z.string(),
  at: date,
});

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

  async recordDelivery(id: string, event: string): Promise<boolean> {
    const rows = await this.db.query(
      'INSERT INTO webhook_deliveries (id, event) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING RETURNING id',
      [id, event],
    );
    return rows.length > 0;
  }

  // ---- runs

  async createRun(run: NewRun): Promise<RunRecord> {
    const rows = await this.db.query(
      `INSERT INTO runs (id, kind, key, repo, number, status, stage, triggered_by, input)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::jsonb) RETURNING *`,
      [
        randomUUID(),
        run.kind,
        `${run.repo}#${run.number}`,
        run.repo,
        run.number,
        run.status ?? 'queued',
        run.stage ?? 'queued',
        run.triggeredBy ?? null,
        JSON.stringify(run.input ?? {}),
      ],
    );
    return toRun(rows[0] ?? {});
  }

  async getRun(id: string): Promise<RunRecord | undefined> {
    const row = first(await this.db.query('SELECT * FROM runs WHERE id = $1', [id]));
    return row ? toRun(row) : undefined;
  }

  async updateRun(id: string, patch: RunPatch): Promise<RunRecord> {
    const run = await this.patchRun(id, patch, undefined);
    if (!run) throw new Error(`run ${id} does not exist`);
    return run;
  }

  transitionRun(id: string, from: RunStatus[], patch: RunPatch): Promise<RunRecord | undefined> {
    return this.patchRun(id, patch, from);
  }

  private async patchRun(id: string, patch: RunPatch, from: RunStatus[] | undefined): Promise<RunRecord | undefined> {
    const sets: string[] = ['updated_at = now()'];
    const params: unknown[] = [id, from === undefined ? null : JSON.stringify(from)];
    const set = (column: string, value: unknown, cast = '') => {
      params.push(value);
      sets.push(`${column} = $${params.length}${cast}`);
    };
    if (patch.status !== undefined) set('status', patch.status);
    if (patch.stage !== undefined) set('stage', patch.stage);
    if (patch.attempt !== undefined) set('attempt', patch.attempt);
    if (patch.error !== undefined) set('error', patch.error);
    if (patch.usage !== undefined) set('usage', patch.usage === null ? null : JSON.stringify(patch.usage), '::jsonb');
    if (patch.workerId !== undefined) set('worker_id', patch.workerId);
    if (patch.heartbeatAt !== undefined)
      set('heartbeat_at', patch.heartbeatAt && iso(patch.heartbeatAt), '::timestamptz');
    if (patch.startedAt !== undefined) set('started_at', patch.startedAt && iso(patch.startedAt), '::timestamptz');
    if (patch.finishedAt !== undefined) set('finished_at', patch.finishedAt && iso(patch.finishedAt), '::timestamptz');
    if (patch.links !== undefined) {
      params.push(JSON.stringify(patch.links));
      sets.push(`links = links || $${params.length}::jsonb`);
    }
    const row = first(
      await this.db.query(
        `UPDATE runs SET ${sets.join(', ')}
          WHERE id = $1 AND ($2::jsonb IS NULL OR status IN (SELECT jsonb_array_elements_text($2::jsonb)))
          RETURNING *`,
        params,
      ),
    );
    return row ? toRun(row) : undefined;
  }

  async findActiveRun(key: RunKey, kind?: RunKind): Promise<RunRecord | undefined> {
    const row = first(
      await this.db.query(
        `SELECT * FROM runs WHERE key = $1 AND status IN ('queued', 'running', 'needs-human')
           AND ($2::text IS NULL OR kind = $2) ORDER BY created_at DESC, id LIMIT 1`,
        [key, kind ?? null],
      ),
    );
    return row ? toRun(row) : undefined;
  }

  async listRuns(filter: RunFilter = {}): Promise<RunRecord[]> {
    const statuses =
      filter.status === undefined
        ? null
        : JSON.stringify(Array.isArray(filter.status) ? filter.status : [filter.status]);
    const rows = await this.db.query(
      `SELECT * FROM runs
        WHERE ($1::text IS NULL OR key = $1) AND ($2::text IS NULL OR repo = $2) AND ($3::text IS NULL OR kind = $3)
          AND ($4::jsonb IS NULL OR status IN (SELECT jsonb_array_elements_text($4::jsonb)))
        ORDER BY created_at DESC, id LIMIT $5`,
      [filter.key ?? null, filter.repo ?? null, filter.kind ?? null, statuses, filter.limit ?? 100],
    );
    return rows.map(toRun);
  }

  async countRuns(): Promise<{ kind: RunKind; status: RunStatus; count: number }[]> {
    const rows = await this.db.query('SELECT kind, status, count(*)::int AS count FROM runs GROUP BY kind, status');
    const Counted = z.object({ kind: z.enum(RUN_KINDS), status: z.enum(RUN_STATUSES), count: int });
    return rows.map((r) => Counted.parse(r));
  }

  async addRunEvent(event: NewRunEvent): Promise<RunEventRecord> {
    const rows = await this.db.query(
      `INSERT INTO run_events (run_id, stage, status, duration_ms, message) VALUES ($1, $2, $3, $4, $5) RETURNING *`,
      [
        event.runId,
        event.stage,
        event.status,
        event.durationMs === undefined ? null : Math.round(event.durationMs),
        event.message ?? null,
      ],
    );
    return toRunEvent(rows[0] ?? {});
  }

  async listRunEvents(runId: string): Promise<RunEventRecord[]> {
    return (await this.db.query('SELECT * FROM run_events WHERE run_id = $1 ORDER BY id', [runId])).map(toRunEvent);
  }

  // ---- jobs (embedded queue)

  async enqueueJob(job: NewJob): Promise<string> {
    const id = randomUUID();
    const inserted = await this.db.query(
      `INSERT INTO jobs (id, kind, key, payload, state, max_attempts, idempotency_key)
       VALUES ($1, $2, $3, $4::jsonb, 'queued', $5, $6) ON CONFLICT (idempotency_key) DO NOTHING RETURNING id`,
      [id, job.kind, job.key, JSON.stringify(job.payload), job.maxAttempts, job.idempotencyKey ?? null],
    );
    if (inserted.length > 0) return id;
    const existing = first(
      await this.db.query('SELECT id FROM jobs WHERE idempotency_key = $1', [job.idempotencyKey ?? null]),
    );
    return z.object({ id: z.string() }).parse(existing).id;
  }

  async claimJob(workerId: string, lockMs: number, kinds?: string[]): Promise<JobRecord | undefined> {
    return this.db.transaction(async (tx) => {
      // Without this, two claimers in READ COMMITTED could each see "no active job for key K" and both take one.
      await tx.query('SELECT pg_advisory_xact_lock($1)', [CLAIM_LOCK]);
      const row = first(
        await tx.query(
          `UPDATE jobs SET state = 'active', attempt = attempt + 1, worker_id = $1,
                  locked_until = now() + $2::int * interval '1 millisecond', updated_at = now()
            WHERE id = (
              SELECT j.id FROM jobs j
               WHERE j.state = 'queued' AND j.run_after <= now()
                 AND ($3::jsonb IS NULL OR j.kind IN (SELECT jsonb_array_elements_text($3::jsonb)))
                 AND NOT EXISTS (SELECT 1 FROM jobs a WHERE a.key = j.key AND a.state = 'active')
               ORDER BY j.created_at, j.id
               LIMIT 1
               FOR UPDATE SKIP LOCKED)
            RETURNING *`,
          [workerId, Math.round(lockMs), kinds ? JSON.stringify(kinds) : null],
        ),
      );
      return row ? toJob(row) : undefined;
    });
  }

  async completeJob(id: string, workerId: string): Promise<boolean> {
    const rows = await this.db.query(
      `UPDATE jobs SET state = 'completed', locked_until = NULL, updated_at = now()
        WHERE id = $1 AND worker_id = $2 AND state = 'active' RETURNING id`,
      [id, workerId],
    );
    return rows.length > 0;
  }

  async failJob(id: string, workerId: string, error: string, retryAt: Date | null): Promise<boolean> {
    const rows = await this.db.query(
      `UPDATE jobs SET state = CASE WHEN $4::timestamptz IS NULL OR attempt >= max_attempts THEN 'failed' ELSE 'queued' END,
              run_after = COALESCE($4::timestamptz, run_after), last_error = $3, locked_until = NULL,
              worker_id = NULL, updated_at = now()
        WHERE id = $1 AND worker_id = $2 AND state = 'active' RETURNING id`,
      [id, workerId, error, retryAt && iso(retryAt)],
    );
    return rows.length > 0;
  }

  async extendJob(id: string, workerId: string, lockMs: number): Promise<boolean> {
    const rows = await this.db.query(
      `UPDATE jobs SET locked_until = now() + $3::int * interval '1 millisecond', updated_at = now()
        WHERE id = $1 AND worker_id = $2 AND state = 'active' RETURNING id`,
      [id, workerId, Math.round(lockMs)],
    );
    return rows.length > 0;
  }

  async reapJobs(options: { all?: boolean } = {}): Promise<string[]> {
    const rows = await this.db.query(
      `UPDATE jobs SET state = CASE WHEN attempt >= max_attempts THEN 'failed' ELSE 'queued' END,
              last_error = 'worker lost: the job was still active when its lock expired', locked_until = NULL,
              worker_id = NULL, run_after = now(), updated_at = now()
        WHERE state = 'active' AND ($1::boolean OR locked_until < now()) RETURNING id`,
      [options.all === true],
    );
    return rows.map((r) => z.object({ id: z.string() }).parse(r).id);
  }

  async getJob(id: string): Promise<JobRecord | undefined> {
    const row = first(await this.db.query('SELECT * FROM jobs WHERE id = $1', [id]));
    return row ? toJob(row) : undefined;
  }

  async countJobs(): Promise<Record<JobState, number>> {
    const rows = await this.db.query('SELECT state, count(*)::int AS count FROM jobs GROUP BY state');
    const out: Record<JobState, number> = { queued: 0, active: 0, completed: 0, failed: 0 };
    for (const r of rows) {
      const c = z.object({ state: z.enum(JOB_STATES), count: int }).parse(r);
      out[c.state] = c.count;
    }
    return out;
  }

  // ---- locks

  async acquireLock(req: LockTarget & { holder: LockHolder }): Promise<LockResult> {
    // The holder may release between our failed insert and our read: then try again (bounded, it cannot livelock
    // for long — each round either inserts or sees a holder).
    for (let round = 0; round < 5; round++) {
      const won = first(
        await this.db.query(
          `INSERT INTO locks (repo, project, workspace, pr, run_id) VALUES ($1, $2, $3, $4, $5)
           ON CONFLICT (repo, project, workspace) DO UPDATE SET run_id = EXCLUDED.run_id
             WHERE locks.pr = EXCLUDED.pr
           RETURNING *`,
          [req.repo, req.project, req.workspace, req.holder.pr, req.holder.runId],
        ),
      );
      if (won) return { acquired: true, lock: toLock(won) };
      const holder = await this.getLock(req);
      if (holder) return { acquired: false, holder };
    }
    throw new Error(`lock ${req.repo} ${req.project}/${req.workspace} is contended: try again`);
  }

  async releaseLock(target: LockTarget & { pr?: number }): Promise<boolean> {
    const rows = await this.db.query(
      `DELETE FROM locks WHERE repo = $1 AND project = $2 AND workspace = $3 AND ($4::int IS NULL OR pr = $4)
       RETURNING repo`,
      [target.repo, target.project, target.workspace, target.pr ?? null],
    );
    return rows.length > 0;
  }

  async getLock(target: LockTarget): Promise<LockRecord | undefined> {
    const row = first(
      await this.db.query('SELECT * FROM locks WHERE repo = $1 AND project = $2 AND workspace = $3', [
        target.repo,
        target.project,
        target.workspace,
      ]),
    );
    return row ? toLock(row) : undefined;
  }

  async listLocks(filter: { repo?: string; pr?: number } = {}): Promise<LockRecord[]> {
    const rows = await this.db.query(
      `SELECT * FROM locks WHERE ($1::text IS NULL OR repo = $1) AND ($2::int IS NULL OR pr = $2)
        ORDER BY repo, project, workspace`,
      [filter.repo ?? null, filter.pr ?? null],
    );
    return rows.map(toLock);
  }

  // ---- drift

  async getDrift(target: DriftTarget): Promise<DriftStatusRecord | undefined> {
    const row = first(
      await this.db.query('SELECT * FROM drift_status WHERE repo = $1 AND project = $2 AND workspace = $3', [
        target.repo,
        target.project,
        target.workspace,
      ]),
    );
    return row ? toDrift(row) : undefined;
  }

  async putDrift(s: NewDriftStatus): Promise<DriftStatusRecord> {
    const rows = await this.db.query(
      `INSERT INTO drift_status (repo, project, workspace, state, issue_number, first_seen_at, last_checked_at, report)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb)
       ON CONFLICT (repo, project, workspace) DO UPDATE SET state = EXCLUDED.state,
         issue_number = EXCLUDED.issue_number, first_seen_at = EXCLUDED.first_seen_at,
         last_checked_at = EXCLUDED.last_checked_at, report = EXCLUDED.report, updated_at = now()
       RETURNING *`,
      [
        s.repo,
        s.project,
        s.workspace,
        s.state,
        s.issueNumber,
        s.firstSeenAt,
        s.lastCheckedAt,
        JSON.stringify(s.report),
      ],
    );
    const row = first(rows);
    if (!row) throw new Error('drift status was not written');
    return toDrift(row);
  }

  async listDrift(filter: { repo?: string; issueNumber?: number } = {}): Promise<DriftStatusRecord[]> {
    const rows = await this.db.query(
      `SELECT * FROM drift_status WHERE ($1::text IS NULL OR repo = $1) AND ($2::int IS NULL OR issue_number = $2)
        ORDER BY repo, project, workspace`,
      [filter.repo ?? null, filter.issueNumber ?? null],
    );
    return rows.map(toDrift);
  }

  // ---- project slots

  async takeProjectSlot(target: LockTarget, holder: string, leaseMs: number): Promise<boolean> {
    const rows = await this.db.query(
      `INSERT INTO project_slots (repo, project, workspace, holder, expires_at)
       VALUES ($1, $2, $3, $4, now() + $5::int * interval '1 millisecond')
       ON CONFLICT (repo, project, workspace) DO UPDATE
         SET holder = EXCLUDED.holder, expires_at = EXCLUDED.expires_at,
             acquired_at = CASE WHEN project_slots.holder = EXCLUDED.holder THEN project_slots.acquired_at ELSE now() END
         WHERE project_slots.holder = EXCLUDED.holder OR project_slots.expires_at < now()
       RETURNING holder`,
      [target.repo, target.project, target.workspace, holder, Math.round(leaseMs)],
    );
    return rows.length > 0;
  }

  async releaseProjectSlot(target: LockTarget, holder: string): Promise<void> {
    await this.db.query(
      'DELETE FROM project_slots WHERE repo = $1 AND project = $2 AND workspace = $3 AND holder = $4',
      [target.repo, target.project, target.workspace, holder],
    );
  }

  // ---- saved plans

  async savePlan(plan: NewSavedPlan): Promise<SavedPlanRecord> {
    const hash = sha256Hex(plan.bytes);
    if (hash !== plan.planHash) {
      throw new Error(`plan hash mismatch: given ${plan.planHash}, bytes hash to ${hash}`);
    }
    const sealed = sealPlan(this.key(), plan.bytes, planAad(plan));
    const rows = await this.db.query(
      `INSERT INTO saved_plans (id, repo, pr, project, workspace, head_sha, base_sha, plan_hash, summary, run_id,
                                size_bytes, key_id, nonce, auth_tag, ciphertext)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::jsonb, $10, $11, $12, $13, $14, $15)
       RETURNING id, repo, pr, project, workspace, head_sha, base_sha, plan_hash, summary, run_id, size_bytes, created_at`,
      [
        randomUUID(),
        plan.repo,
        plan.pr,
        plan.project,
        plan.workspace,
        plan.headSha,
        plan.baseSha,
        plan.planHash,
        JSON.stringify(plan.summary),
        plan.runId,
        plan.bytes.length,
        sealed.keyId,
        sealed.nonce,
        sealed.authTag,
        sealed.ciphertext,
      ],
    );
    return toPlanMeta(rows[0] ?? {});
  }

  async getPlan(target: PlanTarget & { planHash?: string }): Promise<SavedPlanWithBytes | undefined> {
    const row = first(
      await this.db.query(
        `SELECT * FROM saved_plans
          WHERE repo = $1 AND pr = $2 AND project = $3 AND workspace = $4 AND ($5::text IS NULL OR plan_hash = $5)
          ORDER BY created_at DESC, id LIMIT 1`,
        [target.repo, target.pr, target.project, target.workspace, target.planHash ?? null],
      ),
    );
    if (!row) return undefined;
    const meta = toPlanMeta(row);
    const sealed = PlanSealedRow.parse(row);
    const plain = openPlan(
      this.key(),
      { keyId: sealed.key_id, nonce: sealed.nonce, authTag: sealed.auth_tag, ciphertext: sealed.ciphertext },
      planAad(meta),
    );
    // GCM already authenticated it; this catches a row whose plan_hash column was edited after the fact.
    if (sha256Hex(plain) !== meta.planHash) throw new Error(`saved plan ${meta.id} does not match its hash`);
    return { ...meta, bytes: plain };
  }

  async listPlans(filter: { repo: string; pr: number }): Promise<SavedPlanRecord[]> {
    const rows = await this.db.query(
      `SELECT id, repo, pr, project, workspace, head_sha, base_sha, plan_hash, summary, run_id, size_bytes, created_at
         FROM saved_plans WHERE repo = $1 AND pr = $2 ORDER BY created_at DESC, id`,
      [filter.repo, filter.pr],
    );
    return rows.map(toPlanMeta);
  }

  async purgePlans(olderThan: Date): Promise<number> {
    const rows = await this.db.query('DELETE FROM saved_plans WHERE created_at < $1::timestamptz RETURNING id', [
      iso(olderThan),
    ]);
    return rows.length;
  }

  async purgeHistory(before: { deliveries: Date; jobs: Date }): Promise<{ deliveries: number; jobs: number }> {
    const deliveries = await this.db.query(
      'DELETE FROM webhook_deliveries WHERE received_at < $1::timestamptz RETURNING id',
      [iso(before.deliveries)],
    );
    const jobs = await this.db.query(
      `DELETE FROM jobs WHERE state IN ('completed', 'failed') AND updated_at < $1::timestamptz RETURNING id`,
      [iso(before.jobs)],
    );
    return { deliveries: deliveries.length, jobs: jobs.length };
  }

  // ---- overrides, audit

  async addOverride(target: { repo: string; pr: number }, override: Override): Promise<void> {
    await this.db.query(
      'INSERT INTO overrides (repo, pr, rule_id, by_login, at, reason, plan_hash) VALUES ($1, $2, $3, $4, $5, $6, $7)',
      [target.repo, target.pr, override.ruleId, override.by, override.at, override.reason, override.planHash ?? null],
    );
  }

  async listOverrides(filter: { repo: string; pr: number; planHash: string }): Promise<Override[]> {
    const rows = await this.db.query(
      'SELECT * FROM overrides WHERE repo = $1 AND pr = $2 AND plan_hash = $3 ORDER BY id',
      [filter.repo, filter.pr, filter.planHash],
    );
    return rows.map((row) => {
      const r = OverrideRow.parse(row);
      const o: Override = { ruleId: r.rule_id, by: r.by_login, at: r.at, reason: r.reason };
      if (r.plan_hash !== null) o.planHash = r.plan_hash;
      return o;
    });
  }

  // ---- pull request links, requesters

  async linkPullRequest(link: Omit<PullRequestLink, 'createdAt'>): Promise<PullRequestLink> {
    await this.db.query(
      `INSERT INTO pull_request_links (repo, pr, issue, run_id, branch) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (repo, pr) DO NOTHING`,
      [link.repo, link.pr, link.issue, link.runId, link.branch],
    );
    const stored = await this.getPullRequestLink(link.repo, link.pr);
    if (!stored) throw new Error(`pull request link ${link.repo}#${link.pr} was not stored`);
    return stored;
  }

  async getPullRequestLink(repo: string, pr: number): Promise<PullRequestLink | undefined> {
    const row = first(await this.db.query('SELECT * FROM pull_request_links WHERE repo = $1 AND pr = $2', [repo, pr]));
    if (!row) return undefined;
    const r = LinkRow.parse(row);
    return { repo: r.repo, pr: r.pr, issue: r.issue, runId: r.run_id, branch: r.branch, createdAt: r.created_at };
  }

  async addRequester(requester: NewRequester): Promise<void> {
    await this.db.query(
      `INSERT INTO requesters (repo, issue, login, reason, detail) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (repo, issue, login, reason, detail) DO NOTHING`,
      [requester.repo, requester.issue, requester.login, requester.reason, requester.detail ?? ''],
    );
  }

  async listRequesters(repo: string, issue: number): Promise<RequesterRecord[]> {
    const rows = await this.db.query('SELECT * FROM requesters WHERE repo = $1 AND issue = $2 ORDER BY at, login', [
      repo,
      issue,
    ]);
    return rows.map((row) => RequesterRow.parse(row));
  }

  async audit(entry: NewAuditEntry): Promise<void> {
    await this.db.query(
      'INSERT INTO audit_log (actor, action, repo, target, details) VALUES ($1, $2, $3, $4, $5::jsonb)',
      [entry.actor, entry.action, entry.repo, entry.target, JSON.stringify(entry.details ?? {})],
    );
  }

  async listAudit(filter: { repo?: string; action?: string; limit?: number } = {}): Promise<AuditRecord[]> {
    const rows = await this.db.query(
      `SELECT * FROM audit_log WHERE ($1::text IS NULL OR repo = $1) AND ($2::text IS NULL OR action = $2)
        ORDER BY id DESC LIMIT $3`,
      [filter.repo ?? null, filter.action ?? null, filter.limit ?? 100],
    );
    return rows.map((row) => AuditRow.parse(row));
  }

  // ---- idempotency keys

  async getKey(key: string): Promise<string | undefined> {
    const row = first(await this.db.query('SELECT value FROM idempotency_keys WHERE key = $1', [key]));
    return row ? z.object({ value: z.string() }).parse(row).value : undefined;
  }

  async putKey(key: string, value: string): Promise<void> {
    await this.db.query(
      `INSERT INTO idempotency_keys (key, value) VALUES ($1, $2)
       ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, updated_at = now()`,
      [key, value],
    );
  }

  async putKeyIfAbsent(key: string, value: string): Promise<{ inserted: boolean; value: string }> {
    // A key deleted between our insert and our read (a failed side effect releasing its claim): try again.
    for (let round = 0; round < 5; round++) {
      const won = await this.db.query(
        'INSERT INTO idempotency_keys (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING RETURNING value',
        [key, value],
      );
      if (won.length > 0) return { inserted: true, value };
      const existing = await this.getKey(key);
      if (existing !== undefined) return { inserted: false, value: existing };
    }
    throw new Error(`idempotency key ${key} is contended: try again`);
  }

  async deleteKey(key: string): Promise<void> {
    await this.db.query('DELETE FROM idempotency_keys WHERE key = $1', [key]);
  }

  async listKeys(prefix: string, limit = 100): Promise<{ key: string; value: string }[]> {
    const rows = await this.db.query(
      `SELECT key, value FROM idempotency_keys WHERE starts_with(key, $1) ORDER BY created_at, key LIMIT $2`,
      [prefix, limit],
    );
    return rows.map((r) => z.object({ key: z.string(), value: z.string() }).parse(r));
  }

  /** The raw driver, for tests that must look at what is stored (e.g. that plan bytes are not in clear). */
  get sql(): SqlExecutor {
    return this.db;
  }

  async close(): Promise<void> {
    await this.db.close();
  }
}
