// The cost of a plan as people read it: a one-cell summary for the PR's project table ("$57.48 → $77.78 (+$20.29)"),
// a one-line summary for check runs and the agent's feedback, and a section with the top cost lines, what is not
// priced and why, what is usage-based, warnings, and where the prices come from. Addresses come from the plan
// (untrusted): they are kept inside code spans that cannot be broken out of.
import type { CostStatus, ProjectCost, ResourceCost } from '../core/types.js';

const usdFormat = new Intl.NumberFormat('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });

export function usd(n: number): string {
  const v = Math.abs(n) < 0.005 ? 0 : n;
  return `${v < 0 ? '−' : ''}$${usdFormat.format(Math.abs(v))}`;
}

export function signedUsd(n: number): string {
  if (Math.abs(n) < 0.005) return '±$0.00';
  return `${n > 0 ? '+' : '−'}$${usdFormat.format(Math.abs(n))}`;
}

function code(text: string): string {
  return `\`${text.replace(/[`|\r\n<>]/g, (c) => (c === '|' ? '\\|' : c === '`' ? "'" : ' '))}\``;
}

function plain(text: string): string {
  return text.replace(/\r?\n/g, ' ').replace(/[|`*_<>[\]]/g, (c) => `\\${c}`);
}

function caveat(cost: ProjectCost): string {
  const parts: string[] = [];
  if (cost.counts['not-priced'] > 0) parts.push(`${cost.counts['not-priced']} not priced`);
  if (cost.counts['usage-based'] > 0) parts.push(`${cost.counts['usage-based']} usage-based`);
  return parts.length > 0 ? ` · ${parts.join(', ')}` : '';
}

/** "$57.48 → $77.78 (+$20.29)" — the project table's "cost / month" cell. */
export function costCell(cost: ProjectCost | undefined): string {
  if (!cost) return '—';
  return `${usd(cost.before)} → ${usd(cost.after)} (${signedUsd(cost.delta)})${caveat(cost)}`;
}

/** One line: "Cost / month: $57.48 → $77.78 (+$20.29), built-in prices as of 2025-06; 1 not priced." */
export function costLine(cost: ProjectCost): string {
  const by = cost.source === 'infracost' ? 'Infracost' : `built-in prices as of ${cost.asOf}`;
  return `Cost / month: ${usd(cost.before)} → ${usd(cost.after)} (${signedUsd(cost.delta)}), ${by}${caveat(cost)}.`;
}

const STATUS_TEXT: Record<CostStatus, string> = {
  priced: '',
  'usage-based': 'usage-based, not estimated',
  'not-priced': 'not priced',
  free: 'free',
};

function amount(v: number | undefined, r: ResourceCost): string {
  if (v !== undefined) return usd(v);
  return r.status === 'not-priced' ? '?' : '—';
}

/** The lines worth a reviewer's eye first: the biggest changes, then the biggest standing costs. */
export function topCostLines(cost: ProjectCost, n: number): ResourceCost[] {
  return cost.resources
    .filter((r) => r.status === 'priced')
    .sort(
      (a, b) =>
        Math.abs(b.delta) - Math.abs(a.delta) ||
        (b.after ?? b.before ?? 0) - (a.after ?? a.before ?? 0) ||
        a.address.localeCompare(b.address),
    )
    .slice(0, n);
}

export interface CostMarkdownOptions {
  title?: string;
  /** Top cost lines shown (default 10). */
  top?: number;
  /** Max "not priced" / "usage-based" entries listed (default 20). */
  maxListed?: number;
}

export function renderCostMarkdown(cost: ProjectCost, opts: CostMarkdownOptions = {}): string {
  const top = opts.top ?? 10;
  const maxListed = opts.maxListed ?? 20;
  const lines: string[] = [];
  const title = opts.title ?? 'Cost / month';
  lines.push(
    `**${plain(title)}: ${usd(cost.before)} → ${usd(cost.after)} (${signedUsd(cost.delta)})**${caveat(cost)}`,
    '',
  );
  for (const w of cost.warnings) lines.push(`> ⚠️ ${plain(w)}`);
  if (cost.warnings.length > 0) lines.push('');
  const shown = topCostLines(cost, top);
  if (shown.length > 0) {
    lines.push('| Resource | Action | Before | After | Δ / month |', '|---|---|---:|---:|---:|');
    for (const r of shown) {
      const usage =
        r.notEstimated.length > 0 && r.after !== undefined ? ` + usage (${plain(r.notEstimated.join(', '))})` : '';
      lines.push(
        `| ${code(r.address)} | ${r.action} | ${amount(r.before, r)} | ${amount(r.after, r)}${usage} | ${r.delta === 0 ? '—' : signedUsd(r.delta)} |`,
      );
    }
    const more = cost.resources.filter((r) => r.status === 'priced').length - shown.length;
    if (more > 0) lines.push(`| … ${more} more priced resources | | | | |`);
    lines.push('');
  }
  for (const status of ['not-priced', 'usage-based'] as const) {
    const list = cost.resources.filter((r) => r.status === status);
    if (list.length === 0) continue;
    lines.push(
      status === 'not-priced'
        ? `**Not priced (${list.length})** — not counted in the totals:`
        : `**Usage-based, not estimated (${list.length})** — add them to \`infracost-usage.yml\` to estimate:`,
    );
    for (const r of list.slice(0, maxListed)) {
      lines.push(
        `- ${code(r.address)} (${r.action})${r.reason && status === 'not-priced' ? `: ${plain(r.reason)}` : ''}`,
      );
    }
    if (list.length > maxListed) lines.push(`- … ${list.length - maxListed} more`);
    lines.push('');
  }
  const source =
    cost.source === 'infracost'
      ? `Prices: ${plain(cost.priceSource)}, ${cost.asOf}.`
      : `Prices: infra-agent's built-in table of public on-demand list prices as of ${cost.asOf} (730 hours a month; no discounts, no free tiers) — an estimate.`;
  lines.push(`<sub>${source}</sub>`);
  return `${lines.join('\n').trimEnd()}\n`;
}

export { STATUS_TEXT as COST_STATUS_TEXT };
