// One terraform execution per project+workspace at a time, across every run of every issue and PR and every worker
// process: the queue serialises runs per issue, but two issues (or an issue and a PR) on one project would otherwise
// plan at once and one of them fail on terraform's state lock ("Error acquiring the state lock"). The slot is a row
// in the store with a lease renewed while held, so a worker that dies frees it when the lease runs out.
import { randomUUID } from 'node:crypto';
import type { LockTarget, Store } from './types.js';

export interface SlotOptions {
  /** Lease of the slot; renewed every third of it while held (default 60 s). */
  leaseMs?: number;
  /** How often a waiter looks again (default 500 ms). */
  pollMs?: number;
  /** Give up waiting after this long (default 30 minutes: the job timeout). */
  waitMs?: number;
  signal?: AbortSignal;
  /** Told once when the slot is busy and this execution waits. */
  onWait?: () => void;
}

export class SlotWaitTimeout extends Error {
  override readonly name = 'SlotWaitTimeout';
}

/** Run fn holding the project's execution slot. */
export async function withProjectSlot<T>(
  store: Store,
  target: LockTarget,
  fn: () => Promise<T>,
  options: SlotOptions = {},
): Promise<T> {
  const holder = `${process.pid}:${randomUUID()}`;
  const leaseMs = options.leaseMs ?? 60_000;
  const pollMs = options.pollMs ?? 500;
  const until = Date.now() + (options.waitMs ?? 30 * 60_000);
  let told = false;
  while (!(await store.takeProjectSlot(target, holder, leaseMs))) {
    if (options.signal?.aborted) throw options.signal.reason ?? new Error('cancelled');
    if (Date.now() > until) {
      throw new SlotWaitTimeout(
        `project ${target.project} (workspace ${target.workspace}) stayed busy with another run for too long`,
      );
    }
    if (!told) {
      told = true;
      options.onWait?.();
    }
    await new Promise((r) => setTimeout(r, pollMs));
  }
  const renew = setInterval(() => {
    void store.takeProjectSlot(target, holder, leaseMs).catch(() => {});
  }, leaseMs / 3);
  renew.unref();
  try {
    return await fn();
  } finally {
    clearInterval(renew);
    await store.releaseProjectSlot(target, holder).catch(() => {});
  }
}
