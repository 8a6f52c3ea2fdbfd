// The policy report as Markdown for PR bodies, check runs and the CLI: a reviewer reads it in a minute.
// The verdict line first (never "pass" above a critical item), what was judged (the plan, or the HCL alone), then
// hard and soft findings grouped by rule — one entry per rule, its resources with file:line, the fix for their
// resource type — then every advisory check collapsed in <details> with counts, then the scanners.
// Our own texts (rule titles, fixes) are Markdown we wrote and render as such; text from scanners or the repo is
// escaped (balanced `code spans` kept as code). Bounded in length and redacted.
import type { Finding, Level, Verdict } from '../core/types.js';
import { renderCode, renderInline } from '../markdown/text.js';
import { resourceType } from '../policy/fixes.js';
import { findRule } from '../policy/rules.js';
import { reasonLine } from '../policy/verdict.js';
import { redact } from '../util/redact.js';

export const DEFAULT_MAX_CHARS = 60_000;
/** Lines for the hard and soft groups before the collapsed advisory part; resources per rule shrink to fit. */
const BLOCKING_LINE_BUDGET = 110;

const HEADINGS: Record<'hard' | 'soft', string> = {
  hard: 'Hard — must be fixed (no override)',
  soft: 'Soft — blocks until a policy owner overrides',
};

/** Untrusted text (scanner output, repo content) as one line of plain text: the one escaping function (text.ts). */
export function escapeMarkdown(text: string): string {
  return renderInline(text, { max: 4_000 });
}

/** Untrusted text where balanced `code` stays code (what the scanner meant) and everything else is plain text. */
export function inlineText(text: string, inTable = false): string {
  const flat = text.replace(/\r?\n/g, ' ');
  const out: string[] = [];
  let last = 0;
  // renderInline trims: the spaces around a code span are put back.
  const plain = (part: string) =>
    `${/^\s/.test(part) ? ' ' : ''}${escapeMarkdown(part)}${/\S\s+$/.test(part) ? ' ' : ''}`;
  for (const m of flat.matchAll(/`([^`]{1,200})`/g)) {
    out.push(plain(flat.slice(last, m.index)), renderCode(m[1] ?? '', { inTable }));
    last = (m.index ?? 0) + m[0].length;
  }
  out.push(plain(flat.slice(last)));
  return out.join('').trim();
}

/** A code span that holds any text (no backtick inside can close it). */
export function code(text: string): string {
  return renderCode(text);
}

/** Table cells: pipes in code spans escaped too (GFM splits cells before it reads code). */
function cell(text: string): string {
  return inlineText(text, true);
}

export function location(f: Finding): string | undefined {
  if (!f.file) return undefined;
  return f.line ? `${f.file}:${f.line}` : f.file;
}

/**
 * A remediation as text with its `code spans` kept (all the Markdown our own rules and fixes use). Never raw: an OPA
 * finding's text can come from a repository's custom Rego and carry resource values.
 */
function fixText(f: Finding): string | undefined {
  if (!f.remediation) return undefined;
  return inlineText(f.remediation);
}

interface Group {
  ruleId: string;
  level: Level;
  findings: Finding[];
}

function groupByRule(findings: Finding[]): Group[] {
  const groups = new Map<string, Group>();
  for (const f of findings) {
    const key = `${f.level}\u0000${f.ruleId}`;
    const g = groups.get(key) ?? { ruleId: f.ruleId, level: f.level, findings: [] };
    g.findings.push(f);
    groups.set(key, g);
  }
  return [...groups.values()];
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function title(g: Group): string {
  const rule = findRule(g.ruleId)?.title;
  if (rule) return rule;
  const first = g.findings[0];
  return first ? inlineText(first.message).slice(0, 160) : g.ruleId;
}

function resourceLine(f: Finding, withMessage: boolean): string {
  const where = location(f);
  const parts = [f.address ? code(f.address) : undefined, where ? code(where) : undefined].filter(Boolean);
  const head = parts.length > 0 ? parts.join(' · ') : inlineText(f.message).slice(0, 200);
  return withMessage && parts.length > 0 ? `${head} — ${inlineText(f.message)}` : head;
}

/** The fixes of a group, one per resource type family that has its own. */
function fixes(g: Group): string[] {
  const byText = new Map<string, Set<string>>();
  for (const f of g.findings) {
    const text = fixText(f);
    if (!text) continue;
    const type = resourceType(f.address) ?? 'other';
    const set = byText.get(text) ?? new Set<string>();
    set.add(type);
    byText.set(text, set);
  }
  if (byText.size <= 1) return [...byText.keys()].map((t) => `  _Fix:_ ${t}`);
  return [...byText.entries()].map(([t, types]) => `  _Fix for ${[...types].map(code).join(', ')}:_ ${t}`);
}

function sources(g: Group): string {
  const names = [...new Set(g.findings.flatMap((f) => f.sources))];
  const ids = [...new Set(g.findings.flatMap((f) => f.sourceIds))].filter((id) => id !== g.ruleId).slice(0, 8);
  return `  _Reported by:_ ${names.join(', ')}${ids.length > 0 ? ` (${ids.map(escapeMarkdown).join(', ')})` : ''}`;
}

/** One rule's entry; `perRule` resources on their own lines (the rest counted), 0 = a one-line list, -1 = one line. */
function renderGroup(g: Group, perRule: number, overridden: boolean): string[] {
  const sev = g.findings.reduce(
    (a, f) => (rank(f.severity) > rank(a) ? f.severity : a),
    g.findings[0]?.severity ?? 'low',
  );
  const head = `- **${escapeMarkdown(g.ruleId)}** ${title(g)} · ${sev} · ${plural(g.findings.length, 'resource')}${overridden ? ' · _overridden_' : ''}`;
  if (perRule < 0) {
    // Very many rules: the whole entry on one line.
    const shown = g.findings.slice(0, 3).map((f) => resourceLine(f, false));
    const more = g.findings.length > 3 ? `, +${g.findings.length - 3} more` : '';
    return [`${head}: ${shown.join(', ')}${more}`];
  }
  const lines = [head];
  const sameMessage = new Set(g.findings.map((f) => f.message)).size === 1;
  if (sameMessage && g.findings[0]) lines.push(`  ${inlineText(g.findings[0].message)}`);
  if (perRule > 0) {
    for (const f of g.findings.slice(0, perRule)) lines.push(`  - ${resourceLine(f, !sameMessage)}`);
    if (g.findings.length > perRule)
      lines.push(`  - …and ${g.findings.length - perRule} more (all in the check run / SARIF)`);
  } else {
    const shown = g.findings.slice(0, 5).map((f) => resourceLine(f, false));
    const more = g.findings.length > 5 ? `, and ${g.findings.length - 5} more` : '';
    lines.push(`  ${shown.join(', ')}${more}`);
  }
  lines.push(...fixes(g), sources(g));
  return lines;
}

const SEVERITIES = ['critical', 'high', 'medium', 'low', 'info'] as const;
function rank(s: Finding['severity']): number {
  return SEVERITIES.length - SEVERITIES.indexOf(s);
}

function renderBlocking(level: 'hard' | 'soft', groups: Group[], perRule: number, overridden: Set<string>): string[] {
  if (groups.length === 0) return [];
  const n = groups.reduce((a, g) => a + g.findings.length, 0);
  const out = ['', `#### ${HEADINGS[level]} · ${plural(groups.length, 'rule')}, ${plural(n, 'finding')}`, ''];
  for (const g of groups) out.push(...renderGroup(g, perRule, overridden.has(g.ruleId)));
  return out;
}

