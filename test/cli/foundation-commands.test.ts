// The doctor, index and plan commands, run in-process with their output captured.
import { cpSync, mkdtempSync, readdirSync, rmSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { main as doctor } from '../../src/cli/doctor.js';
import { main as indexCmd } from '../../src/cli/index-cmd.js';
import { main as plan } from '../../src/cli/plan.js';
import { projectRoot } from '../../src/toolchain/tools.js';
import { captureOutput } from '../helpers/capture-output.js';
import { describeWithTools } from '../helpers/tools.js';

const FIXTURES = resolve(projectRoot(), 'test', 'fixtures', 'tf');

const capture = captureOutput;

afterEach(() => {
  vi.unstubAllEnvs();
});

describe('infra-agent index', () => {
  let cacheHome: string;
  beforeAll(() => {
    cacheHome = mkdtempSync(join(tmpdir(), 'infra-agent-index-cache-'));
  });
  afterAll(() => rmSync(cacheHome, { recursive: true, force: true }));
  // The command's persistent cache goes to a throwaway dir, never the user's ~/.cache.
  beforeEach(() => {
    vi.stubEnv('INFRA_AGENT_CACHE_DIR', cacheHome);
  });

  it('run twice, the second run parses and reads nothing (persistent cache) and prints the same inventory', async () => {
    const repo = join(cacheHome, 'repo');
    cpSync(join(FIXTURES, 'multi-root'), repo, { recursive: true });
    const past = new Date(Date.now() - 60_000);
    for (const f of readdirSync(repo, { recursive: true, encoding: 'utf8' }))
      if (f.endsWith('.tf')) utimesSync(join(repo, f), past, past);
    const cacheDir = join(cacheHome, 'own');
    const first = await capture(() => indexCmd([repo, '--format', 'json', '--cache-dir', cacheDir]));
    const second = await capture(() => indexCmd([repo, '--format', 'json', '--cache-dir', cacheDir]));
    const a = JSON.parse(first.out);
    const b = JSON.parse(second.out);
    expect(a.stats).toEqual({ parsed: 7, cached: 0, skipped: 0 });
    expect(b.stats).toEqual({ parsed: 0, cached: 7, skipped: 0 });
    expect({ ...b, stats: undefined }).toEqual({ ...a, stats: undefined });
    expect(second.err).toBe(first.err);
    expect(readdirSync(join(cacheDir, 'index'))).toHaveLength(1);
    // --no-cache parses everything again
    const none = JSON.parse((await capture(() => indexCmd([repo, '--format', 'json', '--no-cache']))).out);
    expect(none.stats.parsed).toBe(7);
  });

  it('prints the inventory and the parse errors as file:line: message', async () => {
    const r = await capture(() => indexCmd([join(FIXTURES, 'multi-root')]));
    expect(r.out).toContain('Root modules (3): envs/prod, envs/staging, global');
    expect(r.err).toBe(
      'envs/staging/broken.tf:4: Invalid expression; Expected the start of an expression, but found an invalid expression token.\n',
    );
    expect(r.code).toBe(1);
  });

  it('prints JSON', async () => {
    const r = await capture(() => indexCmd([join(FIXTURES, 'multi-root'), '--format', 'json']));
    const index = JSON.parse(r.out);
    expect(index.rootModules).toEqual(['envs/prod', 'envs/staging', 'global']);
    expect(index.files).toHaveLength(7);
    expect(index.modules[1]).toMatchObject({ name: 'logs_bucket', version: '4.1.2' });
  });

  it('says when there is no Terraform', async () => {
    const r = await capture(() => indexCmd([join(FIXTURES, 'no-terraform')]));
    expect(r.code).toBe(1);
    expect(r.out).toBe('');
    expect(r.err).toMatch(/^infra-agent index: no Terraform files \(\.tf \/ \.tf\.json\) under .*no-terraform\n$/);
  });

  it('rejects bad usage', async () => {
    expect((await capture(() => indexCmd([]))).code).toBe(2);
    const r = await capture(() => indexCmd(['x', '--format', 'yaml']));
    expect(r.code).toBe(2);
    expect(r.err).toContain('usage: infra-agent index');
    expect((await capture(() => indexCmd(['x', '--bogus']))).err).toContain("Unknown option '--bogus'");
  });
});

describeWithTools(['terraform', 'tfsec', 'checkov', 'opa', 'git'], 'infra-agent doctor', () => {
  it('lists every tool with its version and the provider mirror', async () => {
    const r = await capture(() => doctor([]));
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/terraform\s+1\.\d+\.\d+\s+ok\s+\//);
    for (const tool of ['node', 'tfsec', 'checkov', 'opa', 'git'])
      expect(r.out).toMatch(new RegExp(`\\n  ${tool}\\s+v?\\d+\\.\\d+`));
    expect(r.out).toContain('hashicorp/random');
    expect(r.out).toContain('hashicorp/local');
    expect(r.out).toMatch(/terraform CLI config: \/.*terraformrc/);
    expect(r.out).toContain('All tools are installed.');
  });

  it('fails naming the setup command when a tool is missing', async () => {
    vi.stubEnv('INFRA_AGENT_OPA_BIN', '/nonexistent/opa');
    const r = await capture(() => doctor([]));
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/\n {2}opa\s+-\s+MISSING\s+— run `npm run bootstrap`/);
    expect(r.out).toContain('opa: not ready. Run `npm run bootstrap` to install the pinned tools.');
  });

  it('prints JSON', async () => {
    const r = await capture(() => doctor(['--format', 'json']));
    const report = JSON.parse(r.out);
    expect(report.ok).toBe(true);
    expect(report.tools.map((t: { name: string }) => t.name)).toEqual([
      'node',
      'terraform',
      'tfsec',
      'checkov',
      'opa',
      'git',
      'bubblewrap',
    ]);
  });
});

