// One finding model for every scanner: building a Finding from a rule, normalising resource addresses, applying the
// repo's level overrides, and merging what several scanners said about the same concern on the same resource into
// one finding that lists all its sources.

import type { PolicyConfig } from '../config/schema.js';
import type { Finding, FindingSource, Level, Severity } from '../core/types.js';
import { fixFor } from './fixes.js';
import { findRule, mapCheckovId, mapTfsecId, SCANNER_LEVEL_CAPS, type ScannerMapping } from './rules.js';

export const LEVEL_RANK: Record<Level, number> = { hard: 3, soft: 2, advisory: 1 };
export const SEVERITY_RANK: Record<Severity, number> = { critical: 5, high: 4, medium: 3, low: 2, info: 1 };
/** Whose message and first `source` win when several scanners agree: our own rules say it most precisely. */
const SOURCE_ORDER: FindingSource[] = ['pregate', 'opa', 'checkov', 'trivy', 'tfsec', 'cost'];
/** Scanners whose own severity decides the level of a finding no rule of ours maps. */
const SEVERITY_SOURCES = new Set<FindingSource>(['tfsec', 'trivy', 'checkov']);

export function maxLevel(a: Level, b: Level): Level {
  return LEVEL_RANK[a] >= LEVEL_RANK[b] ? a : b;
}
export function minLevel(a: Level, b: Level): Level {
  return LEVEL_RANK[a] <= LEVEL_RANK[b] ? a : b;
}
export function maxSeverity(a: Severity, b: Severity): Severity {
  return SEVERITY_RANK[a] >= SEVERITY_RANK[b] ? a : b;
}

const SEVERITIES = new Set<string>(['critical', 'high', 'medium', 'low', 'info']);
export function parseSeverity(value: unknown, fallback: Severity = 'low'): Severity {
  if (typeof value !== 'string') return fallback;
  const v = value.toLowerCase();
  if (v === 'error') return 'high';
  if (v === 'warning') return 'medium';
  return SEVERITIES.has(v) ? (v as Severity) : fallback;
}

export interface FindingInput {
  ruleId: string;
  source: FindingSource;
  /** The scanner's own id; defaults to ruleId. */
  nativeId?: string;
  /** Used only when the rule is not in the table (scanner-native checks). */
  severity?: Severity;
  level?: Level;
  address?: string | undefined;
  file?: string | undefined;
  line?: number | undefined;
  message: string;
  remediation?: string | undefined;
  notVerified?: boolean;
}

/** A finding with the level, severity and remediation of its rule; unknown rules are advisory. */
export function makeFinding(input: FindingInput): Finding {
  const rule = findRule(input.ruleId);
  const f: Finding = {
    ruleId: input.ruleId,
    source: input.source,
    sources: [input.source],
    sourceIds: [input.nativeId ?? input.ruleId],
    severity: rule?.severity ?? input.severity ?? 'low',
    level: input.notVerified ? 'advisory' : (rule?.level ?? input.level ?? 'advisory'),
    message: input.message,
  };
  const address = input.address === undefined ? undefined : normalizeAddress(input.address);
  if (address) f.address = address;
  if (input.file) f.file = input.file;
  if (input.line !== undefined && Number.isInteger(input.line) && input.line > 0) f.line = input.line;
  // A fix written for this resource's type beats a rule's generic text; scanner advice to silence the check
  // (PRE-SUPPRESS-001 forbids that) is dropped.
  // The pre-plan guard writes its own remediation for what it finds (what kind of secret, which file function).
  const own = input.source === 'pregate' ? input.remediation : undefined;
  const remediation = withoutSuppressionAdvice(
    own ?? fixFor(input.ruleId, address) ?? input.remediation ?? rule?.remediation ?? '',
  );
  if (remediation) f.remediation = remediation;
  if (input.notVerified) f.notVerified = true;
  return f;
}

/** Sentences that tell the reader to add an ignore/skip comment: our own PRE-SUPPRESS-001 forbids those. */
export function withoutSuppressionAdvice(text: string): string {
  const sentences = text.split(/(?<=[.!?])\s+/);
  return sentences
    .filter(
      (s) =>
        !/(tfsec|trivy|checkov)\s*:\s*(ignore|skip)|\b(add|use)\b[^.]*\b(ignore|skip|suppress\w*)\b[^.]*\b(comment|annotation|rule)/i.test(
          s,
        ),
    )
    .join(' ')
    .trim();
}

