// Steps 4–5 of an apply, once the decision said apply: the run record, every project's lock held for the whole apply
// (all or none), the `infra-agent/apply` check in progress, then each project applied in `depends_on` order —
// independent ones in parallel, one failure stopping only its dependants — and the report per project.
import { mkdtemp, rm } from 'node:fs/promises';
import { APPLY_LABELS } from '../core/apply-port.js';
import { endRunAttempt, startRunHeartbeat, startRunningRun } from '../stages/run-state.js';
import { workDirPrefix } from '../stages/work-dirs.js';
import { withProjectSlot } from '../store/project-slot.js';
import type { Store } from '../store/types.js';
import { type Terraform, terraformForRepo } from '../terraform/engine.js';
import { redact } from '../util/redact.js';
import { applyProject } from './apply-project.js';
import { finishFailure, finishSuccess } from './finish.js';
import { takeProjectLocks } from './locks.js';
import { type ProjectApplyReport, renderLockHeld, renderRefusal } from './messages.js';
import { runInDependencyOrder } from './order.js';
import type { PlannedProject, PlanSet } from './plan-record.js';
import type { Requirement } from './requirements.js';
import {
  type ApplyDeps,
  type ApplyRequest,
  type ApplyTarget,
  type ApprovalOutcome,
  actorOf,
  applyClaimKey,
  type Failure,
  triggerOf,
} from './types.js';

/** Independent projects applied at once unless the deps say otherwise. */
const DEFAULT_APPLY_CONCURRENCY = 4;

export interface ApplyPlanContext {
  target: ApplyTarget;
  set: PlanSet;
  /** Every project of the plan set, in dependency order (all are locked). */
  ordered: PlannedProject[];
  /** The ones to apply now (all of them, or what `/infra apply <project…>` named and was not applied before). */
  selected: PlannedProject[];
  issueNumber: number | undefined;
}

async function startRun(store: Store, req: ApplyRequest, repo: string, thread: number, set: PlanSet) {
  const input = {
    pr: req.pr,
    trigger: triggerOf(req),
    ...(req.trigger === undefined || req.trigger === 'approval' ? { reviewId: req.review.id } : {}),
    headSha: set.headSha,
    baseSha: set.baseSha,
    planHashes: set.projects.map((p) => p.planHash),
  };
  return startRunningRun(store, {
    runId: req.runId,
    create: { kind: 'apply', repo, number: thread, triggeredBy: actorOf(req).login, input },
    stage: 'locking',
  });
}

export async function executeApply(
  deps: ApplyDeps,
  req: ApplyRequest,
  ctx: ApplyPlanContext,
): Promise<ApprovalOutcome> {
  const { store, port } = deps;
  const run = await startRun(store, req, port.repo, ctx.issueNumber ?? req.pr, ctx.set);
  // A long apply must not look like a dead worker to the recovery sweep.
  const stopHeartbeat = startRunHeartbeat(store, run.id);
  try {
    return await executeApplyRun(deps, req, ctx, run.id);
  } finally {
    stopHeartbeat();
  }
}

