// Real terraform, fully offline (providers from the project's filesystem mirror): the whole lifecycle of a root
// module, each plan summarised and asserted exactly.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { PlanSummary } from '../../src/core/types.js';
import { Terraform, TerraformError } from '../../src/terraform/engine.js';
import { summarizePlan } from '../../src/terraform/plan-summary.js';
import { readState, SENSITIVE } from '../../src/terraform/state.js';
import { describeWithTools } from '../helpers/tools.js';

const PROVIDERS = `terraform {
  required_providers {
    random = { source = "hashicorp/random" }
    local  = { source = "hashicorp/local" }
  }
}
`;

function config(opts: { input: string; trigger: string; withFile: boolean; length?: number }): string {
  return `${PROVIDERS}
variable "api_token" {
  type      = string
  sensitive = true
  default   = "tok-9f8e7d6c5b4a"
}

resource "terraform_data" "app" {
  input            = "${opts.input}"
  triggers_replace = ["${opts.trigger}"]
}

resource "random_pet" "name" {
  length = ${opts.length ?? 2}
}

resource "random_id" "suffix" {
  byte_length = 4
}
${
  opts.withFile
    ? `
resource "local_file" "motd" {
  filename = "\${path.module}/motd.txt"
  content  = "hello \${random_pet.name.id}"
}
`
    : ''
}
resource "local_sensitive_file" "token" {
  filename = "\${path.module}/token.txt"
  content  = var.api_token
}

output "pet" {
  value = random_pet.name.id
}

output "token" {
  value     = var.api_token
  sensitive = true
}
`;
}

const counts = (c: Partial<PlanSummary['counts']>): PlanSummary['counts'] => ({
  add: 0,
  change: 0,
  destroy: 0,
  replace: 0,
  import: 0,
  read: 0,
  noop: 0,
  ...c,
});

const actions = (s: PlanSummary) => Object.fromEntries(s.resources.map((r) => [r.address, r.action]));

