// Run-level crash safety on a real (embedded) store: interrupted runs are re-queued from a safe stage, interrupted
// applies wait for a human with their lock kept, and GitHub side effects happen once.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createEmbeddedQueue, type EmbeddedQueue } from '../../src/queue/embedded-queue.js';
import { beginRunAttempt, endRunAttempt, recoverInterruptedRuns } from '../../src/stages/run-state.js';
import { createStore } from '../../src/store/create-store.js';
import { sideEffectOnce } from '../../src/store/idempotency.js';
import type { SqlStore } from '../../src/store/sql-store.js';

let store: SqlStore;
let queue: EmbeddedQueue;
beforeAll(async () => {
  store = await createStore({ dataDir: 'memory://' });
  queue = await createEmbeddedQueue(store);
});
afterAll(async () => {
  await queue.stop();
  await store.close();
});
beforeEach(async () => {
  await store.sql.query('TRUNCATE runs, run_events, jobs, locks, audit_log, idempotency_keys');
});

const longAgo = () => new Date(Date.now() - 10 * 60_000);

describe('recoverInterruptedRuns', () => {
  it('re-queues stale runs once (an apply that never reached terraform too), leaves live ones, stops applies terraform may have touched', async () => {
    const stale = await store.createRun({ kind: 'plan', repo: 'acme/infra', number: 1 });
    await store.updateRun(stale.id, { status: 'running', stage: 'scan', attempt: 1, heartbeatAt: longAgo() });
    const live = await store.createRun({ kind: 'generate', repo: 'acme/infra', number: 2 });
    await store.updateRun(live.id, { status: 'running', stage: 'agent', attempt: 1, heartbeatAt: new Date() });
    const apply = await store.createRun({ kind: 'apply', repo: 'acme/infra', number: 3 });
    await store.updateRun(apply.id, {
      status: 'running',
      stage: 'applying:network',
      attempt: 1,
      heartbeatAt: longAgo(),
    });
    // Interrupted while deciding/locking: terraform never started, nothing changed, it is safe to run again.
    const early = await store.createRun({ kind: 'apply', repo: 'acme/infra', number: 4 });
    await store.updateRun(early.id, { status: 'running', stage: 'locking', attempt: 1, heartbeatAt: longAgo() });
    const target = { repo: 'acme/infra', project: 'network', workspace: 'default' };
    await store.acquireLock({ ...target, holder: { pr: 3, runId: apply.id } });

    // Two workers starting at once recover the same runs: still one job per run.
    const [r1, r2] = await Promise.all([
      recoverInterruptedRuns(store, { queue, safeStage: () => 'checkout' }),
      recoverInterruptedRuns(store, { queue, safeStage: () => 'checkout' }),
    ]);
    expect([...(r1?.requeued ?? []), ...(r2?.requeued ?? [])].map((r) => r.id).sort()).toEqual(
      [stale.id, early.id].sort(),
    );
    expect([...(r1?.needsHuman ?? []), ...(r2?.needsHuman ?? [])].map((r) => r.id)).toEqual([apply.id]);
    expect((await store.countJobs()).queued).toBe(2);
    expect(await store.getRun(early.id)).toMatchObject({ status: 'queued' });

    expect(await store.getRun(stale.id)).toMatchObject({ status: 'queued', stage: 'checkout', workerId: null });
    expect((await store.listRunEvents(stale.id)).map((e) => e.message)).toContain(
      'worker lost at stage "scan" (attempt 1): queued again',
    );
    expect(await store.getRun(live.id)).toMatchObject({ status: 'running', stage: 'agent' });
    const stopped = await store.getRun(apply.id);
    expect(stopped).toMatchObject({ status: 'needs-human', stage: 'applying:network' });
    expect(stopped?.error).toMatch(/not re-run automatically/);
    expect((await store.getLock(target))?.holder.runId).toBe(apply.id);
    expect(await store.listAudit({ action: 'apply.interrupted' })).toHaveLength(1);

    // staleAfterMs 0 (embedded start: nothing else can be running) takes the live one too.
    const all = await recoverInterruptedRuns(store, { queue, staleAfterMs: 0 });
    expect(all.requeued.map((r) => r.id)).toEqual([live.id]);
  });
});

