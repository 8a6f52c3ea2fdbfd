// The operator's local-state dirs (INFRA_AGENT_SANDBOX_STATE_DIRS): bound into terraform's sandbox (writable), and a
// local backend inside them is not a pre-plan finding (the demo and the e2e tests keep state there). A repository
// cannot set the variable; terraform sees no other dir of the worker.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { PolicyConfigSchema } from '../../src/config/schema.js';
import { runGuard } from '../../src/policy/scanners/pregate.js';
import { STATE_DIRS_ENV, terraformPolicy } from '../../src/sandbox/policy.js';

const saved = process.env[STATE_DIRS_ENV];
const dirs: string[] = [];
afterEach(async () => {
  if (saved === undefined) delete process.env[STATE_DIRS_ENV];
  else process.env[STATE_DIRS_ENV] = saved;
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

describe('operator state dirs', () => {
  it('are bound for terraform, and a local backend there plans', async () => {
    const root = await mkdtemp(join(tmpdir(), 'operator-state-'));
    dirs.push(root);
    const stateDir = join(root, 'state');
    await mkdir(join(root, 'repo'), { recursive: true });
    await mkdir(stateDir);
    const backend = (path: string) => `terraform {\n  backend "local" {\n    path = "${path}"\n  }\n}\n`;
    let n = 0;
    const guard = async (path: string) => {
      // A fresh module dir each time: the guard caches what it parsed per dir.
      const repo = join(root, `repo-${++n}`);
      await mkdir(repo);
      await writeFile(join(repo, 'backend.tf'), backend(path));
      const r = await runGuard(repo, repo, PolicyConfigSchema.parse({}));
      return r.run.findings.filter((f) => f.ruleId === 'PRE-FILE-001').map((f) => f.file);
    };
    process.env[STATE_DIRS_ENV] = stateDir;
    // Where the root module's own backend writes is the sandbox's business (it binds only these dirs), not a finding.
    expect(await guard(join(stateDir, 'terraform.tfstate'))).toEqual([]);
    // And the sandbox binds it writable for terraform only.
    const policy = terraformPolicy({ tool: '/bin/sh', checkout: join(root, 'repo'), dataDir: root });
    expect(policy.writable).toContain(stateDir);
  });
});
