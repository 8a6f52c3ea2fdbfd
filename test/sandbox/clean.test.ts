// The clean workspace: what a checkout may not carry into a run, removed before any tool runs and reported.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { hazardFindings } from '../../src/policy/workspace-hazards.js';
import { cleanCheckout, findHazards, WORKSPACE_RULE_ID } from '../../src/sandbox/clean.js';
import { Terraform } from '../../src/terraform/engine.js';
import { describeWithTools } from '../helpers/tools.js';

const base = mkdtempSync(join(tmpdir(), 'clean-test-'));
afterAll(() => rmSync(base, { recursive: true, force: true }));

function checkout(name: string): string {
  const root = join(base, name);
  mkdirSync(join(root, '.git'), { recursive: true });
  writeFileSync(join(root, 'main.tf'), 'resource "terraform_data" "x" {\n  input = 1\n}\n');
  return root;
}

describe('cleanCheckout', () => {
  it('removes committed .terraform/, state, CLI config and outward links, and keeps the code', async () => {
    const root = checkout('all');
    const outside = join(base, 'outside.txt');
    writeFileSync(outside, 'x');
    mkdirSync(join(root, 'envs', 'prod', '.terraform', 'providers'), { recursive: true });
    writeFileSync(join(root, 'envs', 'prod', '.terraform', 'environment'), 'prod');
    writeFileSync(join(root, 'terraform.tfstate'), '{}');
    writeFileSync(join(root, 'envs', 'prod', 'terraform.tfstate.backup'), '{}');
    mkdirSync(join(root, 'terraform.tfstate.d', 'prod'), { recursive: true });
    writeFileSync(join(root, '.terraformrc'), 'provider_installation {}');
    writeFileSync(join(root, 'envs', 'terraform.rc'), '');
    writeFileSync(join(root, 'credentials.tfrc.json'), '{}');
    symlinkSync(outside, join(root, 'out.tf'));
    symlinkSync('../../etc', join(root, 'envs', 'etc'));
    symlinkSync('.git/config', join(root, 'gitconfig.tf'));
    symlinkSync('main.tf', join(root, 'alias.tf'));
    symlinkSync('/nonexistent/dangling', join(root, 'dangling.tf'));

    const hazards = await cleanCheckout(root);
    expect(hazards.map((h) => `${h.kind} ${h.path}`).sort()).toEqual([
      'cli-config .terraformrc',
      'cli-config credentials.tfrc.json',
      'cli-config envs/terraform.rc',
      'state envs/prod/terraform.tfstate.backup',
      'state terraform.tfstate',
      'state terraform.tfstate.d',
      'symlink dangling.tf',
      'symlink envs/etc',
      'symlink gitconfig.tf',
      'symlink out.tf',
      'terraform-dir envs/prod/.terraform',
    ]);
    for (const h of hazards) expect(existsSync(join(root, h.path))).toBe(false);
    // The code, the link that stays inside, .git and the file outside are untouched.
    expect(existsSync(join(root, 'main.tf'))).toBe(true);
    expect(readFileSync(join(root, 'alias.tf'), 'utf8')).toContain('terraform_data');
    expect(existsSync(join(root, '.git'))).toBe(true);
    expect(readFileSync(outside, 'utf8')).toBe('x');
    // Reported again by every later clean of the same checkout, as one hard finding each.
    expect((await cleanCheckout(root)).length).toBe(hazards.length);
    const findings = hazardFindings(hazards);
    expect(findings.every((f) => f.ruleId === WORKSPACE_RULE_ID && f.level === 'hard')).toBe(true);
    expect(findings.find((f) => f.file === 'out.tf')?.message).toContain(outside);
  });

  it('finds nothing in a clean checkout', async () => {
    expect(await findHazards(checkout('clean'))).toEqual([]);
  });
});

describeWithTools(['terraform'], 'no tool writes through a link', () => {
  it('terraform fmt -write in the sandbox does not follow a link out of the checkout, even one made mid-run', async () => {
    const root = checkout('fmt');
    const victim = join(base, 'victim.tf');
    const original = 'resource "terraform_data" "v" {\ninput="x"\n}\n';
    writeFileSync(victim, original);
    // A link created after the clean (by a tool, or a race) still cannot be written through: outside the checkout
    // nothing is writable in the sandbox.
    symlinkSync(victim, join(root, 'linked.tf'));
    const tf = new Terraform({ checkout: root });
    try {
      await tf.fmt(root, { write: true }).catch(() => undefined);
    } finally {
      tf.dispose();
    }
    expect(readFileSync(victim, 'utf8')).toBe(original);
  });
});
