// The apply requirements: pure. Given everything known about an approving review (the PR, its reviews and commits,
// the approver's permission and teams, the plan set, each project's saved plan, verdict, lock and apply record),
// decide to apply, to refuse (naming every requirement that is missing), or to re-plan (the reviewed plan no
// longer matches the branch or its base: the app never applies a plan nobody saw).
import type { ApplyConfig } from '../config/schema.js';
import type { RepoPermission, ReviewFacts } from '../core/apply-port.js';
import { PERMISSIONS } from '../core/github.js';
import { renderInline } from '../markdown/text.js';
import type {
  ActorFacts,
  ApplyDecision,
  ApplyRequirementsInput,
  ApplyTrigger,
  ProjectFacts,
  Requirement,
} from './requirement-types.js';

export type {
  ActorFacts,
  ApplyDecision,
  ApplyRecordState,
  ApplyRequirementsInput,
  ApplyTrigger,
  ProjectFacts,
  Requirement,
  RequirementCode,
} from './requirement-types.js';

const short = (sha: string) => sha.slice(0, 7);
const same = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

function rank(p: RepoPermission): number {
  return (PERMISSIONS as readonly string[]).indexOf(p);
}

/**
 * Configured approvers (users or teams) are the list: having write permission is then not enough. With no list, write
 * permission (or more) on the repository is required.
 */
export function isAuthorisedApprover(config: ApplyConfig, actor: ActorFacts): boolean {
  if (actor.type === 'Bot') return false;
  const { users, teams } = config.approvers;
  if (users.length > 0 || teams.length > 0) {
    return users.some((u) => same(u, actor.login)) || teams.some((t) => actor.teams.some((m) => same(m, t)));
  }
  return rank(actor.permission) >= rank('write');
}

function isRequester(requesters: string[], login: string): boolean {
  return requesters.some((r) => same(r, login));
}

function reasonsFor(input: ApplyRequirementsInput, login: string): string[] {
  const all = input.requesterReasons ?? {};
  const key = Object.keys(all).find((k) => same(k, login));
  return key ? (all[key] ?? []) : [];
}

/** Every requester with why they are counted: what the refusal shows, so nobody has to guess. */
function describeRequesters(input: ApplyRequirementsInput): string {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const login of input.requesters) {
    if (seen.has(login.toLowerCase())) continue;
    seen.add(login.toLowerCase());
    const reasons = reasonsFor(input, login);
    out.push(`@${login}${reasons.length > 0 ? ` (${reasons.join('; ')})` : ''}`);
  }
  return out.length > 0 ? out.slice(0, 20).join(', ') : 'nobody';
}

/** Each reviewer's standing review: the latest that is not a plain comment (GitHub's own rule). */
export function latestReviews(reviews: ReviewFacts[]): Map<string, ReviewFacts> {
  const latest = new Map<string, ReviewFacts>();
  for (const r of reviews) {
    if (r.state === 'COMMENTED' || r.state === 'PENDING') continue;
    const key = r.login.toLowerCase();
    const prev = latest.get(key);
    if (!prev || r.submittedAt >= prev.submittedAt) latest.set(key, r);
  }
  return latest;
}

/** Logins whose standing review approves the current head and who may approve. */
export function countingApprovals(input: ApplyRequirementsInput): string[] {
  const out: string[] = [];
  for (const r of latestReviews(input.reviews).values()) {
    if (r.state !== 'APPROVED' || r.userType === 'Bot' || !same(r.commitId, input.pr.headSha)) continue;
    const facts = input.reviewers[r.login] ?? input.reviewers[r.login.toLowerCase()];
    if (!facts || !isAuthorisedApprover(input.config, facts)) continue;
    if (!input.config.allow_self_approval && isRequester(input.requesters, r.login)) continue;
    out.push(r.login);
  }
  return out;
}

