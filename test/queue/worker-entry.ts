// A real worker process for the crash and contention tests: opens a runtime on the given backend, optionally
// enqueues the scenario's job, runs jobs, and signals progress through marker files (the embedded store cannot be
// opened by the test process while this one holds it). "GitHub" side effects are audit entries, so they are counted
// in the same database through the public Store API only.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { createRuntime } from '../../src/queue/runtime.js';
import type { QueueJob } from '../../src/queue/types.js';
import { beginRunAttempt, endRunAttempt } from '../../src/stages/run-state.js';
import { sideEffectOnce } from '../../src/store/idempotency.js';
import type { Store } from '../../src/store/types.js';

const Args = z.object({
  backend: z.enum(['pglite', 'postgres']),
  /** Data dir (pglite) or database URL (postgres). */
  target: z.string(),
  markers: z.string(),
  name: z.string(),
  scenario: z.enum(['crash', 'apply-crash', 'contend']),
  enqueue: z.boolean().default(false),
  concurrency: z.number().int().default(1),
});
const args = Args.parse(JSON.parse(process.argv[2] ?? '{}'));

const mark = (file: string, text = '') => writeFileSync(path.join(args.markers, file), text);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const runtime = await createRuntime({
  role: args.backend === 'pglite' ? 'all' : 'worker',
  ...(args.backend === 'pglite' ? { dataDir: args.target } : { databaseUrl: args.target }),
  queue: {
    maxAttempts: 4,
    retryDelaySeconds: 1,
    jobTimeoutSeconds: 90,
    pollIntervalSeconds: 0.5,
    keyWaitSeconds: 60,
    sweepIntervalSeconds: 1,
    orphanAfterSeconds: 1,
    maintenanceIntervalSeconds: 5,
  },
});
const { store, queue } = runtime;
mark(`pid-${args.name}`, String(process.pid));

async function ensureRun(kind: 'plan' | 'apply'): Promise<string> {
  const existing = await store.getKey('test:run');
  if (existing) return existing;
  const run = await store.createRun({ kind, repo: 'acme/infra', number: 12, triggeredBy: 'alice' });
  const claimed = await store.putKeyIfAbsent('test:run', run.id);
  return claimed.value;
}

if (args.enqueue && args.scenario !== 'contend') {
  const runId = await ensureRun(args.scenario === 'apply-crash' ? 'apply' : 'plan');
  // Same idempotency key on every start: a re-delivered webhook does not add a second job.
  await queue.enqueue({ kind: 'run', key: 'acme/infra#12', payload: { runId }, idempotencyKey: 'delivery-1' });
}

/** A fake GitHub write: counted by action in the audit log. */
function fakeGithub(s: Store, action: string, job: QueueJob): () => Promise<string> {
  return async () => {
    await s.audit({
      actor: 'fake-github',
      action,
      repo: 'acme/infra',
      target: '#12',
      details: { attempt: job.attempt },
    });
    return `${action}:${job.attempt}`;
  };
}

async function crashScenario(job: QueueJob): Promise<void> {
  const runId = z.string().parse(job.payload['runId']);
  await store.audit({
    actor: args.name,
    action: 'job.started',
    repo: 'acme/infra',
    target: job.id,
    details: { attempt: job.attempt },
  });
  const attempt = await beginRunAttempt(store, runId);
  if (attempt.action !== 'run') {
    mark(`outcome-${job.attempt}`, attempt.action);
    return;
  }
  if (attempt.run.kind === 'apply') {
    const lock = await store.acquireLock({
      repo: 'acme/infra',
      project: 'network',
      workspace: 'default',
      holder: { pr: 12, runId },
    });
    if (!lock.acquired) throw new Error('lock held by another PR');
    // As the real apply does (src/apply/apply.ts): the stage says `terraform apply` started before it starts.
    await store.updateRun(runId, { stage: 'applying:network' });
    await store.audit({ actor: 'fake-terraform', action: 'terraform.apply', repo: 'acme/infra', target: '#12' });
  } else {
    await store.updateRun(runId, { stage: 'publish' });
    const pr = await sideEffectOnce(store, 'pr:acme/infra#12', { create: fakeGithub(store, 'pr.created', job) });
    await sideEffectOnce(store, 'progress-comment:acme/infra#12', {
      create: fakeGithub(store, 'comment.created', job),
    });
    await store.updateRun(runId, { links: { pr: pr.value } });
  }
  mark(`started-${job.attempt}`);
  // The first attempt stops here, mid-run, and is killed with SIGKILL by the test.
  if (job.attempt === 1) await new Promise(() => {});
  await endRunAttempt(store, runId, { status: 'succeeded' });
  await store.audit({ actor: args.name, action: 'job.completed', repo: 'acme/infra', target: job.id });
  mark(`outcome-${job.attempt}`, 'run');
}

async function contendScenario(job: QueueJob): Promise<void> {
  const n = z.number().parse(job.payload['n']);
  const details = { key: job.key, worker: args.name, n };
  await store.audit({ actor: args.name, action: 'job.started', repo: 'acme/infra', target: job.id, details });
  for (;;) {
    const lock = await store.acquireLock({
      repo: 'acme/infra',
      project: 'shared',
      workspace: 'default',
      holder: { pr: n, runId: job.id },
    });
    if (lock.acquired) break;
    await sleep(20);
  }
  await store.audit({ actor: args.name, action: 'lock.acquired', repo: 'acme/infra', target: job.id, details });
  await sleep(120);
  await store.audit({ actor: args.name, action: 'lock.released', repo: 'acme/infra', target: job.id, details });
  await store.releaseLock({ repo: 'acme/infra', project: 'shared', workspace: 'default', pr: n });
  await sleep(60);
  await store.audit({ actor: args.name, action: 'job.ended', repo: 'acme/infra', target: job.id, details });
}

await queue.work(args.scenario === 'contend' ? contendScenario : crashScenario, { concurrency: args.concurrency });

// Exit once nothing is queued or running (a killed worker's job counts as active until it is recovered).
for (;;) {
  await sleep(300);
  const depth = await queue.depth();
  if (depth.queued === 0 && depth.active === 0) break;
}
await runtime.close();
mark(`exit-${args.name}`);
