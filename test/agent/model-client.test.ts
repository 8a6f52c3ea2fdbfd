import { afterEach, describe, expect, it } from 'vitest';
import {
  createModelClient,
  DEFAULT_MODEL,
  DEFAULT_RETRY,
  ModelError,
  parseRetryAfter,
  resolveModel,
  retryDelay,
} from '../../src/agent/model-client.js';
import { error, type ScriptedModel, startScriptedModel, text, toolUse } from '../helpers/scripted-model.js';
import { scriptedClient } from './helpers.js';

const REQ = {
  system: [{ type: 'text' as const, text: 'system' }],
  tools: [{ name: 'list_files', description: 'x', input_schema: { type: 'object' as const, properties: {} } }],
  messages: [{ role: 'user' as const, content: 'hello' }],
};

let server: ScriptedModel | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe('model client', () => {
  it('parses a tool_use answer from the Messages API, usage included', async () => {
    server = await startScriptedModel([
      toolUse(
        'list_files',
        { dir: '.' },
        {
          usage: { input_tokens: 120, output_tokens: 30, cache_read_input_tokens: 80, cache_creation_input_tokens: 10 },
        },
      ),
    ]);
    const turn = await scriptedClient(server.url).createMessage(REQ);
    expect(turn.stopReason).toBe('tool_use');
    expect(turn.content).toEqual([
      { type: 'tool_use', id: expect.stringMatching(/^toolu_/), name: 'list_files', input: { dir: '.' } },
    ]);
    expect(turn.usage).toEqual({ inputTokens: 120, outputTokens: 30, cacheReadTokens: 80, cacheWriteTokens: 10 });
    expect(turn.attempts).toBe(1);
    const sent = server.requests[0];
    // This SDK version sends the key as a bearer token; older ones used x-api-key. Either way it is the key.
    expect(sent?.headers['x-api-key'] ?? sent?.headers['authorization']).toMatch(/sk-test-scripted$/);
    expect(sent?.headers['anthropic-version']).toBeTruthy();
    expect(sent?.body?.model).toBe('claude-sonnet-5-5');
    expect(sent?.body?.max_tokens).toBe(4096);
  });

  it('accepts the largest max_tokens the config allows (the SDK refuses that without an explicit timeout)', async () => {
    server = await startScriptedModel([text('ok')]);
    const turn = await scriptedClient(server.url, { maxTokens: 64_000 }).createMessage(REQ);
    expect(turn.content).toEqual([{ type: 'text', text: 'ok' }]);
    expect(server.requests[0]?.body?.max_tokens).toBe(64_000);
  });

  it('529 then 200 → success on the second try, waiting what retry-after asked', async () => {
    server = await startScriptedModel([error(529, 2), text('ok')]);
    const delays: number[] = [];
    const turn = await scriptedClient(server.url, { delays }).createMessage(REQ);
    expect(turn.content).toEqual([{ type: 'text', text: 'ok' }]);
    expect(turn.attempts).toBe(2);
    expect(server.requests.map((r) => r.status)).toEqual([529, 200]);
    expect(delays).toEqual([2000]);
  });

  it('always 529 → a clear ModelError after the last try, and no more requests than tries', async () => {
    server = await startScriptedModel([], { afterScript: error(529) });
    const delays: number[] = [];
    const client = scriptedClient(server.url, { delays, retry: { maxTries: 4 } });
    const err = await client.createMessage(REQ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelError);
    expect((err as ModelError).message).toBe('the model API answered 529 (overloaded) 4 times; try again later');
    expect((err as ModelError).reason).toBe('exhausted');
    expect(server.requests).toHaveLength(4);
    expect(delays).toHaveLength(3);
  });

  it('retries 429 and 500 too, with growing backoff when no retry-after is sent', async () => {
    server = await startScriptedModel([error(429), error(500), error(503), text('ok')]);
    const delays: number[] = [];
    const client = createModelClient({
      model: 'm',
      maxTokens: 100,
      apiKey: 'k',
      baseURL: server.url,
      retry: { maxTries: 4, baseDelayMs: 100, maxDelayMs: 10_000 },
      random: () => 1,
      sleep: async (ms) => {
        delays.push(ms);
      },
    });
    await client.createMessage(REQ);
    expect(delays).toEqual([100, 200, 400]);
  });

  it('does not retry a request the API rejects (400) and says why', async () => {
    server = await startScriptedModel([error(400, undefined, 'messages: bad'), text('never')]);
    const err = await scriptedClient(server.url)
      .createMessage(REQ)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelError);
    expect((err as ModelError).reason).toBe('rejected');
    expect((err as ModelError).message).toContain('400');
    expect(server.requests).toHaveLength(1);
  });

  it('an unreachable API is retried then reported', async () => {
    server = await startScriptedModel([]);
    const url = server.url;
    await server.close();
    server = undefined;
    const err = await scriptedClient(url, { retry: { maxTries: 2 } })
      .createMessage(REQ)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelError);
    expect((err as ModelError).message).toMatch(/could not reach the model API .*2 tries; try again later/);
  });

  it('a cancelled run stops the call', async () => {
    server = await startScriptedModel([], { afterScript: error(529) });
    const ac = new AbortController();
    const client = createModelClient({
      model: 'm',
      maxTokens: 100,
      apiKey: 'k',
      baseURL: server.url,
      sleep: async () => {
        ac.abort();
      },
    });
    const err = await client.createMessage({ ...REQ, signal: ac.signal }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelError);
    expect((err as ModelError).reason).toBe('aborted');
  });
});

describe('retry-after and backoff', () => {
  it('reads seconds, milliseconds and HTTP dates', () => {
    expect(parseRetryAfter(new Headers({ 'retry-after': '3' }))).toBe(3000);
    expect(parseRetryAfter(new Headers({ 'retry-after-ms': '250' }))).toBe(250);
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(parseRetryAfter(new Headers({ 'retry-after': 'Thu, 01 Jan 2026 00:00:05 GMT' }), now)).toBe(5000);
    expect(parseRetryAfter(new Headers({ 'retry-after': 'soon' }))).toBeUndefined();
    expect(parseRetryAfter(new Headers())).toBeUndefined();
  });

  it('caps an absurd retry-after and jitters the exponential backoff', () => {
    expect(retryDelay(1, DEFAULT_RETRY, 3_600_000, () => 0)).toBe(DEFAULT_RETRY.maxRetryAfterMs);
    expect(retryDelay(1, DEFAULT_RETRY, undefined, () => 0)).toBe(500);
    expect(retryDelay(1, DEFAULT_RETRY, undefined, () => 1)).toBe(1000);
    expect(retryDelay(10, DEFAULT_RETRY, undefined, () => 1)).toBe(DEFAULT_RETRY.maxDelayMs);
  });
});

describe('model choice', () => {
  it('defaults to the newest non-deprecated Sonnet; config, then INFRA_AGENT_MODEL, override it', () => {
    expect(DEFAULT_MODEL).toBe('claude-sonnet-5-5');
    expect(resolveModel(undefined, {})).toBe(DEFAULT_MODEL);
    expect(resolveModel(undefined, { INFRA_AGENT_MODEL: 'claude-opus-5' })).toBe('claude-opus-5');
    expect(resolveModel('claude-haiku-4-5', { INFRA_AGENT_MODEL: 'claude-opus-5' })).toBe('claude-haiku-4-5');
  });
});