/**
 * A resource address as Terraform writes it, from whatever a scanner reports: tfsec appends attribute names
 * ("aws_db_instance.db.publicly_accessible"), checkov names providers "aws.default". Module paths and instance keys
 * are kept.
 */
export function normalizeAddress(raw: string): string {
  const s = raw.trim();
  if (!s) return s;
  if (s.startsWith('provider.') || s.startsWith('provider[')) return s;
  // checkov names provider blocks "<name>.default" or "<name>.<alias>"; resource types always hold an underscore.
  const provider = /^([a-z0-9-]+)\.([A-Za-z0-9_-]+)$/.exec(s);
  if (provider && !['var', 'module', 'local', 'data', 'output'].includes(provider[1] ?? ''))
    return provider[2] === 'default' ? `provider.${provider[1]}` : `provider.${provider[1]}.${provider[2]}`;
  // module.a["x"].module.b[0].data.type.name[0].attr…
  const re =
    /^((?:module\.[A-Za-z0-9_-]+(?:\[[^\]]*\])?\.)*)((?:data\.)?[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+(?:\[[^\]]*\])?)/;
  const m = re.exec(s);
  if (!m) return s;
  return `${m[1] ?? ''}${m[2] ?? ''}`;
}

/** Rules whose level no config can change: code that runs on the plan/apply host is never acceptable. */
export const LOCKED_RULES: ReadonlySet<string> = new Set(['PRE-EXEC-001']);

/** Config `levels`: a per-rule level, or 'off' to drop the rule. A not-verified finding stays advisory. */
export function applyLevels(findings: Finding[], levels: PolicyConfig['levels']): Finding[] {
  const out: Finding[] = [];
  for (const f of findings) {
    const configured = LOCKED_RULES.has(f.ruleId) ? undefined : levels[f.ruleId];
    if (configured === 'off') continue;
    if (configured && !f.notVerified) out.push({ ...f, level: configured });
    else out.push(f);
  }
  return out;
}

function mappingFor(f: Finding): ScannerMapping | undefined {
  for (const id of f.sourceIds) {
    const m =
      f.source === 'tfsec' || f.source === 'trivy'
        ? mapTfsecId(id)
        : f.source === 'checkov'
          ? mapCheckovId(id)
          : undefined;
    if (m) return m;
  }
  return undefined;
}

/**
 * Findings on resources that the default values do not create are advisory; on resources that may not be created
 * (a flag that cannot be resolved without a plan) they are at most soft. Both say so. The pre-plan guard's findings
 * are about code, not resources, and stay as they are.
 */
export function applyExistence(
  findings: Finding[],
  existence: (address: string | undefined) => { status: 'yes' | 'no' | 'maybe'; why?: string } | undefined,
): Finding[] {
  return findings.map((f) => {
    if (f.source === 'pregate') return f;
    const e = existence(f.address);
    if (!e || e.status === 'yes') return f;
    if (e.status === 'no')
      return { ...f, level: 'advisory', message: `${f.message} (not created: ${e.why ?? 'no instance'})` };
    return { ...f, level: minLevel(f.level, 'soft'), message: `${f.message} (may not be created: ${e.why ?? ''})` };
  });
}

/**
 * Config `severity_levels`: a scanner finding no rule of ours maps takes its level from the scanner's own severity
 * (critical → hard, high → soft, the rest advisory by default). Checks that only corroborate one of our rules keep
 * their advisory level: our rule judged that resource more precisely. Not-verified findings stay advisory.
 */
export function applySeverityLevels(findings: Finding[], levels: PolicyConfig['severity_levels']): Finding[] {
  return findings.map((f) => {
    if (findRule(f.ruleId) || !SEVERITY_SOURCES.has(f.source) || f.notVerified) return f;
    if (mappingFor(f)?.mode === 'corroborate') return f;
    const level = levels[f.severity];
    const cap = f.sourceIds.map((id) => SCANNER_LEVEL_CAPS[id]).find(Boolean);
    return { ...f, level: cap ? minLevel(level, cap.level) : level };
  });
}

