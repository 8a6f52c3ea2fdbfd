// The policy renderers on a hand-built verdict: Markdown by level with a scanner table and a length bound,
// check-run output with annotations in batches of 50, valid SARIF 2.1.0, the JSON contract, and redaction.
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import type { Finding, Verdict } from '../../src/core/types.js';
import { makeFinding } from '../../src/policy/findings.js';
import { batchAnnotations, renderCheckRunOutput } from '../../src/report/check-run.js';
import { renderJson } from '../../src/report/policy-json.js';
import { renderPolicyMarkdown } from '../../src/report/policy-markdown.js';
import { renderSarif } from '../../src/report/sarif.js';

const SECRET = 'AKIAIOSFODNN7EXAMPLE';

function verdict(extra: Finding[] = []): Verdict {
  return {
    status: 'blocked',
    findings: [
      makeFinding({
        ruleId: 'SEC-NET-001',
        source: 'opa',
        address: 'aws_security_group.ssh',
        file: 'network.tf',
        line: 6,
        message: 'ssh open to 0.0.0.0/0',
      }),
      makeFinding({
        ruleId: 'SEC-SECRET-001',
        source: 'pregate',
        address: 'provider.aws',
        file: 'p.tf',
        line: 3,
        message: `access_key = "${SECRET}"`,
      }),
      makeFinding({
        ruleId: 'SEC-DATA-001',
        source: 'checkov',
        nativeId: 'CKV_AWS_16',
        address: 'aws_db_instance.db',
        file: 'db.tf',
        line: 1,
        message: 'not encrypted',
      }),
      makeFinding({
        ruleId: 'OPS-DEL-001',
        source: 'opa',
        address: 'aws_s3_bucket.old',
        message: 'delete of a bucket',
      }),
      makeFinding({
        ruleId: 'CKV_AWS_18',
        source: 'checkov',
        level: 'advisory',
        address: 'aws_s3_bucket.b',
        file: 's3.tf',
        line: 1,
        message: 'no logging',
      }),
      ...extra,
    ],
    scanners: [
      { name: 'pregate', status: 'ok', version: 'built-in', durationMs: 12, findings: [] },
      {
        name: 'tfsec',
        status: 'not-run',
        durationMs: 0,
        reason: 'tfsec is not installed: run `npm run bootstrap`',
        findings: [],
      },
      { name: 'checkov', status: 'ok', version: '3.2.533', durationMs: 4100, findings: [] },
      { name: 'opa', status: 'ok', version: '1.22.2', durationMs: 900, findings: [] },
    ],
    overrides: [],
    reasons: [
      'tfsec did not run, so the code is not verified',
      '2 hard findings (SEC-NET-001, SEC-SECRET-001) must be fixed',
    ],
  };
}

describe('renderPolicyMarkdown', () => {
  it('groups by level with address, file:line, remediation and sources, then the scanners', () => {
    const md = renderPolicyMarkdown(verdict(), { title: 'Policy' });
    const hard = md.indexOf('#### Hard');
    const soft = md.indexOf('#### Soft');
    const advisory = md.indexOf('<summary>Advisory');
    expect(hard).toBeGreaterThan(0);
    expect(soft).toBeGreaterThan(hard);
    expect(advisory).toBeGreaterThan(soft);
    expect(md).toContain('`aws_security_group.ssh` · `network.tf:6`');
    expect(md).toContain('_Fix:_ Limit `cidr_blocks` of the port-22 rule');
    expect(md).toContain('_Reported by:_ checkov (CKV\\_AWS\\_16)');
    expect(md).toMatch(/\| tfsec \| \*\*not run\*\* — tfsec is not installed/);
    expect(md).toMatch(/\| checkov \| ok \| 3\.2\.533 \| 4\.1 s \|/);
    expect(md).not.toContain(SECRET);
  });

  it('stays within maxChars and says how much it left out', () => {
    const many = Array.from({ length: 400 }, (_, i) =>
      makeFinding({
        ruleId: `CKV_AWS_${1000 + i}`,
        source: 'checkov',
        level: 'advisory',
        address: `aws_s3_bucket.b${i}`,
        file: 's3.tf',
        line: i + 1,
        message: 'x'.repeat(100),
      }),
    );
    const md = renderPolicyMarkdown(verdict(many), { maxChars: 5000 });
    expect(md.length).toBeLessThanOrEqual(5000);
    expect(md).toMatch(/not shown \(report length limit\)/);
    expect(md).toContain('#### Scanners');
  });
});

