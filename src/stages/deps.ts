// What a worker needs, injected: the store, installation-scoped GitHub access, the agent, the checks and the policy
// renderer. `serve` and `demo` wire the real ones (src/pipeline/wiring.ts); tests swap the model (scripted server) and
// GitHub (the stand-in), never the pipeline itself.
import type { Logger } from 'pino';
import type { AgentResult, RevisionInput } from '../agent/loop.js';
import type { RepoConfig } from '../config/schema.js';
import type { GitHubClient } from '../core/github.js';
import type { ChecksResult, Project, Verdict } from '../core/types.js';
import type { Queue } from '../queue/types.js';
import type { RepoIndex } from '../repo/index.js';
import type { Store } from '../store/types.js';
import type { RunChecksOptions } from './checks.js';
import type { GitIdentity } from './workspace.js';

export interface AgentTask {
  repoRoot: string;
  project: Project;
  config: RepoConfig;
  /** The request as the humans wrote it (sanitised again by the agent before the prompt). */
  request: string;
  revision?: RevisionInput;
  /** The checks bound to this checkout, for the agent's run_checks tool and its final check. */
  checks: (signal?: AbortSignal) => Promise<ChecksResult>;
  /** The run's index of the checkout (taken before the agent starts), so the agent does not index it again. */
  index?: RepoIndex;
  signal?: AbortSignal;
}

export type AgentRunner = (task: AgentTask) => Promise<AgentResult>;
export type Checker = (opts: RunChecksOptions) => Promise<ChecksResult>;

export interface Renderers {
  /** The policy report by level (markdown) for the PR body. */
  policyMarkdown(verdict: Verdict): string;
}

export interface WorkerDeps {
  store: Store;
  /** An installation's client and a token for git over HTTPS (never logged, never in a child's environment). */
  installation(installationId: number): Promise<{ octokit: GitHubClient; token: string }>;
  /** The installation's client alone (no git token minted): what webhook intake needs. Default: `installation`. */
  installationClient?(installationId: number): Promise<GitHubClient>;
  agent: AgentRunner;
  checks: Checker;
  renderers: Renderers;
  /** e.g. `https://x-access-token:{token}@github.com/{owner}/{repo}.git`. */
  gitUrlTemplate: string;
  /** Commits are authored by the app. */
  author: GitIdentity;
  /** Parent folder of run checkouts (default the OS temp dir). */
  workRoot?: string;
  log: Logger;
  /** The queue, for runs a run asks for (a re-plan of a stale plan, PRs that waited on a released lock). */
  queue?: Pick<Queue, 'enqueue'>;
  /** The app's bot login (`<slug>[bot]`) when known: its commits are not a person's, its PRs are the ones it applies. */
  botLogin?: string;
  /** Base URL of the web UI, for links in comments (default https://github.com). */
  webUrl?: string;
}