export function evaluateApplyRequirements(input: ApplyRequirementsInput): ApplyDecision {
  const { config, pr, approver } = input;
  const trigger = input.trigger ?? 'approval';
  const merge = trigger === 'merge';
  const refuse = (missing: Requirement[]): ApplyDecision => ({ ok: false, action: 'refuse', missing });

  // 1 Nothing else matters when the app should not act at all.
  const basic: Requirement[] = [];
  if (!config.enabled) {
    basic.push({ code: 'apply-disabled', message: 'applying is turned off (`apply.enabled: false`)' });
  }
  if (trigger !== config.on) basic.push(applyModeRequirement(config.on, trigger));
  if (!input.ownedByApp) {
    basic.push({
      code: 'not-app-pr',
      message: 'this pull request was not opened by infra-agent, so it has no reviewed plan',
    });
  }
  if (merge) {
    if (pr.merged !== true)
      basic.push({ code: 'pr-not-merged', message: 'the pull request was closed without merging' });
  } else if (pr.state !== 'open') {
    basic.push({ code: 'pr-not-open', message: 'the pull request is not open' });
  }
  if (trigger === 'approval' && input.review?.state !== 'APPROVED') {
    basic.push({ code: 'review-not-approval', message: 'only an approving review applies the plan' });
  }
  if (basic.length > 0) return refuse(basic);

  // 2 Who approved: an unauthorised approval never re-plans or applies anything.
  const who: Requirement[] = [];
  if (merge) {
    // Whoever merged needed write access to merge; what applies is the approvals of the merged head (step 4).
  } else if (approver.type === 'Bot') {
    who.push({ code: 'approver-is-bot', message: `@${approver.login} is a bot; approvals by bots do not count` });
  } else if (!isAuthorisedApprover(config, approver)) {
    const { users, teams } = config.approvers;
    const listed = users.length > 0 || teams.length > 0;
    who.push({
      code: 'approver-unauthorised',
      message: listed
        ? `@${approver.login} is not one of the configured approvers (${[...users.map((u) => `@${u}`), ...teams.map((t) => `@${t}`)].join(', ')})`
        : `@${approver.login} needs write permission on the repository to approve an apply (has ${approver.permission})`,
    });
  }
  if (!merge && !config.allow_self_approval && isRequester(input.requesters, approver.login)) {
    const reasons = reasonsFor(input, approver.login);
    who.push({
      code: 'self-approval',
      message: `@${approver.login} is counted among the people who asked for this change${reasons.length > 0 ? ` (${reasons.join('; ')})` : ''} and cannot approve it; another approver must (\`apply.allow_self_approval\` is off). Counted: ${describeRequesters(input)}`,
    });
  }
  if (!config.allow_self_approval && (input.unattributedCommits?.length ?? 0) > 0) {
    const list = (input.unattributedCommits ?? []).slice(0, 5).map(short).join(', ');
    who.push({
      code: 'unattributed-commits',
      message: `commit${(input.unattributedCommits?.length ?? 0) === 1 ? '' : 's'} ${list} ${(input.unattributedCommits?.length ?? 0) === 1 ? 'is' : 'are'} linked to no GitHub account and infra-agent saw no push of ${(input.unattributedCommits?.length ?? 0) === 1 ? 'it' : 'them'}, so nobody can be ruled out as the author; push the branch again (the pusher is then counted) and approve the new plan`,
    });
  }
  if (who.length > 0) return refuse(who);

  // 3 The reviewed plan must be the plan of this branch on this base; otherwise re-plan and ask again.
  if (input.dependencyError) return refuse([{ code: 'dependency-cycle', message: input.dependencyError }]);
  // A head behind its base cannot be fixed by re-planning: its plan would undo what the base gained since.
  if (input.behindBase) return refuse([behindBaseRequirement(input.behindBase.baseRef)]);
  if (!input.plan) {
    return refuse([
      { code: 'no-plan', message: 'there is no saved plan for this pull request; comment `/infra plan` to make one' },
    ]);
  }
  const stale: Requirement[] = [];
  if (merge && input.mergedTreeMatches !== true) {
    stale.push({
      code: 'merge-differs',
      message:
        input.mergedTreeMatches === false
          ? `the merged commit ${short(input.mergeCommitSha ?? '')} is not the change that was planned (${short(input.plan.headSha)} merged into ${short(input.plan.baseSha)}): the base moved or the merge changed the code after the plan`
          : `infra-agent could not compare the merged commit ${short(input.mergeCommitSha ?? '')} with the planned change`,
    });
  }
  if (!same(input.plan.headSha, pr.headSha)) {
    stale.push({
      code: 'stale-head',
      message: input.planHeadInBranch
        ? `the branch moved since the plan (planned ${short(input.plan.headSha)}, head is now ${short(pr.headSha)})`
        : `the branch was rewritten since the plan (planned ${short(input.plan.headSha)} is no longer in it; head is ${short(pr.headSha)})`,
    });
  }
  if (!merge && !same(input.plan.baseSha, pr.baseSha)) {
    stale.push({
      code: 'stale-base',
      message: `the base branch moved since the plan (planned on ${short(input.plan.baseSha)}, base is now ${short(pr.baseSha)})`,
    });
  }
  if (input.humanCommits.length > 0) {
    const list = input.humanCommits
      .slice(0, 5)
      .map((c) => `${short(c.sha)} by ${c.who}`)
      .join(', ');
    const more = input.humanCommits.length > 5 ? ` and ${input.humanCommits.length - 5} more` : '';
    stale.push({
      code: 'human-commits',
      message: `commits were pushed by people after the plan (${list}${more}); they must be planned and reviewed`,
    });
  }
  // A merged PR cannot be planned again: its apply is refused, and the base branch is planned by a new PR.
  if (stale.length > 0) return merge ? refuse(stale) : { ok: false, action: 're-plan', missing: stale };

  // 4 Enough approvals of this head, and nobody standing on "changes requested".
  const missing: Requirement[] = [];
  if (input.review && !same(input.review.commitId, pr.headSha)) {
    missing.push({
      code: 'review-outdated',
      message: `this approval is for ${short(input.review.commitId)}, not the current head ${short(pr.headSha)}; approve again`,
    });
  }
  const latest = latestReviews(input.reviews);
  const blocking = [...latest.values()].filter((r) => r.state === 'CHANGES_REQUESTED').map((r) => `@${r.login}`);
  if (blocking.length > 0) {
    missing.push({
      code: 'changes-requested',
      message: `${blocking.join(', ')} requested changes; their review must be approved or dismissed first`,
    });
  }
  const approvals = countingApprovals(input);
  if (approvals.length < config.required_approvals) {
    missing.push({
      code: 'not-enough-approvals',
      message: `${config.required_approvals} approval${config.required_approvals === 1 ? '' : 's'} of the current head by authorised reviewers are required, ${approvals.length} counted${approvals.length > 0 ? ` (${approvals.map((a) => `@${a}`).join(', ')})` : ''}`,
    });
  }

  // 5 Every project: a saved plan bound to this head/base, a passing verdict, the lock free, not applied before.
  // `/infra apply <project…>` judges the projects it names; a dependency in the plan set must be applied first.
  const boundBase = merge ? input.plan.baseSha : pr.baseSha;
  const selected = selectProjects(input, missing);
  for (const p of selected) {
    const at = { project: p.name };
    const label = `\`${p.name}\`${p.workspace === 'default' ? '' : ` (workspace ${p.workspace})`}`;
    if (p.planHash === null) {
      missing.push({
        ...at,
        code: 'no-plan',
        message: `${label} has no plan${p.planError ? ` (${firstLine(p.planError)})` : ''}; fix it and comment \`/infra plan\``,
      });
      continue;
    }
    if (
      !p.savedPlan ||
      p.savedPlan.planHash !== p.planHash ||
      !same(p.savedPlan.headSha, pr.headSha) ||
      !same(p.savedPlan.baseSha, boundBase)
    ) {
      missing.push({
        ...at,
        code: 'plan-missing',
        message: `the saved plan of ${label} (${p.planHash.slice(0, 12)}) is not in the store for this head and base; comment \`/infra plan\``,
      });
      continue;
    }
    if (p.applyRecord) {
      const { state, runId } = p.applyRecord;
      if (state === 'applied') {
        missing.push({
          ...at,
          code: 'already-applied',
          message: `${label}: this plan was already applied (run ${runId})`,
        });
      } else if (state === 'applying') {
        missing.push({
          ...at,
          code: 'apply-interrupted',
          message: `${label}: an apply of this plan started (run ${runId}) and did not finish; it is never re-run automatically — check the state, then \`/infra unlock\` and \`/infra plan\``,
        });
      } else {
        missing.push({
          ...at,
          code: 'apply-failed-before',
          message: `${label}: applying this plan failed before (run ${runId}); a saved plan is applied once — fix the cause and comment \`/infra plan\``,
        });
      }
    }
    if (!p.verdict) {
      missing.push({
        ...at,
        code: 'gate-missing',
        message: `${label}: no policy result is recorded for this plan; comment \`/infra plan\``,
      });
    } else if (p.verdict.status === 'blocked') {
      const hard = [...new Set(p.verdict.findings.filter((f) => f.level === 'hard').map((f) => f.ruleId))];
      missing.push({
        ...at,
        code: 'verdict-blocked',
        message: `${label}: the policy verdict is blocked (${hard.length > 0 ? `hard findings ${hard.join(', ')} must be fixed` : p.verdict.reasons.map(firstLine).join('; ')})`,
      });
    } else if (p.verdict.status === 'needs-override') {
      const overridden = new Set(p.verdict.overrides.map((o) => o.ruleId));
      const open = [
        ...new Set(
          p.verdict.findings.filter((f) => f.level === 'soft' && !overridden.has(f.ruleId)).map((f) => f.ruleId),
        ),
      ];
      missing.push({
        ...at,
        code: 'soft-not-overridden',
        message: `${label}: soft findings ${open.join(', ')} need \`/infra override <RULE-ID> <reason>\` by a policy owner for this plan`,
      });
    }
    if (p.lock && p.lock.holder.pr !== pr.number) {
      missing.push({
        ...at,
        code: 'lock-held',
        message: `${label} is locked by #${p.lock.holder.pr}; it is applied after that pull request is merged, closed or unlocked`,
      });
    }
  }

  // 6 Mergeable (conflicts cannot be applied and then merged); a merged PR is past that.
  if (merge) return missing.length > 0 ? refuse(missing) : { ok: true, action: 'apply' };
  if (pr.draft) missing.push({ code: 'pr-draft', message: 'the pull request is a draft; mark it ready for review' });
  if (config.require_mergeable) {
    if (pr.mergeable === false || pr.mergeableState === 'dirty') {
      missing.push({ code: 'not-mergeable', message: 'the pull request has merge conflicts with its base' });
    } else if (pr.mergeable === null) {
      missing.push({
        code: 'mergeability-unknown',
        message: 'GitHub has not finished checking whether the pull request can be merged; approve again in a minute',
      });
    }
  }
  return missing.length > 0 ? refuse(missing) : { ok: true, action: 'apply' };
}

