// The whole gate with the real tfsec, checkov and opa: the vulnerable sample tree is caught rule by rule, the
// compliant module gets no hard or soft finding from any scanner, and a missing or crashing scanner never passes.
import { chmod, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, beforeAll, expect, it } from 'vitest';
import { PolicyConfigSchema } from '../../src/config/schema.js';
import type { Finding, ScannerRun, Verdict } from '../../src/core/types.js';
import { runGate, runPregate } from '../../src/policy/gate.js';
import { mapCheckovId, mapTfsecId, SCANNER_LEVEL_CAPS } from '../../src/policy/rules.js';
import { checkovScanner } from '../../src/policy/scanners/checkov.js';
import { opaScanner } from '../../src/policy/scanners/opa.js';
import { pregateScanner } from '../../src/policy/scanners/pregate.js';
import { tfsecScanner } from '../../src/policy/scanners/tfsec.js';
import { describeWithTools } from '../helpers/tools.js';

const FIXTURES = resolve(import.meta.dirname, '../fixtures/policy');
const VULNERABLE = join(FIXTURES, 'vulnerable');
const COMPLIANT = join(FIXTURES, 'compliant');
const config = PolicyConfigSchema.parse({
  allowed_regions: ['eu-west-1'],
  required_tags: ['owner'],
  allowed_providers: ['hashicorp/aws'],
});

function blocking(findings: Finding[]): Finding[] {
  return findings.filter((f) => f.level === 'hard' || f.level === 'soft');
}
function has(v: Verdict, ruleId: string, address: string, level: string): Finding | undefined {
  return v.findings.find((f) => f.ruleId === ruleId && f.address === address && f.level === level);
}