async function executeApplyRun(
  deps: ApplyDeps,
  req: ApplyRequest,
  ctx: ApplyPlanContext,
  runId: string,
): Promise<ApprovalOutcome> {
  const { store, port } = deps;
  const repo = port.repo;
  const { target, set } = ctx;
  const actor = actorOf(req).login;

  // 4 Hold every lock for the whole apply (a race since the check refuses here).
  const locked = await takeProjectLocks(store, { repo, pr: req.pr, runId, projects: ctx.ordered });
  if (!locked.ok) {
    await endRunAttempt(store, runId, { status: 'failed', error: 'a project is locked by another pull request' });
    const missing: Requirement[] = locked.blocked.map((b) => ({
      code: 'lock-held',
      project: b.project,
      message: `\`${b.project}\` is locked by #${b.lock.holder.pr}`,
    }));
    await port.comment(req.pr, `${renderRefusal(actor, missing)}\n\n${renderLockHeld(req.pr, locked.blocked)}`);
    return { outcome: 'refused', missing };
  }

  await store.audit({
    actor,
    action: 'plan.approved',
    repo,
    target: `#${req.pr}`,
    details: {
      runId,
      trigger: triggerOf(req),
      ...(req.trigger === undefined || req.trigger === 'approval' ? { reviewId: req.review.id } : {}),
      ...(req.trigger === 'merge' ? { mergeCommitSha: req.merge.mergeCommitSha } : {}),
      headSha: set.headSha,
      baseSha: set.baseSha,
      plans: ctx.selected.map((p) => ({ project: p.name, workspace: p.workspace, planHash: p.planHash })),
    },
  });
  await port.reportApplyCheck({
    headSha: target.pr.headSha,
    status: 'in_progress',
    title: 'Applying the reviewed plan',
    summary: `Asked by @${actor} (${triggerOf(req)}); run \`${runId}\`.`,
  });
  await port.setLabels(req.pr, { add: [APPLY_LABELS.applying], remove: [APPLY_LABELS.failed] });

  // 5 Apply in dependency order, independent projects in parallel; a failure blocks only its dependants.
  const chosen = new Set(ctx.selected);
  const reports: ProjectApplyReport[] = ctx.ordered.map((p) => ({
    project: p.name,
    workspace: p.workspace,
    planHash: p.planHash ?? '',
    status: 'skipped',
  }));
  const appliedBefore = new Set<PlannedProject>();
  for (const p of ctx.ordered) {
    if (chosen.has(p) || p.planHash === null) continue;
    const claim = await store.getKey(applyClaimKey(repo, req.pr, p.name, p.workspace, p.planHash));
    if (claim?.startsWith('applied:')) appliedBefore.add(p);
  }
  const failures: Failure[] = [];
  let failure: Failure | undefined;
  const planDir = await mkdtemp(workDirPrefix(undefined, 'apply'));
  let checkout: { root: string; cleanup: () => Promise<void> } | undefined;
  let tf: Terraform | undefined;
  try {
    checkout = await deps.checkout(target.checkoutSha, target.mergeOf);
    const checkoutRoot = checkout.root;
    const engine = (deps.terraform ?? terraformForRepo)(req.config);
    tf = engine;
    // What is applied before counts as done for its dependants; what is not selected and not applied blocks them.
    const scheduled = ctx.ordered.filter((p) => chosen.has(p) || appliedBefore.has(p));
    const results = await runInDependencyOrder(
      scheduled,
      async (p) => {
        if (appliedBefore.has(p)) return { value: undefined, ok: true };
        // One terraform execution per project+workspace at a time: a plan of another PR waits for this apply.
        const result = await withProjectSlot(
          store,
          { repo, project: p.name, workspace: p.workspace },
          () => applyProject(deps, { req, runId, target, set, project: p, checkoutRoot, planDir, tf: engine }),
          deps.signal ? { signal: deps.signal } : {},
        );
        const i = ctx.ordered.indexOf(p);
        const report = reports[i];
        if (report) Object.assign(report, result.report);
        if (result.failure) failures.push(result.failure);
        return { value: undefined, ok: !result.failure };
      },
      {
        concurrency: deps.applyConcurrency ?? DEFAULT_APPLY_CONCURRENCY,
        stop: () => deps.signal?.aborted === true,
      },
    );
    for (const [k, r] of results.entries()) {
      const p = scheduled[k];
      const report = p ? reports[ctx.ordered.indexOf(p)] : undefined;
      if (!p || !report) continue;
      if (appliedBefore.has(p)) report.status = 'already-applied';
      else if (r.state === 'blocked') {
        report.error = r.by
          ? `not applied: it depends on \`${r.by}\`, which was not applied`
          : 'not applied: the apply stopped';
        failures.push({ error: `${p.name}: ${report.error}`, pointOfNoReturn: false });
      }
    }
    if (failures.length > 0) {
      failure = {
        error: failures.map((f) => f.error).join('\n'),
        pointOfNoReturn: failures.some((f) => f.pointOfNoReturn) || reports.some((r) => r.status === 'applied'),
      };
    }
  } catch (err) {
    // Unexpected (checkout, store, disk). If this run already claimed a plan, terraform may have run: a human decides.
    let claimed = false;
    for (const p of ctx.ordered) {
      if (p.planHash === null) continue;
      const value = await store
        .getKey(applyClaimKey(repo, req.pr, p.name, p.workspace, p.planHash))
        .catch(() => undefined);
      if (value === `applying:${runId}` || value === `applied:${runId}`) claimed = true;
    }
    failure = {
      error: redact(err instanceof Error ? err.message : String(err)),
      pointOfNoReturn: claimed,
      unexpected: true,
    };
  } finally {
    // The TF data dirs of this apply (outside the checkout) go with it.
    tf?.dispose?.();
    await rm(planDir, { recursive: true, force: true });
    await checkout?.cleanup().catch(() => {});
  }

  if (failure) return finishFailure(deps, req, { runId, pr: target.pr, reports, failure });
  const complete = reports.every((r) => r.status === 'applied' || r.status === 'already-applied');
  return finishSuccess(deps, req, { runId, pr: target.pr, reports, issueNumber: ctx.issueNumber, complete });
}
