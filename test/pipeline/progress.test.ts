// The progress comment's edits: a stage's end goes out with the next stage's start, so a run makes one edit per stage
// transition (plus the create and the final word), and an unchanged render is never re-sent. GitHub is a recording
// fetch behind the App's real Octokit class (no network); the store is the real embedded one.
import pino from 'pino';
import { Probot } from 'probot';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Progress } from '../../src/pipeline/progress.js';
import { githubOctokitClass } from '../../src/server/server.js';
import { STAGES } from '../../src/stages/stages.js';
import { createStore } from '../../src/store/create-store.js';
import type { Store } from '../../src/store/types.js';

let store: Store;
let calls: { method: string; path: string; body: string }[];
/** While set, every write answers 422 (not retried by the client). */
let refuseWrites = false;

async function client() {
  const fetch = async (url: string | URL, init?: RequestInit) => {
    const method = init?.method ?? 'GET';
    const path = new URL(String(url)).pathname;
    calls.push({ method, path, body: typeof init?.body === 'string' ? init.body : '' });
    if (refuseWrites && method !== 'GET') {
      return new Response(JSON.stringify({ message: 'Validation Failed' }), {
        status: 422,
        headers: { 'content-type': 'application/json' },
      });
    }
    const json = method === 'GET' ? [] : { id: 55 };
    return new Response(JSON.stringify(json), {
      status: method === 'POST' ? 201 : 200,
      headers: { 'content-type': 'application/json' },
    });
  };
  const probot = new Probot({
    githubToken: 'test-token',
    log: pino({ level: 'silent' }),
    Octokit: githubOctokitClass(false),
    request: { fetch },
  });
  return probot.auth();
}

beforeEach(async () => {
  store = await createStore({ dataDir: 'memory://' });
  calls = [];
  refuseWrites = false;
});
afterEach(async () => {
  await store.close();
});

describe('Progress', () => {
  it('a full run: one create, one edit per stage transition, one final edit', async () => {
    let t = 0;
    const target = { repo: { owner: 'o', repo: 'r' }, issueNumber: 3, key: 'progress:o/r#3', marker: '<!-- p=3 -->' };
    const progress = new Progress('issue #3', 'run-1', target, await client(), store, () => (t += 1000));
    for (const s of STAGES) {
      await progress.start(s.name);
      await progress.end(s.name, s.name === 'agent' ? 'skipped' : 'ok');
    }
    await progress.finish('all good');
    const writes = calls.filter((c) => c.method !== 'GET');
    expect(writes.map((c) => c.method)).toEqual(['POST', ...STAGES.slice(1).map(() => 'PATCH'), 'PATCH']);
    const last = JSON.parse(writes.at(-1)?.body ?? '{}') as { body: string };
    // The last edit carries every stage's end (ok, skipped, with timings) and the result.
    expect(last.body).toContain('✅ done');
    expect(last.body).toContain('⏭️ Write the change (agent)');
    expect(last.body).toContain('✅ Publish the branch, pull request and checks (1.0 s)');
    expect(last.body).toContain('all good');

    // Nothing changed since: finishing again sends nothing.
    const before = calls.length;
    await progress.finish('all good');
    expect(calls.length).toBe(before);
  });

  it('a failing stage is shown by the final word, in the same edit', async () => {
    const target = { repo: { owner: 'o', repo: 'r' }, issueNumber: 4, key: 'progress:o/r#4', marker: '<!-- p=4 -->' };
    const progress = new Progress('issue #4', 'run-2', target, await client(), store);
    await progress.start('checkout');
    await progress.end('checkout', 'failed', 'git clone failed');
    await progress.finish('checkout failed: try again');
    const writes = calls.filter((c) => c.method !== 'GET');
    expect(writes.map((c) => c.method)).toEqual(['POST', 'PATCH']);
    const last = JSON.parse(writes.at(-1)?.body ?? '{}') as { body: string };
    expect(last.body).toContain('❌ Check out the repository');
    expect(last.body).toContain('git clone failed');
    expect(last.body).toContain('❌ stopped');
  });

  it("a stage's start is written while the stage works: a failed write stops the run at the next start, the final word still lands", async () => {
    const target = { repo: { owner: 'o', repo: 'r' }, issueNumber: 5, key: 'progress:o/r#5', marker: '<!-- p=5 -->' };
    const progress = new Progress('issue #5', 'run-3', target, await client(), store);
    await progress.start('checkout');
    await vi.waitFor(() => expect(calls.some((c) => c.method === 'POST')).toBe(true));
    refuseWrites = true;
    // Not waited for: the edit goes out in the background, so GitHub's answer is not on the run's path (before, the
    // refusal was thrown right here).
    await progress.start('index');
    await progress.end('index', 'ok');
    // The refused edit is thrown at a following start, as a failed write was thrown before: the run stops (or
    // retries); a start asked before the refusal came back sends nothing after it.
    await vi.waitFor(async () => {
      await expect(progress.start('project')).rejects.toThrow(/Validation Failed/);
    });
    refuseWrites = false;
    await progress.finish('index failed: try again');
    const writes = calls.filter((c) => c.method !== 'GET');
    expect(writes.map((c) => c.method)).toEqual(['POST', 'PATCH', 'PATCH']);
    const last = JSON.parse(writes.at(-1)?.body ?? '{}') as { body: string };
    expect(last.body).toContain('index failed: try again');
    expect(last.body).toContain('✅ Index');
  });
});
