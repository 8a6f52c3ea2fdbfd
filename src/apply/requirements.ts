// The apply requirements: pure. Given everything known about an approving review (the PR, its reviews and commits,
// the approver's permission and teams, the plan set, each project's saved plan, verdict, lock and apply record),
// decide to apply, to refuse (naming every requirement that is missing), or to re-plan (the reviewed plan no
// longer matches the branch or its base: the app never applies a plan nobody saw).
import type { ApplyConfig } from '../config/schema.js';
import { PERMISSIONS } from '../config/schema.js';
import type { Verdict } from '../core/types.js';
import { renderInline } from '../markdown/text.js';
import type { LockRecord } from '../store/types.js';
import type { PullRequestFacts, RepoPermission, ReviewFacts, ReviewState } from './port.js';

export type RequirementCode =
  | 'apply-disabled'
  | 'pr-not-open'
  | 'pr-draft'
  | 'not-app-pr'
  | 'review-not-approval'
  | 'approver-is-bot'
  | 'approver-unauthorised'
  | 'self-approval'
  | 'unattributed-commits'
  | 'review-outdated'
  | 'changes-requested'
  | 'not-enough-approvals'
  | 'no-plan'
  | 'plan-missing'
  | 'stale-head'
  | 'stale-base'
  | 'behind-base'
  | 'human-commits'
  | 'gate-missing'
  | 'verdict-blocked'
  | 'soft-not-overridden'
  | 'lock-held'
  | 'already-applied'
  | 'apply-interrupted'
  | 'apply-failed-before'
  | 'not-mergeable'
  | 'mergeability-unknown'
  | 'dependency-cycle';

export interface Requirement {
  code: RequirementCode;
  /** One sentence a reviewer can act on. Built from validated data only (logins, SHAs, rule ids, numbers). */
  message: string;
  /** The project it concerns, when it is per project. */
  project?: string;
}

/** Who a login is, as far as applying goes. `teams` holds the configured `org/team` slugs the login belongs to. */
export interface ActorFacts {
  login: string;
  type: string;
  permission: RepoPermission;
  teams: string[];
}

/** What the store knows about applying one plan hash: the claim the apply stage writes before terraform runs. */
export type ApplyRecordState = 'applying' | 'applied' | 'failed';

export interface ProjectFacts {
  name: string;
  workspace: string;
  /** The plan hash the plan set names (null: the project did not plan). */
  planHash: string | null;
  planError?: string;
  /** The saved plan's binding, when the store has it for that hash. */
  savedPlan?: { headSha: string; baseSha: string; planHash: string };
  /** Decided from the recorded gate and the overrides given for this plan hash; undefined when no gate record. */
  verdict?: Verdict;
  lock?: LockRecord;
  applyRecord?: { state: ApplyRecordState; runId: string };
}

export interface ApplyRequirementsInput {
  config: ApplyConfig;
  pr: Pick<PullRequestFacts, 'number' | 'state' | 'draft' | 'headSha' | 'baseSha' | 'mergeable' | 'mergeableState'>;
  /** Opened by this app and carrying its markers. */
  ownedByApp: boolean;
  review: { id: number; login: string; state: ReviewState; commitId: string };
  approver: ActorFacts;
  /** Who asked for the change (issue author, labeller) and who pushed code to the branch: they cannot approve it. */
  requesters: string[];
  /** Why each requester is counted (login → reasons, already safe Markdown), for the refusal. */
  requesterReasons?: Record<string, string[]>;
  /**
   * Commits on the branch GitHub links to no account (author and committer unknown) that no recorded push covers:
   * nobody can be ruled out as their author, so no approval counts until they are pushed again.
   */
  unattributedCommits?: string[];
  /** Facts of every reviewer with a review (the approver included); a reviewer missing here does not count. */
  reviewers: Record<string, ActorFacts>;
  reviews: ReviewFacts[];
  /** The latest plan set's binding; undefined when the PR never planned. */
  plan?: { headSha: string; baseSha: string };
  /** Commits after the plan's head not made by the app. */
  humanCommits: { sha: string; who: string }[];
  /** False when the plan's head is no longer in the branch (force-push). */
  planHeadInBranch: boolean;
  projects: ProjectFacts[];
  /** Set when the projects' depends_on form a cycle. */
  dependencyError?: string;
  /**
   * Set when the PR head does not contain its base branch's tip (git merge-base --is-ancestor said no): a plan of that
   * head would revert what the base gained. Unset when the head contains the base, or when it was not checked.
   */
  behindBase?: { baseRef: string; baseSha: string };
}

export type ApplyDecision =
  | { ok: true; action: 'apply' }
  | { ok: false; action: 'refuse'; missing: Requirement[] }
  | { ok: false; action: 're-plan'; missing: Requirement[] };

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
  const refuse = (missing: Requirement[]): ApplyDecision => ({ ok: false, action: 'refuse', missing });

  // 1 Nothing else matters when the app should not act at all.
  const basic: Requirement[] = [];
  if (!config.enabled) {
    basic.push({ code: 'apply-disabled', message: 'applying on approval is turned off (`apply.enabled: false`)' });
  }
  if (!input.ownedByApp) {
    basic.push({
      code: 'not-app-pr',
      message: 'this pull request was not opened by infra-agent, so it has no reviewed plan',
    });
  }
  if (pr.state !== 'open') basic.push({ code: 'pr-not-open', message: 'the pull request is not open' });
  if (input.review.state !== 'APPROVED') {
    basic.push({ code: 'review-not-approval', message: 'only an approving review applies the plan' });
  }
  if (basic.length > 0) return refuse(basic);

  // 2 Who approved: an unauthorised approval never re-plans or applies anything.
  const who: Requirement[] = [];
  if (approver.type === 'Bot') {
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
  if (!config.allow_self_approval && isRequester(input.requesters, approver.login)) {
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
  if (!same(input.plan.headSha, pr.headSha)) {
    stale.push({
      code: 'stale-head',
      message: input.planHeadInBranch
        ? `the branch moved since the plan (planned ${short(input.plan.headSha)}, head is now ${short(pr.headSha)})`
        : `the branch was rewritten since the plan (planned ${short(input.plan.headSha)} is no longer in it; head is ${short(pr.headSha)})`,
    });
  }
  if (!same(input.plan.baseSha, pr.baseSha)) {
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
  if (stale.length > 0) return { ok: false, action: 're-plan', missing: stale };

  // 4 Enough approvals of this head, and nobody standing on "changes requested".
  const missing: Requirement[] = [];
  if (!same(input.review.commitId, pr.headSha)) {
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
  for (const p of input.projects) {
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
      !same(p.savedPlan.baseSha, pr.baseSha)
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

  // 6 Mergeable (conflicts cannot be applied and then merged).
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
