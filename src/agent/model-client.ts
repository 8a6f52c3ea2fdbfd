// The model client: one Messages API call with tools, on the real @anthropic-ai/sdk. Retries are ours, not the
// SDK's (maxRetries: 0), so they are bounded, tested and explained: 429 / 529 / 5xx / connection failures are retried
// with exponential backoff and full jitter, honouring `retry-after`; after the last try the caller gets a ModelError
// that says what happened in words. The response is parsed with zod: it is input from outside like any other.
import Anthropic from '@anthropic-ai/sdk';
import type { MessageParam, TextBlockParam, Tool } from '@anthropic-ai/sdk/resources/messages/messages';
import { z } from 'zod';

/** The newest Sonnet the installed SDK knows and does not mark as deprecated (see DEPRECATED_MODELS in the SDK). */
export const DEFAULT_MODEL = 'claude-sonnet-5-5';

/** The model to use: the repo's `agent.model`, else the operator's INFRA_AGENT_MODEL, else the default. */
export function resolveModel(configured?: string, env: NodeJS.ProcessEnv = process.env): string {
  return configured ?? env['INFRA_AGENT_MODEL'] ?? DEFAULT_MODEL;
}

export class ModelError extends Error {
  override readonly name = 'ModelError';
  constructor(
    message: string,
    /** 'exhausted' = retries used up; 'rejected' = a non-retryable answer; 'aborted' = our own signal. */
    readonly reason: 'exhausted' | 'rejected' | 'aborted' | 'invalid-response',
    readonly status?: number,
    readonly attempts?: number,
  ) {
    super(message);
  }
}

export interface RetryPolicy {
  /** Total tries, the first included. */
  maxTries: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** A `retry-after` longer than this is cut to it: a run must not sleep for an hour on a header. */
  maxRetryAfterMs: number;
}

/** Per call; a slow answer is retried like a 5xx, and the run's own time budget still bounds the whole. */
export const DEFAULT_TIMEOUT_MS = 10 * 60_000;

export const DEFAULT_RETRY: RetryPolicy = {
  maxTries: 4,
  baseDelayMs: 1_000,
  maxDelayMs: 30_000,
  maxRetryAfterMs: 60_000,
};

export interface ModelClientOptions {
  model: string;
  maxTokens: number;
  /** Only when given explicitly; otherwise the SDK reads ANTHROPIC_API_KEY / ANTHROPIC_BASE_URL itself. */
  apiKey?: string;
  /** A bearer token instead of a key (ANTHROPIC_AUTH_TOKEN, read once at start by `serve`). */
  authToken?: string;
  baseURL?: string;
  retry?: Partial<RetryPolicy>;
  /** Per-request timeout (ms). */
  timeoutMs?: number;
  /** Injected in tests to record delays instead of waiting them out. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  random?: () => number;
}

export interface ModelRequest {
  system: TextBlockParam[];
  tools: Tool[];
  messages: MessageParam[];
  maxTokens?: number;
  signal?: AbortSignal;
}

const TextBlockOut = z.object({ type: z.literal('text'), text: z.string() });
const ToolUseBlockOut = z.object({
  type: z.literal('tool_use'),
  id: z.string().min(1),
  name: z.string().min(1),
  input: z.unknown(),
});
const OtherBlockOut = z.object({ type: z.string() }).loose();
const MessageOut = z.object({
  id: z.string(),
  type: z.literal('message'),
  role: z.literal('assistant'),
  content: z.array(z.union([TextBlockOut, ToolUseBlockOut, OtherBlockOut])),
  stop_reason: z.string().nullable(),
  usage: z.object({
    input_tokens: z.number().int().nonnegative(),
    output_tokens: z.number().int().nonnegative(),
    cache_creation_input_tokens: z.number().int().nonnegative().nullable().optional(),
    cache_read_input_tokens: z.number().int().nonnegative().nullable().optional(),
  }),
});

export type ModelContentBlock =
  | { type: 'text'; text: string }
  | { type: 'tool_use'; id: string; name: string; input: unknown };

export interface ModelTurn {
  id: string;
  content: ModelContentBlock[];
  stopReason: string;
  usage: { inputTokens: number; outputTokens: number; cacheReadTokens: number; cacheWriteTokens: number };
  /** Tries it took (1 = no retry). */
  attempts: number;
}

export interface ModelClient {
  readonly model: string;
  readonly maxTokens: number;
  createMessage(req: ModelRequest): Promise<ModelTurn>;
}

function defaultSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(new ModelError('the run was cancelled while waiting to retry the model API', 'aborted'));
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(new ModelError('the run was cancelled while waiting to retry the model API', 'aborted'));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** `retry-after` (seconds or an HTTP date) or `retry-after-ms`, in ms; undefined when absent or unreadable. */
export function parseRetryAfter(headers: Headers | undefined, now: number = Date.now()): number | undefined {
  const ms = headers?.get('retry-after-ms');
  if (ms && /^\d+(\.\d+)?$/.test(ms.trim())) return Number(ms);
  const value = headers?.get('retry-after')?.trim();
  if (!value) return undefined;
  if (/^\d+(\.\d+)?$/.test(value)) return Number(value) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

function describeStatus(status: number): string {
  if (status === 529) return '529 (overloaded)';
  if (status === 429) return '429 (rate limited)';
  if (status === 408) return '408 (request timeout)';
  if (status >= 500) return `${status} (server error)`;
  return String(status);
}

function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

/** Backoff for the n-th retry (1-based): exponential, capped, full jitter in [d/2, d]; retry-after wins when sent. */
export function retryDelay(
  n: number,
  policy: RetryPolicy,
  retryAfterMs: number | undefined,
  random: () => number,
): number {
  if (retryAfterMs !== undefined) return Math.min(retryAfterMs, policy.maxRetryAfterMs);
  const exp = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (n - 1));
  return Math.round(exp / 2 + (random() * exp) / 2);
}

export function createModelClient(opts: ModelClientOptions): ModelClient {
  const policy: RetryPolicy = { ...DEFAULT_RETRY, ...opts.retry };
  const sleep = opts.sleep ?? defaultSleep;
  const random = opts.random ?? Math.random;
  const sdk = new Anthropic({
    maxRetries: 0,
    ...(opts.apiKey !== undefined ? { apiKey: opts.apiKey } : {}),
    ...(opts.authToken !== undefined ? { authToken: opts.authToken } : {}),
    ...(opts.baseURL !== undefined ? { baseURL: opts.baseURL } : {}),
  });

  async function createMessage(req: ModelRequest): Promise<ModelTurn> {
    let lastProblem = '';
    let lastStatus: number | undefined;
    for (let attempt = 1; attempt <= policy.maxTries; attempt++) {
      let retryAfterMs: number | undefined;
      try {
        const raw: unknown = await sdk.messages.create(
          {
            model: opts.model,
            max_tokens: req.maxTokens ?? opts.maxTokens,
            system: req.system,
            tools: req.tools,
            messages: req.messages,
          },
          // An explicit timeout: without one the SDK refuses non-streaming calls with a large max_tokens.
          { timeout: opts.timeoutMs ?? DEFAULT_TIMEOUT_MS, ...(req.signal ? { signal: req.signal } : {}) },
        );
        return parseTurn(raw, attempt);
      } catch (err) {
        if (err instanceof ModelError) throw err;
        if (err instanceof Anthropic.APIUserAbortError || req.signal?.aborted) {
          throw new ModelError('the run was cancelled during a model API call', 'aborted', undefined, attempt);
        }
        if (err instanceof Anthropic.APIConnectionError) {
          lastProblem = `could not reach the model API (${err.message})`;
          lastStatus = undefined;
        } else if (err instanceof Anthropic.APIError && typeof err.status === 'number') {
          if (!isRetryableStatus(err.status)) {
            throw new ModelError(
              `the model API rejected the request with ${err.status}: ${shortMessage(err.message)}`,
              'rejected',
              err.status,
              attempt,
            );
          }
          lastStatus = err.status;
          lastProblem = `answered ${describeStatus(err.status)}`;
          retryAfterMs = parseRetryAfter(err.headers);
        } else {
          throw err;
        }
      }
      if (attempt < policy.maxTries) await sleep(retryDelay(attempt, policy, retryAfterMs, random), req.signal);
    }
    const what =
      lastStatus !== undefined
        ? `the model API answered ${describeStatus(lastStatus)} ${policy.maxTries} times`
        : `${lastProblem}, ${policy.maxTries} tries`;
    throw new ModelError(`${what}; try again later`, 'exhausted', lastStatus, policy.maxTries);
  }

  return { model: opts.model, maxTokens: opts.maxTokens, createMessage };
}

function shortMessage(m: string): string {
  return m.length > 300 ? `${m.slice(0, 300)}…` : m;
}

function parseTurn(raw: unknown, attempts: number): ModelTurn {
  const parsed = MessageOut.safeParse(raw);
  if (!parsed.success) {
    throw new ModelError(
      `the model API returned a response this client cannot read: ${z.prettifyError(parsed.error).slice(0, 300)}`,
      'invalid-response',
    );
  }
  const m = parsed.data;
  const content: ModelContentBlock[] = [];
  for (const block of m.content) {
    const text = TextBlockOut.safeParse(block);
    if (text.success) {
      content.push(text.data);
      continue;
    }
    const tool = ToolUseBlockOut.safeParse(block);
    if (tool.success)
      content.push({ type: 'tool_use', id: tool.data.id, name: tool.data.name, input: tool.data.input });
    // Other block kinds (thinking, server tools) are not used by this agent and are dropped.
  }
  return {
    id: m.id,
    content,
    stopReason: m.stop_reason ?? 'end_turn',
    usage: {
      inputTokens: m.usage.input_tokens,
      outputTokens: m.usage.output_tokens,
      cacheReadTokens: m.usage.cache_read_input_tokens ?? 0,
      cacheWriteTokens: m.usage.cache_creation_input_tokens ?? 0,
    },
    attempts,
  };
}