describeWithTools(['terraform'], 'Terraform engine (real terraform, offline)', () => {
  let work: string;
  let tf: Terraform;

  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'infra-agent-tf-'));
    tf = new Terraform();
  });
  afterAll(() => {
    rmSync(work, { recursive: true, force: true });
  });

  const fresh = (name: string, files: Record<string, string>): string => {
    const dir = join(work, name);
    rmSync(dir, { recursive: true, force: true });
    for (const [file, text] of Object.entries(files)) {
      const path = join(dir, file);
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, text);
    }
    return dir;
  };

  const planAndSummarize = async (dir: string, out: string) => {
    const result = await tf.plan(dir, { out: join(dir, out) });
    const summary = summarizePlan(await tf.showPlanJson(dir, join(dir, out)));
    return { result, summary };
  };

  it('reports its version', async () => {
    const v = await tf.version();
    expect(v.version).toMatch(/^1\.\d+\.\d+/);
    expect(JSON.parse(v.raw)).toHaveProperty('terraform_version', v.version);
  });

  it("reports its version when bound to a run's checkout too (it runs in a scratch dir of its own)", async () => {
    const checkout = fresh('bound', { 'main.tf': '' });
    const bound = new Terraform({ checkout });
    try {
      expect((await bound.version()).version).toMatch(/^1\.\d+\.\d+/);
    } finally {
      bound.dispose();
    }
  });

  it('runs create → update → replace → delete, each summarised exactly, and reads state redacted', async () => {
    const dir = fresh('lifecycle', { 'main.tf': config({ input: 'v1', trigger: 'a', withFile: true }) });
    await tf.init(dir);
    expect(await tf.validate(dir)).toEqual({ valid: true, diagnostics: [] });

    // create
    const create = await planAndSummarize(dir, 'create.tfplan');
    expect(create.result.changes).toBe(true);
    expect(create.summary.counts).toEqual(counts({ add: 5 }));
    expect(actions(create.summary)).toEqual({
      'local_file.motd': 'create',
      'local_sensitive_file.token': 'create',
      'random_id.suffix': 'create',
      'random_pet.name': 'create',
      'terraform_data.app': 'create',
    });
    expect(create.summary.outputs).toEqual([
      { name: 'pet', action: 'create', sensitive: false },
      { name: 'token', action: 'create', sensitive: true },
    ]);
    const pet = create.summary.resources.find((r) => r.address === 'random_pet.name');
    expect(pet).toMatchObject({ providerName: 'registry.terraform.io/hashicorp/random', unknownAttributes: ['id'] });
    expect(JSON.stringify(create.summary)).not.toContain('tok-9f8e7d6c5b4a');
    const text = await tf.showPlanText(dir, join(dir, 'create.tfplan'));
    expect(text).toContain('Plan: 5 to add, 0 to change, 0 to destroy.');
    expect(text).not.toContain('tok-9f8e7d6c5b4a');

    const applied = await tf.apply(dir, join(dir, 'create.tfplan'));
    expect(applied.output).toContain('Apply complete! Resources: 5 added, 0 changed, 0 destroyed.');
    expect(readFileSync(join(dir, 'motd.txt'), 'utf8')).toMatch(/^hello [a-z]+-[a-z]+$/);

    // nothing to do
    const same = await planAndSummarize(dir, 'same.tfplan');
    expect(same.result.changes).toBe(false);
    expect(same.summary.empty).toBe(true);
    expect(same.summary.counts).toEqual(counts({ noop: 5 }));

    // state, redacted
    const state = await readState(tf, dir);
    expect(state.terraformVersion).toMatch(/^1\./);
    expect(state.resources.map((r) => r.address).sort()).toEqual([
      'local_file.motd',
      'local_sensitive_file.token',
      'random_id.suffix',
      'random_pet.name',
      'terraform_data.app',
    ]);
    const tokenFile = state.resources.find((r) => r.address === 'local_sensitive_file.token');
    expect(tokenFile?.attributes['content']).toBe(SENSITIVE);
    expect(tokenFile?.attributes['filename']).toBe('./token.txt');
    expect(state.outputs.find((o) => o.name === 'token')).toEqual({ name: 'token', sensitive: true });
    expect(state.outputs.find((o) => o.name === 'pet')?.value).toMatch(/^[a-z]+-[a-z]+$/);
    expect(JSON.stringify(state)).not.toContain('tok-9f8e7d6c5b4a');

    // update in place
    writeFileSync(join(dir, 'main.tf'), config({ input: 'v2', trigger: 'a', withFile: true }));
    const update = await planAndSummarize(dir, 'update.tfplan');
    expect(update.summary.counts).toEqual(counts({ change: 1, noop: 4 }));
    expect(actions(update.summary)).toEqual({ 'terraform_data.app': 'update' });
    expect(update.summary.resources[0]).toMatchObject({ changedAttributes: ['input', 'output'] });
    expect(update.summary.outputs).toEqual([]);
    await tf.apply(dir, join(dir, 'update.tfplan'));

    // replace, forced by triggers_replace
    writeFileSync(join(dir, 'main.tf'), config({ input: 'v2', trigger: 'b', withFile: true }));
    const replace = await planAndSummarize(dir, 'replace.tfplan');
    expect(replace.summary.counts).toEqual(counts({ add: 1, destroy: 1, replace: 1, noop: 4 }));
    expect(actions(replace.summary)).toEqual({ 'terraform_data.app': 'replace' });
    expect(replace.summary.resources[0]).toMatchObject({
      actions: ['delete', 'create'],
      replacePaths: ['triggers_replace'],
    });
    await tf.apply(dir, join(dir, 'replace.tfplan'));

    // a provider resource replaced (random_pet length forces a new pet), and its dependant updated in place
    writeFileSync(join(dir, 'main.tf'), config({ input: 'v2', trigger: 'b', withFile: true, length: 3 }));
    const petReplace = await planAndSummarize(dir, 'pet.tfplan');
    expect(actions(petReplace.summary)).toEqual({ 'random_pet.name': 'replace', 'local_file.motd': 'replace' });
    expect(petReplace.summary.counts).toEqual(counts({ add: 2, destroy: 2, replace: 2, noop: 3 }));
    expect(petReplace.summary.outputs).toEqual([{ name: 'pet', action: 'update', sensitive: false }]);
    await tf.apply(dir, join(dir, 'pet.tfplan'));

    // drift: the file is removed behind Terraform's back
    rmSync(join(dir, 'motd.txt'));
    const drifted = await planAndSummarize(dir, 'drift.tfplan');
    expect(drifted.summary.drift).toEqual([{ address: 'local_file.motd', action: 'delete', changedAttributes: [] }]);
    expect(actions(drifted.summary)).toEqual({ 'local_file.motd': 'create' });
    await tf.apply(dir, join(dir, 'drift.tfplan'));
    expect(existsSync(join(dir, 'motd.txt'))).toBe(true);

    // delete: the resource leaves the config
    writeFileSync(join(dir, 'main.tf'), config({ input: 'v2', trigger: 'b', withFile: false, length: 3 }));
    const del = await planAndSummarize(dir, 'delete.tfplan');
    expect(del.summary.counts).toEqual(counts({ destroy: 1, noop: 4 }));
    expect(actions(del.summary)).toEqual({ 'local_file.motd': 'delete' });
    await tf.apply(dir, join(dir, 'delete.tfplan'));
    expect(existsSync(join(dir, 'motd.txt'))).toBe(false);
  });

  it('summarises an import block as an import', async () => {
    const dir = fresh('import', {
      'main.tf': `${PROVIDERS}
import {
  to = random_id.imported
  id = "p-9hUg"
}
resource "random_id" "imported" {
  byte_length = 4
}
`,
    });
    await tf.init(dir);
    const { summary } = await planAndSummarize(dir, 'import.tfplan');
    expect(summary.counts.import).toBe(1);
    expect(summary.resources.map((r) => [r.address, r.importing])).toEqual([['random_id.imported', true]]);
    expect(summary.empty).toBe(false);
  });

  it('reports formatting and rewrites it', async () => {
    const dir = fresh('fmt', {
      'main.tf': 'resource "terraform_data" "x" {\n  input = "a"\n}\n',
      'ugly.tf': 'resource "terraform_data" "y" {\ninput="a"\n}\n',
      'sub/nested.tf': 'locals {\na=1\n}\n',
    });
    expect((await tf.fmt(dir, { write: false })).files.sort()).toEqual(['sub/nested.tf', 'ugly.tf']);
    expect(readFileSync(join(dir, 'ugly.tf'), 'utf8')).toContain('input="a"');
    expect((await tf.fmt(dir, { write: true })).files.sort()).toEqual(['sub/nested.tf', 'ugly.tf']);
    expect(readFileSync(join(dir, 'ugly.tf'), 'utf8')).toContain('  input = "a"');
    expect((await tf.fmt(dir, { write: false })).files).toEqual([]);
  });

  it('fails fmt on invalid HCL with file:line diagnostics', async () => {
    const dir = fresh('fmt-bad', { 'bad.tf': 'resource "terraform_data" "x" {\n  input = \n}\n' });
    const err = await tf.fmt(dir, { write: false }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TerraformError);
    if (!(err instanceof TerraformError)) return;
    expect(err.diagnostics[0]).toMatchObject({ severity: 'error', file: 'bad.tf', line: 2 });
    expect(err.message).toMatch(/^bad\.tf:2: /);
  });

  it('returns validate diagnostics with file and line', async () => {
    const dir = fresh('invalid', {
      'main.tf': 'resource "terraform_data" "x" {\n  input = "a"\n}\n',
      'broken.tf': '\n\nresource "terraform_data" "y" {\n  not_an_argument = 1\n}\n',
    });
    await tf.init(dir, { backend: false });
    const result = await tf.validate(dir);
    expect(result.valid).toBe(false);
    expect(result.diagnostics).toEqual([
      {
        severity: 'error',
        summary: 'Unsupported argument',
        detail: 'An argument named "not_an_argument" is not expected here.',
        file: 'broken.tf',
        line: 4,
      },
    ]);
  });

  it('turns a failed plan into a TerraformError of diagnostics, not a stack trace', async () => {
    const dir = fresh('failing', {
      'main.tf': 'resource "terraform_data" "x" {\n  input = "a"\n}\n',
      'uses.tf': '# uses an undeclared variable\nresource "terraform_data" "y" {\n  input = var.missing\n}\n',
    });
    await tf.init(dir);
    const err = await tf.plan(dir, { out: join(dir, 'p.tfplan') }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TerraformError);
    if (!(err instanceof TerraformError)) return;
    expect(err.command).toMatch(/ plan$/);
    expect(err.exitCode).toBe(1);
    expect(err.diagnostics).toEqual([
      expect.objectContaining({
        severity: 'error',
        summary: 'Reference to undeclared input variable',
        file: 'uses.tf',
        line: 3,
      }),
    ]);
    expect(err.message).toMatch(
      /^uses\.tf:3: Reference to undeclared input variable — An input variable with the name "missing"/,
    );
    expect(err.message).not.toMatch(/\n\s+at /);
    expect(existsSync(join(dir, 'p.tfplan'))).toBe(false);
  });

  it('fails init with the diagnostics when a provider is not in the mirror', async () => {
    const dir = fresh('no-provider', {
      'main.tf': 'terraform {\n  required_providers {\n    nope = { source = "example/nope" }\n  }\n}\n',
    });
    const err = await tf.init(dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TerraformError);
    if (!(err instanceof TerraformError)) return;
    expect(err.diagnostics.length).toBeGreaterThan(0);
    expect(err.message).toContain('example/nope');
  });

  it('creates and selects workspaces', async () => {
    const dir = fresh('ws', { 'main.tf': 'resource "terraform_data" "x" {\n  input = terraform.workspace\n}\n' });
    await tf.init(dir);
    await tf.selectWorkspace(dir, 'staging');
    await tf.selectWorkspace(dir, 'default');
    await tf.selectWorkspace(dir, 'staging');
    const { summary } = await planAndSummarize(dir, 'ws.tfplan');
    expect(actions(summary)).toEqual({ 'terraform_data.x': 'create' });
    expect(readFileSync(join(tf.dataDir(dir), 'environment'), 'utf8')).toBe('staging');
    // The data dir is outside the checkout: nothing of terraform's lands in the repository.
    expect(existsSync(join(dir, '.terraform'))).toBe(false);
    await expect(tf.selectWorkspace(dir, '-bad')).rejects.toThrow(/invalid workspace name/);
  });

  it('passes variables as TF_VAR_* and refuses names that would read as flags', async () => {
    const dir = fresh('vars', {
      'main.tf':
        'variable "who" { type = string }\nresource "terraform_data" "x" {\n  input = var.who\n}\noutput "who" { value = var.who }\n',
    });
    await tf.init(dir);
    await tf.plan(dir, { out: join(dir, 'v.tfplan'), vars: { who: 'world' } });
    const plan = await tf.showPlanJson(dir, join(dir, 'v.tfplan'));
    expect(JSON.stringify(plan)).toContain('"world"');
    await expect(tf.plan(dir, { out: join(dir, 'x.tfplan'), vars: { '-destroy': 'x' } })).rejects.toThrow(
      /invalid variable name/,
    );
  });

  it('cuts an enormous plan text and says how much was cut, while the plan JSON stays whole', async () => {
    // three resources with a 1 MB input each: ~3 MB of plan text against the 2 MB text cap
    const dir = fresh('huge', {
      'main.tf': 'resource "terraform_data" "big" {\n  count = 3\n  input = format("%01000000d", count.index)\n}\n',
    });
    await tf.init(dir);
    await tf.plan(dir, { out: join(dir, 'big.tfplan') });
    const text = await tf.showPlanText(dir, join(dir, 'big.tfplan'));
    expect(text.length).toBeLessThan(2.2 * 1024 * 1024);
    expect(text).toMatch(/\[… \d+ more bytes of output cut\]$/);
    const summary = summarizePlan(await tf.showPlanJson(dir, join(dir, 'big.tfplan')));
    expect(summary.counts.add).toBe(3);
  });

  it('says which binary is missing instead of crashing', async () => {
    const missing = new Terraform({ bin: join(work, 'no-such-terraform') });
    const err = await missing.version().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TerraformError);
    expect(String((err as Error).message)).toMatch(/not found .*npm run bootstrap/);
  });

  it('honours an abort signal', async () => {
    const dir = fresh('abort', { 'main.tf': 'resource "terraform_data" "x" {}\n' });
    const ac = new AbortController();
    ac.abort();
    await expect(tf.init(dir, { signal: ac.signal })).rejects.toThrow(/aborted|cancelled/);
  });
});
