// The worker side of approve → apply: one `apply` run per approving review. It reads the repository config from the
// default branch, builds the Octokit-backed port and hands the decision and the apply to src/apply (which refuses
// naming every missing requirement, re-plans a stale plan, or applies exactly the saved plan bytes). This module
// owns only the run's bookkeeping around it: a refusal or re-plan ends the run, a transient GitHub error before any
// point of no return hands it back to the queue, and anything after terraform may have run goes to a human.
import { type ApplyDeps, type ApplyRequest, applyReviewedPlan, recoverInterruptedApplies } from '../apply/apply.js';
import { renderInterruptedApply } from '../apply/messages.js';
import { loadRepoConfig } from '../config/load.js';
import type { RepoConfig } from '../config/schema.js';
import { APPLY_LABELS } from '../core/apply-port.js';
import { type GitHubClient, isTransient } from '../core/github.js';
import { type RunJob, RunJobSchema } from '../core/jobs.js';
import { applyCheckHeadKey, OctokitApplyPort } from '../github/apply-port.js';
import type { AppDeps } from '../github/deps.js';
import { invalidConfigReply } from '../github/replies.js';
import { type PlanRequestContext, requestPlanRun } from '../github/request-plan.js';
import { metrics } from '../observability/metrics.js';
import { refusalMessage, sandboxRefusal, sandboxStatus } from '../sandbox/status.js';
import type { WorkerDeps } from '../stages/deps.js';
import { applyMayHaveStarted, beginRunAttempt, endRunAttempt } from '../stages/run-state.js';
import { Workspace } from '../stages/workspace.js';
import type { Store } from '../store/types.js';
import { redact } from '../util/redact.js';
import { type AttemptInfo, failureMessage, retryHint } from './failure.js';
import { checkoutMerge } from './merge-checkout.js';

/** The app's login when the server could not read its slug (ownership then rests on markers + Bot type). */
export const FALLBACK_BOT_LOGIN = 'infra-agent[bot]';

function errorText(err: unknown): string {
  return redact(err instanceof Error ? err.message : String(err)).slice(0, 1500);
}

/** Queue a plan run of a PR of this repository (stale plan, lock freed), from the worker. */
export function planRequester(deps: WorkerDeps, octokit: GitHubClient, ctx: PlanRequestContext, idPrefix: string) {
  return async (req: { pr: number; reason: string }): Promise<void> => {
    if (!deps.queue) {
      deps.log.warn({ pr: req.pr }, 'no queue in this worker: the re-plan was not requested');
      return;
    }
    const appDeps: AppDeps = {
      store: deps.store,
      queue: deps.queue,
      ...(deps.botLogin ? { botLogin: deps.botLogin } : {}),
    };
    await requestPlanRun(appDeps, octokit, ctx, {
      pr: req.pr,
      reason: req.reason,
      requester: deps.botLogin ?? FALLBACK_BOT_LOGIN,
      idempotencyId: `${idPrefix}:${req.pr}`,
    });
  };
}

