// The verdict as the JSON contract of `infra-agent check --format json`:
// {"verdict", "findings": [{"ruleId","source","severity","level","address","file","line","message"}],
//  "scanners": [{"name","status","version","durationMs"}]} — plus a few extra keys consumers may ignore.

import type { ProjectCost, Verdict } from '../core/types.js';
import { redact } from '../util/redact.js';

export interface PolicyJson {
  verdict: Verdict['status'];
  /** Present (true) when the tools ran outside the sandbox. */
  unsandboxed?: true;
  findings: {
    ruleId: string;
    source: string;
    severity: string;
    level: string;
    address: string | null;
    file: string | null;
    line: number | null;
    message: string;
    sources: string[];
    sourceIds: string[];
    remediation: string | null;
    notVerified: boolean;
  }[];
  scanners: { name: string; status: string; version: string | null; durationMs: number; reason: string | null }[];
  reasons: string[];
  overrides: { ruleId: string; by: string; at: string; reason: string }[];
  /** The plan's monthly cost (USD), when there was a plan to price. */
  cost?: ProjectCost;
}

export function renderJson(verdict: Verdict, opts: { cost?: ProjectCost } = {}): PolicyJson {
  return {
    ...(opts.cost ? { cost: { ...opts.cost, warnings: opts.cost.warnings.map(redact) } } : {}),
    verdict: verdict.status,
    ...(verdict.unsandboxed ? { unsandboxed: true as const } : {}),
    findings: verdict.findings.map((f) => ({
      ruleId: f.ruleId,
      source: f.source,
      severity: f.severity,
      level: f.level,
      address: f.address ?? null,
      file: f.file ?? null,
      line: f.line ?? null,
      message: redact(f.message),
      sources: f.sources,
      sourceIds: f.sourceIds,
      remediation: f.remediation ? redact(f.remediation) : null,
      notVerified: f.notVerified === true,
    })),
    scanners: verdict.scanners.map((s) => ({
      name: s.name,
      status: s.status,
      version: s.version ?? null,
      durationMs: s.durationMs,
      reason: s.reason ? redact(s.reason) : null,
    })),
    reasons: verdict.reasons.map(redact),
    overrides: verdict.overrides.map((o) => ({ ruleId: o.ruleId, by: o.by, at: o.at, reason: redact(o.reason) })),
  };
}
