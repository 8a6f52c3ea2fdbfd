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

const NETWORK_CODES = ['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EAI_AGAIN', 'UND_ERR_SOCKET', 'EPIPE'];

/** A 403 that is GitHub's rate limit (primary: remaining 0; secondary: its message or a retry-after). */
export function isRateLimit(err: unknown): boolean {
  const status = httpStatus(err);
  if (status === 429) return true;
  if (status !== 403 || typeof err !== 'object' || err === null) return false;
  const response = 'response' in err ? err.response : undefined;
  const headers =
    typeof response === 'object' && response !== null && 'headers' in response ? response.headers : undefined;
  const h: Record<string, unknown> = typeof headers === 'object' && headers !== null ? { ...headers } : {};
  if (h['retry-after'] !== undefined || h['x-ratelimit-remaining'] === '0') return true;
  return /rate limit/i.test(err instanceof Error ? err.message : '');
}

/** GitHub or the network failed, not the request: worth trying again later (5xx, rate limits, resets). */
export function isTransient(err: unknown): boolean {
  const status = httpStatus(err);
  if (status !== undefined) return status >= 500 || isRateLimit(err);
  const code = typeof err === 'object' && err !== null && 'code' in err ? String(err.code) : '';
  return NETWORK_CODES.includes(code);
}

/** How a create on GitHub is retried in place (each retry looks the object up first: see store/idempotency.ts). */
export const CREATE_RETRY = { when: isTransient, attempts: 3, delayMs: 500 };
