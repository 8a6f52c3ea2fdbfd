// Project locks, per repo + project + workspace, on the store's atomic lock table. A PR takes the locks of the
// projects it plans (all or none, so two PRs touching the same pair of projects cannot each hold one and wait on the
// other); it keeps them until it is merged or closed or someone with write permission says `/infra unlock`. An apply
// that fails or is interrupted keeps them: the state may be half-changed. A PR that finds a project locked is told
// which PR holds it and is put on the lock's waiting list; releasing the lock hands the list back to the caller, who
// queues those PRs to plan.
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { RepoPermission } from '../core/apply-port.js';
import { PERMISSIONS } from '../core/github.js';
import type { LockRecord, LockTarget, Store } from '../store/types.js';

export interface ProjectRef {
  name: string;
  workspace: string;
}

export interface LockWaiter {
  repo: string;
  pr: number;
  project: string;
  workspace: string;
  /** ISO time it started waiting. */
  since: string;
}

export interface BlockedProject {
  project: string;
  workspace: string;
  /** The lock as the other PR holds it. */
  lock: LockRecord;
}

export type TakeLocksResult = { ok: true; locks: LockRecord[] } | { ok: false; blocked: BlockedProject[] };

export function lockTarget(repo: string, p: ProjectRef): LockTarget {
  return { repo, project: p.name, workspace: p.workspace };
}

/**
 * Take the lock of every project (re-entrant for the PR that already holds one). When any is held by another PR,
 * the locks this call took are given back, the PR waits on the held ones, and the holders are returned.
 */
export async function takeProjectLocks(
  store: Store,
  req: { repo: string; pr: number; runId: string; projects: ProjectRef[] },
): Promise<TakeLocksResult> {
  const taken: LockRecord[] = [];
  const newlyTaken: LockTarget[] = [];
  const blocked: BlockedProject[] = [];
  for (const p of req.projects) {
    const target = lockTarget(req.repo, p);
    const before = await store.getLock(target);
    const res = await store.acquireLock({ ...target, holder: { pr: req.pr, runId: req.runId } });
    if (res.acquired) {
      taken.push(res.lock);
      if (!before || before.holder.pr !== req.pr) newlyTaken.push(target);
    } else {
      blocked.push({ project: p.name, workspace: p.workspace, lock: res.holder });
    }
  }
  if (blocked.length === 0) {
    for (const t of newlyTaken) {
      await store.audit({
        actor: 'infra-agent',
        action: 'lock.acquired',
        repo: req.repo,
        target: `${t.project}/${t.workspace}`,
        details: { pr: req.pr, runId: req.runId },
      });
    }
    return { ok: true, locks: taken };
  }
  for (const t of newlyTaken) await store.releaseLock({ ...t, pr: req.pr });
  for (const b of blocked) {
    await addWaiter(store, { repo: req.repo, pr: req.pr, project: b.project, workspace: b.workspace });
    await store.audit({
      actor: 'infra-agent',
      action: 'lock.waiting',
      repo: req.repo,
      target: `${b.project}/${b.workspace}`,
      details: { pr: req.pr, heldBy: b.lock.holder.pr },
    });
  }
  return { ok: false, blocked };
}

export interface ReleaseResult {
  released: LockRecord[];
  /** PRs that were waiting on a released lock (one entry per PR): queue them to plan. */
  waiters: LockWaiter[];
}

/** Release the locks a PR holds (all, or one project's), on merge, close or `/infra unlock`. */
export async function releasePullRequestLocks(
  store: Store,
  req: {
    repo: string;
    pr: number;
    actor: string;
    reason: 'merged' | 'closed' | 'unlock' | 'applied';
    project?: string;
  },
): Promise<ReleaseResult> {
  const held = (await store.listLocks({ repo: req.repo, pr: req.pr })).filter(
    (l) => req.project === undefined || l.project === req.project,
  );
  const released: LockRecord[] = [];
  const waiting = new Map<number, LockWaiter>();
  for (const lock of held) {
    if (!(await store.releaseLock({ repo: lock.repo, project: lock.project, workspace: lock.workspace, pr: req.pr })))
      continue;
    released.push(lock);
    await store.audit({
      actor: req.actor,
      action: 'lock.released',
      repo: req.repo,
      target: `${lock.project}/${lock.workspace}`,
      details: { pr: req.pr, reason: req.reason, runId: lock.holder.runId },
    });
    for (const w of await takeWaiters(store, lock)) {
      if (w.pr !== req.pr && !waiting.has(w.pr)) waiting.set(w.pr, w);
    }
  }
  return { released, waiters: [...waiting.values()] };
}