function advisoryRows(groups: Group[]): string[] {
  return [...groups]
    .sort((a, b) => b.findings.length - a.findings.length || a.ruleId.localeCompare(b.ruleId))
    .map((g) => {
      const f = g.findings[0];
      const where = f ? (location(f) ?? f.address ?? '') : '';
      const notVerified = g.findings.every((x) => x.notVerified) ? ' (not verified)' : '';
      return `| ${cell(g.ruleId)} | ${cell(title(g))}${notVerified} | ${g.findings.length} | ${where ? renderCode(where, { inTable: true }) : '—'} |`;
    });
}

function renderAdvisory(groups: Group[], rows: string[], omitted: number): string[] {
  if (groups.length === 0) return [];
  const n = groups.reduce((a, g) => a + g.findings.length, 0);
  return [
    '',
    '<details>',
    `<summary>Advisory — ${plural(n, 'finding')} from ${plural(groups.length, 'check')} (reported, never blocks)</summary>`,
    '',
    '| Check | What | Count | First at |',
    '|---|---|---|---|',
    ...rows,
    ...(omitted > 0
      ? ['', `_…${plural(omitted, 'more check')} not shown (report length limit); see the check run or SARIF._`]
      : []),
    '',
    '</details>',
  ];
}

function scannerTable(v: Verdict): string[] {
  const rows = v.scanners.map((s) => {
    const status = s.status === 'ok' ? 'ok' : s.status === 'not-run' ? '**not run**' : '**failed**';
    const why = s.reason ? ` — ${cell(reasonLine(s.reason, 400))}` : '';
    const notes = (s.notes ?? []).map((n) => ` — ${cell(n)}`).join('');
    return `| ${s.name} | ${status}${why}${notes} | ${s.version ? cell(s.version) : '—'} | ${(s.durationMs / 1000).toFixed(1)} s | ${s.findings.length} |`;
  });
  return [
    '',
    '#### Scanners',
    '',
    '| Scanner | Status | Version | Time | Raw findings |',
    '|---|---|---|---|---|',
    ...rows,
  ];
}

