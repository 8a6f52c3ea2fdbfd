// One suite, both drivers: every behaviour of the Store is checked on the embedded PGlite database and on a real
// PostgreSQL cluster started for this file.
import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createStore } from '../../src/store/create-store.js';
import { MIGRATIONS, migrate } from '../../src/store/migrations.js';
import { PlanDecryptError, PlanKeyError, parsePlanKey } from '../../src/store/plan-crypto.js';
import { openPglite } from '../../src/store/sql.js';
import { SqlStore } from '../../src/store/sql-store.js';
import { ONE_ADD_SUMMARY } from '../helpers/plan-summary.js';
import { postgresMissing, requirePostgres, startPostgres, type TestPostgres } from '../helpers/postgres.js';

const PLAN_KEY = randomBytes(32).toString('base64');

let server: TestPostgres | undefined;
let dbCount = 0;
afterAll(async () => {
  await server?.stop();
});

type Open = (planKey?: string) => Promise<SqlStore>;
const backends: [string, Open][] = [['pglite', (planKey = PLAN_KEY) => createStore({ dataDir: 'memory://', planKey })]];
if (!postgresMissing()) {
  backends.push([
    'postgres',
    async (planKey = PLAN_KEY) => {
      server ??= await startPostgres();
      const url = await server.createDatabase(`store_${++dbCount}`);
      return createStore({ databaseUrl: url, planKey });
    },
  ]);
} else {
  requirePostgres('store on postgres');
}

const summary = ONE_ADD_SUMMARY;

function planBytes(): Buffer {
  // A plan file is a zip holding tfvars and state: make the "secret" visible so we can look for it in the raw row.
  return Buffer.concat([Buffer.from('PK\u0003\u0004 db_password=hunter2-very-secret '), randomBytes(4096)]);
}

/** A bytea column as read by either driver (PGlite: Uint8Array, pg: Buffer). */
function bytesOf(value: unknown): Buffer {
  if (!(value instanceof Uint8Array)) throw new Error(`not bytes: ${typeof value}`);
  return Buffer.from(value);
}

function sha(b: Buffer): string {
  return createHash('sha256').update(b).digest('hex');
}