export async function executeApplyRun(
  job: RunJob,
  deps: WorkerDeps,
  signal: AbortSignal,
  info: AttemptInfo = { lastAttempt: false },
): Promise<void> {
  const attempt = await beginRunAttempt(deps.store, job.runId);
  if (attempt.action === 'skip') {
    deps.log.info({ runId: job.runId, reason: attempt.reason }, 'apply run not executed');
    return;
  }
  const log = deps.log.child({ runId: job.runId });
  const repo = { owner: job.owner, repo: job.repo };
  let client: { octokit: GitHubClient; token: string };
  try {
    client = await deps.installation(job.installationId);
  } catch (err) {
    // GitHub down before anything ran: nothing was applied, so the run goes back to the queue (or ends, told why).
    await handleApplyError(err, job, deps, undefined, job.prNumber ?? job.issueNumber, signal, info);
    return;
  }
  const { octokit, token } = client;
  const port = new OctokitApplyPort(octokit, repo, deps.store, job.runId);
  const prNumber = job.prNumber;
  const review = job.review;
  const asked = job.applyRequest;
  if (prNumber === undefined || (review === undefined && asked === undefined)) {
    await endRunAttempt(deps.store, job.runId, {
      status: 'failed',
      error: 'an apply run needs a PR and a review, an /infra apply comment or a merge',
    });
    return;
  }
  if (attempt.action === 'needs-human') {
    // This run was executing when its worker died: terraform may have run. Never again automatically.
    await port.comment(prNumber, renderInterruptedApply(prNumber, job.runId, attempt.run.stage));
    await port.setLabels(prNumber, { add: [APPLY_LABELS.needsHuman], remove: [APPLY_LABELS.applying] });
    await concludeApplyCheck(deps.store, port, job.runId, attempt.run.error ?? 'the apply was interrupted');
    metrics.recordRun('apply', 'needs-human');
    return;
  }

  let clone: Promise<Workspace> | undefined;
  try {
    const loaded = await loadRepoConfig(octokit, repo, job.defaultBranch);
    if (!loaded.ok) {
      await port.comment(prNumber, invalidConfigReply(loaded.message));
      await endRunAttempt(deps.store, job.runId, { status: 'failed', error: 'invalid repository configuration' });
      metrics.recordRun('apply', 'failed');
      return;
    }
    // No sandbox, no untrusted code: an apply runs the PR's providers and code, so it refuses too.
    const sandbox = await sandboxStatus();
    if (sandbox.mode === 'unavailable') {
      await port.comment(prNumber, sandboxRefusal(sandbox.reason));
      await endRunAttempt(deps.store, job.runId, { status: 'failed', error: refusalMessage(sandbox.reason) });
      metrics.recordRun('apply', 'failed');
      return;
    }
    // The PR's head and base branches and the clone, read/made once, on first use (a refusal needs neither).
    type Refs = { head: string; base: string; fork: boolean };
    let refsRead: Promise<Refs> | undefined;
    const refs = (): Promise<Refs> => {
      refsRead ??= octokit.rest.pulls.get({ ...repo, pull_number: prNumber }).then(({ data }) => ({
        head: data.head.ref,
        base: data.base.ref,
        fork: data.head.repo?.full_name !== data.base.repo.full_name,
      }));
      return refsRead;
    };
    const headRef = async (): Promise<string> => (await refs()).head;
    const workspace = async (): Promise<Workspace> => {
      clone ??= Workspace.cloneFor(deps, repo, token, signal);
      return clone;
    };
    const ctx: PlanRequestContext = {
      installationId: job.installationId,
      ...repo,
      defaultBranch: job.defaultBranch,
    };
    const applyDeps: ApplyDeps = {
      store: deps.store,
      port,
      botLogin: deps.botLogin ?? FALLBACK_BOT_LOGIN,
      // One clone per apply run, shared by the behind-base check and the apply checkout (removed in `finally`).
      headContainsBase: async (pr) => {
        const ws = await workspace();
        if (!(await ws.fetchBranch(pr.baseRef))) throw new Error(`the base branch ${pr.baseRef} no longer exists`);
        const head = await headRef();
        if (!(await ws.fetchBranch(head))) throw new Error(`the branch ${head} no longer exists`);
        return ws.contains(pr.headSha, pr.baseSha);
      },
      checkout: async (sha, merge) => {
        const ws = await workspace();
        if (merge) {
          // A person's PR: the same merge of head into base it was planned as (same SHAs, so the same tree).
          const { head, base, fork } = await refs();
          const merged = await checkoutMerge(ws, {
            prNumber,
            headSha: merge.headSha,
            ...(fork ? {} : { headRef: head }),
            baseRef: base,
          });
          if (!merged.ok) throw new Error(merged.message);
          if (merged.baseSha !== merge.baseSha) {
            throw new Error(`the base branch ${base} moved since the approval was checked: approve again to re-plan`);
          }
          return { root: ws.dir, cleanup: async () => {} };
        }
        if (asked?.via === 'merge') {
          // The merge commit is on the base branch (the head branch may be deleted after the merge).
          const { base } = await refs();
          if (!(await ws.fetchBranch(base))) throw new Error(`the base branch ${base} no longer exists`);
        } else {
          const head = await headRef();
          if (!(await ws.fetchBranch(head))) throw new Error(`the branch ${head} no longer exists`);
        }
        await ws.checkoutDetached(sha);
        return { root: ws.dir, cleanup: async () => {} };
      },
      mergedTreeMatchesPlan: async (m) => mergedTreeMatches(await workspace(), await refs(), prNumber, m),
      requestPlan: planRequester(deps, octokit, ctx, `replan:${job.runId}`),
      signal,
    };
    const outcome = await applyReviewedPlan(applyDeps, applyRequestOf(job, prNumber, loaded.config));
    log.info({ outcome: outcome.outcome }, 'apply run finished');
    switch (outcome.outcome) {
      case 'duplicate':
      case 'ignored':
        await deps.store.addRunEvent({ runId: job.runId, stage: 'decide', status: 'info', message: outcome.outcome });
        await endRunAttempt(deps.store, job.runId, { status: 'succeeded' });
        metrics.recordRun('apply', 'succeeded');
        return;
      case 'refused':
      case 're-plan': {
        const codes = outcome.missing.map((m) => m.code).join(', ');
        await deps.store.addRunEvent({
          runId: job.runId,
          stage: 'decide',
          status: 'info',
          message: `${outcome.outcome}: ${codes}`.slice(0, 500),
        });
        // Nothing was applied either way; a refusal is the run's answer, not a crash, but it did not apply.
        const status = outcome.outcome === 'refused' ? 'failed' : 'succeeded';
        await endRunAttempt(deps.store, job.runId, {
          status,
          ...(status === 'failed' ? { error: `refused: ${codes}` } : {}),
        });
        metrics.recordRun('apply', status);
        return;
      }
      default:
        // applied / failed / needs-human: the apply core wrote the run's final status.
        metrics.recordRun('apply', outcome.outcome === 'applied' ? 'succeeded' : outcome.outcome);
        return;
    }
  } catch (err) {
    await handleApplyError(err, job, deps, port, prNumber, signal, info);
  } finally {
    if (clone) await clone.then((ws) => ws.remove()).catch(() => {});
  }
}

