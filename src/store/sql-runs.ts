// Runs and their event log on SQL: create, read, patch (optionally only from given statuses, so a transition is one
// conditional UPDATE), list and count runs; append and list run events.
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { ModelUsage, RunKind, RunStatus } from '../core/types.js';
import type { Row, SqlExecutor } from './sql.js';
import { date, first, int, iso, json, nullableDate } from './sql-rows.js';
import type { NewRun, NewRunEvent, RunEventRecord, RunFilter, RunKey, RunPatch, RunRecord } from './types.js';

const RUN_KINDS = ['generate', 'revise', 'plan', 'apply'] as const satisfies readonly RunKind[];
const RUN_STATUSES = [
  'queued',
  'running',
  'succeeded',
  'failed',
  'cancelled',
  'needs-human',
] as const satisfies readonly RunStatus[];

const ModelUsageSchema: z.ZodType<ModelUsage> = z.object({
  inputTokens: z.number(),
  outputTokens: z.number(),
  cacheReadTokens: z.number(),
  cacheWriteTokens: z.number(),
  costUsd: z.number(),
  turns: z.number(),
  durationMs: z.number(),
});

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

export async function createRun(db: SqlExecutor, run: NewRun): Promise<RunRecord> {
  const rows = await db.query(
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

export async function getRun(db: SqlExecutor, id: string): Promise<RunRecord | undefined> {
  const row = first(await db.query('SELECT * FROM runs WHERE id = $1', [id]));
  return row ? toRun(row) : undefined;
}

export async function updateRun(db: SqlExecutor, id: string, patch: RunPatch): Promise<RunRecord> {
  const run = await patchRun(db, id, patch, undefined);
  if (!run) throw new Error(`run ${id} does not exist`);
  return run;
}

export function transitionRun(
  db: SqlExecutor,
  id: string,
  from: RunStatus[],
  patch: RunPatch,
): Promise<RunRecord | undefined> {
  return patchRun(db, id, patch, from);
}

async function patchRun(
  db: SqlExecutor,
  id: string,
  patch: RunPatch,
  from: RunStatus[] | undefined,
): Promise<RunRecord | undefined> {
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
    await db.query(
      `UPDATE runs SET ${sets.join(', ')}
        WHERE id = $1 AND ($2::jsonb IS NULL OR status IN (SELECT jsonb_array_elements_text($2::jsonb)))
        RETURNING *`,
      params,
    ),
  );
  return row ? toRun(row) : undefined;
}

export async function findActiveRun(db: SqlExecutor, key: RunKey, kind?: RunKind): Promise<RunRecord | undefined> {
  const row = first(
    await db.query(
      `SELECT * FROM runs WHERE key = $1 AND status IN ('queued', 'running', 'needs-human')
         AND ($2::text IS NULL OR kind = $2) ORDER BY created_at DESC, id LIMIT 1`,
      [key, kind ?? null],
    ),
  );
  return row ? toRun(row) : undefined;
}

export async function listRuns(db: SqlExecutor, filter: RunFilter = {}): Promise<RunRecord[]> {
  const statuses =
    filter.status === undefined ? null : JSON.stringify(Array.isArray(filter.status) ? filter.status : [filter.status]);
  const rows = await db.query(
    `SELECT * FROM runs
      WHERE ($1::text IS NULL OR key = $1) AND ($2::text IS NULL OR repo = $2) AND ($3::text IS NULL OR kind = $3)
        AND ($4::jsonb IS NULL OR status IN (SELECT jsonb_array_elements_text($4::jsonb)))
      ORDER BY created_at DESC, id LIMIT $5`,
    [filter.key ?? null, filter.repo ?? null, filter.kind ?? null, statuses, filter.limit ?? 100],
  );
  return rows.map(toRun);
}

export async function countRuns(db: SqlExecutor): Promise<{ kind: RunKind; status: RunStatus; count: number }[]> {
  const rows = await db.query('SELECT kind, status, count(*)::int AS count FROM runs GROUP BY kind, status');
  const Counted = z.object({ kind: z.enum(RUN_KINDS), status: z.enum(RUN_STATUSES), count: int });
  return rows.map((r) => Counted.parse(r));
}

export async function addRunEvent(db: SqlExecutor, event: NewRunEvent): Promise<RunEventRecord> {
  const rows = await db.query(
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

export async function listRunEvents(db: SqlExecutor, runId: string): Promise<RunEventRecord[]> {
  return (await db.query('SELECT * FROM run_events WHERE run_id = $1 ORDER BY id', [runId])).map(toRunEvent);
}
