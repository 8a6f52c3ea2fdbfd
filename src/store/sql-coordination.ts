// What keeps work on one project in order, on SQL: project locks held by a PR (insert-or-keep, so two runs can
// never both win), project slots with a lease, and the drift status of each project.
import { z } from 'zod';
import type { Row, SqlExecutor } from './sql.js';
import { date, first, int, json, nullableDate } from './sql-rows.js';
import type {
  DriftStatusRecord,
  DriftTarget,
  LockHolder,
  LockRecord,
  LockResult,
  LockTarget,
  NewDriftStatus,
} from './types.js';

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

export async function acquireLock(db: SqlExecutor, req: LockTarget & { holder: LockHolder }): Promise<LockResult> {
  // The holder may release between our failed insert and our read: then try again (bounded, it cannot livelock
  // for long — each round either inserts or sees a holder).
  for (let round = 0; round < 5; round++) {
    const won = first(
      await db.query(
        `INSERT INTO locks (repo, project, workspace, pr, run_id) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (repo, project, workspace) DO UPDATE SET run_id = EXCLUDED.run_id
           WHERE locks.pr = EXCLUDED.pr
         RETURNING *`,
        [req.repo, req.project, req.workspace, req.holder.pr, req.holder.runId],
      ),
    );
    if (won) return { acquired: true, lock: toLock(won) };
    const holder = await getLock(db, req);
    if (holder) return { acquired: false, holder };
  }
  throw new Error(`lock ${req.repo} ${req.project}/${req.workspace} is contended: try again`);
}

export async function releaseLock(db: SqlExecutor, target: LockTarget & { pr?: number }): Promise<boolean> {
  const rows = await db.query(
    `DELETE FROM locks WHERE repo = $1 AND project = $2 AND workspace = $3 AND ($4::int IS NULL OR pr = $4)
     RETURNING repo`,
    [target.repo, target.project, target.workspace, target.pr ?? null],
  );
  return rows.length > 0;
}

export async function getLock(db: SqlExecutor, target: LockTarget): Promise<LockRecord | undefined> {
  const row = first(
    await db.query('SELECT * FROM locks WHERE repo = $1 AND project = $2 AND workspace = $3', [
      target.repo,
      target.project,
      target.workspace,
    ]),
  );
  return row ? toLock(row) : undefined;
}

export async function listLocks(db: SqlExecutor, filter: { repo?: string; pr?: number } = {}): Promise<LockRecord[]> {
  const rows = await db.query(
    `SELECT * FROM locks WHERE ($1::text IS NULL OR repo = $1) AND ($2::int IS NULL OR pr = $2)
      ORDER BY repo, project, workspace`,
    [filter.repo ?? null, filter.pr ?? null],
  );
  return rows.map(toLock);
}

export async function getDrift(db: SqlExecutor, target: DriftTarget): Promise<DriftStatusRecord | undefined> {
  const row = first(
    await db.query('SELECT * FROM drift_status WHERE repo = $1 AND project = $2 AND workspace = $3', [
      target.repo,
      target.project,
      target.workspace,
    ]),
  );
  return row ? toDrift(row) : undefined;
}

export async function putDrift(db: SqlExecutor, s: NewDriftStatus): Promise<DriftStatusRecord> {
  const rows = await db.query(
    `INSERT INTO drift_status (repo, project, workspace, state, issue_number, first_seen_at, last_checked_at, report)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb)
     ON CONFLICT (repo, project, workspace) DO UPDATE SET state = EXCLUDED.state,
       issue_number = EXCLUDED.issue_number, first_seen_at = EXCLUDED.first_seen_at,
       last_checked_at = EXCLUDED.last_checked_at, report = EXCLUDED.report, updated_at = now()
     RETURNING *`,
    [s.repo, s.project, s.workspace, s.state, s.issueNumber, s.firstSeenAt, s.lastCheckedAt, JSON.stringify(s.report)],
  );
  const row = first(rows);
  if (!row) throw new Error('drift status was not written');
  return toDrift(row);
}

export async function listDrift(
  db: SqlExecutor,
  filter: { repo?: string; issueNumber?: number } = {},
): Promise<DriftStatusRecord[]> {
  const rows = await db.query(
    `SELECT * FROM drift_status WHERE ($1::text IS NULL OR repo = $1) AND ($2::int IS NULL OR issue_number = $2)
      ORDER BY repo, project, workspace`,
    [filter.repo ?? null, filter.issueNumber ?? null],
  );
  return rows.map(toDrift);
}

export async function takeProjectSlot(
  db: SqlExecutor,
  target: LockTarget,
  holder: string,
  leaseMs: number,
): Promise<boolean> {
  const rows = await db.query(
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

export async function releaseProjectSlot(db: SqlExecutor, target: LockTarget, holder: string): Promise<void> {
  await db.query('DELETE FROM project_slots WHERE repo = $1 AND project = $2 AND workspace = $3 AND holder = $4', [
    target.repo,
    target.project,
    target.workspace,
    holder,
  ]);
}
