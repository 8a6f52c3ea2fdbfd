// The verdict: pass, blocked (a hard finding, or a scanner that had to run and did not) or needs-override (a soft
// finding nobody authorised has overridden). Pure: the gate runs the scanners, this decides.
import type { PolicyConfig } from '../config/schema.js';
import type { Finding, Override, ScannerRun, Verdict, VerdictStatus } from '../core/types.js';
import { applyExistence, applyLevels, applySeverityLevels, mergeFindings } from './findings.js';

export interface VerdictInput {
  scanners: ScannerRun[];
  overrides: Override[];
  config: PolicyConfig;
  /** sha256 of the plan under review: an override given for another plan does not count. */
  planHash?: string;
  /** Fills in file:line for findings that only know their address. */
  locate?: (address: string) => { file: string; line: number } | undefined;
  /** Whether the resource a finding names is created ('no' / 'maybe' lower its level; see applyExistence). */
  existence?: (address: string | undefined) => { status: 'yes' | 'no' | 'maybe'; why?: string } | undefined;
  evaluatedOn?: 'plan' | 'hcl';
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function allowedMissing(run: ScannerRun, config: PolicyConfig): boolean {
  // The pre-plan guard is never optional: it is what keeps untrusted code from running on our host.
  return run.name !== 'pregate' && (config.allow_missing_scanners as string[]).includes(run.name);
}

/** A scanner's reason on one line, whole: "invalid HCL:" alone says nothing, the lines after it say where and why. */
export function reasonLine(reason: string, max = 600): string {
  const text = reason
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .join(' ')
    .replace(/:\s*(?=\S)/, ': ');
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

export function decideVerdict(input: VerdictInput): Verdict {
  const { scanners, config } = input;
  const reasons: string[] = [];
  const levelled = applyLevels(
    applySeverityLevels(
      scanners.flatMap((s) => s.findings),
      config.severity_levels,
    ),
    config.levels,
  );
  let merged = mergeFindings(input.existence ? applyExistence(levelled, input.existence) : levelled);
  if (input.locate) {
    const locate = input.locate;
    merged = merged.map((f) => {
      if (f.file || !f.address) return f;
      const at = locate(f.address);
      return at ? { ...f, file: at.file, line: at.line } : f;
    });
  }

  let blocked = false;
  for (const run of scanners) {
    if (run.status === 'ok') continue;
    const what = run.status === 'not-run' ? 'did not run' : 'failed';
    const why = run.reason ? `: ${reasonLine(run.reason)}` : '';
    if (allowedMissing(run, config)) {
      reasons.push(`${run.name} ${what} (allowed by policy.allow_missing_scanners)${why}`);
    } else {
      blocked = true;
      reasons.push(`${run.name} ${what}, so the code is not verified${why}`);
    }
  }

  const hard = merged.filter((f) => f.level === 'hard');
  if (hard.length > 0) {
    blocked = true;
    reasons.push(
      `${plural(hard.length, 'hard finding')} (${[...new Set(hard.map((f) => f.ruleId))].join(', ')}) must be fixed`,
    );
  }

  const applied: Override[] = [];
  const hardRules = new Set(hard.map((f) => f.ruleId));
  const softRules = new Set(merged.filter((f) => f.level === 'soft').map((f) => f.ruleId));
  for (const o of input.overrides) {
    if (input.planHash && o.planHash && o.planHash !== input.planHash) {
      reasons.push(`override of ${o.ruleId} by ${o.by} was given for another plan and is ignored`);
    } else if (hardRules.has(o.ruleId)) {
      reasons.push(
        `override of ${o.ruleId} by ${o.by} is ignored: ${o.ruleId} is a hard rule and cannot be overridden`,
      );
    } else if (softRules.has(o.ruleId)) {
      applied.push(o);
    }
  }
  const overridden = new Set(applied.map((o) => o.ruleId));
  const openSoft: Finding[] = merged.filter((f) => f.level === 'soft' && !overridden.has(f.ruleId));
  if (openSoft.length > 0) {
    reasons.push(
      `${plural(openSoft.length, 'soft finding')} (${[...new Set(openSoft.map((f) => f.ruleId))].join(', ')}) need an override by a policy owner`,
    );
  }
  const status: VerdictStatus = blocked ? 'blocked' : openSoft.length > 0 ? 'needs-override' : 'pass';
  return {
    status,
    findings: merged,
    scanners,
    overrides: applied,
    reasons,
    ...(input.evaluatedOn ? { evaluatedOn: input.evaluatedOn } : {}),
  };
}