describe('beginRunAttempt', () => {
  it('starts queued runs, resumes interrupted ones, refuses interrupted applies, skips finished ones', async () => {
    const plan = await store.createRun({ kind: 'plan', repo: 'acme/infra', number: 1 });
    const first = await beginRunAttempt(store, plan.id, { workerId: 'w1' });
    expect(first).toMatchObject({
      action: 'run',
      resumed: false,
      run: { status: 'running', attempt: 1, workerId: 'w1' },
    });
    await store.updateRun(plan.id, { stage: 'publish' });
    // The job is retried after the worker died: the run is still 'running'.
    const second = await beginRunAttempt(store, plan.id, { workerId: 'w2', safeStage: () => 'checkout' });
    expect(second).toMatchObject({
      action: 'run',
      resumed: true,
      run: { attempt: 2, stage: 'checkout', workerId: 'w2' },
    });
    await endRunAttempt(store, plan.id, { status: 'succeeded' });
    expect(await beginRunAttempt(store, plan.id)).toMatchObject({ action: 'skip', reason: 'run is already succeeded' });

    const apply = await store.createRun({ kind: 'apply', repo: 'acme/infra', number: 2 });
    expect((await beginRunAttempt(store, apply.id)).action).toBe('run');
    // Interrupted before terraform started (stage 'locking'): run again.
    await store.updateRun(apply.id, { stage: 'locking' });
    expect(await beginRunAttempt(store, apply.id)).toMatchObject({ action: 'run', resumed: true, run: { attempt: 2 } });
    // Interrupted after `terraform apply` started: never again automatically.
    await store.updateRun(apply.id, { stage: 'applying:network' });
    const again = await beginRunAttempt(store, apply.id);
    expect(again).toMatchObject({ action: 'needs-human', run: { status: 'needs-human', attempt: 2 } });
    // The stage moved on (init of the next project) but an earlier project was applied: still a human's call.
    const multi = await store.createRun({ kind: 'apply', repo: 'acme/infra', number: 6 });
    await beginRunAttempt(store, multi.id);
    await store.addRunEvent({ runId: multi.id, stage: 'applying:network', status: 'started' });
    await store.updateRun(multi.id, { stage: 'init:app' });
    expect(await beginRunAttempt(store, multi.id)).toMatchObject({ action: 'needs-human' });
    expect(await beginRunAttempt(store, 'missing')).toMatchObject({ action: 'skip' });

    // Two executions racing to start one queued run (a re-delivered job): exactly one runs it.
    const raced = await store.createRun({ kind: 'plan', repo: 'acme/infra', number: 5 });
    const both = await Promise.all([beginRunAttempt(store, raced.id), beginRunAttempt(store, raced.id)]);
    expect(both.map((b) => b.action).sort()).toEqual(['run', 'skip']);

    // A transient failure before the point of no return hands the run back to the queue.
    const gen = await store.createRun({ kind: 'generate', repo: 'acme/infra', number: 4 });
    await beginRunAttempt(store, gen.id);
    expect(await endRunAttempt(store, gen.id, { status: 'queued', error: 'rate limited' })).toMatchObject({
      status: 'queued',
      finishedAt: null,
    });
    expect(await beginRunAttempt(store, gen.id)).toMatchObject({ action: 'run', resumed: false, run: { attempt: 2 } });
  });
});

describe('sideEffectOnce', () => {
  it('creates once, then returns the stored result', async () => {
    let created = 0;
    const effect = { create: async () => `comment-${++created}` };
    expect(await sideEffectOnce(store, 'progress-comment:acme/infra#1', effect)).toEqual({
      value: 'comment-1',
      created: true,
    });
    expect(await sideEffectOnce(store, 'progress-comment:acme/infra#1', effect)).toEqual({
      value: 'comment-1',
      created: false,
    });
    expect(created).toBe(1);
  });

  it('two executions at once: one creates, the other gets its result', async () => {
    let created = 0;
    const effect = {
      create: async () => {
        created++;
        await new Promise((r) => setTimeout(r, 300));
        return 'pr-7';
      },
    };
    const results = await Promise.all([
      sideEffectOnce(store, 'pr:acme/infra#2', effect),
      sideEffectOnce(store, 'pr:acme/infra#2', effect),
    ]);
    expect(created).toBe(1);
    expect(results.map((r) => r.value)).toEqual(['pr-7', 'pr-7']);
    expect(results.filter((r) => r.created)).toHaveLength(1);
  });

  it('a claim left by a dead execution: find() adopts what it made instead of making it again', async () => {
    await store.putKey('pr:acme/infra#3', 'pending:dead-worker');
    let created = 0;
    const result = await sideEffectOnce(store, 'pr:acme/infra#3', {
      create: async () => `pr-${++created}`,
      find: async () => 'pr-found-by-branch',
      claimWaitMs: 0,
    });
    expect(result).toEqual({ value: 'pr-found-by-branch', created: false });
    expect(created).toBe(0);
    expect(await store.getKey('pr:acme/infra#3')).toBe('pr-found-by-branch');
  });

  it('a failed create releases its claim so a retry can try again', async () => {
    await expect(
      sideEffectOnce(store, 'comment:acme/infra#4', {
        create: async () => {
          throw new Error('GitHub 502');
        },
      }),
    ).rejects.toThrow('GitHub 502');
    expect(await store.getKey('comment:acme/infra#4')).toBeUndefined();
    expect((await sideEffectOnce(store, 'comment:acme/infra#4', { create: async () => 'c-1' })).created).toBe(true);
  });
});