describeWithTools(['terraform'], 'infra-agent plan (real terraform, offline)', () => {
  let work: string;
  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'infra-agent-plan-cli-'));
  });
  afterAll(() => {
    rmSync(work, { recursive: true, force: true });
  });
  const copy = (name: string) => {
    const dir = join(work, name);
    cpSync(join(FIXTURES, name), dir, { recursive: true });
    return dir;
  };

  it('prints the summary as markdown', async () => {
    const dir = copy('plannable');
    const r = await capture(() => plan([dir]));
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toContain('**Plan: 2 to add, 0 to change, 0 to destroy.**');
    expect(r.out).toContain('| `+` | `random_pet.name` | create |  |');
    expect(r.out).toContain('| `+` | `terraform_data.release` | create |  |');
    expect(r.out).toContain('Outputs: `name` (create)');
  });

  it('prints {summary, diagnostics} as JSON, with variables and a workspace', async () => {
    const dir = copy('plannable');
    const r = await capture(() => plan([dir, '--format', 'json', '--var', 'env=prod', '--workspace', 'prod']));
    expect(r.code).toBe(0);
    const { summary, diagnostics } = JSON.parse(r.out);
    expect(diagnostics).toEqual([]);
    expect(summary.counts).toEqual({ add: 2, change: 0, destroy: 0, replace: 0, import: 0, read: 0, noop: 0 });
    expect(summary.resources.map((x: { address: string }) => x.address)).toEqual([
      'random_pet.name',
      'terraform_data.release',
    ]);
  });

  it('prints diagnostics as file:line: message and exits 1 when the plan fails', async () => {
    const dir = copy('plan-fails');
    const r = await capture(() => plan([dir]));
    expect(r.code).toBe(1);
    expect(r.out).toBe('');
    expect(r.err).toContain('infra-agent plan: terraform plan failed\n');
    expect(r.err).toMatch(
      /plan-fails\/main\.tf:6: Reference to undeclared input variable — An input variable with the name "not_declared"/,
    );
    expect(r.err).not.toMatch(/\n\s+at /);
  });

  it('says so when the directory has no Terraform', async () => {
    const r = await capture(() => plan([join(FIXTURES, 'no-terraform')]));
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/no Terraform files/);
  });

  it('names the setup command when terraform is missing', async () => {
    vi.stubEnv('INFRA_AGENT_TERRAFORM_BIN', '/nonexistent/terraform');
    const r = await capture(() => plan([join(FIXTURES, 'plannable')]));
    expect(r.code).toBe(2);
    expect(r.err).toBe(
      'infra-agent plan: terraform is not installed: run `npm run bootstrap` (or set INFRA_AGENT_TERRAFORM_BIN to its path)\n',
    );
  });
});
