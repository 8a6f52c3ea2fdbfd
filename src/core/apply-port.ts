// The only way the apply module talks to GitHub: a small port bound to one repository. The GitHub layer implements
// it over the installation's Octokit; tests pass an in-memory fake. Everything the port returns is already parsed
// into these plain shapes, so the apply logic never sees an HTTP response, and every decision is made on data.
import type { PERMISSIONS } from './github.js';

export type RepoPermission = (typeof PERMISSIONS)[number] | 'none';

export interface PullRequestFacts {
  number: number;
  state: 'open' | 'closed';
  merged: boolean;
  draft: boolean;
  headSha: string;
  /** The base branch's tip as GitHub reports it for this PR now (moves when the base branch moves). */
  baseSha: string;
  baseRef: string;
  author: { login: string; type: string };
  body: string;
  /** null while GitHub is still computing it. */
  mergeable: boolean | null;
  /** GitHub's mergeable_state: clean, unstable, blocked, behind, dirty, draft, has_hooks, unknown. */
  mergeableState: string;
}

export type ReviewState = 'APPROVED' | 'CHANGES_REQUESTED' | 'COMMENTED' | 'DISMISSED' | 'PENDING';

export interface ReviewFacts {
  id: number;
  login: string;
  /** 'Bot' reviews never count. */
  userType: string;
  state: ReviewState;
  /** The head commit the review was made on. */
  commitId: string;
  submittedAt: string;
}

export interface CommitFacts {
  sha: string;
  /** GitHub login of the author (undefined when the email maps to no account). */
  authorLogin: string | undefined;
  committerLogin: string | undefined;
  /** Git author name, for messages when there is no login. */
  authorName: string;
}

export type MergeMethod = 'merge' | 'squash' | 'rebase';

export interface CheckRunReport {
  headSha: string;
  status: 'in_progress' | 'completed';
  conclusion?: 'success' | 'failure' | 'neutral' | 'action_required';
  title: string;
  /** Markdown, already bounded (GitHub caps the summary at 65,535 characters). */
  summary: string;
}

export interface ApplyGitHubPort {
  /** `owner/name`. */
  readonly repo: string;
  getPullRequest(pr: number): Promise<PullRequestFacts>;
  /** Every review of the PR (all pages), in the order GitHub returns them (oldest first). */
  listReviews(pr: number): Promise<ReviewFacts[]>;
  /** Every commit of the PR (all pages), oldest first. */
  listCommits(pr: number): Promise<CommitFacts[]>;
  /** The issue's author. */
  getIssueAuthor(issue: number): Promise<string>;
  /** The login's permission on the repository ('none' when not a collaborator). */
  getPermission(login: string): Promise<RepoPermission>;
  /** Whether login is an active member of `org/team` (the team slug). */
  isTeamMember(org: string, teamSlug: string, login: string): Promise<boolean>;
  /** Post a comment on an issue or PR; returns its id. */
  comment(issueOrPr: number, body: string): Promise<number>;
  /** Create or update the `infra-agent/apply` check run for a head SHA. */
  reportApplyCheck(report: CheckRunReport): Promise<void>;
  /**
   * Merge the PR, only if its head is still `sha` (GitHub refuses otherwise). Never throws for a refusal: returns
   * merged=false with GitHub's reason.
   */
  mergePullRequest(
    pr: number,
    opts: { sha: string; method: MergeMethod },
  ): Promise<{ merged: boolean; message: string }>;
  closeIssue(issue: number): Promise<void>;
  /** Add and remove labels (removing a label that is not there is not an error). */
  setLabels(issueOrPr: number, change: { add: string[]; remove: string[] }): Promise<void>;
}

/** Labels the apply stage sets on the PR. */
export const APPLY_LABELS = {
  applying: 'infra-agent:applying',
  applied: 'infra-agent:applied',
  failed: 'infra-agent:apply-failed',
  needsHuman: 'infra-agent:needs-human',
} as const;