describe.each(backends)('store on %s', (driver, open) => {
  // One database per driver (creating a PGlite instance costs seconds); every table is emptied before each test.
  let store: SqlStore;
  beforeAll(async () => {
    store = await open();
  });
  afterAll(async () => {
    await store.close();
  });
  beforeEach(async () => {
    await store.sql.query(
      `TRUNCATE webhook_deliveries, runs, run_events, jobs, locks, saved_plans, overrides, audit_log, idempotency_keys,
       pull_request_links, requesters, project_slots RESTART IDENTITY`,
    );
  });

  it('reports its driver and records the schema version once', async () => {
    expect(store.driver).toBe(driver);
    const rows = await store.sql.query('SELECT version FROM schema_migrations ORDER BY version');
    expect(rows).toEqual(MIGRATIONS.map((m) => ({ version: m.version })));
  });

  it('keeps one drift status per project, found by its issue number', async () => {
    const target = { repo: 'acme/infra', project: 'app', workspace: 'default' };
    expect(await store.getDrift(target)).toBeUndefined();
    const seen = new Date('2026-12-01T10:00:00Z');
    await store.putDrift({
      ...target,
      state: 'drifted',
      issueNumber: 12,
      firstSeenAt: seen,
      lastCheckedAt: seen,
      report: { status: 'drifted', checks: 1 },
    });
    await store.putDrift({
      ...target,
      project: 'other',
      state: 'clean',
      issueNumber: null,
      firstSeenAt: null,
      lastCheckedAt: seen,
      report: {},
    });
    const later = new Date('2026-12-01T11:00:00Z');
    const updated = await store.putDrift({
      ...target,
      state: 'drifted',
      issueNumber: 12,
      firstSeenAt: seen,
      lastCheckedAt: later,
      report: { status: 'drifted', checks: 2 },
    });
    expect(updated).toMatchObject({ state: 'drifted', issueNumber: 12, report: { checks: 2 } });
    expect(updated.firstSeenAt?.toISOString()).toBe(seen.toISOString());
    expect(updated.lastCheckedAt.toISOString()).toBe(later.toISOString());
    expect((await store.listDrift({ repo: 'acme/infra', issueNumber: 12 })).map((d) => d.project)).toEqual(['app']);
    expect(await store.listDrift({ repo: 'acme/infra', issueNumber: 13 })).toEqual([]);
    expect((await store.listDrift()).map((d) => d.project)).toEqual(['app', 'other']);
  });

  it('drops a re-delivered webhook', async () => {
    expect(await store.recordDelivery('d-1', 'issues')).toBe(true);
    expect(await store.recordDelivery('d-1', 'issues')).toBe(false);
    expect(await store.recordDelivery('d-2', 'issue_comment')).toBe(true);
  });

  it('a transaction commits a delivery with its job, or neither when a statement fails', async () => {
    const job = { kind: 'intake', key: 'acme/infra#1:intake', payload: {}, maxAttempts: 3 };
    await expect(
      store.transaction(async (tx) => {
        expect(await tx.store.recordDelivery('d-1', 'issues.labeled')).toBe(true);
        await tx.store.enqueueJob({ ...job, idempotencyKey: 'delivery:d-1' });
        throw new Error('the enqueue failed after the dedupe insert');
      }),
    ).rejects.toThrow(/enqueue failed/);
    // Nothing is left: GitHub's redelivery of d-1 is new, not a duplicate.
    expect(await store.countJobs()).toMatchObject({ queued: 0 });
    const ok = await store.transaction(async (tx) => {
      if (!(await tx.store.recordDelivery('d-1', 'issues.labeled'))) return false;
      await tx.store.enqueueJob({ ...job, idempotencyKey: 'delivery:d-1' });
      return true;
    });
    expect(ok).toBe(true);
    expect(await store.countJobs()).toMatchObject({ queued: 1 });
    expect(await store.recordDelivery('d-1', 'issues.labeled')).toBe(false);
  });

  it('project slots: one holder per project+workspace, renewable, taken over once expired, released by its holder', async () => {
    const t = { repo: 'acme/infra', project: 'network', workspace: 'default' };
    expect(await store.takeProjectSlot(t, 'a', 60_000)).toBe(true);
    expect(await store.takeProjectSlot(t, 'b', 60_000)).toBe(false);
    expect(await store.takeProjectSlot({ ...t, workspace: 'prod' }, 'b', 60_000)).toBe(true);
    expect(await store.takeProjectSlot(t, 'a', 60_000)).toBe(true);
    await store.releaseProjectSlot(t, 'b');
    expect(await store.takeProjectSlot(t, 'b', 60_000)).toBe(false);
    await store.releaseProjectSlot(t, 'a');
    expect(await store.takeProjectSlot(t, 'b', 1)).toBe(true);
    await new Promise((r) => setTimeout(r, 20));
    // b died without releasing: its lease ran out.
    expect(await store.takeProjectSlot(t, 'c', 60_000)).toBe(true);
    const many = await Promise.all(
      Array.from({ length: 8 }, (_, i) => store.takeProjectSlot({ ...t, project: 'raced' }, `h${i}`, 60_000)),
    );
    expect(many.filter(Boolean)).toHaveLength(1);
  });

  it('creates, updates, finds and lists runs', async () => {
    const run = await store.createRun({ kind: 'generate', repo: 'acme/infra', number: 12, triggeredBy: 'alice' });
    expect(run).toMatchObject({
      kind: 'generate',
      key: 'acme/infra#12',
      status: 'queued',
      stage: 'queued',
      attempt: 0,
      triggeredBy: 'alice',
      links: {},
      usage: null,
    });
    expect(run.createdAt).toBeInstanceOf(Date);

    const usage = {
      inputTokens: 10,
      outputTokens: 5,
      cacheReadTokens: 0,
      cacheWriteTokens: 0,
      costUsd: 0.25,
      turns: 2,
      durationMs: 900,
    };
    await store.updateRun(run.id, { status: 'running', stage: 'agent', attempt: 1, links: { pr: 'https://x/pr/1' } });
    const updated = await store.updateRun(run.id, { usage, links: { comment: 'https://x/c/2' }, error: 'boom' });
    expect(updated).toMatchObject({
      status: 'running',
      stage: 'agent',
      attempt: 1,
      usage,
      error: 'boom',
      links: { pr: 'https://x/pr/1', comment: 'https://x/c/2' },
    });
    expect((await store.updateRun(run.id, { error: null })).error).toBeNull();
    await expect(store.updateRun('nope', { stage: 'x' })).rejects.toThrow(/does not exist/);

    expect((await store.findActiveRun('acme/infra#12'))?.id).toBe(run.id);
    expect(await store.findActiveRun('acme/infra#12', 'apply')).toBeUndefined();
    expect(await store.findActiveRun('acme/infra#13')).toBeUndefined();

    const plan = await store.createRun({ kind: 'plan', repo: 'acme/infra', number: 14 });
    await store.updateRun(run.id, { status: 'succeeded', finishedAt: new Date() });
    expect(await store.findActiveRun('acme/infra#12')).toBeUndefined();
    expect((await store.listRuns({ status: ['queued', 'running'] })).map((r) => r.id)).toEqual([plan.id]);
    expect((await store.listRuns({ repo: 'acme/infra' })).map((r) => r.id).sort()).toEqual([run.id, plan.id].sort());
    expect((await store.listRuns({ kind: 'generate' })).map((r) => r.id)).toEqual([run.id]);
    expect(await store.getRun(run.id)).toMatchObject({ status: 'succeeded' });
    expect((await store.countRuns()).sort((a, b) => a.kind.localeCompare(b.kind))).toEqual([
      { kind: 'generate', status: 'succeeded', count: 1 },
      { kind: 'plan', status: 'queued', count: 1 },
    ]);
  });

  it('keeps run events in order', async () => {
    const run = await store.createRun({ kind: 'plan', repo: 'acme/infra', number: 3 });
    await store.addRunEvent({ runId: run.id, stage: 'checkout', status: 'started' });
    await store.addRunEvent({ runId: run.id, stage: 'checkout', status: 'ok', durationMs: 120.4 });
    await store.addRunEvent({ runId: run.id, stage: 'plan', status: 'failed', durationMs: 5, message: 'no creds' });
    const events = await store.listRunEvents(run.id);
    expect(events.map((e) => [e.stage, e.status, e.durationMs, e.message])).toEqual([
      ['checkout', 'started', null, null],
      ['checkout', 'ok', 120, null],
      ['plan', 'failed', 5, 'no creds'],
    ]);
  });

  it('locks a project+workspace for one PR at a time, re-entrant for the holder', async () => {
    const target = { repo: 'acme/infra', project: 'network', workspace: 'default' };
    const a = await store.acquireLock({ ...target, holder: { pr: 1, runId: 'r1' } });
    expect(a).toMatchObject({ acquired: true, lock: { holder: { pr: 1, runId: 'r1' } } });
    const again = await store.acquireLock({ ...target, holder: { pr: 1, runId: 'r2' } });
    expect(again).toMatchObject({ acquired: true, lock: { holder: { pr: 1, runId: 'r2' } } });
    const b = await store.acquireLock({ ...target, holder: { pr: 2, runId: 'r3' } });
    expect(b).toMatchObject({ acquired: false, holder: { holder: { pr: 1, runId: 'r2' } } });
    // Another workspace of the same project is another lock.
    const other = await store.acquireLock({ ...target, workspace: 'prod', holder: { pr: 2, runId: 'r3' } });
    expect(other.acquired).toBe(true);
    expect((await store.listLocks({ repo: 'acme/infra' })).length).toBe(2);
    expect((await store.listLocks({ pr: 2 })).map((l) => l.workspace)).toEqual(['prod']);

    expect(await store.releaseLock({ ...target, pr: 2 })).toBe(false);
    expect((await store.getLock(target))?.holder.pr).toBe(1);
    expect(await store.releaseLock({ ...target, pr: 1 })).toBe(true);
    expect(await store.getLock(target)).toBeUndefined();
    expect((await store.acquireLock({ ...target, holder: { pr: 2, runId: 'r4' } })).acquired).toBe(true);
  });

  it('gives a contended lock to exactly one of many concurrent PRs', async () => {
    const target = { repo: 'acme/infra', project: 'db', workspace: 'default' };
    const results = await Promise.all(
      Array.from({ length: 25 }, (_, i) => store.acquireLock({ ...target, holder: { pr: 100 + i, runId: `r${i}` } })),
    );
    const winners = results.filter((r) => r.acquired);
    expect(winners).toHaveLength(1);
    const winnerPr = winners[0]?.acquired ? winners[0].lock.holder.pr : -1;
    for (const r of results) if (!r.acquired) expect(r.holder.holder.pr).toBe(winnerPr);
  });

  it('stores plans encrypted: read back byte-identical, stored bytes are not, tampering is detected', async () => {
    const bytes = planBytes();
    const target = { repo: 'acme/infra', pr: 7, project: 'network', workspace: 'default' };
    const saved = await store.savePlan({
      ...target,
      headSha: 'a'.repeat(40),
      baseSha: 'b'.repeat(40),
      planHash: sha(bytes),
      bytes,
      summary,
      runId: 'run-1',
    });
    expect(saved).toMatchObject({ ...target, planHash: sha(bytes), sizeBytes: bytes.length, summary });

    const back = await store.getPlan(target);
    expect(back?.bytes.equals(bytes)).toBe(true);
    expect(back).toMatchObject({ headSha: 'a'.repeat(40), baseSha: 'b'.repeat(40), runId: 'run-1' });

    const raw = await store.sql.query('SELECT ciphertext, nonce FROM saved_plans WHERE id = $1', [saved.id]);
    const stored = bytesOf(raw[0]?.['ciphertext']);
    expect(stored.length).toBe(bytes.length);
    expect(stored.equals(bytes)).toBe(false);
    expect(stored.includes(Buffer.from('hunter2-very-secret'))).toBe(false);

    // Same bytes again: a fresh nonce, so a different ciphertext; the newest is returned.
    const second = await store.savePlan({
      ...target,
      headSha: 'c'.repeat(40),
      baseSha: 'b'.repeat(40),
      planHash: sha(bytes),
      bytes,
      summary,
      runId: 'run-2',
    });
    const raw2 = await store.sql.query('SELECT ciphertext, nonce FROM saved_plans WHERE id = $1', [second.id]);
    expect(bytesOf(raw2[0]?.['nonce']).equals(bytesOf(raw[0]?.['nonce']))).toBe(false);
    expect((await store.getPlan(target))?.runId).toBe('run-2');
    expect((await store.listPlans({ repo: 'acme/infra', pr: 7 })).map((p) => p.runId)).toEqual(['run-2', 'run-1']);

    // One flipped bit in the stored ciphertext: authentication fails.
    await store.sql.query(
      'UPDATE saved_plans SET ciphertext = set_byte(ciphertext, 10, get_byte(ciphertext, 10) # 1) WHERE id = $1',
      [second.id],
    );
    await expect(store.getPlan(target)).rejects.toThrow(PlanDecryptError);

    // A valid ciphertext moved to another plan's row (another PR) fails too: it is bound to its identity.
    const other = planBytes();
    const otherSaved = await store.savePlan({
      ...target,
      pr: 8,
      headSha: 'd'.repeat(40),
      baseSha: 'b'.repeat(40),
      planHash: sha(other),
      bytes: other,
      summary,
      runId: 'run-3',
    });
    await store.sql.query(
      `UPDATE saved_plans SET ciphertext = s.ciphertext, nonce = s.nonce, auth_tag = s.auth_tag, plan_hash = s.plan_hash
         FROM (SELECT ciphertext, nonce, auth_tag, plan_hash FROM saved_plans WHERE id = $2) s WHERE saved_plans.id = $1`,
      [otherSaved.id, saved.id],
    );
    await expect(store.getPlan({ ...target, pr: 8 })).rejects.toThrow(PlanDecryptError);

    // The first plan, untouched, still reads by hash once the tampered newer one is gone.
    await store.sql.query('DELETE FROM saved_plans WHERE id = $1', [second.id]);
    expect((await store.getPlan({ ...target, planHash: sha(bytes) }))?.bytes.equals(bytes)).toBe(true);
    expect(await store.getPlan({ ...target, planHash: 'f'.repeat(64) })).toBeUndefined();
  });

  it('refuses a plan whose hash does not match its bytes, and purges old plans', async () => {
    const bytes = planBytes();
    const base = {
      repo: 'acme/infra',
      pr: 9,
      project: 'p',
      workspace: 'default',
      headSha: 'a',
      baseSha: 'b',
      bytes,
      summary,
      runId: 'r',
    };
    await expect(store.savePlan({ ...base, planHash: 'f'.repeat(64) })).rejects.toThrow(/hash mismatch/);
    const old = await store.savePlan({ ...base, planHash: sha(bytes) });
    await store.sql.query("UPDATE saved_plans SET created_at = now() - interval '40 days' WHERE id = $1", [old.id]);
    const fresh = await store.savePlan({ ...base, planHash: sha(bytes) });
    expect(await store.purgePlans(new Date(Date.now() - 30 * 24 * 3600 * 1000))).toBe(1);
    expect((await store.listPlans({ repo: 'acme/infra', pr: 9 })).map((p) => p.id)).toEqual([fresh.id]);
  });

  it('overrides belong to one plan hash', async () => {
    const pr = { repo: 'acme/infra', pr: 5 };
    await store.addOverride(pr, {
      ruleId: 'SEC-1',
      by: 'bob',
      at: '2026-01-01T00:00:00Z',
      reason: 'ok',
      planHash: 'h1',
    });
    await store.addOverride(pr, {
      ruleId: 'SEC-2',
      by: 'bob',
      at: '2026-01-01T00:00:00Z',
      reason: 'ok',
      planHash: 'h2',
    });
    expect(await store.listOverrides({ ...pr, planHash: 'h1' })).toEqual([
      { ruleId: 'SEC-1', by: 'bob', at: '2026-01-01T00:00:00Z', reason: 'ok', planHash: 'h1' },
    ]);
    expect(await store.listOverrides({ repo: 'acme/infra', pr: 6, planHash: 'h1' })).toEqual([]);
  });

  it('a pull request stays linked to the issue and run that opened it: the first link wins', async () => {
    expect(await store.getPullRequestLink('acme/infra', 5)).toBeUndefined();
    const link = await store.linkPullRequest({
      repo: 'acme/infra',
      pr: 5,
      issue: 3,
      runId: 'run-1',
      branch: 'infra/x',
    });
    expect(link).toMatchObject({ repo: 'acme/infra', pr: 5, issue: 3, runId: 'run-1', branch: 'infra/x' });
    // A second link for the same PR (a retry, or anything claiming another issue) changes nothing.
    const again = await store.linkPullRequest({ repo: 'acme/infra', pr: 5, issue: 9, runId: 'run-2', branch: 'y' });
    expect(again).toMatchObject({ issue: 3, runId: 'run-1' });
    expect(await store.getPullRequestLink('acme/other', 5)).toBeUndefined();
  });

  it('records requesters once per login, reason and detail', async () => {
    const at = { repo: 'acme/infra', issue: 3 };
    await store.addRequester({ ...at, login: 'mona', reason: 'issue-author' });
    await store.addRequester({ ...at, login: 'mona', reason: 'issue-author' });
    await store.addRequester({ ...at, login: 'mona', reason: 'labeller' });
    await store.addRequester({ ...at, login: 'bob', reason: 'pusher', detail: 'a'.repeat(40) });
    await store.addRequester({ ...at, login: 'bob', reason: 'pusher', detail: 'b'.repeat(40) });
    await store.addRequester({ repo: 'acme/infra', issue: 4, login: 'eve', reason: 'labeller' });
    const list = await store.listRequesters('acme/infra', 3);
    expect(list.map((r) => `${r.login}:${r.reason}:${r.detail.slice(0, 1)}`).sort()).toEqual([
      'bob:pusher:a',
      'bob:pusher:b',
      'mona:issue-author:',
      'mona:labeller:',
    ]);
  });

  it('keeps an audit log, newest first', async () => {
    await store.audit({ actor: 'alice', action: 'run.triggered', repo: 'acme/infra', target: '#1' });
    await store.audit({ actor: 'bob', action: 'plan.approved', repo: 'acme/infra', target: '#1', details: { h: 'x' } });
    await store.audit({ actor: 'carol', action: 'plan.approved', repo: 'acme/other', target: '#2' });
    const all = await store.listAudit({ repo: 'acme/infra' });
    expect(all.map((a) => [a.actor, a.action, a.details])).toEqual([
      ['bob', 'plan.approved', { h: 'x' }],
      ['alice', 'run.triggered', {}],
    ]);
    expect((await store.listAudit({ action: 'plan.approved', limit: 1 })).map((a) => a.actor)).toEqual(['carol']);
  });

  it('idempotency keys: exactly one concurrent claimer wins', async () => {
    expect(await store.getKey('progress-comment:acme/infra#12')).toBeUndefined();
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => store.putKeyIfAbsent('progress-comment:acme/infra#12', `c${i}`)),
    );
    const winners = results.filter((r) => r.inserted);
    expect(winners).toHaveLength(1);
    const value = winners[0]?.value;
    for (const r of results) expect(r.value).toBe(value);
    expect(await store.getKey('progress-comment:acme/infra#12')).toBe(value);
    await store.putKey('progress-comment:acme/infra#12', 'c-final');
    expect(await store.getKey('progress-comment:acme/infra#12')).toBe('c-final');
    await store.deleteKey('progress-comment:acme/infra#12');
    expect(await store.getKey('progress-comment:acme/infra#12')).toBeUndefined();
  });

  it('jobs: idempotent enqueue, one active job per key, retry after backoff, failure when attempts run out', async () => {
    const a1 = await store.enqueueJob({
      kind: 'run',
      key: 'k/a#1',
      payload: { n: 1 },
      maxAttempts: 2,
      idempotencyKey: 'x',
    });
    expect(
      await store.enqueueJob({ kind: 'run', key: 'k/a#1', payload: { n: 9 }, maxAttempts: 2, idempotencyKey: 'x' }),
    ).toBe(a1);
    const a2 = await store.enqueueJob({ kind: 'run', key: 'k/a#1', payload: { n: 2 }, maxAttempts: 2 });
    const b1 = await store.enqueueJob({ kind: 'run', key: 'k/b#1', payload: { n: 3 }, maxAttempts: 2 });

    const first = await store.claimJob('w1', 60_000);
    expect(first).toMatchObject({ id: a1, state: 'active', attempt: 1, workerId: 'w1', payload: { n: 1 } });
    // a2 has the same key as the active a1: skipped, b1 is next.
    expect((await store.claimJob('w2', 60_000))?.id).toBe(b1);
    expect(await store.claimJob('w2', 60_000)).toBeUndefined();

    // Only the holder can complete or fail it.
    expect(await store.completeJob(a1, 'w2')).toBe(false);
    expect(await store.failJob(a1, 'w1', 'transient', new Date(Date.now() + 3_600_000))).toBe(true);
    expect(await store.getJob(a1)).toMatchObject({ state: 'queued', lastError: 'transient', workerId: null });
    // a1 waits for its backoff: a2 (same key, now free) runs.
    expect((await store.claimJob('w1', 60_000))?.id).toBe(a2);
    expect(await store.completeJob(a2, 'w1')).toBe(true);
    await store.sql.query("UPDATE jobs SET run_after = now() - interval '1 second' WHERE id = $1", [a1]);
    const retried = await store.claimJob('w1', 60_000);
    expect(retried).toMatchObject({ id: a1, attempt: 2 });
    expect(await store.failJob(a1, 'w1', 'still broken', new Date())).toBe(true);
    expect(await store.getJob(a1)).toMatchObject({ state: 'failed', lastError: 'still broken' });
    expect(await store.countJobs()).toEqual({ queued: 0, active: 1, completed: 1, failed: 1 });
  });

  it('jobs: a lost worker’s job is reaped and claimable again; concurrent claimers never share a key', async () => {
    const j = await store.enqueueJob({ kind: 'run', key: 'k/c#1', payload: {}, maxAttempts: 3 });
    expect((await store.claimJob('dead', 60_000))?.id).toBe(j);
    expect(await store.reapJobs()).toEqual([]);
    expect(await store.extendJob(j, 'dead', 1)).toBe(true);
    await store.sql.query("UPDATE jobs SET locked_until = now() - interval '1 second' WHERE id = $1", [j]);
    expect(await store.extendJob(j, 'other', 60_000)).toBe(false);
    expect(await store.reapJobs()).toEqual([j]);
    expect(await store.completeJob(j, 'dead')).toBe(false);
    expect((await store.claimJob('alive', 60_000))?.id).toBe(j);
    expect(await store.reapJobs({ all: true })).toEqual([j]);

    for (let i = 0; i < 6; i++)
      await store.enqueueJob({ kind: 'run', key: `k/d#${i % 2}`, payload: {}, maxAttempts: 3 });
    const claims = await Promise.all(Array.from({ length: 12 }, (_, i) => store.claimJob(`w${i}`, 60_000)));
    const keys = claims.filter((c) => c !== undefined).map((c) => c.key);
    // One per key: k/c#1 (reaped, queued again), k/d#0, k/d#1.
    expect(keys.sort()).toEqual(['k/c#1', 'k/d#0', 'k/d#1']);
  });

  it('saving a plan without a key fails with a message that says how to make one', async () => {
    const keyless = await open('');
    try {
      const bytes = planBytes();
      await expect(
        keyless.savePlan({
          repo: 'a/b',
          pr: 1,
          project: 'p',
          workspace: 'default',
          headSha: 'a',
          baseSha: 'b',
          planHash: sha(bytes),
          bytes,
          summary,
          runId: 'r',
        }),
      ).rejects.toThrow(/INFRA_AGENT_PLAN_KEY/);
    } finally {
      await keyless.close();
    }
  });
});

