// The report a reviewer reads in a minute: a 300-finding tree fits in 150 lines before the collapsed advisory part,
// hard/soft grouped by rule with their resources, fixes per resource type, no suppression advice, our Markdown not
// escaped into literal characters, never "pass" above a critical item, and "no plan" said when true.
import { fromMarkdown } from 'mdast-util-from-markdown';
import { gfmFromMarkdown } from 'mdast-util-gfm';
import { gfm } from 'micromark-extension-gfm';
import { visit } from 'unist-util-visit';
import { describe, expect, it } from 'vitest';
import type { Finding, Verdict } from '../../src/core/types.js';
import { makeFinding } from '../../src/policy/findings.js';
import { renderPolicyMarkdown } from '../../src/report/policy-markdown.js';

const scanners: Verdict['scanners'] = [
  { name: 'pregate', status: 'ok', durationMs: 5, findings: [] },
  { name: 'tfsec', status: 'ok', version: '1.28.14', durationMs: 900, findings: [] },
  { name: 'checkov', status: 'ok', version: '3.2.533', durationMs: 4000, findings: [] },
  { name: 'opa', status: 'ok', version: '1.22.2', durationMs: 300, findings: [] },
];

function v(findings: Finding[], status: Verdict['status'] = 'blocked', extra: Partial<Verdict> = {}): Verdict {
  return { status, findings, scanners, overrides: [], reasons: [], ...extra };
}

/** 300 findings as a big real tree gives them: many resources under few rules, and a long advisory tail. */
function bigTree(): Finding[] {
  const out: Finding[] = [];
  const blocking: [string, string, number][] = [
    ['SEC-NET-001', 'aws_security_group', 12],
    ['SEC-NET-002', 'azurerm_network_security_rule', 8],
    ['SEC-S3-001', 'google_storage_bucket_iam_member', 6],
    ['SEC-S3-002', 'aws_s3_bucket', 25],
    ['SEC-DATA-001', 'aws_db_instance', 10],
    ['SEC-DB-002', 'azurerm_mssql_server', 4],
    ['SEC-K8S-001', 'aws_eks_cluster', 3],
  ];
  let line = 1;
  for (const [rule, type, n] of blocking)
    for (let i = 0; i < n; i++)
      out.push(
        makeFinding({
          ruleId: rule,
          source: 'opa',
          address: `module.m${i}.${type}.r${i}`,
          file: `modules/m${i}/main.tf`,
          line: line++,
          message: 'the same concern on another resource',
        }),
      );
  // Unmapped scanner checks that their severity made soft.
  for (let i = 0; i < 20; i++)
    out.push(
      makeFinding({
        ruleId: `CKV_AWS_${100 + (i % 5)}`,
        source: 'checkov',
        severity: 'high',
        level: 'soft',
        address: `aws_lambda_function.f${i}`,
        file: 'lambda.tf',
        line: i + 1,
        message: 'Ensure something high about a function',
      }),
    );
  while (out.length < 300)
    out.push(
      makeFinding({
        ruleId: `CKV_AWS_${200 + (out.length % 40)}`,
        source: 'checkov',
        level: 'advisory',
        address: `aws_s3_bucket.b${out.length}`,
        file: 's3.tf',
        line: out.length,
        message: 'Ensure the bucket has logging',
      }),
    );
  return out;
}

