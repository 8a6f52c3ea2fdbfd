// Crash recovery of applies: at worker start, an apply run still `running` whose terraform may have started becomes
// `needs-human` (never re-run), keeping its locks and its plan-hash claims; the caller tells the PR.
import { applyMayHaveStarted, interruptedApplyMessage } from '../queue/recovery.js';
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
    const error = interruptedApplyMessage(run);
    const updated = await store.updateRun(run.id, {
      status: 'needs-human',
      error,
      workerId: null,
      finishedAt: new Date(),
    });
    await store.addRunEvent({ runId: run.id, stage: run.stage, status: 'failed', message: error });
    const prValue = run.input['pr'];
    const pr = typeof prValue === 'number' && Number.isSafeInteger(prValue) ? prValue : undefined;
    await store.audit({
      actor: 'infra-agent',
      action: 'apply.interrupted',
      repo: run.repo,
      target: pr !== undefined ? `#${pr}` : `#${run.number}`,
      details: { runId: run.id, stage: run.stage, attempt: run.attempt },
    });
    out.push({ run: updated, pr, message: renderInterruptedApply(pr ?? run.number, run.id, run.stage) });
  }
  return out;
}