/** The job's trigger as the apply core takes it: the review, the `/infra apply` comment or the merge. */
function applyRequestOf(job: RunJob, pr: number, config: RepoConfig): ApplyRequest {
  const asked = job.applyRequest;
  const common = { pr, config, runId: job.runId };
  if (asked?.via === 'comment') {
    const { commentId, login, userType, projects } = asked;
    return { ...common, trigger: 'comment', comment: { id: commentId, login, userType, projects } };
  }
  if (asked?.via === 'merge') {
    const { login, userType, mergeCommitSha } = asked;
    return { ...common, trigger: 'merge', merge: { login, userType, mergeCommitSha } };
  }
  const review = job.review;
  if (!review) throw new Error('an apply run needs a review');
  const { id, login, userType, commitId } = review;
  return { ...common, review: { id, login, userType, state: 'APPROVED', commitId } };
}

/**
 * Merge mode: the merged commit's tree against the planned change — the plan's head merged into the plan's base, as
 * git computes it (`git merge-tree --write-tree`; when the head contains the base that is the head's own tree). The
 * head's commits come from its branch, or GitHub's `refs/pull/N/head` once the branch is deleted.
 */
async function mergedTreeMatches(
  ws: Workspace,
  refs: { head: string; base: string; fork: boolean },
  pr: number,
  m: { mergeCommitSha: string; headSha: string; baseSha: string },
): Promise<boolean> {
  if (!(await ws.fetchBranch(refs.base))) throw new Error(`the base branch ${refs.base} no longer exists`);
  if (
    (refs.fork || !(await ws.fetchBranch(refs.head))) &&
    !(await ws.fetchRef(`refs/pull/${pr}/head`, `refs/infra-agent/pull-${pr}`))
  ) {
    throw new Error(`the head of #${pr} (${m.headSha.slice(0, 7)}) can no longer be fetched`);
  }
  const merged = await ws.exec(['rev-parse', '--verify', `${m.mergeCommitSha}^{tree}`]);
  // A conflicted merge exits non-zero: it cannot be what was merged cleanly, so it does not match.
  const planned = await ws.exec(['merge-tree', '--write-tree', m.baseSha, m.headSha]).catch(() => '');
  const tree = planned.split('\n')[0]?.trim() ?? '';
  return tree !== '' && tree === merged;
}

