// The words of the apply decision: what asks for an apply, each requirement (code + a sentence a reviewer can act
// on), the facts about the actor, each project and the PR that the pure decision (requirements.ts) is given, and the
// decision itself. Types only.
import type { ApplyConfig } from '../config/schema.js';
import type { PullRequestFacts, RepoPermission, ReviewFacts, ReviewState } from '../core/apply-port.js';
import type { Verdict } from '../core/types.js';
import type { LockRecord } from '../store/types.js';

/** What asks for an apply; the repo's `apply.on` names the one that counts. */
export type ApplyTrigger = 'approval' | 'comment' | 'merge';

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
  | 'dependency-cycle'
  | 'apply-mode'
  | 'pr-not-merged'
  | 'merge-differs'
  | 'unknown-project'
  | 'dependency-not-applied';

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
  /** Projects (by name) of the plan set this one depends on. */
  dependsOn?: string[];
}

export interface ApplyRequirementsInput {
  config: ApplyConfig;
  /** What asked for the apply (default: an approving review). It must be the repo's `apply.on`. */
  trigger?: ApplyTrigger;
  pr: Pick<PullRequestFacts, 'number' | 'state' | 'draft' | 'headSha' | 'baseSha' | 'mergeable' | 'mergeableState'> &
    Partial<Pick<PullRequestFacts, 'merged'>>;
  /** Opened by this app, or a person's PR the app planned (a plan set is recorded for it). */
  ownedByApp: boolean;
  /** The approving review (trigger `approval` only). */
  review?: { id: number; login: string; state: ReviewState; commitId: string };
  /** `/infra apply <project…>`: only these (empty or absent: every project of the plan set). */
  onlyProjects?: string[];
  /** Trigger `merge`: the commit the PR was merged into its base as. */
  mergeCommitSha?: string;
  /**
   * Trigger `merge`: whether that commit's tree is the tree that was planned (the plan's head merged into the plan's
   * base). Undefined: not known, refused.
   */
  mergedTreeMatches?: boolean;
  /** Who asked for this apply: the approver, the `/infra apply` commenter, or (merge) the person who merged. */
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
