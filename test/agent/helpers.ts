// Shared pieces of the agent tests: a temp copy of a fixture repo, a model client pointed at the scripted server,
// and a stand-in environment for tests whose subject is not the gate (budgets, retries, sandbox, prompt).
import { cp, mkdtemp, realpath, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AgentEnvironment, ProvidersSchemaLookup } from '../../src/agent/environment.js';
import { createModelClient, type ModelClient, type RetryPolicy } from '../../src/agent/model-client.js';
import type { ChecksResult, Project } from '../../src/core/types.js';
import { lastToolResults, type MessagesRequest, type ScriptStep } from '../helpers/scripted-model.js';

/** A step that records the tool result it was sent, then answers with `next`. */
export function captureResult(into: string[], next: ScriptStep): ScriptStep {
  return async (req: MessagesRequest, i: number) => {
    into.push(lastToolResults(req)[0]?.text ?? '');
    return typeof next === 'function' ? next(req, i) : next;
  };
}

export const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'agent');

export async function tempDir(prefix = 'infra-agent-test-'): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await realpath(await mkdtemp(join(tmpdir(), prefix)));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** A temp dir holding `repo/` (a copy of the fixture) and room beside it to prove nothing is written outside. */
export async function copyFixture(name: string): Promise<{ base: string; repo: string; cleanup: () => Promise<void> }> {
  const { dir, cleanup } = await tempDir();
  const repo = join(dir, 'repo');
  await cp(join(FIXTURES, name), repo, { recursive: true });
  return { base: dir, repo, cleanup };
}

export function scriptedClient(
  url: string,
  opts: { model?: string; maxTokens?: number; retry?: Partial<RetryPolicy>; delays?: number[] } = {},
): ModelClient {
  return createModelClient({
    model: opts.model ?? 'claude-sonnet-5-5',
    maxTokens: opts.maxTokens ?? 4096,
    apiKey: 'sk-test-scripted',
    baseURL: url,
    retry: { baseDelayMs: 1, maxDelayMs: 5, ...opts.retry },
    sleep: async (ms) => {
      opts.delays?.push(ms);
    },
  });
}

export const ROOT_PROJECT: Project = { name: 'root', dir: '.', workspace: 'default', dependsOn: [] };

export function checksResult(ok: boolean, extra: Partial<ChecksResult> = {}): ChecksResult {
  return {
    project: ROOT_PROJECT,
    ok,
    stages: [
      { name: 'fmt', status: 'ok', durationMs: 1 },
      { name: 'pregate', status: 'ok', durationMs: 1 },
      { name: 'init', status: 'ok', durationMs: 1 },
      { name: 'validate', status: ok ? 'ok' : 'failed', durationMs: 1 },
      { name: 'plan', status: ok ? 'ok' : 'skipped', durationMs: 1 },
      { name: 'scan', status: 'ok', durationMs: 1 },
      { name: 'verdict', status: 'ok', durationMs: 1 },
    ],
    formatted: [],
    diagnostics: [],
    verdict: { status: 'pass', findings: [], scanners: [], overrides: [], reasons: [] },
    durationMs: 1,
    ...extra,
  };
}

/**
 * A stand-in environment for tests about the loop itself. It counts checks calls; its checks result is given by
 * the test (a function of the call number). Gate behaviour is tested with the real runChecks elsewhere.
 */
export function standInEnv(
  opts: {
    checks?: (call: number) => ChecksResult;
    repoSummary?: string;
    stateSummary?: string;
    schema?: ProvidersSchemaLookup;
  } = {},
): AgentEnvironment & { checksCalls: number } {
  const env = {
    checksCalls: 0,
    async repoSummary(maxChars: number) {
      return (opts.repoSummary ?? 'files: main.tf, variables.tf, outputs.tf, versions.tf').slice(0, maxChars);
    },
    async stateSummary(o: { maxChars: number; filter?: string }) {
      return (opts.stateSummary ?? 'no resources in state').slice(0, o.maxChars);
    },
    async providersSchema(): Promise<ProvidersSchemaLookup> {
      return opts.schema ?? { ok: false, reason: 'providers are not installed' };
    },
    async runChecks() {
      env.checksCalls += 1;
      return (opts.checks ?? (() => checksResult(true)))(env.checksCalls);
    },
  };
  return env;
}