export type UnlockResult =
  | { ok: true; released: LockRecord[]; waiters: LockWaiter[] }
  | { ok: false; reason: 'permission' | 'nothing-held'; message: string };

/** `/infra unlock [project]` on a PR: write permission; releases what this PR holds. */
export async function unlockCommand(
  store: Store,
  req: { repo: string; pr: number; actor: string; permission: RepoPermission; project?: string },
): Promise<UnlockResult> {
  if ((PERMISSIONS as readonly string[]).indexOf(req.permission) < PERMISSIONS.indexOf('write')) {
    return {
      ok: false,
      reason: 'permission',
      message: `@${req.actor} needs write permission to release a lock (has ${req.permission})`,
    };
  }
  const res = await releasePullRequestLocks(store, {
    repo: req.repo,
    pr: req.pr,
    actor: req.actor,
    reason: 'unlock',
    ...(req.project !== undefined ? { project: req.project } : {}),
  });
  if (res.released.length === 0) {
    return {
      ok: false,
      reason: 'nothing-held',
      message:
        req.project === undefined ? `#${req.pr} holds no lock` : `#${req.pr} holds no lock on \`${req.project}\``,
    };
  }
  return { ok: true, ...res };
}

// ---- Waiting lists ----------------------------------------------------------------------------------------------
// One list per lock target in the key-value table. Two PRs can queue at once, so every read-modify-write happens
// under a small mutex made of an insert-if-absent key (stale after MUTEX_STALE_MS: a holder that died).

const MUTEX_STALE_MS = 30_000;
const MUTEX_TRIES = 200;

const WaiterSchema = z.object({
  repo: z.string(),
  pr: z.number().int().positive(),
  project: z.string(),
  workspace: z.string(),
  since: z.string(),
});
const WaitersSchema = z.array(WaiterSchema);

export function waitersKey(t: LockTarget): string {
  return `lock-waiters:${t.repo}:${t.project}/${t.workspace}`;
}

async function withKeyMutex<T>(store: Store, name: string, fn: () => Promise<T>): Promise<T> {
  const key = `mutex:${name}`;
  const me = `${Date.now()}:${randomUUID()}`;
  for (let i = 0; i < MUTEX_TRIES; i++) {
    const claim = await store.putKeyIfAbsent(key, me);
    if (claim.inserted) {
      try {
        return await fn();
      } finally {
        if ((await store.getKey(key)) === me) await store.deleteKey(key);
      }
    }
    const since = Number(claim.value.split(':')[0]);
    if (!Number.isFinite(since) || Date.now() - since > MUTEX_STALE_MS) {
      await store.deleteKey(key);
      continue;
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`could not take ${key}`);
}

async function readWaiters(store: Store, t: LockTarget): Promise<LockWaiter[]> {
  const raw = await store.getKey(waitersKey(t));
  if (raw === undefined) return [];
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return [];
  }
  const parsed = WaitersSchema.safeParse(value);
  return parsed.success ? parsed.data : [];
}

export async function addWaiter(store: Store, w: { repo: string; pr: number; project: string; workspace: string }) {
  const t: LockTarget = { repo: w.repo, project: w.project, workspace: w.workspace };
  await withKeyMutex(store, waitersKey(t), async () => {
    const list = await readWaiters(store, t);
    if (list.some((x) => x.pr === w.pr)) return;
    list.push({ ...w, since: new Date().toISOString() });
    await store.putKey(waitersKey(t), JSON.stringify(list));
  });
}

/** The PRs waiting on a lock, in order, without removing them. */
export async function listWaiters(store: Store, t: LockTarget): Promise<LockWaiter[]> {
  return readWaiters(store, t);
}

/** Remove and return the waiting list of a lock (it was released: they all get to plan now). */
export async function takeWaiters(store: Store, t: LockTarget): Promise<LockWaiter[]> {
  return withKeyMutex(store, waitersKey(t), async () => {
    const list = await readWaiters(store, t);
    if (list.length > 0) await store.deleteKey(waitersKey(t));
    return list;
  });
}

/** Take a PR off every list it waits on among these targets (closed before its turn). */
export async function removeWaiter(store: Store, t: LockTarget, pr: number): Promise<void> {
  await withKeyMutex(store, waitersKey(t), async () => {
    const list = await readWaiters(store, t);
    const rest = list.filter((w) => w.pr !== pr);
    if (rest.length !== list.length) await store.putKey(waitersKey(t), JSON.stringify(rest));
  });
}