const HOW_TO_APPLY: Record<ApplyTrigger, string> = {
  approval: 'an approving review of the current head applies it',
  comment: 'after the approvals, an authorised approver comments `/infra apply`',
  merge: 'merging the approved pull request applies it',
};

/** The repo chose another way to apply (`apply.on`): say which, and how to apply here. */
export function applyModeRequirement(on: ApplyTrigger, trigger: ApplyTrigger): Requirement {
  const asked = { approval: 'an approval', comment: '`/infra apply`', merge: 'a merge' }[trigger];
  return {
    code: 'apply-mode',
    message: `this repository applies on ${on} (\`apply.on: ${on}\`), not on ${asked}: ${HOW_TO_APPLY[on]}`,
  };
}

/**
 * The projects an apply judges: all of the plan set, or those `/infra apply <project…>` names. A name the plan set
 * does not have, and a dependency in the set that is neither named nor applied before, are missing requirements.
 */
export function selectProjects(input: ApplyRequirementsInput, missing: Requirement[] = []): ProjectFacts[] {
  const only = input.onlyProjects ?? [];
  if (only.length === 0) {
    // After `/infra apply <some>`, a plain `/infra apply` applies the rest: what was applied is not applied again.
    const rest = input.projects.filter((p) => p.applyRecord?.state !== 'applied');
    return rest.length > 0 && input.trigger === 'comment' ? rest : input.projects;
  }
  const names = new Set(input.projects.map((p) => p.name));
  for (const name of only) {
    if (!names.has(name)) {
      missing.push({
        code: 'unknown-project',
        project: name,
        message: `\`${name}\` is not a project of this pull request's plan (${[...names].map((n) => `\`${n}\``).join(', ') || 'none'})`,
      });
    }
  }
  const chosen = input.projects.filter((p) => only.includes(p.name));
  const appliedBefore = new Set(input.projects.filter((p) => p.applyRecord?.state === 'applied').map((p) => p.name));
  for (const p of chosen) {
    for (const d of p.dependsOn ?? []) {
      if (names.has(d) && !only.includes(d) && !appliedBefore.has(d)) {
        missing.push({
          code: 'dependency-not-applied',
          project: p.name,
          message: `\`${p.name}\` depends on \`${d}\`, which this pull request also changes and is not applied yet: apply \`${d}\` first or both together`,
        });
      }
    }
  }
  return chosen;
}

/** The refusal for a head that does not contain its base's tip. `baseRef` is a git ref name (no backticks in it). */
export function behindBaseRequirement(baseRef: string): Requirement {
  const ref = baseRef.replace(/[`\s]/g, '').slice(0, 255);
  return {
    code: 'behind-base',
    message: `the PR is behind \`${ref}\`: update the branch (merge or rebase \`${ref}\` into it), then the app re-plans and asks for approval again`,
  };
}

/** Untrusted text (terraform diagnostics) shown inline: its first line, as plain text (text.ts), bounded. */
function firstLine(text: string): string {
  return renderInline(text.split('\n')[0] ?? '', { max: 200 });
}
