// The words for GitHub every layer shares: the client type every module that talks to GitHub takes (Probot's
// installation-scoped Octokit: REST endpoint methods, pagination, retries, GraphQL; kept in one place so a module
// never imports Probot for a type), GitHub's role ladder, who counts as a bot, and which of its errors are transient.
import type { ProbotOctokit } from 'probot';

/** GitHub's repository role ladder, lowest first (custom roles report their base role). */
export const PERMISSIONS = ['read', 'triage', 'write', 'maintain', 'admin'] as const;
/** Bots (including this app) never start runs: `sender.type` is Bot for apps, and `[bot]` logins catch the rest. */
export function isBot(actor: { login: string; type: string }): boolean {
  return actor.type === 'Bot' || actor.login.endsWith('[bot]');
}

/** Whether a PR's head lives in another repository than its base (GitHub gives `head.repo: null` for a deleted fork). */
export function isForkPullRequest(pr: { head: { repo: { full_name: string } | null } }, baseFullName: string): boolean {
  return pr.head.repo === null || pr.head.repo.full_name.toLowerCase() !== baseFullName.toLowerCase();
}

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
