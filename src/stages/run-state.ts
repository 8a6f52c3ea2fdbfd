// A run's state machine, in one place: every change of a run's status, stage, attempt, worker or heartbeat is made
// here (the store only stores the row, with compare-and-set on the status; the queue only delivers the job).
//   queued ─begin attempt→ running ─end attempt→ succeeded | failed | cancelled | needs-human
//   running ─end attempt (transient failure) / recovery→ queued          running ─interrupted apply→ needs-human
// The rules:
// - a plan/generate/revise run interrupted mid-way is started again from a safe stage (its side effects are guarded
//   by idempotency keys, so repeating a stage never duplicates a PR or a comment);
// - an apply run interrupted after `terraform apply` started is NEVER re-run automatically: terraform may have changed
//   real infrastructure and the state lock may be held. It becomes `needs-human`, keeps its project lock, and the
//   audit log says why. One interrupted before (queued, deciding, locking, init) changed nothing: it is run again.
// Two paths reach an interrupted run: the queue retrying its job (beginRunAttempt decides), and a sweep at worker
// start for runs whose worker stopped heartbeating (recoverInterruptedRuns).
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { EnqueueJob, Queue } from '../queue/types.js';
import type { NewRun, RunRecord, Store } from '../store/types.js';

/** Identifies this process in runs and jobs it holds. */
export const WORKER_ID = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;

const DONE = new Set(['succeeded', 'failed', 'cancelled', 'needs-human']);

export type RunAttempt =
  | { action: 'run'; run: RunRecord; resumed: boolean }
  | { action: 'skip'; reason: string; run?: RunRecord }
  | { action: 'needs-human'; run: RunRecord };

/** The message a human sees on an interrupted apply (PR comment, check run, audit log). */
export function interruptedApplyMessage(run: RunRecord): string {
  return (
    `apply was interrupted at stage "${run.stage}" (attempt ${run.attempt}) and is not re-run automatically: ` +
    'terraform may have changed infrastructure. Check the state and the lock, then release the lock or re-apply by hand.'
  );
}

/**
 * Whether an apply run may have touched real infrastructure: `terraform apply` was started for one of its projects
 * (the run enters stage `applying:<project>`, and records it as an event, before terraform starts). An apply
 * interrupted before that (queued, deciding, locking, init) changed nothing and is safe to run again.
 */
export async function applyMayHaveStarted(store: Store, run: RunRecord): Promise<boolean> {
  if (run.kind !== 'apply') return false;
  if (run.stage.startsWith('applying:') || run.stage === 'done') return true;
  const events = await store.listRunEvents(run.id);
  return events.some((e) => e.stage.startsWith('applying:'));
}

/**
 * Stop an interrupted apply for a human (from `running` only); undefined when another worker already did (it audited
 * it). `target` names what the audit log points at (the PR when known; default the run's thread).
 */
export async function stopForHuman(
  store: Store,
  run: RunRecord,
  options: { target?: string } = {},
): Promise<RunRecord | undefined> {
  const message = interruptedApplyMessage(run);
  const updated = await store.transitionRun(run.id, ['running'], {
    status: 'needs-human',
    error: message,
    workerId: null,
    finishedAt: new Date(),
  });
  if (!updated) return undefined;
  await store.addRunEvent({ runId: run.id, stage: run.stage, status: 'failed', message });
  await store.audit({
    actor: 'infra-agent',
    action: 'apply.interrupted',
    repo: run.repo,
    target: options.target ?? `#${run.number}`,
    details: { runId: run.id, stage: run.stage, attempt: run.attempt },
  });
  return updated;
}

/**
 * Called by the job handler before it executes a run. The queue serialises jobs per run key, so when this runs no
 * other execution of the run is alive: a run found `running` was interrupted.
 */
export async function beginRunAttempt(
  store: Store,
  runId: string,
  options: { workerId?: string; safeStage?: (run: RunRecord) => string } = {},
): Promise<RunAttempt> {
  const run = await store.getRun(runId);
  if (!run) return { action: 'skip', reason: `run ${runId} does not exist` };
  if (DONE.has(run.status)) return { action: 'skip', reason: `run is already ${run.status}`, run };
  const resumed = run.status === 'running';
  if (resumed && (await applyMayHaveStarted(store, run))) {
    const stopped = await stopForHuman(store, run);
    return stopped ? { action: 'needs-human', run: stopped } : { action: 'skip', reason: 'another worker stopped it' };
  }
  const now = new Date();
  // Compare-and-set on the status we read: of two executions racing to start a queued run, one wins.
  const started = await store.transitionRun(run.id, [run.status], {
    status: 'running',
    attempt: run.attempt + 1,
    stage: resumed ? (options.safeStage?.(run) ?? run.stage) : run.stage,
    workerId: options.workerId ?? WORKER_ID,
    heartbeatAt: now,
    ...(run.startedAt ? {} : { startedAt: now }),
  });
  if (!started) return { action: 'skip', reason: 'another worker started it' };
  if (resumed) {
    await store.addRunEvent({
      runId: run.id,
      stage: started.stage,
      status: 'info',
      message: `resumed after an interruption at stage "${run.stage}" (attempt ${started.attempt})`,
    });
  }
  return { action: 'run', run: started, resumed };
}

