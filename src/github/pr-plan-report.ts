// What a pull request's plan looks like on GitHub: ONE comment (a table of the affected projects — plan counts,
// verdict, lock, a link to the project's check run — then a section per project with its changed resources and its
// policy report), edited in place as projects finish; and one check run per project carrying the full plan output
// (GitHub's 65,535-character limit respected, the comment never holds the raw output). Rendering only: the values come
// from the checks; everything untrusted goes through the escaping helpers.
import type { RepoRef } from '../core/github.js';
import type { ChecksResult, Project } from '../core/types.js';
import { fenceFor, GITHUB_BODY_LIMIT } from '../markdown/split-comment.js';
import { renderCode, renderText } from '../markdown/text.js';
import { costLine } from '../report/cost-markdown.js';
import { planHeadline, renderPlanSummaryMarkdown } from '../terraform/plan-summary.js';
import { redact } from '../util/redact.js';

/** The PR's one comment (plan table, or why it is not planned): found again by this key and marker. */
export function prPlanComment(repo: RepoRef, pr: number, botLogin: string | undefined) {
  return {
    repo,
    issueNumber: pr,
    key: `autoplan-comment:${repo.owner}/${repo.repo}#${pr}`,
    marker: `<!-- infra-agent:autoplan=${pr} -->`,
    ...(botLogin ? { botLogin } : {}),
  };
}

export type ProjectState =
  | { kind: 'queued' }
  | { kind: 'planning' }
  /** Waiting for locks: `holderPr` holds this project's; without it, the project waits for the PR's other ones. */
  | { kind: 'waiting-lock'; holderPr?: number }
  | { kind: 'done'; checks: ChecksResult; checkRunUrl?: string; policyMarkdown: string };

export interface PlannedRow {
  project: Project;
  /** Why it is affected (already Markdown-safe: built from paths with renderCode). */
  reason: string;
  state: ProjectState;
}

export interface PrPlanView {
  headSha: string;
  baseSha: string;
  baseRef: string;
  rows: PlannedRow[];
  /** A line above the table (who asked, fork without credentials, …); already safe Markdown. */
  notices: string[];
  /** False while projects are still planning (the title says how many are done). */
  finished: boolean;
}

/** Check run name of one project's plan. */
export function projectCheckName(p: Pick<Project, 'name' | 'workspace'>): string {
  return `infra-agent/plan: ${p.name}${p.workspace === 'default' ? '' : ` (${p.workspace})`}`;
}

function failedStage(checks: ChecksResult) {
  return checks.stages.find((s) => s.status === 'failed' && s.name !== 'verdict');
}

/** success / failure / action_required, as the project's check run concludes. */
export function projectConclusion(checks: ChecksResult): 'success' | 'failure' | 'action_required' {
  if (!checks.plan || failedStage(checks)) return 'failure';
  if (checks.verdict.status === 'blocked') return 'failure';
  return checks.verdict.status === 'needs-override' ? 'action_required' : 'success';
}

function counts(checks: ChecksResult): string {
  const c = checks.plan?.summary.counts;
  if (!c) return `no plan (${failedStage(checks)?.name ?? 'checks'} failed)`;
  return `+${c.add} ~${c.change} -${c.destroy}${c.replace ? ` ±${c.replace}` : ''}`;
}

const VERDICT: Record<string, string> = {
  pass: '✅ pass',
  blocked: '⛔ blocked',
  'needs-override': '⚠️ needs override',
};

function statusCells(row: PlannedRow): [string, string, string] {
  const s = row.state;
  switch (s.kind) {
    case 'queued':
      return ['⏳ queued', '', ''];
    case 'planning':
      return ['🔄 planning', '', ''];
    case 'waiting-lock':
      return ['⏸️ waiting', '', s.holderPr !== undefined ? `🔒 held by #${s.holderPr}` : ''];
    case 'done': {
      const verdict = s.checks.plan ? (VERDICT[s.checks.verdict.status] ?? s.checks.verdict.status) : '❌ failed';
      const link = s.checkRunUrl ? ` · [details](${s.checkRunUrl})` : '';
      return [`${counts(s.checks)}${link}`, verdict, '🔒 held'];
    }
  }
}

function table(view: PrPlanView): string[] {
  const lines = ['| Project | Dir | Plan | Policy | Lock |', '|---|---|---|---|---|'];
  for (const row of view.rows) {
    const [plan, verdict, lock] = statusCells(row);
    const name = renderCode(row.project.name, { inTable: true });
    const dir = renderCode(row.project.dir, { inTable: true });
    lines.push(`| ${name} | ${dir} | ${plan} | ${verdict} | ${lock} |`);
  }
  return lines;
}

