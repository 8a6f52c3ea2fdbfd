// The scripted model is itself a fake of the Messages API that other suites (the App e2e, the demo) rely on: it
// must refuse what the real API refuses, or loop bugs would pass unnoticed.
import { afterEach, describe, expect, it } from 'vitest';
import {
  error,
  lastToolResults,
  type ScriptedModel,
  startScriptedModel,
  text,
  toolUse,
} from '../helpers/scripted-model.js';

let server: ScriptedModel | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function post(
  body: unknown,
  headers: Record<string, string> = { 'x-api-key': 'k' },
): Promise<{ status: number; json: unknown; headers: Headers }> {
  const res = await fetch(`${server?.url}/v1/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  return { status: res.status, json: await res.json(), headers: res.headers };
}

const base = { model: 'claude-sonnet-5-5', max_tokens: 100 };

describe('scripted model server', () => {
  it('answers in the Messages API shape, usage included, and records the request', async () => {
    server = await startScriptedModel([toolUse('list_files', { dir: '.' }, { text: 'Looking.' })]);
    const res = await post({ ...base, messages: [{ role: 'user', content: 'hi' }] });
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({
      id: expect.stringMatching(/^msg_/),
      type: 'message',
      role: 'assistant',
      model: 'claude-sonnet-5-5',
      stop_reason: 'tool_use',
      content: [
        { type: 'text', text: 'Looking.' },
        { type: 'tool_use', id: expect.stringMatching(/^toolu_/), name: 'list_files', input: { dir: '.' } },
      ],
      usage: {
        input_tokens: expect.any(Number),
        output_tokens: expect.any(Number),
        cache_creation_input_tokens: 0,
        cache_read_input_tokens: 0,
      },
    });
    expect(server.requests[0]?.body?.messages).toEqual([{ role: 'user', content: 'hi' }]);
    expect(server.remaining()).toBe(0);
  });

  it('refuses what the API refuses: no key, a bad body, a tool_use left unanswered, an orphan tool_result', async () => {
    server = await startScriptedModel([], { afterScript: text('ok') });
    expect((await post({ ...base, messages: [{ role: 'user', content: 'hi' }] }, {})).status).toBe(401);
    expect((await post({ model: 'm', messages: [] })).status).toBe(400);
    const unanswered = await post({
      ...base,
      messages: [
        { role: 'user', content: 'hi' },
        { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_1', name: 'x', input: {} }] },
        { role: 'user', content: [{ type: 'text', text: 'next' }] },
      ],
    });
    expect(unanswered.status).toBe(400);
    expect(JSON.stringify(unanswered.json)).toContain('tool_use ids were found without tool_result blocks');
    const orphan = await post({
      ...base,
      messages: [
        { role: 'user', content: 'hi' },
        { role: 'assistant', content: [{ type: 'text', text: 'no tools' }] },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_9', content: 'x' }] },
      ],
    });
    expect(orphan.status).toBe(400);
    expect(server.requests.map((r) => r.status)).toEqual([401, 400, 400, 400]);
  });

  it('sends errors in the API error shape with retry-after, and says when the script is used up', async () => {
    server = await startScriptedModel([error(529, 7)]);
    const overloaded = await post({ ...base, messages: [{ role: 'user', content: 'hi' }] });
    expect(overloaded.status).toBe(529);
    expect(overloaded.headers.get('retry-after')).toBe('7');
    expect(overloaded.json).toEqual({ type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } });
    const done = await post({ ...base, messages: [{ role: 'user', content: 'hi' }] });
    expect(done.status).toBe(400);
    expect(JSON.stringify(done.json)).toContain('the script has no step 2 (it has 1)');
  });

  it('lets a step react to the tool_result it was sent', async () => {
    server = await startScriptedModel([
      (req) => {
        const r = lastToolResults(req)[0];
        return text(r?.isError ? `saw error: ${r.text}` : 'no error');
      },
    ]);
    const res = await post({
      ...base,
      messages: [
        { role: 'user', content: 'hi' },
        { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_1', name: 'read_file', input: {} }] },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: 'ENOENT', is_error: true }] },
      ],
    });
    expect(res.json).toMatchObject({ content: [{ type: 'text', text: 'saw error: ENOENT' }] });
  });
});
