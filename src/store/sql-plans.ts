// Saved plans on SQL: sealed with AES-GCM bound to their PR, project and plan hash before they are written, opened
// and checked against their hash when read; listed and purged by age.
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { PlanSummary } from '../core/types.js';
import { openPlan, type PlanKey, sealPlan, sha256Hex } from './plan-crypto.js';
import type { Row, SqlExecutor } from './sql.js';
import { date, first, int, iso } from './sql-rows.js';
import type { NewSavedPlan, PlanTarget, SavedPlanRecord, SavedPlanWithBytes } from './types.js';

const bytes = z.instanceof(Uint8Array).transform((u) => Buffer.from(u.buffer, u.byteOffset, u.byteLength));

// The summary was validated by the plan parser when it was made; here we only check it is the shape we wrote.
const PlanSummarySchema = z.custom<PlanSummary>(
  (v) => typeof v === 'object' && v !== null && 'counts' in v && 'resources' in v && Array.isArray(v.resources),
  'not a plan summary',
);

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

/** What the ciphertext is bound to: moving it to another plan's row makes it fail authentication. */
function planAad(p: PlanTarget & { planHash: string }): string {
  return JSON.stringify(['infra-agent/plan/v1', p.repo, p.pr, p.project, p.workspace, p.planHash]);
}

export async function savePlan(db: SqlExecutor, key: () => PlanKey, plan: NewSavedPlan): Promise<SavedPlanRecord> {
  const hash = sha256Hex(plan.bytes);
  if (hash !== plan.planHash) {
    throw new Error(`plan hash mismatch: given ${plan.planHash}, bytes hash to ${hash}`);
  }
  const sealed = sealPlan(key(), plan.bytes, planAad(plan));
  const rows = await db.query(
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

export async function getPlan(
  db: SqlExecutor,
  key: () => PlanKey,
  target: PlanTarget & { planHash?: string },
): Promise<SavedPlanWithBytes | undefined> {
  const row = first(
    await db.query(
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
    key(),
    { keyId: sealed.key_id, nonce: sealed.nonce, authTag: sealed.auth_tag, ciphertext: sealed.ciphertext },
    planAad(meta),
  );
  // GCM already authenticated it; this catches a row whose plan_hash column was edited after the fact.
  if (sha256Hex(plain) !== meta.planHash) throw new Error(`saved plan ${meta.id} does not match its hash`);
  return { ...meta, bytes: plain };
}

export async function listPlans(db: SqlExecutor, filter: { repo: string; pr: number }): Promise<SavedPlanRecord[]> {
  const rows = await db.query(
    `SELECT id, repo, pr, project, workspace, head_sha, base_sha, plan_hash, summary, run_id, size_bytes, created_at
       FROM saved_plans WHERE repo = $1 AND pr = $2 ORDER BY created_at DESC, id`,
    [filter.repo, filter.pr],
  );
  return rows.map(toPlanMeta);
}

export async function purgePlans(db: SqlExecutor, olderThan: Date): Promise<number> {
  const rows = await db.query('DELETE FROM saved_plans WHERE created_at < $1::timestamptz RETURNING id', [
    iso(olderThan),
  ]);
  return rows.length;
}
