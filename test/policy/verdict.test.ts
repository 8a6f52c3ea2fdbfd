// The finding model and the verdict, on findings built by hand (the scanners are tested with the real tools).
import { describe, expect, it } from 'vitest';
import { PolicyConfigSchema } from '../../src/config/schema.js';
import type { Finding, ScannerRun } from '../../src/core/types.js';
import { makeFinding, mergeFindings, normalizeAddress } from '../../src/policy/findings.js';
import { decideVerdict } from '../../src/policy/verdict.js';

const config = PolicyConfigSchema.parse({});
const run = (name: ScannerRun['name'], findings: Finding[], status: ScannerRun['status'] = 'ok'): ScannerRun => ({
  name,
  status,
  durationMs: 1,
  findings,
  ...(status === 'ok' ? {} : { reason: 'boom' }),
});
const ok = (findings: Finding[] = []) => [
  run('pregate', []),
  run('tfsec', []),
  run('checkov', []),
  run('opa', findings),
];

describe('findings', () => {
  it('normalises scanner addresses', () => {
    expect(normalizeAddress('aws_db_instance.db.publicly_accessible')).toBe('aws_db_instance.db');
    expect(normalizeAddress('module.a["x"].aws_s3_bucket.b[0].acl')).toBe('module.a["x"].aws_s3_bucket.b[0]');
    expect(normalizeAddress('aws.default')).toBe('provider.aws');
    expect(normalizeAddress('aws.west')).toBe('provider.aws.west');
    expect(normalizeAddress('var.db_password')).toBe('var.db_password');
    expect(normalizeAddress('data.aws_iam_policy_document.d')).toBe('data.aws_iam_policy_document.d');
  });

  it('merges the same rule on the same address from several scanners', () => {
    const merged = mergeFindings([
      makeFinding({ ruleId: 'SEC-NET-001', source: 'opa', address: 'aws_security_group.a', message: 'ssh open' }),
      makeFinding({
        ruleId: 'SEC-NET-001',
        source: 'checkov',
        nativeId: 'CKV_AWS_24',
        address: 'aws_security_group.a',
        file: 'n.tf',
        line: 3,
        message: 'x',
      }),
      makeFinding({
        ruleId: 'aws-ec2-no-public-ingress-sgr',
        source: 'tfsec',
        severity: 'critical',
        address: 'aws_security_group.a',
        file: 'n.tf',
        line: 9,
        message: 'y',
      }),
    ]);
    expect(merged).toHaveLength(1);
    expect(merged[0]).toMatchObject({
      ruleId: 'SEC-NET-001',
      level: 'hard',
      message: 'ssh open',
      file: 'n.tf',
      line: 3,
    });
    expect(merged[0]?.sources).toEqual(['opa', 'checkov', 'tfsec']);
    expect(merged[0]?.sourceIds).toEqual(['SEC-NET-001', 'CKV_AWS_24', 'aws-ec2-no-public-ingress-sgr']);
  });

  it('a corroborating check alone stays advisory (443 open is not SSH)', () => {
    const merged = mergeFindings([
      makeFinding({
        ruleId: 'aws-ec2-no-public-ingress-sgr',
        source: 'tfsec',
        severity: 'critical',
        address: 'aws_security_group.web',
        message: 'public',
      }),
    ]);
    expect(merged).toEqual([
      expect.objectContaining({ ruleId: 'aws-ec2-no-public-ingress-sgr', level: 'advisory', severity: 'critical' }),
    ]);
  });

  it('a verified finding outranks a not-verified one of the same rule', () => {
    const merged = mergeFindings([
      makeFinding({
        ruleId: 'SEC-IAM-001',
        source: 'opa',
        address: 'aws_iam_policy.p',
        message: 'not verified: x',
        notVerified: true,
      }),
      makeFinding({
        ruleId: 'SEC-IAM-001',
        source: 'checkov',
        nativeId: 'CKV_AWS_62',
        address: 'aws_iam_policy.p',
        message: 'admin',
      }),
    ]);
    expect(merged).toEqual([expect.objectContaining({ level: 'hard', message: 'admin' })]);
    expect(merged[0]?.notVerified).toBeUndefined();
  });

  it('unmapped checkov ids are advisory', () => {
    expect(makeFinding({ ruleId: 'CKV_AWS_999', source: 'checkov', level: 'advisory', message: 'm' }).level).toBe(
      'advisory',
    );
  });
});

