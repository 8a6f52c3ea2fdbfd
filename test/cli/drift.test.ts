// `infra-agent drift <dir>` as a user runs it (a real process, real terraform, state in a local backend outside the
// module): exit 0 with no drift, 1 with drift (a managed file deleted out of band, an attribute changed in state),
// 2 when the check cannot run (Terraform's own error on stderr) or the arguments are wrong; --format json|markdown.
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { STATE_DIRS_ENV } from '../../src/sandbox/policy.js';
import { Terraform } from '../../src/terraform/engine.js';
import { projectRoot } from '../../src/toolchain/tools.js';
import { describeWithTools } from '../helpers/tools.js';

let dirForSandbox = '';

function cli(args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(projectRoot(), 'src/cli.ts'), 'drift', ...args], {
      cwd: projectRoot(),
      stdio: ['ignore', 'pipe', 'pipe'],
      // The state and the managed file live beside the module: the user lets terraform write there.
      env: { ...process.env, [STATE_DIRS_ENV]: dirForSandbox },
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
    });
    child.stderr.on('data', (c: Buffer) => {
      err += c.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, out, err }));
  });
}

describeWithTools(['terraform'], 'infra-agent drift', () => {
  let dir: string;
  let module: string;
  let statePath: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'infra-agent-cli-drift-'));
    dirForSandbox = dir;
    process.env[STATE_DIRS_ENV] = [process.env[STATE_DIRS_ENV], dir].filter(Boolean).join(':');
    module = join(dir, 'module');
    statePath = join(dir, 'state', 'terraform.tfstate');
    await mkdir(module, { recursive: true });
    await writeFile(
      join(module, 'main.tf'),
      [
        `terraform {\n  backend "local" {\n    path = ${JSON.stringify(statePath)}\n  }\n}`,
        `resource "local_file" "motd" {\n  filename = ${JSON.stringify(join(dir, 'motd.txt'))}\n  content  = "hello"\n}`,
        'resource "terraform_data" "release" {\n  input = "v1"\n}',
        '',
      ].join('\n'),
    );
    const tf = new Terraform();
    await tf.init(module);
    await tf.plan(module, { out: join(dir, 'p.tfplan') });
    await tf.apply(module, join(dir, 'p.tfplan'));
  }, 180_000);

  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('exits 0 when reality matches state and code', async () => {
    const r = await cli([module]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toContain('**No drift.**');
    const json = await cli([module, '--format', 'json']);
    expect(json.code).toBe(0);
    const parsed = JSON.parse(json.out);
    expect(parsed.status).toBe('clean');
    expect(parsed.resources).toEqual([]);
    expect(parsed.plan.empty).toBe(true);
  }, 120_000);

  it('exits 1 on drift and names the resources, never the values', async () => {
    await unlink(join(dir, 'motd.txt'));
    const state = JSON.parse(await readFile(statePath, 'utf8'));
    const release = state.resources.find((r: { name: string }) => r.name === 'release');
    release.instances[0].attributes.input = { type: 'string', value: 'secret-looking-v0' };
    state.serial += 1;
    await writeFile(statePath, JSON.stringify(state));

    const md = await cli([module]);
    expect(md.code).toBe(1);
    expect(md.out).toMatch(/`local_file\.motd` \| deleted \| create/);
    expect(md.out).toMatch(/`terraform_data\.release` \| — \| update \| `input`/);
    expect(md.out).not.toContain('secret-looking-v0');
    const json = await cli([module, '--format', 'json']);
    expect(json.code).toBe(1);
    const parsed = JSON.parse(json.out);
    expect(parsed.status).toBe('drifted');
    expect(parsed.resources.map((r: { address: string }) => r.address)).toEqual([
      'local_file.motd',
      'terraform_data.release',
    ]);
    expect(parsed.refreshOnly.drift).toEqual([{ address: 'local_file.motd', action: 'delete', changedAttributes: [] }]);
    expect(json.out).not.toContain('secret-looking-v0');
  }, 120_000);

  it('exits 2 with Terraform’s own message when the check cannot run, and on bad arguments', async () => {
    const broken = join(dir, 'broken');
    await mkdir(broken, { recursive: true });
    await writeFile(join(broken, 'main.tf'), 'resource "terraform_data" "x" {\n  input = \n}\n');
    const r = await cli([broken]);
    expect(r.code).toBe(2);
    expect(r.err).toContain('the check failed');
    expect(r.err).toMatch(/Invalid expression|Argument or block definition required/);
    const json = await cli([broken, '--format', 'json']);
    expect(json.code).toBe(2);
    expect(JSON.parse(json.out).status).toBe('error');

    expect((await cli([])).code).toBe(2);
    expect((await cli([module, '--format', 'sarif'])).code).toBe(2);
    expect((await cli([join(dir, 'nope')])).code).toBe(2);
  }, 120_000);
});
