import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { defaultRepoConfig } from '../../src/config/schema.js';
import type { Project } from '../../src/core/types.js';
import { tfsecScanner } from '../../src/policy/scanners/tfsec.js';
import type { Scanner } from '../../src/policy/scanners/types.js';
import { runChecks } from '../../src/stages/checks.js';
import { describeWithTools } from '../helpers/tools.js';

const project: Project = { name: 'root', dir: '.', workspace: 'default', dependsOn: [] };
const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

async function repo(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'checks-'));
  dirs.push(dir);
  for (const [name, content] of Object.entries(files)) await writeFile(join(dir, name), content);
  return dir;
}

const CLEAN = `terraform {
  required_providers {
    random = { source = "hashicorp/random" }
  }
}

resource "random_pet" "name" {
  length = 2
}

resource "terraform_data" "marker" {
  input = random_pet.name.id
}
`;

describeWithTools(['terraform', 'tfsec', 'checkov', 'opa'], 'runChecks (real terraform and scanners)', () => {
  it('formats, guards, plans and passes a clean module, with every scanner run', async () => {
    const root = await repo({ 'main.tf': CLEAN.replace('length = 2', 'length    = 2') });
    const r = await runChecks({ repoRoot: root, project, config: defaultRepoConfig() });
    expect(r.stages.map((s) => [s.name, s.status])).toEqual([
      ['fmt', 'ok'],
      ['pregate', 'ok'],
      ['init', 'ok'],
      ['modules', 'ok'],
      ['validate', 'ok'],
      ['plan', 'ok'],
      ['scan', 'ok'],
      ['verdict', 'ok'],
    ]);
    expect(r.formatted).toEqual(['main.tf']);
    expect(await readFile(join(root, 'main.tf'), 'utf8')).toContain('  length = 2');
    expect(r.plan?.summary.counts.add).toBe(2);
    expect(r.plan?.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(r.plan?.text).toContain('random_pet.name will be created');
    expect(r.verdict.status).toBe('pass');
    expect(r.verdict.scanners.map((s) => [s.name, s.status]).sort()).toEqual([
      ['checkov', 'ok'],
      ['opa', 'ok'],
      ['pregate', 'ok'],
      ['tfsec', 'ok'],
    ]);
    for (const name of ['tfsec', 'checkov', 'opa']) {
      expect(r.verdict.scanners.find((s) => s.name === name)?.version, `${name} version`).toMatch(/^\d+\.\d+\.\d+/);
    }
    expect(r.ok).toBe(true);
  });

  it('never runs init or plan when the pre-plan guard blocks', async () => {
    const root = await repo({
      'main.tf': `resource "terraform_data" "x" {
  provisioner "local-exec" {
    command = "touch \${path.module}/pwned"
  }
}
`,
    });
    const r = await runChecks({ repoRoot: root, project, config: defaultRepoConfig() });
    const byName = Object.fromEntries(r.stages.map((s) => [s.name, s.status]));
    expect(byName['pregate']).toBe('failed');
    expect(byName['init']).toBe('skipped');
    expect(byName['plan']).toBe('skipped');
    expect(r.plan).toBeUndefined();
    expect(r.verdict.status).toBe('blocked');
    expect(r.verdict.findings.map((f) => f.ruleId)).toContain('PRE-EXEC-001');
    // init never ran: no .terraform directory was created
    await expect(readFile(join(root, '.terraform', 'terraform.tfstate'))).rejects.toThrow();
    expect(r.ok).toBe(false);
  });

  it('reports invalid configuration as diagnostics with file and line, and does not plan', async () => {
    const root = await repo({ 'main.tf': `resource "terraform_data" "x" {\n  input = var.undeclared\n}\n` });
    const r = await runChecks({ repoRoot: root, project, config: defaultRepoConfig() });
    const validate = r.stages.find((s) => s.name === 'validate');
    expect(validate?.status).toBe('failed');
    expect(validate?.message).toMatch(/main\.tf:2: Reference to undeclared input variable/);
    expect(r.diagnostics.some((d) => d.file === 'main.tf' && d.line === 2)).toBe(true);
    expect(r.stages.find((s) => s.name === 'plan')?.status).toBe('skipped');
    expect(r.ok).toBe(false);
  });

  it('never passes when a required scanner is missing', async () => {
    const root = await repo({ 'main.tf': CLEAN });
    const prev = process.env['INFRA_AGENT_TFSEC_BIN'];
    process.env['INFRA_AGENT_TFSEC_BIN'] = '/nonexistent/tfsec';
    try {
      const r = await runChecks({
        repoRoot: root,
        project,
        config: defaultRepoConfig(),
        scanners: { static: [tfsecScanner], plan: [] },
      });
      const tfsec = r.verdict.scanners.find((s) => s.name === 'tfsec');
      expect(tfsec?.status).toBe('not-run');
      expect(r.verdict.status).not.toBe('pass');
      expect(r.ok).toBe(false);
    } finally {
      if (prev === undefined) delete process.env['INFRA_AGENT_TFSEC_BIN'];
      else process.env['INFRA_AGENT_TFSEC_BIN'] = prev;
    }
  });

  it('refuses a project dir outside the repository', async () => {
    const root = await repo({ 'main.tf': CLEAN });
    await expect(
      runChecks({ repoRoot: root, project: { ...project, dir: '../..' }, config: defaultRepoConfig() }),
    ).rejects.toThrow(/outside the repository/);
  });

  it('holds the exclusive section (the project slot) only for init … plan: the scanners run outside it', async () => {
    const root = await repo({ 'main.tf': CLEAN });
    let scannerStarted: () => void = () => {};
    const started = new Promise<void>((ok) => {
      scannerStarted = ok;
    });
    const scanner: Scanner = {
      name: 'tfsec',
      async run() {
        scannerStarted();
        return { name: 'tfsec', status: 'ok', durationMs: 0, findings: [] };
      },
    };
    const sections: string[] = [];
    const r = await runChecks({
      repoRoot: root,
      project,
      config: defaultRepoConfig(),
      scanners: { static: [scanner], plan: [] },
      // Enters only once the static scanner has started: a scanner inside the section would wait forever.
      serialize: async (fn) => {
        await started;
        sections.push('enter');
        try {
          return await fn();
        } finally {
          sections.push('leave');
        }
      },
    });
    expect(sections).toEqual(['enter', 'leave']);
    expect(r.plan).toBeDefined();
    expect(r.stages.find((s) => s.name === 'plan')?.status).toBe('ok');
  });
});