describe('decideVerdict', () => {
  const hard = makeFinding({ ruleId: 'SEC-NET-001', source: 'opa', address: 'aws_sg.a', message: 'm' });
  const soft = makeFinding({ ruleId: 'SEC-DATA-001', source: 'opa', address: 'aws_db_instance.c', message: 'm' });
  const advisory = makeFinding({ ruleId: 'OPS-TAG-001', source: 'opa', address: 'aws_s3_bucket.e', message: 'm' });
  const override = { ruleId: 'SEC-DATA-001', by: 'alice', at: '2026-01-01T00:00:00Z', reason: 'legacy' };

  it('passes with only advisory findings', () => {
    expect(decideVerdict({ scanners: ok([advisory]), overrides: [], config }).status).toBe('pass');
  });

  it('blocks on a hard finding and ignores an override of it, saying so', () => {
    const v = decideVerdict({ scanners: ok([hard]), overrides: [{ ...override, ruleId: 'SEC-NET-001' }], config });
    expect(v.status).toBe('blocked');
    expect(v.overrides).toEqual([]);
    expect(v.reasons.join('\n')).toMatch(/SEC-NET-001 is a hard rule and cannot be overridden/);
  });

  it('needs an override for a soft finding, and passes once it is given', () => {
    expect(decideVerdict({ scanners: ok([soft]), overrides: [], config }).status).toBe('needs-override');
    const v = decideVerdict({ scanners: ok([soft]), overrides: [override], config });
    expect(v.status).toBe('pass');
    expect(v.overrides).toEqual([override]);
  });

  it('ignores an override given for another plan', () => {
    const v = decideVerdict({
      scanners: ok([soft]),
      overrides: [{ ...override, planHash: 'old' }],
      config,
      planHash: 'new',
    });
    expect(v.status).toBe('needs-override');
  });

  it('applies config levels, and "off" drops a rule', () => {
    expect(
      decideVerdict({ scanners: ok([hard]), overrides: [], config: { ...config, levels: { 'SEC-NET-001': 'soft' } } })
        .status,
    ).toBe('needs-override');
    expect(
      decideVerdict({ scanners: ok([hard]), overrides: [], config: { ...config, levels: { 'SEC-NET-001': 'off' } } })
        .findings,
    ).toEqual([]);
    expect(
      decideVerdict({
        scanners: ok([advisory]),
        overrides: [],
        config: { ...config, levels: { 'OPS-TAG-001': 'hard' } },
      }).status,
    ).toBe('blocked');
  });

  it('blocks when a scanner did not run or failed, unless allowed; the guard is never optional', () => {
    const missing = [run('pregate', []), run('tfsec', [], 'not-run'), run('checkov', [], 'failed'), run('opa', [])];
    const v = decideVerdict({ scanners: missing, overrides: [], config });
    expect(v.status).toBe('blocked');
    expect(v.reasons).toEqual(
      expect.arrayContaining([expect.stringMatching(/tfsec did not run/), expect.stringMatching(/checkov failed/)]),
    );
    expect(
      decideVerdict({
        scanners: missing,
        overrides: [],
        config: { ...config, allow_missing_scanners: ['tfsec', 'checkov'] },
      }).status,
    ).toBe('pass');
    const guard = [run('pregate', [], 'failed'), run('opa', [])];
    expect(
      decideVerdict({
        scanners: guard,
        overrides: [],
        config: { ...config, allow_missing_scanners: ['tfsec', 'checkov', 'opa'] },
      }).status,
    ).toBe('blocked');
  });

  it('fills in file:line from the HCL index for plan-only findings', () => {
    const v = decideVerdict({
      scanners: ok([hard]),
      overrides: [],
      config,
      locate: (a) => (a === 'aws_sg.a' ? { file: 'x.tf', line: 7 } : undefined),
    });
    expect(v.findings[0]).toMatchObject({ file: 'x.tf', line: 7 });
  });
});
