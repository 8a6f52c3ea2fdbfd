// The pull request body: what a reviewer reads first. The App's facts come first — `Closes #N`, one plan row per
// project with counts, destroy/replace warnings, the policy report by level with the scanner table, the plan output
// collapsed — and only then the agent's own words (its summary and notes), in a block that says they are the model's,
// rendered as plain text by the one escaping function (text.ts), so nothing the model writes can open HTML, forge a
// table row or a marker, or ping anyone. Hidden markers at the end only help the App find its own state; which issue
// the PR closes and who may approve it live in the store.
import { createHash } from 'node:crypto';
import type { ChecksResult, ModelUsage } from '../core/types.js';
import { type Markers, renderMarkers } from '../markdown/markers.js';
import { fenceFor, GITHUB_BODY_LIMIT } from '../markdown/split-comment.js';
import { renderCode, renderInline, renderQuoted } from '../markdown/text.js';
import { costCell, renderCostMarkdown, signedUsd, usd } from '../report/cost-markdown.js';
import { redact } from '../util/redact.js';

/** Leave room under GitHub's limit for the markers and any later edit. */
export const BODY_BUDGET = GITHUB_BODY_LIMIT - 4_000;
const MAX_SUMMARY_CHARS = 6_000;

export interface ProjectReport {
  checks: ChecksResult;
  /** The policy report (by level) for this project's verdict, markdown. */
  policyMarkdown: string;
}

export interface PrBodyInput {
  issueNumber: number;
  /** A drift issue's reconcile PR: it does not close the issue (the next drift check that finds none does). */
  reconciles?: 'code' | 'revert';
  runId: string;
  headSha: string;
  title: string;
  /** The agent's summary (model output: untrusted). */
  summary: string;
  notes?: string;
  projects: ProjectReport[];
  usage?: ModelUsage;
  /** Set when the plan output did not fit and went into follow-up comments. */
  planOutputInComments?: number;
  /**
   * The App's own line shown under `Closes #N` (e.g. "re-planned after a push by @x"): Markdown the caller built from
   * validated data, any untrusted part of it already rendered with text.ts.
   */
  notice?: string;
  /** The agent's word on cost: what it chose and why, when a cheaper option was possible (model output). */
  costNotes?: string;
  /** The monthly budget the request stated ("under $200 a month"), checked against the PR's cost increase. */
  budgetUsd?: number;
  /** The agent's own estimate_cost answers during the run: how many, and the last one. */
  agentEstimate?: { calls: number; before: number; after: number; delta: number };
}

/** The heading of the agent's block: the one place in the body with the model's words. */
export const AGENT_HEADING = "### The agent's summary";
const AGENT_ATTRIBUTION =
  '<sub>Written by the model, shown as plain text. Everything above is infra-agent’s own.</sub>';

/** A project's name (and directory) as the plan table and the policy headings show it. */
export function projectLabel(name: string, dir?: string): string {
  return dir === undefined || name === dir ? renderInline(name) : `${renderInline(name)} (${renderInline(dir)})`;
}

const VERDICT_LABEL = { pass: '✅ pass', blocked: '⛔ blocked', 'needs-override': '⚠️ needs override' } as const;

function planRow(r: ProjectReport): string {
  const p = r.checks.project;
  const plan = r.checks.plan;
  const name = projectLabel(p.name, p.dir);
  if (!plan) {
    const failed = r.checks.stages.find((s) => s.status === 'failed');
    const why = failed
      ? `: ${renderInline(failed.name)} failed${failed.message ? ` (${renderInline(failed.message, { max: 200 })})` : ''}`
      : '';
    return `| ${name} | — | — | — | — | — | — | ❌ no plan${why} |`;
  }
  const c = plan.summary.counts;
  return `| ${name} | ${c.add} | ${c.change} | ${c.destroy} | ${c.replace} | ${c.import} | ${costCell(r.checks.cost)} | ${VERDICT_LABEL[r.checks.verdict.status]} |`;
}

