// The default branch's snapshot (what the App reads before judging a PR): its Terraform files give the guard's
// baseline, its `policy.custom_policy_dir` gives the Rego, and nothing of the working tree (the PR head) leaks in.
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { PolicyConfigSchema } from '../../src/config/schema.js';
import { snapshotDefaultBranch } from '../../src/policy/guard/baseline.js';
import { checkModuleSource } from '../../src/policy/guard/sources.js';
import { run } from '../../src/sandbox/exec.js';
import { requireTool } from '../../src/toolchain/tools.js';

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

const ENV = {
  GIT_AUTHOR_NAME: 't',
  GIT_AUTHOR_EMAIL: 't@example.com',
  GIT_COMMITTER_NAME: 't',
  GIT_COMMITTER_EMAIL: 't@example.com',
  GIT_CONFIG_GLOBAL: '/dev/null',
};

it('reads the default branch, not the working tree: baseline, custom policies, no symlinks', async () => {
  const repo = await mkdtemp(join(tmpdir(), 'default-branch-'));
  const out = await mkdtemp(join(tmpdir(), 'default-branch-out-'));
  dirs.push(repo, out);
  const git = (args: string[]) => run(requireTool('git'), args, { cwd: repo, env: ENV, timeoutMs: 30_000 });
  await mkdir(join(repo, 'policy'));
  await mkdir(join(repo, 'envs/prod'), { recursive: true });
  await writeFile(
    join(repo, 'envs/prod/main.tf'),
    'terraform {\n  required_providers {\n    github = {\n      source = "integrations/github"\n    }\n  }\n}\n\nmodule "vpc" {\n  source  = "terraform-aws-modules/vpc/aws"\n  version = "~> 5.0"\n}\n',
  );
  await writeFile(
    join(repo, 'policy/review.rego'),
    'package infra_agent.custom.review\n\ndeny contains "x" if false\n',
  );
  await writeFile(join(repo, 'secret.txt'), 'not terraform\n');
  await symlink('/etc/passwd', join(repo, 'policy/linked.rego'));
  await git(['init', '-q', '-b', 'main']);
  await git(['add', '-A']);
  await git(['commit', '-q', '-m', 'base']);
  // The PR's working tree: a rewritten policy and a new module; none of it may show.
  await writeFile(join(repo, 'policy/review.rego'), 'package infra_agent.custom.review\n\ndeny := set()\n');
  await writeFile(join(repo, 'new.tf'), 'module "evil" {\n  source  = "evil/mod/aws"\n  version = "1.0.0"\n}\n');

  const snap = await snapshotDefaultBranch(async (args) => (await git(args)).stdout, 'main', out, 'policy');
  expect(snap.customPolicies).toEqual({ dir: join(out, 'policy') });
  expect(await readFile(join(out, 'policy/review.rego'), 'utf8')).toContain('deny contains "x" if false');
  await expect(readFile(join(out, 'policy/linked.rego'))).rejects.toThrow();
  await expect(readFile(join(out, 'secret.txt'))).rejects.toThrow();
  expect([...snap.baseline.providers]).toContain('integrations/github');
  expect(snap.baseline.modules.get('terraform-aws-modules/vpc/aws')).toEqual(new Set(['~> 5.0']));
  expect(snap.baseline.modules.has('evil/mod/aws')).toBe(false);
  const defaults = PolicyConfigSchema.parse({});
  expect(checkModuleSource('terraform-aws-modules/vpc/aws', '~> 5.0', defaults, snap.baseline)).toBeUndefined();
  expect(checkModuleSource('evil/mod/aws', '1.0.0', defaults, snap.baseline)).toBeDefined();

  const empty = await mkdtemp(join(tmpdir(), 'default-branch-none-'));
  dirs.push(empty);
  const none = await snapshotDefaultBranch(async (args) => (await git(args)).stdout, 'main', empty, 'rules');
  expect(none.customPolicies).toEqual({ error: expect.stringContaining('holds no .rego file on the default branch') });
});
