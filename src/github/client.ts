// The GitHub client type every module in src/github and src/pipeline takes: Probot's installation-scoped Octokit
// (REST endpoint methods, pagination, retries, GraphQL). Kept in one place so a module never imports Probot for a type.
import type { ProbotOctokit } from 'probot';

export type GitHubClient = InstanceType<typeof ProbotOctokit>;

export interface RepoRef {
  owner: string;
  repo: string;
}

/** An HTTP status from an Octokit RequestError, without trusting its shape. */
export function httpStatus(err: unknown): number | undefined {
  if (typeof err === 'object' && err !== null && 'status' in err) {
    const s = (err as { status: unknown }).status;
    return typeof s === 'number' ? s : undefined;
  }
  return undefined;
}