/** An exception out of the apply: retry, fail, or — once terraform may have run — stop for a human. */
async function handleApplyError(
  err: unknown,
  job: RunJob,
  deps: WorkerDeps,
  port: OctokitApplyPort | undefined,
  prNumber: number,
  signal: AbortSignal,
  info: AttemptInfo,
): Promise<void> {
  const run = await deps.store.getRun(job.runId);
  if (run && ['succeeded', 'failed', 'cancelled', 'needs-human'].includes(run.status)) {
    // The core finished the run and something after it (a log, a label) failed: nothing more to decide.
    deps.log.warn({ runId: job.runId, err: errorText(err) }, 'error after the apply run finished');
    return;
  }
  const stage = run?.stage ?? '';
  if (run && (await applyMayHaveStarted(deps.store, run))) {
    const message = `apply stopped after terraform started (stage "${stage}"): ${failureMessage(err, job.runId)}`;
    await endRunAttempt(deps.store, job.runId, { status: 'needs-human', error: message });
    await port?.comment(prNumber, renderInterruptedApply(prNumber, job.runId, stage)).catch(() => {});
    if (port) await concludeApplyCheck(deps.store, port, job.runId, message).catch(() => {});
    await port
      ?.setLabels(prNumber, { add: [APPLY_LABELS.needsHuman], remove: [APPLY_LABELS.applying] })
      .catch(() => {});
    metrics.recordRun('apply', 'needs-human');
    return;
  }
  if (isTransient(err) && !signal.aborted && !info.lastAttempt) {
    deps.log.warn({ runId: job.runId, err: errorText(err) }, 'transient failure before the apply: retried');
    await endRunAttempt(deps.store, job.runId, { status: 'queued', error: errorText(err) });
    throw err;
  }
  const message = failureMessage(err, job.runId);
  await endRunAttempt(deps.store, job.runId, { status: 'failed', error: message });
  const notice = `**Nothing was applied**: infra-agent failed before terraform ran (\`${message.replace(/`/g, "'").slice(0, 300)}\`). ${retryHint(job, '')}`;
  try {
    if (!port) throw new Error('no GitHub client');
    await port.comment(prNumber, notice);
    const head = await deps.store.getKey(applyCheckHeadKey(job.runId));
    if (head) {
      await port.reportApplyCheck({
        headSha: head,
        status: 'completed',
        conclusion: 'failure',
        title: 'Nothing was applied',
        summary: notice,
      });
    }
  } catch {
    await deps.store.putKey(`pending-notice:${job.runId}`, notice);
  }
  metrics.recordRun('apply', 'failed');
}

/** The `infra-agent/apply` check of an interrupted apply ends (action required, with why) instead of spinning forever. */
async function concludeApplyCheck(store: Store, port: OctokitApplyPort, runId: string, why: string): Promise<void> {
  const head = await store.getKey(applyCheckHeadKey(runId));
  if (!head) return;
  await port.reportApplyCheck({
    headSha: head,
    status: 'completed',
    conclusion: 'action_required',
    title: 'Apply interrupted: a human must check',
    summary: why.slice(0, 60_000),
  });
}

const RunInputSchema = RunJobSchema.pick({ installationId: true, owner: true, repo: true, prNumber: true });

/**
 * At worker start: apply runs a dead worker left `running` become needs-human (never re-run), and each PR is told
 * what to check. Runs before the generic recovery, which would otherwise mark them silently.
 */
export async function notifyInterruptedApplies(
  store: Store,
  deps: Pick<WorkerDeps, 'installation' | 'log'>,
  options: { staleAfterMs: number },
): Promise<number> {
  const interrupted = await recoverInterruptedApplies(store, { staleAfterMs: options.staleAfterMs });
  for (const item of interrupted) {
    const input = RunInputSchema.safeParse(item.run.input);
    const pr = item.pr ?? (input.success ? input.data.prNumber : undefined);
    if (!input.success || pr === undefined) {
      deps.log.warn({ runId: item.run.id }, 'interrupted apply without a PR to tell');
      continue;
    }
    try {
      const { octokit } = await deps.installation(input.data.installationId);
      const port = new OctokitApplyPort(
        octokit,
        { owner: input.data.owner, repo: input.data.repo },
        store,
        item.run.id,
      );
      await port.comment(pr, renderInterruptedApply(pr, item.run.id, item.run.stage));
      await port.setLabels(pr, { add: [APPLY_LABELS.needsHuman], remove: [APPLY_LABELS.applying] });
      await concludeApplyCheck(store, port, item.run.id, item.message);
    } catch (err) {
      deps.log.warn({ runId: item.run.id, err: errorText(err) }, 'could not tell the PR about an interrupted apply');
    }
  }
  return interrupted.length;
}
