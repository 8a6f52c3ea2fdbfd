// The App's records on SQL: policy overrides, the audit log, pull request ↔ issue links, who asked for a change
// (requesters), and idempotency keys (insert-if-absent, so two executions of one side effect never both claim it).
import { z } from 'zod';
import type { Override } from '../core/types.js';
import type { SqlExecutor } from './sql.js';
import { date, first, int, json } from './sql-rows.js';
import type {
  AuditRecord,
  NewAuditEntry,
  NewRequester,
  PullRequestLink,
  RequesterReason,
  RequesterRecord,
} from './types.js';

const KeyValueRow = z.object({ key: z.string(), value: z.string() });

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

export async function addOverride(
  db: SqlExecutor,
  target: { repo: string; pr: number },
  override: Override,
): Promise<void> {
  await db.query(
    'INSERT INTO overrides (repo, pr, rule_id, by_login, at, reason, plan_hash) VALUES ($1, $2, $3, $4, $5, $6, $7)',
    [target.repo, target.pr, override.ruleId, override.by, override.at, override.reason, override.planHash ?? null],
  );
}

export async function listOverrides(
  db: SqlExecutor,
  filter: { repo: string; pr: number; planHash: string },
): Promise<Override[]> {
  const rows = await db.query('SELECT * FROM overrides WHERE repo = $1 AND pr = $2 AND plan_hash = $3 ORDER BY id', [
    filter.repo,
    filter.pr,
    filter.planHash,
  ]);
  return rows.map((row) => {
    const r = OverrideRow.parse(row);
    const o: Override = { ruleId: r.rule_id, by: r.by_login, at: r.at, reason: r.reason };
    if (r.plan_hash !== null) o.planHash = r.plan_hash;
    return o;
  });
}

export async function linkPullRequest(
  db: SqlExecutor,
  link: Omit<PullRequestLink, 'createdAt'>,
): Promise<PullRequestLink> {
  await db.query(
    `INSERT INTO pull_request_links (repo, pr, issue, run_id, branch) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (repo, pr) DO NOTHING`,
    [link.repo, link.pr, link.issue, link.runId, link.branch],
  );
  const stored = await getPullRequestLink(db, link.repo, link.pr);
  if (!stored) throw new Error(`pull request link ${link.repo}#${link.pr} was not stored`);
  return stored;
}

export async function getPullRequestLink(
  db: SqlExecutor,
  repo: string,
  pr: number,
): Promise<PullRequestLink | undefined> {
  const row = first(await db.query('SELECT * FROM pull_request_links WHERE repo = $1 AND pr = $2', [repo, pr]));
  if (!row) return undefined;
  const r = LinkRow.parse(row);
  return { repo: r.repo, pr: r.pr, issue: r.issue, runId: r.run_id, branch: r.branch, createdAt: r.created_at };
}

export async function addRequester(db: SqlExecutor, requester: NewRequester): Promise<void> {
  await db.query(
    `INSERT INTO requesters (repo, issue, login, reason, detail) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (repo, issue, login, reason, detail) DO NOTHING`,
    [requester.repo, requester.issue, requester.login, requester.reason, requester.detail ?? ''],
  );
}

export async function listRequesters(db: SqlExecutor, repo: string, issue: number): Promise<RequesterRecord[]> {
  const rows = await db.query('SELECT * FROM requesters WHERE repo = $1 AND issue = $2 ORDER BY at, login', [
    repo,
    issue,
  ]);
  return rows.map((row) => RequesterRow.parse(row));
}

export async function audit(db: SqlExecutor, entry: NewAuditEntry): Promise<void> {
  await db.query('INSERT INTO audit_log (actor, action, repo, target, details) VALUES ($1, $2, $3, $4, $5::jsonb)', [
    entry.actor,
    entry.action,
    entry.repo,
    entry.target,
    JSON.stringify(entry.details ?? {}),
  ]);
}

export async function listAudit(
  db: SqlExecutor,
  filter: { repo?: string; action?: string; limit?: number } = {},
): Promise<AuditRecord[]> {
  const rows = await db.query(
    `SELECT * FROM audit_log WHERE ($1::text IS NULL OR repo = $1) AND ($2::text IS NULL OR action = $2)
      ORDER BY id DESC LIMIT $3`,
    [filter.repo ?? null, filter.action ?? null, filter.limit ?? 100],
  );
  return rows.map((row) => AuditRow.parse(row));
}

export async function getKey(db: SqlExecutor, key: string): Promise<string | undefined> {
  const row = first(await db.query('SELECT value FROM idempotency_keys WHERE key = $1', [key]));
  return row ? z.object({ value: z.string() }).parse(row).value : undefined;
}

export async function putKey(db: SqlExecutor, key: string, value: string): Promise<void> {
  await db.query(
    `INSERT INTO idempotency_keys (key, value) VALUES ($1, $2)
     ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, updated_at = now()`,
    [key, value],
  );
}

export async function putKeyIfAbsent(
  db: SqlExecutor,
  key: string,
  value: string,
): Promise<{ inserted: boolean; value: string }> {
  // A key deleted between our insert and our read (a failed side effect releasing its claim): try again.
  for (let round = 0; round < 5; round++) {
    const won = await db.query(
      'INSERT INTO idempotency_keys (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING RETURNING value',
      [key, value],
    );
    if (won.length > 0) return { inserted: true, value };
    const existing = await getKey(db, key);
    if (existing !== undefined) return { inserted: false, value: existing };
  }
  throw new Error(`idempotency key ${key} is contended: try again`);
}

export async function deleteKey(db: SqlExecutor, key: string): Promise<void> {
  await db.query('DELETE FROM idempotency_keys WHERE key = $1', [key]);
}

export async function listKeys(
  db: SqlExecutor,
  prefix: string,
  limit = 100,
): Promise<{ key: string; value: string }[]> {
  const rows = await db.query(
    `SELECT key, value FROM idempotency_keys WHERE starts_with(key, $1) ORDER BY created_at, key LIMIT $2`,
    [prefix, limit],
  );
  return rows.map((r) => KeyValueRow.parse(r));
}