describe('renderCheckRunOutput', () => {
  it('annotates located findings with levels by policy level, and lists the rest in text', () => {
    const out = renderCheckRunOutput(verdict(), { title: 'infra-agent policy' });
    expect(out.conclusion).toBe('failure');
    expect(out.annotations.map((a) => [a.path, a.start_line, a.annotation_level])).toEqual([
      ['network.tf', 6, 'failure'],
      ['p.tf', 3, 'failure'],
      ['db.tf', 1, 'warning'],
      ['s3.tf', 1, 'notice'],
    ]);
    expect(out.text).toContain('OPS-DEL-001 aws_s3_bucket.old');
    expect(JSON.stringify(out)).not.toContain(SECRET);
  });

  it('batches annotations by 50', () => {
    const batches = batchAnnotations(
      Array.from({ length: 121 }, (_, i) => i),
      50,
    );
    expect(batches.map((b) => b.length)).toEqual([50, 50, 21]);
    expect(batches.flat()).toHaveLength(121);
  });
});

describe('renderSarif', () => {
  it('is valid SARIF 2.1.0 with rules, levels and locations', () => {
    const sarif = renderSarif(verdict());
    // A compact structural schema of what code scanning requires.
    const schema = {
      type: 'object',
      required: ['version', 'runs'],
      properties: {
        version: { const: '2.1.0' },
        runs: {
          type: 'array',
          minItems: 1,
          items: {
            type: 'object',
            required: ['tool', 'results'],
            properties: {
              tool: {
                type: 'object',
                required: ['driver'],
                properties: { driver: { type: 'object', required: ['name', 'rules'] } },
              },
              results: {
                type: 'array',
                items: {
                  type: 'object',
                  required: ['ruleId', 'level', 'message', 'locations'],
                  properties: {
                    level: { enum: ['error', 'warning', 'note', 'none'] },
                    message: { type: 'object', required: ['text'] },
                  },
                },
              },
            },
          },
        },
      },
    };
    const validate = new Ajv({ strict: false }).compile(schema);
    expect(validate(sarif), JSON.stringify(validate.errors)).toBe(true);
    const text = JSON.stringify(sarif);
    expect(text).not.toContain(SECRET);
    const runs = (
      sarif as {
        runs: {
          results: { ruleId: string; level: string; locations: unknown[] }[];
          tool: { driver: { rules: { id: string }[] } };
        }[];
      }
    ).runs;
    const results = runs[0]?.results ?? [];
    expect(results.find((r) => r.ruleId === 'SEC-NET-001')).toMatchObject({
      level: 'error',
      locations: [{ physicalLocation: { artifactLocation: { uri: 'network.tf' }, region: { startLine: 6 } } }],
    });
    expect(results.find((r) => r.ruleId === 'SEC-DATA-001')?.level).toBe('warning');
    expect(runs[0]?.tool.driver.rules.map((r) => r.id)).toContain('SEC-NET-001');
  });
});

describe('renderJson', () => {
  it('follows the JSON contract of `check --format json`', () => {
    const json = renderJson(verdict());
    expect(json.verdict).toBe('blocked');
    for (const f of json.findings)
      expect(Object.keys(f)).toEqual(
        expect.arrayContaining(['ruleId', 'source', 'severity', 'level', 'address', 'file', 'line', 'message']),
      );
    expect(json.findings[0]).toMatchObject({
      ruleId: 'SEC-NET-001',
      source: 'opa',
      severity: 'critical',
      level: 'hard',
      address: 'aws_security_group.ssh',
      file: 'network.tf',
      line: 6,
    });
    expect(json.scanners).toContainEqual(
      expect.objectContaining({ name: 'tfsec', status: 'not-run', version: null, durationMs: 0 }),
    );
    expect(JSON.stringify(json)).not.toContain(SECRET);
  });
});
