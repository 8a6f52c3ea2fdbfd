// The default Rego policies: their own `opa test` suite passes, they are formatted, and every real plan fixture
// (test/fixtures/plans, copied with their licence) evaluates without error through the OPA scanner.
import { readdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { expect, it } from 'vitest';
import { PolicyConfigSchema } from '../../src/config/schema.js';
import { defaultPolicyDir, opaScanner } from '../../src/policy/scanners/opa.js';
import { run } from '../../src/sandbox/exec.js';
import { requireTool } from '../../src/toolchain/tools.js';
import { describeWithTools } from '../helpers/tools.js';

const PLANS = resolve(import.meta.dirname, '../fixtures/plans');

describeWithTools(['opa'], 'default Rego policies', () => {
  it('pass `opa test policies/ -v`, with deny and allow cases for every rule', async () => {
    const r = await run(requireTool('opa'), ['test', defaultPolicyDir(), '-v'], { timeoutMs: 120_000 });
    expect(r.stdout).not.toMatch(/\bFAIL\b|\bERROR\b/);
    const m = /PASS: (\d+)\/(\d+)/.exec(r.stdout);
    expect(m?.[1]).toBe(m?.[2]);
    expect(Number(m?.[1])).toBeGreaterThanOrEqual(90);
    const rules = [
      'SEC-NET-001',
      'SEC-NET-002',
      'SEC-NET-003',
      'SEC-IAM-001',
      'SEC-IAM-002',
      'SEC-IAM-003',
      'SEC-SECRET-001',
    ];
    const tests = await Promise.all(
      (await readdir(defaultPolicyDir()))
        .filter((f) => f.endsWith('_test.rego'))
        .map((f) => readFile(join(defaultPolicyDir(), f), 'utf8')),
    );
    for (const rule of rules) expect(tests.join('\n')).toContain(rule);
  });

  it('are formatted (`opa fmt --list` prints nothing)', async () => {
    const r = await run(requireTool('opa'), ['fmt', '--list', defaultPolicyDir()], { timeoutMs: 60_000 });
    expect(r.stdout.trim()).toBe('');
  });

  it('evaluate every real-world fixture plan without error', async () => {
    const files = (await readdir(PLANS)).filter((f) => f.endsWith('.json'));
    expect(files.length).toBeGreaterThanOrEqual(10);
    const config = PolicyConfigSchema.parse({ required_tags: ['owner'], allowed_regions: ['us-east-1'] });
    const byFile = new Map<string, string[]>();
    for (const f of files) {
      const planJson: unknown = JSON.parse(await readFile(join(PLANS, f), 'utf8'));
      const r = await opaScanner.run({ dir: PLANS, repoRoot: PLANS, planJson, config });
      expect(r.status, `${f}: ${r.reason ?? ''}`).toBe('ok');
      byFile.set(
        f,
        r.findings.filter((x) => !x.notVerified).map((x) => x.ruleId),
      );
    }
    // The Redshift fixtures set a literal master_password and publicly_accessible = true.
    expect(byFile.get('aws_redshift_cluster--sns-event.json')).toEqual(
      expect.arrayContaining(['SEC-SECRET-001', 'SEC-DB-002']),
    );
    // A Describe-only IAM policy on Resource "*" is not a write action.
    expect(byFile.get('aws_iam_policy.json')).not.toContain('SEC-IAM-003');
  });
});