describeWithTools(['tfsec', 'checkov', 'opa'], 'policy gate on the sample trees (real scanners)', () => {
  let vulnerable: Verdict;
  let compliant: Verdict;
  beforeAll(async () => {
    [vulnerable, compliant] = await Promise.all([
      runGate({ dir: VULNERABLE, repoRoot: VULNERABLE, config }),
      runGate({ dir: COMPLIANT, repoRoot: COMPLIANT, config }),
    ]);
  }, 300_000);

  it('runs every scanner and they all succeed on both trees', () => {
    for (const v of [vulnerable, compliant]) {
      expect(v.scanners.map((s) => [s.name, s.status])).toEqual([
        ['pregate', 'ok'],
        ['tfsec', 'ok'],
        ['checkov', 'ok'],
        ['opa', 'ok'],
      ]);
      for (const s of v.scanners) expect(s.version).toMatch(/\d+\.\d+\.\d+|built-in/);
    }
  });

  it('blocks the vulnerable tree and catches it rule by rule, with file:line', () => {
    expect(vulnerable.status).toBe('blocked');
    const expected: [string, string, string, string][] = [
      ['SEC-NET-001', 'aws_security_group.ssh_open', 'hard', 'network.tf'],
      ['SEC-NET-002', 'aws_security_group_rule.rdp_open', 'hard', 'network.tf'],
      ['SEC-NET-003', 'aws_vpc_security_group_ingress_rule.db_port_open', 'soft', 'network.tf'],
      ['SEC-IAM-001', 'aws_iam_policy.admin', 'hard', 'iam.tf'],
      ['SEC-IAM-002', 'aws_iam_role_policy_attachment.admin', 'hard', 'iam.tf'],
      ['SEC-IAM-003', 'data.aws_iam_policy_document.pass_any', 'soft', 'iam.tf'],
      ['SEC-SECRET-001', 'aws_db_instance.db', 'hard', 'data.tf'],
      ['SEC-SECRET-001', 'provider.aws', 'hard', 'providers.tf'],
      ['SEC-SECRET-001', 'aws_instance.web', 'hard', 'data.tf'],
      ['SEC-SECRET-001', 'aws_lambda_function.fn', 'hard', 'data.tf'],
      ['SEC-SECRET-001', 'var.db_admin_password', 'hard', 'data.tf'],
      ['SEC-SECRET-001', 'module.app.var.api_token', 'hard', 'modules/app/main.tf'],
      ['SEC-DATA-001', 'aws_db_instance.db', 'soft', 'data.tf'],
      ['SEC-DATA-002', 'aws_ebs_volume.data', 'soft', 'data.tf'],
      ['SEC-DATA-002', 'aws_instance.web', 'soft', 'data.tf'],
      ['SEC-DB-002', 'aws_db_instance.db', 'soft', 'data.tf'],
      ['SEC-S3-001', 'aws_s3_bucket_acl.public', 'hard', 's3.tf'],
      ['SEC-S3-002', 'aws_s3_bucket_public_access_block.public', 'soft', 's3.tf'],
      ['SEC-S3-002', 'aws_s3_bucket_policy.public', 'soft', 's3.tf'],
      ['PRE-EXEC-001', 'data.external.whoami', 'hard', 'exec.tf'],
      ['PRE-EXEC-001', 'null_resource.bootstrap', 'hard', 'exec.tf'],
      ['PRE-EXEC-001', 'terraform_data.remote', 'hard', 'exec.tf'],
      ['PRE-SOURCE-001', 'module.from_git', 'soft', 'exec.tf'],
      ['PRE-SOURCE-001', 'module.unpinned', 'soft', 'exec.tf'],
      ['PRE-EXEC-001', 'module.escape', 'hard', 'exec.tf'],
      ['PRE-EXEC-001', 'module.app.terraform_data.hook', 'hard', 'modules/app/main.tf'],
      ['PRE-SOURCE-001', 'provider.evil', 'soft', 'providers.tf'],
      ['PRE-SUPPRESS-001', 'aws_s3_bucket_acl.public', 'hard', 's3.tf'],
    ];
    for (const [rule, address, level, file] of expected) {
      const f = has(vulnerable, rule, address, level);
      expect(f, `${rule} on ${address} (${level})`).toBeDefined();
      expect(f?.file).toBe(file);
      expect(f?.line).toBeGreaterThan(0);
    }
  });

  it('merges the same concern from several scanners into one finding listing them', () => {
    const ssh = vulnerable.findings.filter(
      (f) => f.ruleId === 'SEC-NET-001' && f.address === 'aws_security_group.ssh_open',
    );
    expect(ssh).toHaveLength(1);
    expect(ssh[0]?.sources).toEqual(expect.arrayContaining(['opa', 'checkov', 'tfsec']));
    expect(ssh[0]?.sourceIds).toEqual(
      expect.arrayContaining(['CKV_AWS_24', 'aws-ec2-no-public-ingress-sgr', 'AVD-AWS-0107']),
    );
    const secret = vulnerable.findings.find((f) => f.ruleId === 'SEC-SECRET-001' && f.address === 'aws_instance.web');
    expect(secret?.sources).toEqual(expect.arrayContaining(['pregate', 'checkov', 'tfsec']));
  });

  it('gives unmapped scanner checks the level of their own severity; corroborating checks stay advisory', () => {
    const unmapped = vulnerable.findings.filter((f) => /^(CKV|aws-|AVD-)/.test(f.ruleId));
    expect(unmapped.length).toBeGreaterThan(10);
    const bySeverity: Record<string, string> = { critical: 'hard', high: 'soft' };
    for (const f of unmapped) {
      const corroborates = f.sourceIds.some((id) => (mapCheckovId(id) ?? mapTfsecId(id))?.mode === 'corroborate');
      const capped = f.sourceIds.some((id) => SCANNER_LEVEL_CAPS[id]?.level === 'advisory');
      const expected = corroborates || capped ? 'advisory' : (bySeverity[f.severity] ?? 'advisory');
      expect(f.level, `${f.ruleId} ${f.severity} ${f.address}`).toBe(expected);
    }
    expect(unmapped.some((f) => f.level === 'soft')).toBe(true);
    expect(unmapped.some((f) => f.level === 'advisory')).toBe(true);
  });

  it('gives the compliant module no hard or soft finding from any scanner', () => {
    expect(blocking(compliant.findings)).toEqual([]);
    for (const s of compliant.scanners) expect(blocking(s.findings), s.name).toEqual([]);
    expect(compliant.status).toBe('pass');
    // 443 from the world is reported by tfsec (advisory) and is not SSH.
    const web = compliant.findings.filter((f) => f.address === 'aws_security_group.web');
    expect(web.every((f) => f.level === 'advisory')).toBe(true);
  });
});

