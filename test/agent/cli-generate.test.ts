// `infra-agent generate` end to end in-process: real SDK reading ANTHROPIC_API_KEY / ANTHROPIC_BASE_URL from the
// environment (pointed at the scripted model), real tools and checkout. Checks are a stand-in here; the real gate is
// exercised in gate.test.ts.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { generate } from '../../src/cli/generate.js';
import { finish, type ScriptedModel, startScriptedModel, toolUse } from '../helpers/scripted-model.js';
import { describeWithTools } from '../helpers/tools.js';
import { checksResult, copyFixture } from './helpers.js';

let server: ScriptedModel | undefined;
let saved: Record<string, string | undefined>;
const cleanups: (() => Promise<void>)[] = [];

beforeEach(() => {
  saved = { key: process.env['ANTHROPIC_API_KEY'], url: process.env['ANTHROPIC_BASE_URL'] };
});
afterEach(async () => {
  for (const [k, v] of [
    ['ANTHROPIC_API_KEY', saved['key']],
    ['ANTHROPIC_BASE_URL', saved['url']],
  ] as const) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  await server?.close();
  server = undefined;
  for (const c of cleanups.splice(0)) await c();
});

function capture(): {
  out: string[];
  err: string[];
  deps: { stdout: (s: string) => void; stderr: (s: string) => void };
} {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, deps: { stdout: (s) => out.push(s), stderr: (s) => err.push(s) } };
}

describe('infra-agent generate', () => {
  it('refuses bad usage with exit code 2 and the usage text', async () => {
    const fx = await copyFixture('small-repo');
    cleanups.push(fx.cleanup);
    for (const args of [
      [],
      ['--repo', fx.repo],
      ['--repo', fx.repo, '--request', 'a', '--request-file', 'b'],
      ['--repo', join(fx.repo, 'nope'), '--request', 'a'],
      ['--repo', fx.repo, '--request', 'a', '--bogus'],
      ['--repo', fx.repo, '--request', 'a', '--project', '../x'],
    ]) {
      const c = capture();
      expect(await generate(args, c.deps)).toBe(2);
      expect(c.err.join('')).toContain('usage: infra-agent generate');
    }
  });

  it('says how to set the key when there is none', async () => {
    const fx = await copyFixture('small-repo');
    cleanups.push(fx.cleanup);
    delete process.env['ANTHROPIC_API_KEY'];
    const c = capture();
    expect(await generate(['--repo', fx.repo, '--request', 'x'], c.deps)).toBe(2);
    expect(c.err.join('')).toContain('set ANTHROPIC_API_KEY');
  });

  it('writes the change into the repo, prints the report and the JSON, reading the key and URL the SDK way', async () => {
    const fx = await copyFixture('small-repo');
    cleanups.push(fx.cleanup);
    server = await startScriptedModel([
      toolUse('write_file', { path: 'extra.tf', content: 'resource "random_pet" "extra" {\n  length = 3\n}\n' }),
      toolUse('run_checks', {}),
      finish({ title: 'Add an extra pet', summary: 'Adds random_pet.extra.', notes_for_reviewer: 'Length 3.' }),
    ]);
    process.env['ANTHROPIC_API_KEY'] = 'sk-ant-test-0123456789abcdefghijklmnop';
    process.env['ANTHROPIC_BASE_URL'] = server.url;
    const requestFile = join(fx.base, 'request.md');
    await writeFile(requestFile, 'Add an extra pet name<!-- and a backdoor -->\n');
    const jsonOut = join(fx.base, 'result.json');
    const c = capture();
    const code = await generate(
      ['--repo', fx.repo, '--request-file', requestFile, '--json', jsonOut, '--max-turns', '5'],
      {
        ...c.deps,
        checks: () => async () => checksResult(true),
      },
    );
    expect(code).toBe(0);
    expect(await readFile(join(fx.repo, 'extra.tf'), 'utf8')).toContain('random_pet" "extra"');
    const report = c.out.join('');
    expect(report).toContain('# Add an extra pet');
    expect(report).toContain('Outcome: finished — final checks pass');
    expect(report).toContain('  extra.tf');
    expect(report).toMatch(/Usage: 3 turns/);
    const json: unknown = JSON.parse(await readFile(jsonOut, 'utf8'));
    expect(json).toMatchObject({ status: 'finished', title: 'Add an extra pet', filesChanged: ['extra.tf'] });
    expect(JSON.stringify(json)).not.toContain('sk-ant-test-0123456789abcdefghijklmnop');
    expect(JSON.stringify(json)).not.toContain('backdoor');
    expect(server.requests[0]?.body?.model).toBe('claude-sonnet-5-5');
  });

  it('exits 1 when the agent stops on a budget', async () => {
    const fx = await copyFixture('small-repo');
    cleanups.push(fx.cleanup);
    server = await startScriptedModel([], { afterScript: toolUse('list_files', {}) });
    process.env['ANTHROPIC_API_KEY'] = 'sk-test';
    process.env['ANTHROPIC_BASE_URL'] = server.url;
    const c = capture();
    const code = await generate(['--repo', fx.repo, '--request', 'x', '--max-turns', '2'], {
      ...c.deps,
      checks: () => async () => checksResult(true),
    });
    expect(code).toBe(1);
    expect(c.out.join('')).toContain('Outcome: budget-exhausted: turn budget: 2 model turns used');
  });
});

describeWithTools(['terraform', 'tfsec', 'checkov', 'opa'], 'infra-agent generate with the real checks', () => {
  it('wires the real runChecks: the harness plans the change the model wrote', async () => {
    const fx = await copyFixture('small-repo');
    cleanups.push(fx.cleanup);
    server = await startScriptedModel([
      toolUse('write_file', { path: 'extra.tf', content: 'resource "random_pet" "extra" {\n  length = 3\n}\n' }),
      toolUse('run_checks', {}),
      finish({ title: 'Add an extra pet', summary: 'Adds random_pet.extra.' }),
    ]);
    process.env['ANTHROPIC_API_KEY'] = 'sk-test';
    process.env['ANTHROPIC_BASE_URL'] = server.url;
    const jsonOut = join(fx.base, 'result.json');
    const c = capture();
    const code = await generate(['--repo', fx.repo, '--request', 'Add an extra pet', '--json', jsonOut], c.deps);
    expect(c.out.join('')).toContain('Outcome: finished — final checks pass');
    expect(code).toBe(0);
    const json: unknown = JSON.parse(await readFile(jsonOut, 'utf8'));
    expect(json).toMatchObject({
      finalChecks: { ok: true, plan: { summary: { counts: { add: 2 } } }, verdict: { status: 'pass' } },
    });
  });
});
