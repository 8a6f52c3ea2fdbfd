// The policy report as Markdown for PR bodies and comments: findings by level (hard, soft, advisory) with rule,
// address, file:line, message, remediation and sources; then the scanners with status, version and time. Bounded in
// length (GitHub limits bodies to 65 536 characters) and redacted.
import type { Finding, Level, Verdict } from '../core/types.js';
import { findRule } from '../policy/rules.js';
import { redact } from '../util/redact.js';

export const DEFAULT_MAX_CHARS = 60_000;

const HEADINGS: Record<Level, string> = {
  hard: 'Hard — must be fixed (no override)',
  soft: 'Soft — blocks until a policy owner overrides',
  advisory: 'Advisory — reported, never blocks',
};
const STATUS_LINE: Record<Verdict['status'], string> = {
  pass: '✅ **Policy gate: pass**',
  blocked: '⛔ **Policy gate: blocked**',
  'needs-override': '⚠️ **Policy gate: needs override**',
};

/** Text from scanners or the repo, made safe for Markdown tables and inline code. */
export function escapeMarkdown(text: string): string {
  return text.replace(/\r?\n/g, ' ').replace(/[|`*_<>[\]]/g, (c) => `\\${c}`);
}

export function location(f: Finding): string | undefined {
  if (!f.file) return undefined;
  return f.line ? `${f.file}:${f.line}` : f.file;
}

function renderFinding(f: Finding, overridden: boolean): string {
  const title = findRule(f.ruleId)?.title;
  const where = location(f);
  const head = [
    `**${escapeMarkdown(f.ruleId)}**${title ? ` ${escapeMarkdown(title)}` : ''}`,
    f.address ? `\`${f.address.replace(/`/g, "'")}\`` : undefined,
    where ? `\`${where.replace(/`/g, "'")}\`` : undefined,
    overridden ? '_(overridden)_' : undefined,
  ]
    .filter(Boolean)
    .join(' · ');
  const lines = [`- ${head}`, `  ${escapeMarkdown(f.message)}`];
  if (f.remediation) lines.push(`  _Fix:_ ${escapeMarkdown(f.remediation)}`);
  lines.push(
    `  _Sources:_ ${f.sources.join(', ')} (${f.sourceIds.map(escapeMarkdown).join(', ')}) · severity ${f.severity}`,
  );
  return lines.join('\n');
}

function scannerTable(v: Verdict): string {
  const rows = v.scanners.map((s) => {
    const status = s.status === 'ok' ? 'ok' : s.status === 'not-run' ? '**not run**' : '**failed**';
    const why = s.reason ? ` — ${escapeMarkdown(s.reason.split('\n')[0] ?? '').slice(0, 200)}` : '';
    return `| ${s.name} | ${status}${why} | ${s.version ? escapeMarkdown(s.version) : '—'} | ${(s.durationMs / 1000).toFixed(1)} s | ${s.findings.length} |`;
  });
  return ['| Scanner | Status | Version | Time | Raw findings |', '|---|---|---|---|---|', ...rows].join('\n');
}

export function renderPolicyMarkdown(verdict: Verdict, opts: { title?: string; maxChars?: number } = {}): string {
  const max = opts.maxChars ?? DEFAULT_MAX_CHARS;
  const overridden = new Set(verdict.overrides.map((o) => o.ruleId));
  const head: string[] = [];
  if (opts.title) head.push(`### ${escapeMarkdown(opts.title)}`, '');
  const counts = (['hard', 'soft', 'advisory'] as Level[]).map(
    (l) => `${verdict.findings.filter((f) => f.level === l).length} ${l}`,
  );
  head.push(`${STATUS_LINE[verdict.status]} — ${counts.join(', ')}`);
  for (const r of verdict.reasons) head.push(`- ${escapeMarkdown(r)}`);
  for (const o of verdict.overrides)
    head.push(
      `- ${escapeMarkdown(o.ruleId)} overridden by @${escapeMarkdown(o.by)} at ${escapeMarkdown(o.at)}: ${escapeMarkdown(o.reason)}`,
    );
  const tail = ['', '#### Scanners', '', scannerTable(verdict)];

  const sections: string[] = [];
  let budget = max - redact(head.join('\n') + tail.join('\n')).length - 200;
  let omitted = 0;
  for (const level of ['hard', 'soft', 'advisory'] as Level[]) {
    const findings = verdict.findings.filter((f) => f.level === level);
    if (findings.length === 0) continue;
    const parts = [`#### ${HEADINGS[level]} (${findings.length})`, ''];
    for (const f of findings) {
      const text = renderFinding(f, overridden.has(f.ruleId));
      if (text.length + 1 > budget) {
        omitted++;
        continue;
      }
      budget -= text.length + 1;
      parts.push(text);
    }
    sections.push('', ...parts);
  }
  if (omitted > 0)
    sections.push('', `_…${omitted} more findings not shown (report length limit); see the check run or SARIF._`);
  return redact([...head, ...sections, ...tail].join('\n'));
}