function section(row: PlannedRow, budget: number): string {
  const head = `### ${renderCode(row.project.name)}\n\nAffected: ${row.reason}.\n`;
  const s = row.state;
  if (s.kind === 'queued' || s.kind === 'planning') return head;
  if (s.kind === 'waiting-lock') {
    return s.holderPr !== undefined
      ? `${head}\nWaiting for #${s.holderPr}, which holds this project's lock: planned as soon as it is merged, closed or unlocked (\`/infra unlock\` there).\n`
      : `${head}\nWaiting with this pull request's other projects: their locks are taken all together or not at all.\n`;
  }
  const checks = s.checks;
  const parts: string[] = [head];
  if (checks.plan) {
    parts.push(renderPlanSummaryMarkdown(checks.plan.summary, { maxResources: 30 }));
    if (checks.cost) parts.push(`${costLine(checks.cost)}\n`);
  } else {
    const failed = failedStage(checks);
    parts.push(
      `**No plan**: ${renderCode(failed?.name ?? 'checks')} failed.\n\n${renderText(failed?.message ?? 'the plan did not run', { max: 1_500 })}\n`,
    );
  }
  parts.push(`<details><summary>Policy: ${VERDICT[checks.verdict.status] ?? checks.verdict.status}</summary>\n`);
  parts.push(`${s.policyMarkdown}\n\n</details>\n`);
  if (s.checkRunUrl)
    parts.push(`Full plan output: [the ${renderCode(projectCheckName(row.project))} check](${s.checkRunUrl}).\n`);
  const text = parts.join('\n');
  if (text.length <= budget) return text;
  // Many projects: each keeps its headline and the link; the rest is in its check run.
  const short = [
    head,
    checks.plan ? `**${planHeadline(checks.plan.summary)}**\n` : `**No plan** (${counts(checks)}).\n`,
    s.checkRunUrl ? `Changed resources, policy report and full output: [check run](${s.checkRunUrl}).\n` : '',
  ].join('\n');
  return short.slice(0, Math.max(budget, 200));
}

/** The PR's one comment. Fits GitHub's limit whatever the number of projects. */
export function renderPrPlanComment(view: PrPlanView): string {
  const done = view.rows.filter((r) => r.state.kind === 'done').length;
  const waiting = view.rows.filter((r) => r.state.kind === 'waiting-lock').length;
  const title = view.finished
    ? waiting > 0
      ? `**infra-agent plan**: waiting for a lock (${waiting} of ${view.rows.length} project(s)).`
      : `**infra-agent plan**: ${view.rows.length} project(s) planned.`
    : `**infra-agent plan**: planning ${view.rows.length} project(s), ${done} done…`;
  const intro = [
    title,
    '',
    `Planned as merged: this pull request's head \`${view.headSha.slice(0, 7)}\` merged into ${renderCode(view.baseRef)} at \`${view.baseSha.slice(0, 7)}\`.`,
    ...view.notices.map((n) => `\n${n}`),
    '',
  ];
  const head = [...intro, ...table(view), ''].join('\n');
  const room = GITHUB_BODY_LIMIT - head.length - 2_000;
  const budget = Math.max(300, Math.floor(room / Math.max(1, view.rows.length)));
  return `${head}\n${view.rows.map((r) => section(r, budget)).join('\n')}`.slice(0, GITHUB_BODY_LIMIT - 500);
}

/** GitHub's limit on a check run's `output.text` and `output.summary`. */
export const CHECK_OUTPUT_LIMIT = 65_535;

/** The plan output as a check run's text: fenced, redacted, and cut with a note when longer than GitHub allows. */
export function checkRunPlanText(text: string): string {
  const clean = redact(text);
  const room = CHECK_OUTPUT_LIMIT - 600;
  const body =
    clean.length <= room
      ? clean
      : `${clean.slice(0, room)}\n… ${(clean.length - room).toLocaleString('en-US')} more characters of plan output: the changed resources are listed in the summary above`;
  const f = fenceFor(body);
  return `${f.open}\n${body}\n${f.close}`;
}

/** The summary of one project's check run: headline, cost, changed resources, policy. */
export function checkRunSummary(checks: ChecksResult, policyMarkdown: string): string {
  const plan = checks.plan;
  const lines: string[] = [];
  if (plan) {
    lines.push(
      `Project ${renderCode(checks.project.name)} · plan hash \`${plan.hash.slice(0, 12)}\``,
      '',
      renderPlanSummaryMarkdown(plan.summary, { maxResources: 200 }),
    );
    if (checks.cost) lines.push(costLine(checks.cost), '');
  } else {
    const failed = failedStage(checks);
    lines.push(renderText(failed?.message ?? 'the plan did not run', { max: 4_000 }), '');
  }
  lines.push(policyMarkdown);
  const out = lines.join('\n');
  return out.length <= CHECK_OUTPUT_LIMIT - 200 ? out : `${out.slice(0, CHECK_OUTPUT_LIMIT - 300)}\n\n[… cut]`;
}

export function checkRunTitle(checks: ChecksResult): string {
  if (!checks.plan) return `No plan: ${failedStage(checks)?.name ?? 'checks'} failed`;
  return `${planHeadline(checks.plan.summary)} Policy: ${checks.verdict.status}.`;
}
