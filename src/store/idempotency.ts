// Side effects on GitHub happen once, whatever restarts in between. A side effect is named by a key (e.g.
// `progress-comment:owner/repo#12`); its result (the comment id) is stored under the key. The order of checks covers
// each way a worker can die:
// - died after the effect and after storing its result → the stored result is returned;
// - died after the effect, before storing it → `find` looks for it on GitHub (a hidden body marker, the branch of
//   the PR) and adopts it;
// - two executions at once (a zombie after a timeout) → the claim lets one create; the other waits for its result.
import { randomUUID } from 'node:crypto';
import type { Store } from './types.js';

const PENDING = 'pending:';

export interface SideEffect {
  /** Do it (create the PR, post the comment); returns what identifies the result, e.g. the comment id. */
  create: () => Promise<string>;
  /** Look for a result made by an earlier execution that died before recording it (by body marker, branch…). */
  find?: () => Promise<string | undefined>;
  /** How long to wait for another execution's claim before presuming it dead (default 10 s). */
  claimWaitMs?: number;
  /**
   * Failures worth trying again here (e.g. GitHub's 5xx): each retry first runs `find`, since the failed create may
   * have happened (a 502 after the request went through). Default: none.
   */
  retry?: { when: (err: unknown) => boolean; attempts: number; delayMs: number };
}

export interface SideEffectResult {
  value: string;
  /** True when this call performed the side effect. */
  created: boolean;
}

export async function sideEffectOnce(store: Store, key: string, effect: SideEffect): Promise<SideEffectResult> {
  const owner = `${process.pid}:${randomUUID()}`;
  const waitMs = effect.claimWaitMs ?? 10_000;
  const existing = await store.getKey(key);
  if (existing !== undefined && !existing.startsWith(PENDING)) return { value: existing, created: false };

  if (existing === undefined) {
    const claim = await store.putKeyIfAbsent(key, `${PENDING}${owner}`);
    if (!claim.inserted) {
      const done = await waitForResult(store, key, waitMs);
      if (done !== undefined) return { value: done, created: false };
    }
  } else {
    // A claim left by an execution that may still be finishing: give it a moment.
    const done = await waitForResult(store, key, waitMs);
    if (done !== undefined) return { value: done, created: false };
  }

  // We hold the claim, or the claimant is presumed dead: it may have done the effect without recording it.
  const found = effect.find ? await effect.find() : undefined;
  if (found !== undefined) {
    await store.putKey(key, found);
    return { value: found, created: false };
  }
  for (let attempt = 0; ; attempt++) {
    try {
      const value = await effect.create();
      await store.putKey(key, value);
      return { value, created: true };
    } catch (err) {
      // The answer may be lost although the object was made (a 502 after the request went through), or GitHub says
      // it already exists: look it up by its natural key and adopt it before calling this a failure.
      const adopted = effect.find ? await effect.find().catch(() => undefined) : undefined;
      if (adopted !== undefined) {
        await store.putKey(key, adopted);
        return { value: adopted, created: false };
      }
      const retry = effect.retry;
      if (retry && attempt < retry.attempts && retry.when(err)) {
        await new Promise((r) => setTimeout(r, retry.delayMs * 2 ** attempt));
        continue;
      }
      // Nothing was made (or we cannot tell): release the claim so a retry tries again, `find` guarding it.
      await store.deleteKey(key).catch(() => {});
      throw err;
    }
  }
}

async function waitForResult(store: Store, key: string, waitMs: number): Promise<string | undefined> {
  const until = Date.now() + waitMs;
  for (;;) {
    const v = await store.getKey(key);
    if (v !== undefined && !v.startsWith(PENDING)) return v;
    if (v === undefined || Date.now() > until) return undefined;
    await new Promise((r) => setTimeout(r, 250));
  }
}