function warnings(projects: ProjectReport[]): string[] {
  const lines: string[] = [];
  for (const r of projects) {
    const res = r.checks.plan?.summary.resources ?? [];
    const destroyed = res.filter((x) => x.action === 'delete').map((x) => x.address);
    const replaced = res.filter((x) => x.action === 'replace').map((x) => x.address);
    if (destroyed.length + replaced.length === 0) continue;
    const list = [
      ...destroyed.map((a) => `destroys ${renderCode(a)}`),
      ...replaced.map((a) => `replaces ${renderCode(a)}`),
    ];
    lines.push(
      `> **${renderInline(r.checks.project.name)}:** ${list.slice(0, 20).join(', ')}${list.length > 20 ? ', …' : ''}`,
    );
  }
  return lines.length > 0 ? ['> [!CAUTION]', '> This plan destroys or replaces resources.', ...lines, ''] : [];
}

/** The cost section: the agent's choice, the request's budget, and per project the top cost lines. */
function costSection(input: PrBodyInput): string[] {
  const costed = input.projects.filter((r) => r.checks.cost);
  if (costed.length === 0 && !input.agentEstimate?.calls) return [];
  const out = ['## Cost', ''];
  if (input.budgetUsd !== undefined && costed.length > 0) {
    const delta = costed.reduce((a, r) => a + (r.checks.cost?.delta ?? 0), 0);
    const ok = delta <= input.budgetUsd;
    out.push(
      `${ok ? '✅' : '⛔'} **Budget from the request: ${usd(input.budgetUsd)} a month** — this change: ${signedUsd(delta)} a month${ok ? '' : ' (over budget)'}`,
      '',
    );
  }
  if (input.agentEstimate && input.agentEstimate.calls > 0) {
    const e = input.agentEstimate;
    out.push(
      `The agent priced its change with \`estimate_cost\` (${e.calls}×) before finishing: ${usd(e.before)} → ${usd(e.after)} (${signedUsd(e.delta)}) a month.`,
      '',
    );
  }
  // The agent's own word on cost is in its block below (renderAgentBlock), with the rest of what it said.
  for (const r of costed) {
    const cost = r.checks.cost;
    if (!cost) continue;
    const title = input.projects.length > 1 ? `Cost / month: ${renderInline(r.checks.project.name)}` : 'Cost / month';
    out.push(redact(renderCostMarkdown(cost, { title, top: 5, maxListed: 10 })), '');
  }
  return out;
}

function usageLine(u: ModelUsage): string {
  const tokens = `${u.inputTokens.toLocaleString('en-US')} in / ${u.outputTokens.toLocaleString('en-US')} out`;
  const cache =
    u.cacheReadTokens + u.cacheWriteTokens > 0
      ? ` (cache ${u.cacheReadTokens.toLocaleString('en-US')} read, ${u.cacheWriteTokens.toLocaleString('en-US')} written)`
      : '';
  return `Agent: ${tokens} tokens${cache} · $${u.costUsd.toFixed(4)} · ${u.turns} turns · ${(u.durationMs / 1000).toFixed(1)} s`;
}

/** The plan output sections (one per project), fenced so nothing inside can break out. */
export function renderPlanOutput(projects: ProjectReport[]): string {
  const parts: string[] = [];
  for (const r of projects) {
    const text = redact(r.checks.plan?.text ?? '').trimEnd();
    if (!text) continue;
    const f = fenceFor(text, 'diff');
    parts.push(`#### Plan output: ${renderInline(r.checks.project.name)}\n\n${f.open}\n${text}\n${f.close}`);
  }
  return parts.join('\n\n');
}

export function bodyHash(body: string): string {
  return createHash('sha256').update(body).digest('hex').slice(0, 32);
}

export interface RenderedBody {
  body: string;
  /** The plan output, when it did not fit in the body (the caller posts it as follow-up comments). */
  overflow?: string;
  markers: Markers;
}

