// The verdict as SARIF 2.1.0 (GitHub code scanning and other viewers): one run, our rules and the scanner-native
// ids as tool.driver.rules, one result per finding.

import type { Finding, ProjectCost, Verdict } from '../core/types.js';
import { findRule, RULES } from '../policy/rules.js';
import { redact } from '../util/redact.js';

type SarifLevel = 'error' | 'warning' | 'note';

function sarifLevel(f: Finding): SarifLevel {
  return f.level === 'hard' ? 'error' : f.level === 'soft' ? 'warning' : 'note';
}

const SECURITY_SEVERITY: Record<Finding['severity'], string> = {
  critical: '9.5',
  high: '8.0',
  medium: '5.5',
  low: '3.0',
  info: '1.0',
};

export function renderSarif(
  verdict: Verdict,
  opts: { toolVersion?: string; cost?: ProjectCost } = {},
): Record<string, unknown> {
  const ruleIds = [...new Set(verdict.findings.map((f) => f.ruleId))].sort();
  const rules = ruleIds.map((id) => {
    const def = findRule(id);
    const sample = verdict.findings.find((f) => f.ruleId === id);
    return {
      id,
      name: id.replace(/[^A-Za-z0-9]/g, ''),
      shortDescription: { text: redact(def?.title ?? sample?.message ?? id) },
      ...(def ? { help: { text: redact(def.remediation) } } : {}),
      defaultConfiguration: { level: sample ? sarifLevel(sample) : 'warning' },
      properties: {
        'security-severity': SECURITY_SEVERITY[def?.severity ?? sample?.severity ?? 'low'],
        tags: ['security', 'terraform'],
      },
    };
  });
  const index = new Map(ruleIds.map((id, i) => [id, i]));
  const results = verdict.findings.map((f) => ({
    ruleId: f.ruleId,
    ruleIndex: index.get(f.ruleId) ?? 0,
    level: sarifLevel(f),
    message: {
      text: redact(
        `${f.message}${f.address ? ` (${f.address})` : ''}${f.remediation ? `. Fix: ${f.remediation}` : ''}`,
      ),
    },
    locations: f.file
      ? [
          {
            physicalLocation: {
              artifactLocation: { uri: f.file, uriBaseId: '%SRCROOT%' },
              region: { startLine: f.line ?? 1 },
            },
            ...(f.address ? { logicalLocations: [{ fullyQualifiedName: f.address, kind: 'resource' }] } : {}),
          },
        ]
      : f.address
        ? [{ logicalLocations: [{ fullyQualifiedName: f.address, kind: 'resource' }] }]
        : [],
    partialFingerprints: { 'infraAgent/v1': `${f.ruleId}|${f.address ?? ''}|${f.file ?? ''}` },
    properties: {
      sources: f.sources,
      sourceIds: f.sourceIds,
      severity: f.severity,
      policyLevel: f.level,
      ...(f.notVerified ? { notVerified: true } : {}),
    },
  }));
  return {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: 'infra-agent policy gate',
            informationUri: 'https://github.com/',
            ...(opts.toolVersion ? { version: opts.toolVersion } : {}),
            rules,
          },
        },
        results,
        invocations: [
          {
            executionSuccessful: verdict.scanners.every((s) => s.status === 'ok'),
            toolExecutionNotifications: verdict.scanners
              .filter((s) => s.status !== 'ok')
              .map((s) => ({ level: 'error', message: { text: redact(`${s.name} ${s.status}: ${s.reason ?? ''}`) } })),
          },
        ],
        properties: {
          verdict: verdict.status,
          knownRules: RULES.length,
          ...(verdict.unsandboxed ? { unsandboxed: true } : {}),
          // The plan's monthly cost (USD): totals, and per resource before/after/delta/status.
          ...(opts.cost
            ? {
                cost: {
                  source: opts.cost.source,
                  asOf: opts.cost.asOf,
                  before: opts.cost.before,
                  after: opts.cost.after,
                  delta: opts.cost.delta,
                  counts: opts.cost.counts,
                  resources: opts.cost.resources.map((r) => ({
                    address: r.address,
                    action: r.action,
                    status: r.status,
                    before: r.before ?? null,
                    after: r.after ?? null,
                    delta: r.delta,
                    ...(r.reason ? { reason: redact(r.reason) } : {}),
                  })),
                  warnings: opts.cost.warnings.map(redact),
                },
              }
            : {}),
        },
      },
    ],
  };
}