describeWithTools(['opa', 'checkov'], 'scanners on hand-written plan JSON', () => {
  it('OPA finds no hard or soft finding in the compliant plan', async () => {
    const planJson: unknown = JSON.parse(await readFile(join(FIXTURES, 'plans/compliant.json'), 'utf8'));
    const run = await opaScanner.run({ dir: COMPLIANT, repoRoot: COMPLIANT, planJson, config });
    expect(run.status).toBe('ok');
    expect(blocking(run.findings)).toEqual([]);
  });

  it('OPA catches every plan-level rule in the vulnerable plan', async () => {
    const planJson: unknown = JSON.parse(await readFile(join(FIXTURES, 'plans/vulnerable.json'), 'utf8'));
    const run = await opaScanner.run({ dir: VULNERABLE, repoRoot: VULNERABLE, planJson, config });
    expect(run.status).toBe('ok');
    const ids = new Set(run.findings.filter((f) => !f.notVerified).map((f) => f.ruleId));
    for (const id of [
      'SEC-NET-001',
      'SEC-NET-002',
      'SEC-NET-003',
      'SEC-IAM-001',
      'SEC-IAM-002',
      'SEC-IAM-003',
      'SEC-SECRET-001',
      'SEC-DATA-001',
      'SEC-DATA-002',
      'SEC-S3-001',
      'SEC-S3-002',
      'SEC-DB-002',
      'GOV-REG-001',
      'OPS-TAG-001',
      'OPS-DEL-001',
      'PRE-EXEC-001',
    ])
      expect(ids, id).toContain(id);
    // Values unknown until apply are advisory "not verified", never a silent pass.
    const unknownCidr = run.findings.find(
      (f) => f.address === 'aws_security_group_rule.from_lb' && f.ruleId.startsWith('SEC-NET'),
    );
    expect(unknownCidr).toMatchObject({ ruleId: 'SEC-NET-001', level: 'advisory', notVerified: true });
    const unknownPolicy = run.findings.find(
      (f) => f.address === 'aws_iam_policy.later' && f.ruleId.startsWith('SEC-IAM'),
    );
    expect(unknownPolicy).toMatchObject({ ruleId: 'SEC-IAM-001', level: 'advisory', notVerified: true });
  });

  it('checkov scans the plan JSON too (terraform_plan) and maps its ids', async () => {
    const planJsonPath = join(FIXTURES, 'plans/vulnerable.json');
    const run = await checkovScanner.run({ dir: VULNERABLE, repoRoot: VULNERABLE, planJsonPath, config });
    expect(run.status).toBe('ok');
    expect(run.findings.some((f) => f.ruleId === 'SEC-NET-001' && f.sourceIds.includes('CKV_AWS_24'))).toBe(true);
  });
});

