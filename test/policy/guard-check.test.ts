// Issue #11 part B at the `check` level: the attack repos in test/fixtures/guard/ through runChecks (what the App and
// the agent run) and `infra-agent check`, with real terraform. Each was let through (or planned) by the old guard.
import { cp, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/check.js';
import { parseRepoConfig } from '../../src/config/load.js';
import { defaultRepoConfig, type RepoConfig } from '../../src/config/schema.js';
import type { Project } from '../../src/core/types.js';
import { renderPlanOutput } from '../../src/github/pr-body.js';
import { runGate } from '../../src/policy/gate.js';
import { opaScanner } from '../../src/policy/scanners/opa.js';
import { pregateScanner } from '../../src/policy/scanners/pregate.js';
import { tfsecScanner } from '../../src/policy/scanners/tfsec.js';
import { run } from '../../src/sandbox/exec.js';
import { runChecks } from '../../src/stages/checks.js';
import { requireTool } from '../../src/toolchain/tools.js';
import { describeWithTools } from '../helpers/tools.js';

const FIXTURES = resolve(import.meta.dirname, '../fixtures/guard');
const project: Project = { name: 'root', dir: '.', workspace: 'default', dependsOn: [] };
const dirs: string[] = [];
afterEach(async () => {
  vi.restoreAllMocks();
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

/** A private copy of a fixture (checks format files in place), with its .github/infra-agent.yml parsed. */
async function copyFixture(name: string): Promise<{ root: string; config: RepoConfig }> {
  const root = await mkdtemp(join(tmpdir(), `guard-${name}-`));
  dirs.push(root);
  await cp(join(FIXTURES, name), root, { recursive: true });
  const yml = await readFile(join(root, '.github', 'infra-agent.yml'), 'utf8').catch(() => undefined);
  if (yml === undefined) return { root, config: defaultRepoConfig() };
  const parsed = parseRepoConfig(yml);
  if (!parsed.ok) throw new Error(parsed.message);
  return { root, config: parsed.config };
}

const stageOf = (r: Awaited<ReturnType<typeof runChecks>>) =>
  Object.fromEntries(r.stages.map((s) => [s.name, s.status]));

async function check(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((c: string | Uint8Array) => {
    stdout += String(c);
    return true;
  });
  vi.spyOn(process.stderr, 'write').mockImplementation((c: string | Uint8Array) => {
    stderr += String(c);
    return true;
  });
  try {
    return { code: await main(args), stdout, stderr };
  } finally {
    vi.restoreAllMocks();
  }
}

describeWithTools(['terraform'], 'the guard blocks each attack repo before init (runChecks)', () => {
  const cases: [string, string, string][] = [
    ['tfjson-external', 'PRE-EXEC-001', 'main.tf.json:4'],
    ['tfjson-module-escape', 'PRE-EXEC-001', 'main.tf.json:3'],
    ['removed-provisioner', 'PRE-EXEC-001', 'main.tf:12'],
    ['file-proc', 'PRE-FILE-001', 'main.tf:2'],
    ['file-dotdot', 'PRE-FILE-001', 'main.tf:2'],
    ['fileset-root', 'PRE-FILE-001', 'main.tf:2'],
    ['remote-state-local', 'PRE-FILE-001', 'main.tf:2'],
  ];
  for (const [fixture, rule, at] of cases) {
    it(`${fixture}: ${rule} at ${at}, hard; init and plan never run`, async () => {
      const { root, config } = await copyFixture(fixture);
      const r = await runChecks({ repoRoot: root, project, config });
      expect(stageOf(r)).toMatchObject({ pregate: 'failed', init: 'skipped', validate: 'skipped', plan: 'skipped' });
      expect(r.stages.find((s) => s.name === 'pregate')?.message).toContain(`${rule} at ${at}`);
      const f = r.verdict.findings.find((x) => x.ruleId === rule);
      expect(f && `${f.file}:${f.line}`).toBe(at);
      expect(f?.level).toBe('hard');
      expect(f?.remediation).toBeTruthy();
      expect(r.verdict.status).toBe('blocked');
      expect(r.plan).toBeUndefined();
      await expect(stat(join(root, '.terraform'))).rejects.toThrow();
    });
  }

  it('secrets: a literal DB password (tfvars), Stripe key (locals), Slack webhook (variable default), provider key and administrator_login_password are hard SEC-SECRET-001 at file:line', async () => {
    const { root, config } = await copyFixture('secrets');
    const r = await runChecks({ repoRoot: root, project, config });
    const secrets = r.verdict.findings.filter((f) => f.ruleId === 'SEC-SECRET-001');
    expect(secrets.map((f) => `${f.address}@${f.file}:${f.line}`).sort()).toEqual([
      'azurerm_mssql_server.sql@main.tf:53',
      'local.stripe_key@main.tf:27',
      'provider.aws.billing@main.tf:38',
      'var.alerts_webhook@main.tf:23',
      'var.db_password@terraform.tfvars:2',
    ]);
    expect(secrets.every((f) => f.level === 'hard')).toBe(true);
    expect(r.verdict.status).toBe('blocked');
    expect(stageOf(r)['plan']).toBe('skipped');
  });
});

/**
 * A git repository holding `dir`, for a `git::file://` module source that init really downloads. It lives under the
 * checkout (`vendor/app.git`): the sandboxed init sees the checkout and nothing else of the disk. The guard does not
 * read it before init (no local source calls it), only the copy init installs in the data dir.
 */
async function gitModule(dir: string, checkout: string): Promise<string> {
  const repo = join(checkout, 'vendor', 'app.git');
  await cp(dir, repo, { recursive: true });
  const git = requireTool('git');
  const env = {
    GIT_AUTHOR_NAME: 't',
    GIT_AUTHOR_EMAIL: 't@example.com',
    GIT_COMMITTER_NAME: 't',
    GIT_COMMITTER_EMAIL: 't@example.com',
    GIT_CONFIG_GLOBAL: '/dev/null',
  };
  for (const args of [
    ['init', '-q', '-b', 'main'],
    ['add', '-A'],
    ['commit', '-q', '-m', 'module'],
    ['tag', 'v1.0.0'],
  ])
    await run(git, args, { cwd: repo, env, timeoutMs: 30_000 });
  return repo;
}

describeWithTools(['terraform', 'opa'], 'after init, before validate/plan (runChecks)', () => {
  for (const variant of ['module', 'nested'] as const) {
    it(`a downloaded module with local-exec (${variant === 'module' ? 'in the module itself' : 'in a local module it calls'}) is blocked before validate and plan`, async () => {
      const root = await mkdtemp(join(tmpdir(), 'guard-root-'));
      dirs.push(root);
      const repo = await gitModule(join(FIXTURES, 'downloaded-module', variant), root);
      const source = `git::file://${repo}?ref=v1.0.0`;
      await writeFile(
        join(root, 'main.tf'),
        `module "app" {\n  source = "${source}"\n${variant === 'module' ? '  name   = "x"\n' : ''}}\n`,
      );
      const config = defaultRepoConfig();
      config.policy.allowed_module_sources = ['git::file://'];
      const r = await runChecks({
        repoRoot: root,
        project,
        config,
        scanners: { static: [tfsecScanner], plan: [opaScanner] },
      });
      expect(stageOf(r)).toMatchObject({
        pregate: 'ok',
        init: 'ok',
        modules: 'failed',
        validate: 'skipped',
        plan: 'skipped',
      });
      expect(r.plan).toBeUndefined();
      const f = r.verdict.findings.find((x) => x.ruleId === 'PRE-EXEC-001');
      const address =
        variant === 'module' ? 'module.app.terraform_data.this' : 'module.app.module.inner.terraform_data.inner';
      expect(f).toMatchObject({ level: 'hard', address, file: expect.stringMatching(/^\.terraform\/modules\/app\//) });
      expect(r.stages.find((s) => s.name === 'modules')?.message).toContain('PRE-EXEC-001 at .terraform/modules/app/');
      expect(r.verdict.status).toBe('blocked');
    });
  }

  it('a committed modules.json cannot point a module outside the data dir', async () => {
    const outside = await mkdtemp(join(tmpdir(), 'guard-outside-'));
    dirs.push(outside);
    await writeFile(
      join(outside, 'main.tf'),
      'resource "terraform_data" "x" {\n  provisioner "local-exec" {\n    command = "id"\n  }\n}\n',
    );
    const root = await mkdtemp(join(tmpdir(), 'guard-root-'));
    dirs.push(root);
    await writeFile(join(root, 'main.tf'), 'module "app" {\n  source  = "acme/app/aws"\n  version = "1.0.0"\n}\n');
    const modules = join(root, '.terraform', 'modules');
    await cp(outside, join(root, 'x'), { recursive: true }).catch(() => {});
    await rm(join(root, 'x'), { recursive: true, force: true });
    await (await import('node:fs/promises')).mkdir(modules, { recursive: true });
    await writeFile(
      join(modules, 'modules.json'),
      JSON.stringify({
        Modules: [
          { Key: '', Source: '', Dir: '.' },
          { Key: 'app', Source: 'registry.terraform.io/acme/app/aws', Version: '1.0.0', Dir: outside },
        ],
      }),
    );
    const v = await runGate({
      dir: root,
      repoRoot: root,
      config: defaultRepoConfig().policy,
      dataDir: join(root, '.terraform'),
      scanners: [pregateScanner],
    });
    expect(v.findings).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ ruleId: 'PRE-EXEC-001', message: expect.stringContaining('outside the data dir') }),
      ]),
    );
    expect(v.status).toBe('blocked');
  });

  it('literal secrets are masked in the rendered plan output when the rule is lowered and the plan runs', async () => {
    const { root, config } = await copyFixture('secrets-masked');
    const r = await runChecks({ repoRoot: root, project, config, scanners: { static: [], plan: [opaScanner] } });
    expect(stageOf(r)['plan'], JSON.stringify(r.stages)).toBe('ok');
    const rendered = renderPlanOutput([{ checks: r, policyMarkdown: '' }]);
    expect(rendered).toContain('terraform_data.config will be created');
    for (const secret of [
      'Pr0d-DB-Passw0rd!',
      'sk_live_51Habcdefghijklmnopqrstuvwx',
      'https://hooks.slack.com/services/T0AAAAAAA/B0BBBBBBB/abcdefghijklmnopqrstuvwx',
    ]) {
      expect(rendered).not.toContain(secret);
      expect(r.plan?.text).not.toContain(secret);
      for (const s of r.stages) expect(s.message ?? '').not.toContain(secret);
    }
    expect(rendered).toContain('[REDACTED]');
    expect(r.verdict.findings.filter((f) => f.ruleId === 'SEC-SECRET-001').map((f) => f.level)).toEqual([
      'advisory',
      'advisory',
      'advisory',
    ]);
  });
});

describe('soft findings (runGate with the guard)', () => {
  it('a ~>-pinned registry module is soft and overridable, not a hard block', async () => {
    const { root, config } = await copyFixture('tilde-module');
    const v = await runGate({ dir: root, repoRoot: root, config: config.policy, scanners: [pregateScanner] });
    expect(v.findings).toEqual([
      expect.objectContaining({ ruleId: 'PRE-SOURCE-001', level: 'soft', file: 'main.tf', line: 2 }),
    ]);
    expect(v.status).toBe('needs-override');
    const o = await runGate({
      dir: root,
      repoRoot: root,
      config: config.policy,
      scanners: [pregateScanner],
      overrides: [{ ruleId: 'PRE-SOURCE-001', by: 'owner', at: new Date().toISOString(), reason: 'vetted upstream' }],
    });
    expect(o.status).toBe('pass');
  });

  it('a provider named only in a committed state file does not pass allowed_providers', async () => {
    const { root, config } = await copyFixture('state-provider');
    config.policy.allowed_providers = ['hashicorp/random'];
    const v = await runGate({ dir: root, repoRoot: root, config: config.policy, scanners: [pregateScanner] });
    expect(v.findings).toEqual([
      expect.objectContaining({
        ruleId: 'PRE-SOURCE-001',
        file: 'terraform.tfstate',
        line: 12,
        message: expect.stringContaining('evilcorp/evil'),
      }),
    ]);
    expect(v.status).not.toBe('pass');
  });
});

describeWithTools(['terraform', 'git', 'tfsec', 'checkov', 'opa'], 'infra-agent check', () => {
  it('does not plan when a module init downloaded holds a local-exec, and reports it', async () => {
    const root = await mkdtemp(join(tmpdir(), 'guard-cli-root-'));
    dirs.push(root);
    const repo = await gitModule(join(FIXTURES, 'downloaded-module', 'nested'), root);
    await writeFile(join(root, 'main.tf'), `module "app" {\n  source = "git::file://${repo}?ref=v1.0.0"\n}\n`);
    await writeFile(join(root, 'infra-agent.yml'), 'policy:\n  allowed_module_sources: ["git::file://"]\n');
    const r = await check([root, '--repo-root', root, '--config', join(root, 'infra-agent.yml'), '--format', 'json']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/not planned: .*blocks a module that init downloaded/);
    const json = JSON.parse(r.stdout) as {
      verdict: string;
      findings: { ruleId: string; address?: string; file?: string }[];
    };
    expect(json.verdict).toBe('blocked');
    expect(json.findings).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          ruleId: 'PRE-EXEC-001',
          address: 'module.app.module.inner.terraform_data.inner',
          file: '.terraform/modules/app/inner/main.tf',
        }),
      ]),
    );
  });

  it('a provisioner in a removed {} block is blocked by the guard even with allow_missing_scanners: [tfsec]', async () => {
    const { root } = await copyFixture('removed-provisioner');
    const r = await check([root, '--repo-root', root, '--format', 'json']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/not planned: the pre-plan guard blocks this code/);
    const json = JSON.parse(r.stdout) as {
      verdict: string;
      findings: { ruleId: string; level: string; file?: string; line?: number }[];
    };
    expect(json.verdict).toBe('blocked');
    expect(json.findings).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ ruleId: 'PRE-EXEC-001', level: 'hard', file: 'main.tf', line: 12 }),
      ]),
    );
  });
});
