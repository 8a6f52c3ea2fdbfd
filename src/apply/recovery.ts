// Crash recovery of applies: at worker start, an apply run still `running` whose terraform may have started becomes
// `needs-human` (never re-run), keeping its locks and its plan-hash claims; the caller tells the PR.
import { applyMayHaveStarted, stopForHuman } from '../stages/run-state.js';
import type { RunRecord, Store } from '../store/types.js';
import { renderInterruptedApply } from './messages.js';

export interface InterruptedApply {
  run: RunRecord;
  /** The PR to tell (from the run's input). */
  pr: number | undefined;
  /** The comment to post on it. */
  message: string;
}

/**
 * At worker start: every apply run still `running` was interrupted (this process is the only one that ran it, or
 * its worker stopped heartbeating). It becomes `needs-human`, keeps its locks and its plan-hash claim (so no later
 * approval re-runs it), and the caller posts `message` on the PR. Never re-runs anything.
 */
export async function recoverInterruptedApplies(
  store: Store,
  options: { staleAfterMs?: number; now?: Date } = {},
): Promise<InterruptedApply[]> {
  const now = (options.now ?? new Date()).getTime();
  const staleAfter = options.staleAfterMs ?? 0;
  const out: InterruptedApply[] = [];
  for (const run of await store.listRuns({ kind: 'apply', status: 'running', limit: 1000 })) {
    const lastSign = (run.heartbeatAt ?? run.updatedAt).getTime();
    if (staleAfter > 0 && now - lastSign < staleAfter) continue;
    // Interrupted before terraform started: nothing changed, the generic recovery runs it again.
    if (!(await applyMayHaveStarted(store, run))) continue;
    const prValue = run.input['pr'];
    const pr = typeof prValue === 'number' && Number.isSafeInteger(prValue) ? prValue : undefined;
    const updated = await stopForHuman(store, run, { target: pr !== undefined ? `#${pr}` : `#${run.number}` });
    // Another worker stopped it first (and told the PR).
    if (!updated) continue;
    out.push({ run: updated, pr, message: renderInterruptedApply(pr ?? run.number, run.id, run.stage) });
  }
  return out;
}