describeWithTools(['opa'], 'a repo’s own policies', () => {
  async function repoWith(files: Record<string, string>): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), 'custom-policy-'));
    const { mkdir } = await import('node:fs/promises');
    await mkdir(join(dir, 'policy'), { recursive: true });
    await writeFile(join(dir, 'main.tf'), 'resource "terraform_data" "x" {\n  input = "a"\n}\n');
    for (const [name, text] of Object.entries(files)) await writeFile(join(dir, 'policy', name), text);
    return dir;
  }

  it('evaluates them beside the defaults, soft unless they say otherwise', async () => {
    const dir = await repoWith({
      'naming.rego':
        'package infra_agent.custom.naming\n\ndeny contains f if {\n\tsome rc in input.resource_changes\n\trc.type == "terraform_data"\n\tf := {"rule_id": "ACME-001", "severity": "medium", "message": "no terraform_data here", "address": rc.address, "remediation": "remove it"}\n}\n',
    });
    const run = await opaScanner.run({ dir, repoRoot: dir, config: { ...config, custom_policy_dir: 'policy' } });
    expect(run.status).toBe('ok');
    expect(run.findings).toContainEqual(
      expect.objectContaining({ ruleId: 'ACME-001', level: 'soft', address: 'terraform_data.x' }),
    );
  });

  it('reports a Rego error with file:line and fails', async () => {
    const dir = await repoWith({
      'broken.rego': 'package infra_agent.custom.broken\n\ndeny contains f if {\n\tf := \n}\n',
    });
    const run = await opaScanner.run({ dir, repoRoot: dir, config: { ...config, custom_policy_dir: 'policy' } });
    expect(run.status).toBe('failed');
    expect(run.reason).toMatch(/policy\/broken\.rego:\d+:/);
  });

  it('refuses policies outside package infra_agent.custom', async () => {
    const dir = await repoWith({ 'sneaky.rego': 'package infra_agent.rules.network\n\nallow := true\n' });
    const run = await opaScanner.run({ dir, repoRoot: dir, config: { ...config, custom_policy_dir: 'policy' } });
    expect(run.status).toBe('failed');
    expect(run.reason).toContain('policy/sneaky.rego:1:');
  });
});

describeWithTools(['opa'], 'a missing or crashing scanner is never a pass', () => {
  const saved = process.env['INFRA_AGENT_TFSEC_BIN'];
  afterEach(() => {
    if (saved === undefined) delete process.env['INFRA_AGENT_TFSEC_BIN'];
    else process.env['INFRA_AGENT_TFSEC_BIN'] = saved;
  });
  const scanners = [pregateScanner, tfsecScanner, opaScanner];

  it('missing tfsec → not-run naming the setup command, verdict blocked', async () => {
    process.env['INFRA_AGENT_TFSEC_BIN'] = '/nonexistent/tfsec';
    const v = await runGate({ dir: COMPLIANT, repoRoot: COMPLIANT, config, scanners });
    const tfsec = v.scanners.find((s) => s.name === 'tfsec') as ScannerRun;
    expect(tfsec.status).toBe('not-run');
    expect(tfsec.reason).toContain('npm run bootstrap');
    expect(v.status).toBe('blocked');
    expect(v.reasons.join('\n')).toMatch(/tfsec did not run/);
  });

  it('missing tfsec is allowed only when config says so', async () => {
    process.env['INFRA_AGENT_TFSEC_BIN'] = '/nonexistent/tfsec';
    const v = await runGate({
      dir: COMPLIANT,
      repoRoot: COMPLIANT,
      config: { ...config, allow_missing_scanners: ['tfsec'] },
      scanners,
    });
    expect(v.status).toBe('pass');
    expect(v.reasons.join('\n')).toMatch(/allowed by policy.allow_missing_scanners/);
  });

  it('crashing tfsec → failed with the stderr tail', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'crash-'));
    const bin = join(dir, 'tfsec');
    await writeFile(bin, '#!/bin/sh\necho "panic: runtime error: index out of range" >&2\nexit 3\n');
    await chmod(bin, 0o755);
    process.env['INFRA_AGENT_TFSEC_BIN'] = bin;
    const v = await runGate({ dir: COMPLIANT, repoRoot: COMPLIANT, config, scanners });
    const tfsec = v.scanners.find((s) => s.name === 'tfsec') as ScannerRun;
    expect(tfsec.status).toBe('failed');
    expect(tfsec.reason).toContain('panic: runtime error');
    expect(v.status).toBe('blocked');
  });
});

it('runPregate blocks the vulnerable tree on its own, without any tool', async () => {
  const run = await runPregate(VULNERABLE, VULNERABLE, config);
  expect(run.status).toBe('ok');
  expect(run.findings.filter((f) => f.level === 'hard').length).toBeGreaterThan(10);
});
