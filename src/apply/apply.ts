// Apply the reviewed plan, however the repo asks for it (`apply.on`): an approving review, `/infra apply
// [project…]`, or the merge of the approved PR. The same requirements hold in every mode. The steps, in order:
//   1 once per trigger (a re-delivered webhook changes nothing)
//   2 gather the facts (facts.ts): PR, reviews, commits, the actor, plan set, saved plans, verdicts, locks, claims
//   3 decide (requirements.ts): refuse with the missing requirements, re-plan a stale plan, or apply
//   4–5 (execute.ts) hold every project's lock, apply each project in dependency order (apply-project.ts)
//   6 (finish.ts) report, merge (or not), close the issue, release the locks; failure: keep the locks, say what next
import { randomUUID } from 'node:crypto';
import { readMarkers } from '../markdown/markers.js';
import { executeApply } from './execute.js';
import { gatherApplyFacts } from './facts.js';
import { renderRefusal, renderReplan } from './messages.js';
import { type ApplyDecision, evaluateApplyRequirements, selectProjects } from './requirements.js';
import { type ApplyDeps, type ApplyRequest, type ApprovalOutcome, actorOf, triggerOf } from './types.js';

export { gatherApplyFacts } from './facts.js';
export { recoverInterruptedApplies } from './recovery.js';
export type { ApplyDeps, ApplyRequest, ApprovalOutcome, ApprovalRequest } from './types.js';
export { applyClaimKey } from './types.js';

/** The key that makes one trigger act once: a review, a comment, a merge commit. */
function onceKey(repo: string, req: ApplyRequest): string {
  if (req.trigger === 'comment') return `apply-command:${repo}#${req.pr}:comment-${req.comment.id}`;
  if (req.trigger === 'merge') return `apply-merge:${repo}#${req.pr}:${req.merge.mergeCommitSha}`;
  return `approval:${repo}#${req.pr}:review-${req.review.id}`;
}

/**
 * Handle one request to apply: apply exactly the reviewed plans, or say precisely why not. Safe to call again for
 * the same review, comment or merge (re-delivery): the second call returns 'duplicate' and does nothing.
 */
export async function applyReviewedPlan(deps: ApplyDeps, req: ApplyRequest): Promise<ApprovalOutcome> {
  const { store, port } = deps;
  const repo = port.repo;
  const trigger = triggerOf(req);
  const actor = actorOf(req).login;
  if ((req.trigger === undefined || req.trigger === 'approval') && req.review.state !== 'APPROVED') {
    return { outcome: 'ignored', reason: 'not an approving review' };
  }
  // Approving is part of every mode: in a repo that applies on merge or by comment, an approval is not a request to
  // apply and draws no reply; a merge in a repo that does not apply on merge neither.
  if (trigger !== 'comment' && trigger !== req.config.apply.on) {
    return { outcome: 'ignored', reason: `this repository applies on ${req.config.apply.on}` };
  }

  // 1 Once per trigger: a second delivery (or a second job for it) sees the first one's claim.
  // A retried job of the same run may pass again; anything else for the same trigger is a duplicate.
  const claimValue = req.runId ?? `once:${randomUUID()}`;
  const once = await store.putKeyIfAbsent(onceKey(repo, req), claimValue);
  if (!once.inserted && once.value !== claimValue) return { outcome: 'duplicate' };

  // 2 + 3
  const facts = await gatherApplyFacts(deps, req);
  if (req.trigger === 'merge' && facts.set) {
    // The merged commit must be exactly what was planned: the plan's head merged into the plan's base.
    if (deps.mergedTreeMatchesPlan) {
      facts.input.mergedTreeMatches = await deps.mergedTreeMatchesPlan({
        mergeCommitSha: req.merge.mergeCommitSha,
        headSha: facts.set.headSha,
        baseSha: facts.set.baseSha,
      });
    }
  }
  let decision: ApplyDecision = evaluateApplyRequirements(facts.input);
  // Behind its base? Asked only when the answer matters (a checkout and a fetch): before applying, and before
  // re-planning, since a re-plan of a head behind its base would only produce a plan that reverts the base.
  // A merged PR is judged by its merge commit instead.
  // A person's PR is planned as merged into its base, so being behind it is no reason to refuse; nor is it for the
  // App's branch when its plan was of that merge (a `/infra plan` of a branch behind its base): the apply checks out
  // the same merge of the same two commits.
  const plannedMerge = facts.set?.planned === 'merge';
  if (
    trigger !== 'merge' &&
    facts.owned &&
    !plannedMerge &&
    (decision.ok || decision.action === 're-plan') &&
    deps.headContainsBase
  ) {
    if (!(await deps.headContainsBase(facts.pr))) {
      facts.input.behindBase = { baseRef: facts.pr.baseRef, baseSha: facts.pr.baseSha };
      decision = evaluateApplyRequirements(facts.input);
    }
  }
  if (!decision.ok) {
    // A people's PR the app never planned and without any of our markers is none of our business: approving or
    // merging it must not draw a bot reply. One that carries our markers but was not opened by the app gets the
    // refusal (someone copied a body); so does `/infra apply`, which asked the app directly.
    if (
      trigger !== 'comment' &&
      decision.missing.some((m) => m.code === 'not-app-pr') &&
      Object.keys(readMarkers(facts.pr.body)).length === 0
    ) {
      return { outcome: 'ignored', reason: 'not a pull request opened or planned by infra-agent' };
    }
    await store.audit({
      actor,
      action: decision.action === 're-plan' ? 'apply.replan' : 'apply.refused',
      repo,
      target: `#${req.pr}`,
      details: {
        trigger,
        ...(req.trigger === undefined || req.trigger === 'approval' ? { reviewId: req.review.id } : {}),
        missing: decision.missing.map((m) => m.code),
      },
    });
    if (decision.action === 're-plan') {
      await port.comment(req.pr, renderReplan(actor, decision.missing));
      await deps.requestPlan({ pr: req.pr, reason: decision.missing.map((m) => m.code).join(',') });
      return { outcome: 're-plan', missing: decision.missing };
    }
    await port.comment(req.pr, renderRefusal(actor, decision.missing, trigger));
    return { outcome: 'refused', missing: decision.missing };
  }
  const set = facts.set;
  if (!set) throw new Error('requirements passed without a plan set');
  const names = new Set(selectProjects(facts.input).map((p) => `${p.name}/${p.workspace}`));
  const selected = facts.ordered.filter((p) => names.has(`${p.name}/${p.workspace}`));
  const merge = req.trigger === 'merge' ? req.merge : undefined;
  return executeApply(deps, req, {
    target: {
      pr: facts.pr,
      // A merged PR applies from its merge commit (its tree is the planned tree, checked above).
      checkoutSha: merge ? merge.mergeCommitSha : facts.pr.headSha,
      headSha: set.headSha,
      baseSha: merge ? set.baseSha : facts.pr.baseSha,
      ...(!merge && (!facts.owned || plannedMerge)
        ? { mergeOf: { headSha: facts.pr.headSha, baseSha: facts.pr.baseSha } }
        : {}),
    },
    set,
    ordered: facts.ordered,
    selected,
    issueNumber: facts.issueNumber,
  });
}
