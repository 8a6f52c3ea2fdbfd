// What one run carries from stage to stage (run.ts executes the stages, publish.ts ends them): the job, the
// clients, and what each stage found. Its own module so the stages share it without importing each other.
import type { AgentResult } from '../agent/loop.js';
import type { RepoConfig } from '../config/schema.js';
import type { GitHubClient, RepoRef } from '../core/github.js';
import type { RunJob } from '../core/jobs.js';
import type { ChecksResult, Project } from '../core/types.js';
import type { DefaultBranchSnapshot } from '../policy/guard/baseline.js';
import type { RepoIndex } from '../repo/index.js';
import type { WorkerDeps } from '../stages/deps.js';
import type { Workspace } from '../stages/workspace.js';
import type { MemoizedChecks } from './checks-memo.js';
import type { Progress } from './progress.js';

export interface PublishedPr {
  number: number;
  url: string;
  headSha: string;
  checkRuns: Record<string, string>;
  /** The final line of the progress comment / the reply to a command. */
  resultMarkdown: string;
}

export interface RunContext {
  job: RunJob;
  deps: WorkerDeps;
  signal: AbortSignal;
  octokit: GitHubClient;
  token: string;
  repo: RepoRef;
  config: RepoConfig;
  issue: { title: string; body: string };
  /** The app's PR for revise/plan runs (and after publish for generate). */
  pr?: { number: number; body: string; headRef: string; headSha: string; htmlUrl: string };
  workspace?: Workspace;
  branch?: string;
  /** Remote head of the branch when checked out (the push lease), undefined when the branch is new. */
  remoteHead?: string;
  baseSha?: string;
  /** The checkout is the branch merged with its base (a plan of a branch behind it), not the branch alone. */
  plannedAsMerge?: boolean;
  index?: RepoIndex;
  project?: Project;
  agent?: AgentResult;
  checks?: ChecksResult;
  planDir?: string;
  /** The default branch's Terraform files and custom policies: what is already allowed, and the Rego that judges. */
  defaultBranch?: DefaultBranchSnapshot;
  published?: PublishedPr;
  /** The thread's progress comment (or command reply): where the App says what it ignored. */
  progress?: Progress;
  /** This run's checks, with result-level reuse: an unchanged checkout is not checked twice. */
  checker?: MemoizedChecks;
}
