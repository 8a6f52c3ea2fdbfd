// `init` skipped on a project's reused data dir when nothing it depends on changed (init-stamp.ts), and run again when
// the lock file, a module source, the backend block or the backend config given to init changes — real terraform,
// the mirror's hashicorp/random provider, the shared provider cache.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Terraform } from '../../src/terraform/engine.js';
import { describeWithTools } from '../helpers/tools.js';

const SKIPPED = /^init skipped/;
const REPO = 'https://github.com/acme/init-stamp';
const MAIN =
  'terraform {\n  required_providers {\n    random = { source = "hashicorp/random" }\n  }\n}\n\n' +
  'resource "random_pet" "p" {\n  length = 2\n}\n';

describeWithTools(['terraform'], 'init skipped on an unchanged reused data dir (real terraform)', () => {
  let work: string;
  let lock: string;
  const saved = process.env['INFRA_AGENT_CACHE_DIR'];
  let n = 0;
  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'init-stamp-'));
    process.env['INFRA_AGENT_CACHE_DIR'] = join(work, 'cache');
    // The lock file the repository commits, from a throwaway init.
    const seed = join(work, 'seed');
    mkdirSync(seed);
    writeFileSync(join(seed, 'main.tf'), MAIN);
    const tf = new Terraform({ checkout: seed });
    await tf.init(seed).finally(() => tf.dispose());
    lock = readFileSync(join(seed, '.terraform.lock.hcl'), 'utf8');
  }, 120_000);
  afterAll(() => {
    if (saved === undefined) delete process.env['INFRA_AGENT_CACHE_DIR'];
    else process.env['INFRA_AGENT_CACHE_DIR'] = saved;
    rmSync(work, { recursive: true, force: true });
  });

  /** A fresh clone of the repository (as each run gets one) with these files, inited once; the init's output. */
  async function initClone(
    files: Record<string, string>,
    backendConfig?: Record<string, string>,
  ): Promise<{ output: string; tf: Terraform; dir: string }> {
    const dir = join(work, `clone-${n++}`);
    mkdirSync(join(dir, '.git'), { recursive: true });
    for (const [name, text] of Object.entries({ '.terraform.lock.hcl': lock, 'main.tf': MAIN, ...files })) {
      mkdirSync(join(dir, name, '..'), { recursive: true });
      writeFileSync(join(dir, name), text);
    }
    const tf = new Terraform({ checkout: dir, reuse: REPO });
    const { output } = await tf.init(dir, backendConfig ? { backendConfig } : {});
    return { output, tf, dir };
  }
  async function initOutput(files: Record<string, string>, backendConfig?: Record<string, string>): Promise<string> {
    const r = await initClone(files, backendConfig);
    r.tf.dispose();
    return r.output;
  }

  it('an unchanged project skips init and still validates and plans', async () => {
    // The first run of the project inits (from the shared cache the seed filled) and records it.
    expect(await initOutput({})).not.toMatch(SKIPPED);
    const third = await initClone({});
    try {
      expect(third.output).toMatch(SKIPPED);
      expect((await third.tf.validate(third.dir)).valid).toBe(true);
      const plan = await third.tf.plan(third.dir, { out: join(third.dir, 'tfplan') });
      expect(plan.changes).toBe(true);
    } finally {
      third.tf.dispose();
    }
    // A change elsewhere (a resource's arguments) is not init's business.
    expect(await initOutput({ 'main.tf': MAIN.replace('length = 2', 'length = 3') })).toMatch(SKIPPED);
  }, 240_000);

  it('a changed lock file re-inits', async () => {
    await initOutput({});
    expect(await initOutput({ '.terraform.lock.hcl': `${lock}\n# regenerated\n` })).not.toMatch(SKIPPED);
  }, 240_000);

  it('a new or changed module source re-inits, in any file of the checkout', async () => {
    const mod = {
      'modules/a/main.tf': 'output "x" {\n  value = 1\n}\n',
      'modules/b/main.tf': 'output "x" {\n  value = 2\n}\n',
    };
    const call = (src: string) => `module "m" {\n  source = "${src}"\n}\n`;
    await initOutput({ ...mod, 'mods.tf': call('./modules/a') });
    expect(await initOutput({ ...mod, 'mods.tf': call('./modules/a') })).toMatch(SKIPPED);
    expect(await initOutput({ ...mod, 'mods.tf': call('./modules/b') })).not.toMatch(SKIPPED);
    // A module block added inside a local module (a nested call) counts too.
    const nested = { ...mod, 'modules/b/inner.tf': call('../a') };
    expect(await initOutput({ ...nested, 'mods.tf': call('./modules/b') })).not.toMatch(SKIPPED);
  }, 240_000);

  it('a changed backend block or backend config re-inits', async () => {
    const backend = (path: string) => `terraform {\n  backend "local" {\n    path = "${path}"\n  }\n}\n`;
    await initOutput({ 'backend.tf': backend('a.tfstate') });
    expect(await initOutput({ 'backend.tf': backend('a.tfstate') })).toMatch(SKIPPED);
    expect(await initOutput({ 'backend.tf': backend('b.tfstate') })).not.toMatch(SKIPPED);
    expect(await initOutput({ 'backend.tf': backend('b.tfstate') })).toMatch(SKIPPED);
    expect(await initOutput({ 'backend.tf': backend('b.tfstate') }, { path: 'c.tfstate' })).not.toMatch(SKIPPED);
  }, 240_000);
});