/** The agent's block: its summary and notes, attributed and quoted as plain text. Empty when it said nothing. */
export function renderAgentBlock(summary: string, notes?: string, costNotes?: string): string {
  const said = renderQuoted(summary, { max: MAX_SUMMARY_CHARS });
  const noted = notes?.trim() ? renderQuoted(notes, { max: 2_000 }) : '';
  const cost = costNotes?.trim() ? renderQuoted(costNotes, { max: 2_000 }) : '';
  if (!said && !noted && !cost) return '';
  return [
    AGENT_HEADING,
    '',
    AGENT_ATTRIBUTION,
    '',
    said,
    ...(noted ? ['', '**Notes for the reviewer:**', '', noted] : []),
    ...(cost ? ['', "**The agent's cost choice:**", '', cost] : []),
    '',
  ].join('\n');
}

export function renderPrBody(input: PrBodyInput): RenderedBody {
  const top: string[] = [
    input.reconciles === 'revert'
      ? `Reconciles the drift reported in #${input.issueNumber}: no code change, this plan puts reality back to the code. That issue stays open until a drift check finds no drift.`
      : input.reconciles === 'code'
        ? `Reconciles the drift reported in #${input.issueNumber}: the code now declares reality, so the plan should be empty. That issue stays open until a drift check finds no drift.`
        : `Closes #${input.issueNumber}`,
    '',
  ];
  if (input.notice) top.push(`> ${input.notice.replace(/\n/g, ' ')}`, '');
  top.push(
    '| Project | Add | Change | Destroy | Replace | Import | Cost / month | Policy |',
    '|---|---:|---:|---:|---:|---:|---|---|',
    ...input.projects.map(planRow),
    '',
    ...warnings(input.projects),
    ...costSection(input),
  );
  const policy = input.projects.map((r) =>
    input.projects.length > 1
      ? `### Policy: ${renderInline(r.checks.project.name)}\n\n${r.policyMarkdown}`
      : r.policyMarkdown,
  );
  // The policy report carries the findings by level and the scanner table (which ran, versions, not-run reasons).
  const middle = ['## Policy report', '', ...policy, ''];
  const agent = renderAgentBlock(input.summary, input.notes, input.costNotes);
  const usage = input.usage ? [`<sub>${usageLine(input.usage)}</sub>`, ''] : [];

  const planHash = input.projects.map((p) => p.checks.plan?.hash ?? '').join(',');
  const markers: Markers = {
    'run-id': input.runId,
    issue: String(input.issueNumber),
    'head-sha': input.headSha,
    ...(planHash.replace(/,/g, '')
      ? { 'plan-hash': createHash('sha256').update(planHash).digest('hex').slice(0, 64) }
      : {}),
  };
  const planOutput = renderPlanOutput(input.projects);
  const base = [...top, ...middle].join('\n');
  const collapsed = planOutput ? `<details><summary>Plan output</summary>\n\n${planOutput}\n\n</details>\n` : '';
  const fits = base.length + collapsed.length + agent.length + usage.join('\n').length < BODY_BUDGET;
  const planSection = !planOutput
    ? ''
    : fits
      ? collapsed
      : `<details><summary>Plan output</summary>\n\nThe plan output is too long for this description: it is in the comments below.\n\n</details>\n`;
  let body = [base, planSection, agent, ...usage].join('\n');
  if (body.length > BODY_BUDGET) body = `${body.slice(0, BODY_BUDGET - 100)}\n\n[… cut to fit GitHub's limit]\n`;
  const withoutHash = `${body}\n${renderMarkers(markers)}`;
  const all: Markers = { ...markers, 'body-hash': bodyHash(withoutHash) };
  return {
    body: `${body}\n${renderMarkers(all)}`,
    ...(fits || !planOutput ? {} : { overflow: planOutput }),
    markers: all,
  };
}

/** True when the PR's current body is exactly the one we would write: skip the API call. */
export function bodyUnchanged(current: string | null | undefined, next: RenderedBody): boolean {
  return current === next.body;
}