/**
 * End an attempt. 'queued' hands the run back for a retry of its job (a transient failure before any point of no
 * return); the other statuses are final. `stage` records where it ended (an apply that succeeded is `done`).
 */
export async function endRunAttempt(
  store: Store,
  runId: string,
  outcome: {
    status: 'succeeded' | 'failed' | 'cancelled' | 'queued' | 'needs-human';
    error?: string | undefined;
    stage?: string;
  },
): Promise<RunRecord> {
  return store.updateRun(runId, {
    status: outcome.status,
    ...(outcome.stage === undefined ? {} : { stage: outcome.stage }),
    error: outcome.error ?? null,
    workerId: null,
    heartbeatAt: null,
    finishedAt: outcome.status === 'queued' ? null : new Date(),
  });
}

/** A running run enters its next stage (which also shows it is alive). */
export async function enterStage(store: Store, runId: string, stage: string): Promise<RunRecord> {
  return store.updateRun(runId, { stage, heartbeatAt: new Date() });
}

/**
 * A run that starts running at once, without a queued attempt (an apply decided in the handler that asked for it):
 * created `running` at `stage`, or, when the queue already recorded it (`runId`), moved to `running` at `stage`.
 */
export async function startRunningRun(
  store: Store,
  run: { runId?: string | undefined; create: Omit<NewRun, 'status' | 'stage'>; stage: string },
): Promise<RunRecord> {
  if (run.runId) {
    const existing = await store.getRun(run.runId);
    if (!existing) throw new Error(`${run.create.kind} run ${run.runId} does not exist`);
    return store.updateRun(run.runId, {
      status: 'running',
      stage: run.stage,
      ...(existing.startedAt ? {} : { startedAt: new Date() }),
      heartbeatAt: new Date(),
    });
  }
  const created = await store.createRun({ ...run.create, status: 'running', stage: run.stage });
  return store.updateRun(created.id, { startedAt: new Date(), heartbeatAt: new Date(), attempt: 1 });
}

/** Refresh the run's heartbeat while it executes; returns the function that stops it. */
export function startRunHeartbeat(store: Store, runId: string, intervalMs = 15_000): () => void {
  const timer = setInterval(() => {
    void store.transitionRun(runId, ['running'], { heartbeatAt: new Date() }).catch(() => {});
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}

export interface RecoveryOptions {
  queue: Pick<Queue, 'enqueue'>;
  /**
   * A running run whose heartbeat is older than this belongs to a dead worker. 0 = every running run (the embedded
   * store at start: one process, so nothing else can be running). Default 60 s (4 missed heartbeats).
   */
  staleAfterMs?: number;
  /** The job that executes a run (default: kind 'run', payload { runId }, keyed by the run key). */
  jobFor?: (run: RunRecord) => EnqueueJob;
  /** Where a restarted run starts again (default: its current stage; the pipeline skips what is done). */
  safeStage?: (run: RunRecord) => string;
  now?: Date;
}

export interface RecoveryResult {
  requeued: RunRecord[];
  needsHuman: RunRecord[];
}

export function defaultRunJob(run: RunRecord): EnqueueJob {
  return { kind: 'run', key: run.key, payload: { runId: run.id } };
}

/** At worker start (and periodically): re-enqueue interrupted runs, stop interrupted applies for a human. */
export async function recoverInterruptedRuns(store: Store, options: RecoveryOptions): Promise<RecoveryResult> {
  const now = options.now ?? new Date();
  const staleBefore = now.getTime() - (options.staleAfterMs ?? 60_000);
  const result: RecoveryResult = { requeued: [], needsHuman: [] };
  for (const run of await store.listRuns({ status: 'running', limit: 1000 })) {
    const lastSign = (run.heartbeatAt ?? run.updatedAt).getTime();
    if (options.staleAfterMs !== 0 && lastSign > staleBefore) continue;
    if (await applyMayHaveStarted(store, run)) {
      const stopped = await stopForHuman(store, run);
      if (stopped) result.needsHuman.push(stopped);
      continue;
    }
    const requeued = await store.transitionRun(run.id, ['running'], {
      status: 'queued',
      stage: options.safeStage?.(run) ?? run.stage,
      workerId: null,
      heartbeatAt: null,
    });
    // Another recovering worker got there first; it enqueues the job.
    if (!requeued) continue;
    await store.addRunEvent({
      runId: run.id,
      stage: requeued.stage,
      status: 'info',
      message: `worker lost at stage "${run.stage}" (attempt ${run.attempt}): queued again`,
    });
    const job = (options.jobFor ?? defaultRunJob)(requeued);
    // Keyed by run and attempt: two recovering workers enqueue it once.
    await options.queue.enqueue({ ...job, idempotencyKey: `recover:${run.id}:${run.attempt}` });
    result.requeued.push(requeued);
  }
  return result;
}