function statusLine(v: Verdict, counts: string): string {
  if (v.status === 'blocked') return `⛔ **Policy gate: blocked** — ${counts}`;
  if (v.status === 'needs-override') return `⚠️ **Policy gate: needs override** — ${counts}`;
  const critical = v.findings.filter((f) => f.severity === 'critical').length;
  // Never "pass" directly above a critical item: a repo may have lowered its level, the reader still must see it.
  if (critical > 0)
    return `⚠️ **Policy gate: not blocking** — ${counts}; ${plural(critical, 'critical-severity finding')} made advisory by this repo's levels`;
  return `✅ **Policy gate: pass** — ${counts}`;
}

/** What a reviewer reads first when the operator ran the tools without the sandbox. */
export const UNSANDBOXED_LINE =
  "> [!WARNING]\n> **Unsandboxed**: terraform and the scanners ran without the sandbox (the operator set `INFRA_AGENT_UNSANDBOXED=1`). The code under review could read and change the worker's files and network.";

export function renderPolicyMarkdown(verdict: Verdict, opts: { title?: string; maxChars?: number } = {}): string {
  const max = opts.maxChars ?? DEFAULT_MAX_CHARS;
  const overridden = new Set(verdict.overrides.map((o) => o.ruleId));
  const head: string[] = [];
  if (opts.title) head.push(`### ${escapeMarkdown(opts.title)}`, '');
  const counts = (['hard', 'soft', 'advisory'] as Level[])
    .map((l) => `${verdict.findings.filter((f) => f.level === l).length} ${l}`)
    .join(', ');
  if (verdict.unsandboxed) head.push(UNSANDBOXED_LINE, '');
  head.push(statusLine(verdict, counts));
  if (verdict.evaluatedOn === 'hcl')
    head.push(
      '',
      '_Evaluated on the HCL, no plan: values known only at plan time are not verified, and resources behind `count` / `for_each` flags are judged as the default values create them._',
    );
  if (verdict.reasons.length > 0) head.push('');
  for (const r of verdict.reasons) head.push(`- ${inlineText(r)}`);
  for (const o of verdict.overrides)
    head.push(
      `- ${escapeMarkdown(o.ruleId)} overridden by @${escapeMarkdown(o.by)} at ${escapeMarkdown(o.at)}: ${inlineText(o.reason)}`,
    );

  const groups = groupByRule(verdict.findings);
  const hard = groups.filter((g) => g.level === 'hard');
  const soft = groups.filter((g) => g.level === 'soft');
  const advisory = groups.filter((g) => g.level === 'advisory');
  // As many resources per rule as the line budget allows: 8, then 3, then 1, a one-line list, one line per rule.
  let blocking: string[] = [];
  for (const perRule of [8, 3, 1, 0, -1]) {
    blocking = [
      ...renderBlocking('hard', hard, perRule, overridden),
      ...renderBlocking('soft', soft, perRule, overridden),
    ];
    if (head.length + blocking.length <= BLOCKING_LINE_BUDGET) break;
  }
  if (head.length + blocking.length > BLOCKING_LINE_BUDGET) {
    // More rules than lines: the hard ones first, then as many soft ones as fit, the rest counted.
    const room = Math.max(BLOCKING_LINE_BUDGET - head.length - 8, 10);
    const keptHard = hard.slice(0, room);
    const keptSoft = soft.slice(0, Math.max(room - keptHard.length, 0));
    const left = hard.length + soft.length - keptHard.length - keptSoft.length;
    blocking = [
      ...renderBlocking('hard', keptHard, -1, overridden),
      ...renderBlocking('soft', keptSoft, -1, overridden),
      '',
      `_…and ${plural(left, 'more blocking rule')} not shown (report length limit); every finding is in the check run and SARIF._`,
    ];
  }
  const tail = scannerTable(verdict);
  const fits = (parts: string[][]) => redact(parts.flat().join('\n')).length <= max;
  const rows = advisoryRows(advisory);
  let shownRows = rows.length;
  let advisoryPart = renderAdvisory(advisory, rows, 0);
  while (shownRows > 0 && !fits([head, blocking, advisoryPart, tail])) {
    shownRows = Math.floor(shownRows * 0.8);
    advisoryPart = renderAdvisory(advisory, rows.slice(0, shownRows), rows.length - shownRows);
  }
  let cut = 0;
  const note = () =>
    cut > 0
      ? [
          '',
          `_…${plural(cut, 'line')} of blocking findings not shown (report length limit); see the check run or SARIF._`,
        ]
      : [];
  while (blocking.length > 0 && !fits([head, blocking, note(), advisoryPart, tail])) {
    blocking = blocking.slice(0, -1);
    cut++;
  }
  return redact([...head, ...blocking, ...note(), ...advisoryPart, ...tail].join('\n'));
}
