// The Trivy scanner behind the common interface. Trivy could not be built into the pinned toolchain during this
// change (see scripts/setup-tools.sh, INFRA_AGENT_WITH_TRIVY=1), so its binary-level test runs only where it is
// installed; its report parser is tested on Trivy's JSON shape (`trivy config --format json`, schema version 2).
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PolicyConfigSchema } from '../../src/config/schema.js';
import { parseTrivyOutput, trivyScanner } from '../../src/policy/scanners/trivy.js';
import { findTool } from '../../src/toolchain/tools.js';

const report = (misconfigurations: unknown[]) =>
  JSON.stringify({
    SchemaVersion: 2,
    ArtifactName: '/repo/infra',
    ArtifactType: 'filesystem',
    Results: [{ Target: 'main.tf', Class: 'config', Type: 'terraform', Misconfigurations: misconfigurations }],
  });

const misconf = (id: string, severity: string, resource: string, line: number) => ({
  Type: 'Terraform Security Check',
  ID: id,
  AVDID: id.startsWith('AVD-') ? id : `AVD-${id}`,
  Title: 'title',
  Description: 'description',
  Message: `message of ${id}`,
  Resolution: 'Add a trivy:ignore comment to suppress this. Restrict the range.',
  Severity: severity,
  Status: 'FAIL',
  CauseMetadata: { Resource: resource, Provider: 'Azure', Service: 'network', StartLine: line, EndLine: line + 3 },
});

describe('Trivy report parsing', () => {
  it('maps AVD ids like tfsec, keeps file:line, drops suppression advice', () => {
    const findings = parseTrivyOutput(
      report([
        misconf('AVD-AZU-0050', 'CRITICAL', 'azurerm_network_security_rule.ssh', 12),
        misconf('AZU-0047', 'CRITICAL', 'azurerm_network_security_rule.ssh', 12),
        misconf('AVD-AWS-0089', 'LOW', 'aws_s3_bucket.b', 30),
        { ...misconf('AVD-AWS-0090', 'HIGH', 'aws_s3_bucket.b', 30), Status: 'PASS' },
      ]),
      '/repo',
      '/repo/infra',
    );
    expect(findings.map((f) => [f.ruleId, f.source, f.address, f.file, f.line, f.severity])).toEqual([
      ['SEC-NET-001', 'trivy', 'azurerm_network_security_rule.ssh', 'infra/main.tf', 12, 'critical'],
      ['AVD-AZU-0047', 'trivy', 'azurerm_network_security_rule.ssh', 'infra/main.tf', 12, 'critical'],
      ['AVD-AWS-0089', 'trivy', 'aws_s3_bucket.b', 'infra/main.tf', 30, 'low'],
    ]);
    expect(findings[2]?.remediation).toBe('Restrict the range.');
  });

  it('says Trivy’s own error when it prints no report', () => {
    expect(() => parseTrivyOutput('2026-12-01T22:00:00Z\tFATAL\tFatal error\tconfig scan: boom\n', '/r', '/r')).toThrow(
      /trivy: .*FATAL.*config scan: boom/,
    );
  });

  it.skipIf(findTool('trivy') !== undefined)(
    'is not run (never a pass) when Trivy is not installed, naming the setup command',
    async () => {
      const dir = await mkdtemp(join(tmpdir(), 'trivy-'));
      await writeFile(join(dir, 'main.tf'), 'resource "terraform_data" "x" {}\n');
      const r = await trivyScanner.run({ dir, repoRoot: dir, config: PolicyConfigSchema.parse({}) });
      expect(r.status).toBe('not-run');
      expect(r.reason).toMatch(/trivy is not installed: run `npm run bootstrap`/);
    },
  );
});
