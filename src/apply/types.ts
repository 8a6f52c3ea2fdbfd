// The shapes the apply stage is called with and answers: its dependencies (the GitHub port, the store, a checkout,
// terraform), the three ways an apply is asked for (an approving review, an `/infra apply` comment, a merge — the
// repo's `apply.on` picks which one counts) and the outcome. Shared by the entry (apply.ts) and its steps.
import type { RepoConfig } from '../config/schema.js';
import type { ApplyGitHubPort, PullRequestFacts, ReviewState } from '../core/apply-port.js';
import type { Store } from '../store/types.js';
import type { Terraform } from '../terraform/engine.js';
import type { LockWaiter } from './locks.js';
import type { ProjectApplyReport } from './messages.js';
import type { ApplyTrigger, Requirement } from './requirements.js';

export interface ApplyDeps {
  store: Store;
  port: ApplyGitHubPort;
  /** The app's bot login (`<slug>[bot]`): its commits are not human commits, its PRs are the ones it applies. */
  botLogin: string;
  /**
   * A fresh checkout of the repository at `sha`; `cleanup` removes it. With `merge`, the checkout is that head merged
   * into that base (what a person's PR was planned as); it fails when the base is no longer at that SHA.
   */
  checkout: (
    sha: string,
    merge?: { headSha: string; baseSha: string },
  ) => Promise<{ root: string; cleanup: () => Promise<void> }>;
  /**
   * Whether the PR head contains its base branch's tip (git, in a checkout). Asked only when the decision would apply
   * or re-plan. Absent: not checked (the requirement is then not evaluated).
   */
  headContainsBase?: (pr: PullRequestFacts) => Promise<boolean>;
  /**
   * Merge mode: whether the merged commit's tree is exactly the tree that was planned (the merge of the plan's head
   * into the plan's base). Absent: a merge-apply is refused (nobody could tell what was merged).
   */
  mergedTreeMatchesPlan?: (merge: { mergeCommitSha: string; headSha: string; baseSha: string }) => Promise<boolean>;
  /** Queue a plan run for a PR (stale plan, a lock it waited for freed). */
  requestPlan: (req: { pr: number; reason: string }) => Promise<void>;
  /** Default: the pinned terraform with the config's passthrough env and plan timeout. */
  terraform?: (config: RepoConfig) => Terraform;
  /** How many independent projects apply at once (default 4). */
  applyConcurrency?: number;
  signal?: AbortSignal;
}

interface RequestBase {
  pr: number;
  config: RepoConfig;
  /** The apply run the enqueuer created (kind 'apply'); when absent one is created. */
  runId?: string;
}

/** `apply.on: approval`: an approving review. */
export interface ApprovalRequest extends RequestBase {
  trigger?: 'approval';
  review: { id: number; login: string; userType: string; state: ReviewState; commitId: string };
}

/** `apply.on: comment`: `/infra apply [project…]` by `login` in comment `commentId`. */
export interface CommentApplyRequest extends RequestBase {
  trigger: 'comment';
  comment: { id: number; login: string; userType: string; projects: string[] };
}

/** `apply.on: merge`: the PR was merged by `login` into `mergeCommitSha`. */
export interface MergeApplyRequest extends RequestBase {
  trigger: 'merge';
  merge: { login: string; userType: string; mergeCommitSha: string };
}

export type ApplyRequest = ApprovalRequest | CommentApplyRequest | MergeApplyRequest;
export type { ApplyTrigger };

export function triggerOf(req: ApplyRequest): ApplyTrigger {
  return req.trigger ?? 'approval';
}

/** Who asked for this apply: the approver, the commenter or the person who merged. */
export function actorOf(req: ApplyRequest): { login: string; userType: string } {
  if (req.trigger === 'comment') return { login: req.comment.login, userType: req.comment.userType };
  if (req.trigger === 'merge') return { login: req.merge.login, userType: req.merge.userType };
  return { login: req.review.login, userType: req.review.userType };
}

export type ApprovalOutcome =
  | { outcome: 'duplicate' }
  | { outcome: 'ignored'; reason: string }
  | { outcome: 'refused'; missing: Requirement[] }
  | { outcome: 're-plan'; missing: Requirement[] }
  | { outcome: 'applied'; runId: string; projects: ProjectApplyReport[]; merged: boolean; waiters: LockWaiter[] }
  | { outcome: 'failed'; runId: string; projects: ProjectApplyReport[]; error: string }
  | { outcome: 'needs-human'; runId: string; error: string };

export interface Failure {
  error: string;
  /** Terraform may have changed something. */
  pointOfNoReturn: boolean;
  /** Not a terraform error we understand: with pointOfNoReturn, the run needs a human. */
  unexpected?: boolean;
}

/** The commit the apply checks out and the head/base the saved plans must be bound to. */
export interface ApplyTarget {
  pr: PullRequestFacts;
  /** What is checked out: the PR head, or the merge commit on the base branch (merge mode). */
  checkoutSha: string;
  /** A person's PR is planned as merged: the checkout is the head merged into the base, as the plan was. */
  mergeOf?: { headSha: string; baseSha: string };
  headSha: string;
  baseSha: string;
}

export function applyClaimKey(repo: string, pr: number, project: string, workspace: string, planHash: string): string {
  return `apply:${repo}#${pr}:${project}/${workspace}:${planHash}`;
}
