// How the App's GitHub client rides out GitHub's own faults (an Octokit plugin on every client Probot makes):
// - rate limits, primary and secondary (403/429 with `retry-after` or `x-ratelimit-reset`): GitHub did not process
//   the request, so it is sent again after the wait GitHub asks for, and every write of that installation waits with
//   it (one pause per installation, shared by all its clients in this process), within a time budget;
// - 5xx and network errors on requests that are safe to repeat (reads, PUT/PATCH/DELETE, and the POSTs that are
//   idempotent on GitHub's side: labels, reactions, tokens, GraphQL minimize) are retried with backoff;
// - a create (POST of a PR, comment, check run) is NEVER repeated here: when its answer is lost GitHub may have made
//   the object, so the caller looks it up by its natural key before trying again (store/idempotency.ts).
// It replaces @octokit/plugin-retry (which repeats POSTs too, and so duplicated comments after an ambiguous 502).
import type { Octokit } from '@octokit/core';

export interface ResilienceOptions {
  /** How long rate-limit waits may add up to for one request before it fails (default 10 minutes). */
  rateLimitBudgetMs?: number;
  /** Rate-limited re-sends of one request at most (default 20). */
  rateLimitRetries?: number;
  /** The wait for a secondary limit that names none (GitHub: "at least one minute"; default 60 s). */
  secondaryWaitMs?: number;
  /** Re-sends of a safe request after a 5xx or a network error (default 3), after 1, 2, 4… × `serverErrorDelayMs`. */
  serverErrorRetries?: number;
  serverErrorDelayMs?: number;
  /** Told when a wait starts (e.g. to log it, or to say so in a progress comment past a minute). */
  onWait?: (info: RateLimitWait) => void;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

export interface RateLimitWait {
  installation: string;
  method: string;
  url: string;
  /** This wait. */
  waitMs: number;
  /** All waits of this request so far, this one included. */
  totalMs: number;
  kind: 'primary' | 'secondary';
}

/** Pauses per installation: `until` in ms since the epoch. Module-wide, so every client of an installation obeys. */
const pauses = new Map<string, number>();

const IDEMPOTENT_POST = [/\/labels$/, /\/reactions$/, /\/access_tokens$/, /graphql$/, /\/attempts$/];

interface RequestOptions {
  method?: string;
  url?: string;
  request?: { retries?: number };
}

function headerOf(err: unknown, name: string): string | undefined {
  if (typeof err !== 'object' || err === null || !('response' in err)) return undefined;
  const response = err.response;
  if (typeof response !== 'object' || response === null || !('headers' in response)) return undefined;
  const headers = response.headers;
  if (typeof headers !== 'object' || headers === null) return undefined;
  const value = (headers as Record<string, unknown>)[name];
  return typeof value === 'string' || typeof value === 'number' ? String(value) : undefined;
}

function statusOf(err: unknown): number | undefined {
  if (typeof err !== 'object' || err === null || !('status' in err)) return undefined;
  return typeof err.status === 'number' ? err.status : undefined;
}

const NETWORK = new Set(['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EAI_AGAIN', 'UND_ERR_SOCKET', 'EPIPE']);

function networkError(err: unknown): boolean {
  // Octokit wraps fetch failures in a RequestError with status 500 and the cause inside.
  const cause = typeof err === 'object' && err !== null && 'cause' in err ? err.cause : undefined;
  const code = typeof cause === 'object' && cause !== null && 'code' in cause ? String(cause.code) : '';
  return NETWORK.has(code) || /fetch failed|ECONNRESET|socket hang up/i.test(err instanceof Error ? err.message : '');
}

/** The wait a rate-limit answer asks for, or undefined when the error is not a rate limit. */
export function rateLimitWait(
  err: unknown,
  now: number,
  secondaryWaitMs: number,
): { waitMs: number; kind: 'primary' | 'secondary' } | undefined {
  const status = statusOf(err);
  if (status !== 403 && status !== 429) return undefined;
  const retryAfter = headerOf(err, 'retry-after');
  const remaining = headerOf(err, 'x-ratelimit-remaining');
  const reset = headerOf(err, 'x-ratelimit-reset');
  const message = err instanceof Error ? err.message : '';
  const secondary = /secondary rate limit|abuse/i.test(message);
  if (retryAfter !== undefined && Number.isFinite(Number(retryAfter))) {
    return { waitMs: Math.max(0, Number(retryAfter) * 1000), kind: secondary ? 'secondary' : 'primary' };
  }
  if (remaining === '0' && reset !== undefined && Number.isFinite(Number(reset))) {
    return { waitMs: Math.max(0, Number(reset) * 1000 - now), kind: 'primary' };
  }
  if (secondary || status === 429) return { waitMs: secondaryWaitMs, kind: 'secondary' };
  // A 403 that is not a rate limit (permissions): an answer, not a fault.
  return undefined;
}

function safeToRepeat(method: string, url: string): boolean {
  if (method !== 'POST') return true;
  return IDEMPOTENT_POST.some((re) => re.test(url.split('?')[0] ?? ''));
}

export function resilience(defaults: ResilienceOptions = {}) {
  return (octokit: Octokit, octokitOptions: Record<string, unknown>) => {
    const opts = { ...defaults, ...(octokitOptions['resilience'] as ResilienceOptions | undefined) };
    const now = opts.now ?? Date.now;
    const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
    const budget = opts.rateLimitBudgetMs ?? 10 * 60_000;
    const maxRateRetries = opts.rateLimitRetries ?? 20;
    const secondaryWait = opts.secondaryWaitMs ?? 60_000;
    const maxServerRetries = opts.serverErrorRetries ?? 3;
    const serverDelay = opts.serverErrorDelayMs ?? 1_000;
    const auth = octokitOptions['auth'];
    const installationId =
      typeof auth === 'object' && auth !== null && 'installationId' in auth ? String(auth.installationId) : 'app';
    const baseUrl = typeof octokitOptions['baseUrl'] === 'string' ? octokitOptions['baseUrl'] : 'github';
    const pauseKey = `${baseUrl}#${installationId}`;

    octokit.hook.wrap('request', async (request, options) => {
      const o = options as RequestOptions;
      const method = (o.method ?? 'GET').toUpperCase();
      const url = o.url ?? '';
      const serverRetries = o.request?.retries ?? maxServerRetries;
      let waited = 0;
      let rateRetries = 0;
      let serverFailures = 0;
      for (;;) {
        if (method !== 'GET' && method !== 'HEAD') {
          const until = pauses.get(pauseKey) ?? 0;
          const pause = until - now();
          if (pause > 0) {
            waited += pause;
            await sleep(pause);
          }
        }
        try {
          return await request(options);
        } catch (err) {
          const limit = rateLimitWait(err, now(), secondaryWait);
          if (limit) {
            if (rateRetries >= maxRateRetries || waited + limit.waitMs > budget) throw err;
            rateRetries += 1;
            waited += limit.waitMs;
            pauses.set(pauseKey, Math.max(pauses.get(pauseKey) ?? 0, now() + limit.waitMs));
            opts.onWait?.({
              installation: installationId,
              method,
              url,
              waitMs: limit.waitMs,
              totalMs: waited,
              kind: limit.kind,
            });
            await sleep(limit.waitMs);
            continue;
          }
          const status = statusOf(err);
          const serverError = (status !== undefined && status >= 500) || networkError(err);
          if (serverError && safeToRepeat(method, url) && serverFailures < serverRetries) {
            await sleep(serverDelay * 2 ** serverFailures);
            serverFailures += 1;
            continue;
          }
          throw err;
        }
      }
    });
    return {};
  };
}
