// ChecksResult → the short text the model gets back from run_checks: only what it must act on (failed stages,
// errors at file:line, findings with their remediation, scanners that did not run, plan counts), capped in size.
// The full result stays with the harness; the model does not need passing stages or advisory noise.

import type { ChecksResult, Finding, ProjectCost } from '../core/types.js';
import { costLine, signedUsd, topCostLines, usd } from '../report/cost-markdown.js';

export const FEEDBACK_MAX_CHARS = 6_000;

function where(f: { file?: string | undefined; line?: number | undefined }): string {
  if (!f.file) return '';
  return f.line ? `${f.file}:${f.line}` : f.file;
}

function clip(s: string, max: number): string {
  const t = s.replace(/\s+/g, ' ').trim();
  return t.length > max ? `${t.slice(0, max)}…` : t;
}

function findingLine(f: Finding): string {
  const loc = [where(f), f.address].filter(Boolean).join(' ');
  const fix = f.remediation ? ` Fix: ${clip(f.remediation, 300)}` : '';
  return `- [${f.level}] ${f.ruleId}${loc ? ` ${loc}` : ''}: ${clip(f.message, 300)}.${fix}`;
}

/** The cost of the change as the model reads it: totals, top lines, what is not priced, and the budget verdict. */
export function formatCostFeedback(cost: ProjectCost, budgetUsd?: number, top = 5): string {
  const out = [costLine(cost)];
  for (const r of topCostLines(cost, top)) {
    const was = r.before !== undefined ? `${usd(r.before)} → ` : '';
    out.push(
      `  ${r.action} ${r.address}: ${was}${r.after !== undefined ? usd(r.after) : 'gone'} (${signedUsd(r.delta)})`,
    );
    const parts = r.components.slice(0, 4).map((c) => `${c.name} ${usd(c.monthlyUsd)}`);
    if (parts.length > 0) out.push(`    ${parts.join('; ')}`);
  }
  for (const r of cost.resources.filter((x) => x.status === 'not-priced' || x.status === 'usage-based').slice(0, 10)) {
    out.push(`  ${r.status}: ${r.address}${r.reason ? ` (${clip(r.reason, 160)})` : ''}`);
  }
  for (const w of cost.warnings) out.push(`  warning: ${clip(w, 200)}`);
  if (budgetUsd !== undefined) {
    out.push(
      cost.delta <= budgetUsd
        ? `budget: the request allows ${usd(budgetUsd)} a month; this change adds ${signedUsd(cost.delta)}: within budget`
        : `budget: OVER BUDGET — the request allows ${usd(budgetUsd)} a month and this change adds ${signedUsd(cost.delta)}. Choose cheaper options (smaller sizes, fewer nodes, no Multi-AZ unless asked) or explain in cost_notes why it cannot fit.`,
    );
  }
  return out.join('\n');
}

export function formatChecksFeedback(r: ChecksResult, maxChars = FEEDBACK_MAX_CHARS, budgetUsd?: number): string {
  const out: string[] = [];
  out.push(r.ok ? 'CHECKS PASSED' : `CHECKS FAILED (verdict: ${r.verdict.status})`);
  const stages = r.stages.map((s) => `${s.name} ${s.status}`).join(' · ');
  if (stages) out.push(`stages: ${stages}`);
  for (const s of r.stages) {
    if (s.status !== 'ok' && s.message) out.push(`  ${s.name}: ${clip(s.message, 400)}`);
  }
  if (r.formatted.length > 0) out.push(`terraform fmt rewrote: ${r.formatted.join(', ')} (already applied)`);

  const errors = r.diagnostics.filter((d) => d.severity === 'error');
  if (errors.length > 0) {
    out.push('errors:');
    for (const d of errors.slice(0, 20)) {
      const loc = where(d);
      out.push(`- ${loc ? `${loc}: ` : ''}${clip(d.summary, 200)}${d.detail ? ` — ${clip(d.detail, 300)}` : ''}`);
    }
    if (errors.length > 20) out.push(`- … ${errors.length - 20} more errors`);
  }
  const warnings = r.diagnostics.filter((d) => d.severity === 'warning');
  if (warnings.length > 0) out.push(`warnings: ${warnings.length} (${clip(warnings[0]?.summary ?? '', 120)}…)`);

  const blocking = r.verdict.findings.filter((f) => f.level === 'hard' || f.level === 'soft');
  if (blocking.length > 0) {
    out.push('findings (hard blocks the change; soft needs a human override — fix both where you can):');
    const sorted = [...blocking].sort((a, b) => (a.level === b.level ? 0 : a.level === 'hard' ? -1 : 1));
    for (const f of sorted.slice(0, 25)) out.push(findingLine(f));
    if (sorted.length > 25) out.push(`- … ${sorted.length - 25} more findings`);
  }
  const advisory = r.verdict.findings.length - blocking.length;
  if (advisory > 0) out.push(`advisory findings: ${advisory} (not blocking)`);

  const notRun = r.verdict.scanners.filter((s) => s.status !== 'ok');
  for (const s of notRun) out.push(`scanner ${s.name} ${s.status}${s.reason ? `: ${clip(s.reason, 200)}` : ''}`);
  if (r.verdict.status !== 'pass') {
    for (const reason of r.verdict.reasons.slice(0, 5)) out.push(`verdict: ${clip(reason, 200)}`);
  }
  if (r.plan) {
    const c = r.plan.summary.counts;
    out.push(
      `plan: ${c.add} to add, ${c.change} to change, ${c.destroy} to destroy, ${c.replace} to replace, ${c.import} to import`,
    );
    const destructive = r.plan.summary.resources.filter((x) => x.action === 'delete' || x.action === 'replace');
    for (const x of destructive.slice(0, 10)) out.push(`  ${x.action}: ${x.address}`);
  }
  if (r.cost) out.push(formatCostFeedback(r.cost, budgetUsd, 3));
  const text = out.join('\n');
  return text.length > maxChars ? `${text.slice(0, maxChars)}\n[… feedback cut]` : text;
}