describe('policy report layout', () => {
  it('a 300-finding tree: under 150 lines before the collapsed advisory part, one entry per rule', () => {
    const findings = bigTree();
    expect(findings).toHaveLength(300);
    const md = renderPolicyMarkdown(v(findings), { title: 'Policy check: big' });
    const before = md.slice(0, md.indexOf('<details>'));
    expect(before.split('\n').length).toBeLessThan(150);
    for (const rule of ['SEC-NET-001', 'SEC-S3-002', 'SEC-DATA-001', 'CKV\\_AWS\\_100'])
      expect(before.split('\n').filter((l) => l.startsWith(`- **${rule}**`))).toHaveLength(1);
    expect(before).toContain('25 resources');
    expect(md).toMatch(/<summary>Advisory — 212 findings from 40 checks/);
    expect(md.indexOf('</details>')).toBeGreaterThan(md.indexOf('<details>'));
  });

  it('lists each rule’s resources with file:line, and counts the rest', () => {
    const md = renderPolicyMarkdown(v(bigTree()));
    expect(md).toContain('`module.m0.aws_security_group.r0` · `modules/m0/main.tf:1`');
    expect(md).toMatch(/…and \d+ more/);
  });

  it('writes the fix for each resource type, in rendered Markdown, never RDS advice on a Lambda key', () => {
    const md = renderPolicyMarkdown(
      v([
        makeFinding({
          ruleId: 'SEC-SECRET-001',
          source: 'opa',
          address: 'aws_lambda_function.f',
          message: 'key in env',
          remediation: 'use manage_master_user_password = true (RDS)',
        }),
        makeFinding({
          ruleId: 'SEC-SECRET-001',
          source: 'opa',
          address: 'aws_db_instance.db',
          message: 'literal password',
        }),
        makeFinding({
          ruleId: 'SEC-NET-001',
          source: 'opa',
          address: 'azurerm_network_security_rule.ssh',
          message: 'ssh',
        }),
      ]),
    );
    const lambdaFix = md.split('\n').find((l) => l.includes('`aws_lambda_function`'));
    expect(lambdaFix).toMatch(/Secrets Manager/);
    expect(lambdaFix).not.toMatch(/manage_master_user_password/);
    expect(md).toMatch(/_Fix for `aws_db_instance`:_ Set `manage_master_user_password = true`/);
    expect(md).toContain('_Fix:_ Set `source_address_prefix` of the port-22 rule');
    expect(md).not.toContain('\\`');
  });

  it('drops scanner advice to add ignore comments (PRE-SUPPRESS-001 forbids them)', () => {
    const f = makeFinding({
      ruleId: 'aws-s3-enable-versioning',
      source: 'tfsec',
      level: 'advisory',
      address: 'aws_s3_bucket.b',
      message: 'versioning off',
      remediation: 'Enable versioning. Alternatively add a tfsec:ignore comment to suppress the finding.',
    });
    expect(f.remediation).toBe('Enable versioning.');
  });

  it('never says "pass" directly above a critical item', () => {
    const critical = makeFinding({
      ruleId: 'SEC-NET-002',
      source: 'opa',
      address: 'aws_security_group.rdp',
      message: 'rdp open',
    });
    const md = renderPolicyMarkdown(v([{ ...critical, level: 'advisory' }], 'pass'));
    expect(md).not.toMatch(/gate: pass/);
    expect(md).toMatch(/not blocking.*1 critical-severity finding/);
    expect(renderPolicyMarkdown(v([], 'pass'))).toMatch(/Policy gate: pass/);
  });

  it('says when it was evaluated on the HCL without a plan', () => {
    expect(renderPolicyMarkdown(v([], 'pass', { evaluatedOn: 'hcl' }))).toContain('_Evaluated on the HCL, no plan:');
    expect(renderPolicyMarkdown(v([], 'pass', { evaluatedOn: 'plan' }))).not.toContain('no plan');
  });

  it('prints a scanner failure whole, the lines after "invalid HCL:" included', () => {
    const md = renderPolicyMarkdown(
      v([], 'blocked', {
        scanners: [
          {
            name: 'pregate',
            status: 'failed',
            durationMs: 1,
            reason: 'invalid HCL:\nmain.tf:3: Invalid expression',
            findings: [],
          },
        ],
      }),
    );
    expect(md).toContain('invalid HCL: main.tf:3: Invalid expression');
  });

  it('renders as intended with a GFM parser: code spans are code, the advisory part is one <details>, tables are tables', () => {
    const md = renderPolicyMarkdown(
      v([
        ...bigTree(),
        makeFinding({
          ruleId: 'CKV_X_1',
          source: 'checkov',
          level: 'advisory',
          address: 'a.b',
          message: 'use `x = 1` | and *not* <b>',
        }),
      ]),
    );
    const tree = fromMarkdown(md, { extensions: [gfm()], mdastExtensions: [gfmFromMarkdown()] });
    const codes: string[] = [];
    const texts: string[] = [];
    let tables = 0;
    const html: string[] = [];
    visit(tree, (node) => {
      if (node.type === 'inlineCode') codes.push(node.value);
      if (node.type === 'text') texts.push(node.value);
      if (node.type === 'table') tables++;
      if (node.type === 'html') html.push(node.value);
    });
    // Our fixes' `attribute` spans are code, not text with literal backticks.
    expect(codes).toContain('cidr_blocks');
    expect(texts.join(' ')).not.toContain('`');
    expect(tables).toBe(2); // advisory + scanners
    expect(html.filter((h) => h.startsWith('<details>'))).toHaveLength(1);
    // Untrusted text stays text: its markup does not become emphasis or HTML.
    expect(html.join(' ')).not.toContain('<b>');
  });
});

describe('policy report layout with very many blocking rules', () => {
  it('still fits 150 lines: one line per rule when it must', () => {
    const findings = Array.from({ length: 300 }, (_, i) =>
      makeFinding({
        ruleId: `CKV_AZURE_${i % 200}`,
        source: 'checkov',
        severity: 'high',
        level: 'soft',
        address: `azurerm_resource_group.r${i}`,
        file: 'main.tf',
        line: i + 1,
        message: `Ensure check ${i % 200}`,
      }),
    );
    const md = renderPolicyMarkdown(v(findings, 'needs-override'));
    const before = md.includes('<details>')
      ? md.slice(0, md.indexOf('<details>'))
      : md.slice(0, md.indexOf('#### Scanners'));
    expect(before.split('\n').length).toBeLessThan(150);
    expect(md).toMatch(/and \d+ more blocking rules not shown \(report length limit\)/);
    expect(before.split('\n').filter((l) => l.startsWith('- **CKV'))).not.toHaveLength(0);
  });
});