describe('plan key parsing', () => {
  it('accepts 32 bytes as hex or base64 and rejects anything else', () => {
    const key = randomBytes(32);
    expect(parsePlanKey(key.toString('hex')).key.equals(key)).toBe(true);
    expect(parsePlanKey(key.toString('base64')).key.equals(key)).toBe(true);
    expect(parsePlanKey(key.toString('base64url')).key.equals(key)).toBe(true);
    expect(() => parsePlanKey(randomBytes(16).toString('base64'))).toThrow(PlanKeyError);
    expect(() => parsePlanKey('correct horse battery staple')).toThrow(/32-byte key/);
    expect(() => parsePlanKey(undefined)).toThrow(/no plan encryption key/);
  });

  it('a plan saved under one key cannot be read under another', async () => {
    const db = await openPglite('memory://');
    try {
      await migrate(db);
      const bytes = planBytes();
      const t = { repo: 'a/b', pr: 1, project: 'p', workspace: 'default' };
      const writer = new SqlStore(db, PLAN_KEY);
      await writer.savePlan({ ...t, headSha: 'a', baseSha: 'b', planHash: sha(bytes), bytes, summary, runId: 'r' });
      const reader = new SqlStore(db, randomBytes(32).toString('hex'));
      await expect(reader.getPlan(t)).rejects.toThrow(/encrypted with another key/);
      expect((await writer.getPlan(t))?.bytes.equals(bytes)).toBe(true);
    } finally {
      await db.close();
    }
  });
});

describe('migrations', () => {
  it('apply once, then nothing on the next start', async () => {
    const db = await openPglite('memory://');
    try {
      expect(await migrate(db)).toEqual(MIGRATIONS.map((m) => m.version));
      expect(await migrate(db)).toEqual([]);
    } finally {
      await db.close();
    }
  });
});