function keyOf(f: Finding): string {
  const where = f.address ?? `${f.file ?? ''}:${f.line ?? ''}`;
  return `${f.ruleId}\u0000${where}`;
}

function union<T>(a: T[], b: T[]): T[] {
  return [...new Set([...a, ...b])];
}

function combine(a: Finding, b: Finding): Finding {
  const sources = union(a.sources, b.sources).sort((x, y) => SOURCE_ORDER.indexOf(x) - SOURCE_ORDER.indexOf(y));
  // A verified finding speaks for the pair; between equals, our own rules' wording wins.
  const lead =
    a.notVerified && !b.notVerified
      ? b
      : b.notVerified && !a.notVerified
        ? a
        : SOURCE_ORDER.indexOf(a.source) <= SOURCE_ORDER.indexOf(b.source)
          ? a
          : b;
  const other = lead === a ? b : a;
  const merged: Finding = {
    ...lead,
    source: sources[0] ?? lead.source,
    sources,
    sourceIds: union(lead.sourceIds, other.sourceIds),
    severity: maxSeverity(a.severity, b.severity),
    // A verified finding outranks a "not verified" one of the same rule.
    level:
      a.notVerified && !b.notVerified
        ? b.level
        : b.notVerified && !a.notVerified
          ? a.level
          : maxLevel(a.level, b.level),
  };
  if (!(a.notVerified && b.notVerified)) delete merged.notVerified;
  if (!merged.file && other.file) {
    merged.file = other.file;
    if (other.line !== undefined) merged.line = other.line;
  }
  if (!merged.remediation && other.remediation) merged.remediation = other.remediation;
  return merged;
}

/**
 * The same rule on the same resource from several scanners becomes one finding listing every source and native id.
 * Checks that only corroborate (see rules.ts) join the findings of their rules on that resource, or stay advisory.
 */
export function mergeFindings(findings: Finding[]): Finding[] {
  const byKey = new Map<string, Finding>();
  const pending: { f: Finding; m: ScannerMapping }[] = [];
  for (const f of findings) {
    const m = mappingFor(f);
    if (m?.mode === 'corroborate' && !findRule(f.ruleId)) {
      pending.push({ f, m });
      continue;
    }
    const key = keyOf(f);
    const seen = byKey.get(key);
    byKey.set(key, seen ? combine(seen, f) : f);
  }
  const leftovers = new Map<string, Finding>();
  for (const { f, m } of pending) {
    let joined = false;
    if (f.address) {
      for (const [key, target] of byKey) {
        if (target.address === f.address && m.rules.includes(target.ruleId)) {
          byKey.set(key, {
            ...target,
            sources: union(target.sources, f.sources),
            sourceIds: union(target.sourceIds, f.sourceIds),
            file: target.file ?? f.file,
            ...(target.file === undefined && f.line !== undefined ? { line: f.line } : {}),
          } as Finding);
          joined = true;
        }
      }
    }
    if (!joined) {
      const key = keyOf(f);
      const seen = leftovers.get(key);
      leftovers.set(key, seen ? combine(seen, f) : { ...f, level: 'advisory' });
    }
  }
  return sortFindings([...byKey.values(), ...leftovers.values()]);
}

export function sortFindings(findings: Finding[]): Finding[] {
  return [...findings].sort(
    (a, b) =>
      LEVEL_RANK[b.level] - LEVEL_RANK[a.level] ||
      SEVERITY_RANK[b.severity] - SEVERITY_RANK[a.severity] ||
      a.ruleId.localeCompare(b.ruleId) ||
      (a.address ?? '').localeCompare(b.address ?? '') ||
      (a.file ?? '').localeCompare(b.file ?? '') ||
      (a.line ?? 0) - (b.line ?? 0),
  );
}

/** Fills in file and line from the HCL index for findings that only know their resource address (plan JSON). */
export function locateFindings(
  findings: Finding[],
  locate: (address: string) => { file: string; line: number } | undefined,
): Finding[] {
  return findings.map((f) => {
    if (f.file || !f.address) return f;
    const at = locate(f.address);
    return at ? { ...f, file: at.file, line: at.line } : f;
  });
}
