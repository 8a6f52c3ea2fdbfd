// createRuntime: the embedded default runs everything in one process; with PostgreSQL a web runtime enqueues and a
// worker runtime (another process in production) runs the job.
import { createHash, randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import type { PlanSummary } from '../../src/core/types.js';
import { createRuntime } from '../../src/queue/runtime.js';
import type { QueueJob } from '../../src/queue/types.js';
import { createStore } from '../../src/store/create-store.js';
import { planRetentionDays, purgeExpired } from '../../src/store/retention.js';
import { postgresMissing, requirePostgres, startPostgres, type TestPostgres } from '../helpers/postgres.js';

async function waitUntil(what: string, cond: () => boolean, timeoutMs = 60_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > until) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('createRuntime (embedded)', () => {
  it('refuses a web-only or worker-only role without PostgreSQL', async () => {
    await expect(createRuntime({ role: 'web', dataDir: 'memory://' })).rejects.toThrow(/needs DATABASE_URL/);
    await expect(createRuntime({ role: 'worker', dataDir: 'memory://' })).rejects.toThrow(/--role all/);
  });

  it('runs web and worker in one process on the embedded store', async () => {
    const rt = await createRuntime({ role: 'all', dataDir: 'memory://', retention: false });
    try {
      expect([rt.store.driver, rt.queue.driver]).toEqual(['pglite', 'embedded']);
      const seen: QueueJob[] = [];
      await rt.queue.work(
        async (job) => {
          seen.push(job);
        },
        { concurrency: 2 },
      );
      await rt.queue.enqueue({ kind: 'run', key: 'acme/infra#1', payload: { runId: 'r1' } });
      await waitUntil('job ran', () => seen.length === 1);
      expect(seen[0]).toMatchObject({ kind: 'run', key: 'acme/infra#1', payload: { runId: 'r1' }, attempt: 1 });
    } finally {
      await rt.close();
    }
  });
});

if (!postgresMissing()) {
  describe('createRuntime (PostgreSQL)', () => {
    let server: TestPostgres | undefined;
    afterAll(async () => {
      await server?.stop();
    });

    it('a delivery record and its pg-boss job commit in one transaction, or neither does', async () => {
      server ??= await startPostgres();
      const databaseUrl = await server.createDatabase('atomic_enqueue');
      const rt = await createRuntime({ role: 'web', databaseUrl });
      try {
        const job = { kind: 'intake', key: 'acme/infra#9:intake', payload: { v: 1 } };
        await expect(
          rt.store.transaction(async (tx) => {
            expect(await tx.store.recordDelivery('d-9', 'issues.labeled')).toBe(true);
            await rt.queue.enqueue({ ...job, idempotencyKey: 'delivery:d-9' }, { tx });
            throw new Error('a later statement failed');
          }),
        ).rejects.toThrow(/later statement/);
        expect(await rt.queue.depth()).toMatchObject({ queued: 0 });
        await rt.store.transaction(async (tx) => {
          expect(await tx.store.recordDelivery('d-9', 'issues.labeled')).toBe(true);
          await rt.queue.enqueue({ ...job, idempotencyKey: 'delivery:d-9' }, { tx });
        });
        expect(await rt.queue.depth()).toMatchObject({ queued: 1 });
        expect(await rt.store.recordDelivery('d-9', 'issues.labeled')).toBe(false);
      } finally {
        await rt.close();
      }
    });

    it('a web runtime enqueues, a worker runtime on the same database runs the job', async () => {
      server ??= await startPostgres();
      const databaseUrl = server.url;
      const web = await createRuntime({ role: 'web', databaseUrl });
      const worker = await createRuntime({ role: 'worker', databaseUrl, queue: { pollIntervalSeconds: 0.5 } });
      try {
        expect([web.store.driver, web.queue.driver]).toEqual(['postgres', 'pg-boss']);
        const seen: QueueJob[] = [];
        await worker.queue.work(
          async (job) => {
            seen.push(job);
          },
          { concurrency: 1 },
        );
        await web.queue.enqueue({ kind: 'run', key: 'acme/infra#2', payload: { runId: 'r2' }, idempotencyKey: 'd-2' });
        await web.queue.enqueue({ kind: 'run', key: 'acme/infra#2', payload: { runId: 'r2' }, idempotencyKey: 'd-2' });
        await waitUntil('job ran', () => seen.length === 1);
        expect(seen[0]).toMatchObject({ kind: 'run', payload: { runId: 'r2' } });
        expect(await web.queue.depth()).toMatchObject({ queued: 0 });
      } finally {
        await worker.close();
        await web.close();
      }
    });
  });
} else {
  requirePostgres('createRuntime (PostgreSQL)');
}

describe('retention', () => {
  it('purges old plans, delivery ids and finished jobs, and keeps recent ones', async () => {
    const store = await createStore({ dataDir: 'memory://', planKey: randomBytes(32).toString('hex') });
    try {
      const bytes = randomBytes(64);
      const planHash = createHash('sha256').update(bytes).digest('hex');
      const summary: PlanSummary = {
        terraformVersion: '1.11.4',
        formatVersion: '1.2',
        counts: { add: 0, change: 0, destroy: 0, replace: 0, import: 0, read: 0, noop: 0 },
        resources: [],
        drift: [],
        outputs: [],
        empty: true,
        errored: false,
      };
      const t = { repo: 'a/b', pr: 1, project: 'p', workspace: 'default', headSha: 'h', baseSha: 'b', runId: 'r' };
      const old = await store.savePlan({ ...t, planHash, bytes, summary });
      await store.savePlan({ ...t, planHash, bytes, summary });
      await store.recordDelivery('old', 'issues');
      await store.recordDelivery('new', 'issues');
      const oldJob = await store.enqueueJob({ kind: 'k', key: 'x', payload: {}, maxAttempts: 1 });
      const claimed = await store.claimJob('w', 60_000);
      await store.completeJob(claimed?.id ?? '', 'w');
      await store.enqueueJob({ kind: 'k', key: 'y', payload: {}, maxAttempts: 1 });
      await store.sql.query("UPDATE saved_plans SET created_at = now() - interval '31 days' WHERE id = $1", [old.id]);
      await store.sql.query("UPDATE webhook_deliveries SET received_at = now() - interval '15 days' WHERE id = 'old'");
      await store.sql.query("UPDATE jobs SET updated_at = now() - interval '15 days'");

      expect(await purgeExpired(store, { planRetentionDays: 30 })).toEqual({ plans: 1, deliveries: 1, jobs: 1 });
      expect((await store.listPlans({ repo: 'a/b', pr: 1 })).length).toBe(1);
      expect(await store.recordDelivery('old', 'issues')).toBe(true);
      expect(await store.recordDelivery('new', 'issues')).toBe(false);
      expect(await store.getJob(oldJob)).toBeUndefined();
      expect((await store.countJobs()).queued).toBe(1);
    } finally {
      await store.close();
    }
  });

  it('reads the plan retention from the environment and rejects nonsense', () => {
    expect(planRetentionDays({})).toBe(30);
    expect(planRetentionDays({ INFRA_AGENT_PLAN_RETENTION_DAYS: '7' })).toBe(7);
    expect(() => planRetentionDays({ INFRA_AGENT_PLAN_RETENTION_DAYS: 'forever' })).toThrow(/positive number/);
  });
});
