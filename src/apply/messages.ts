// What the apply stage says on GitHub: the refusal naming every missing requirement, the re-plan notice, the lock
// holder, override answers, and the apply report (a row per project, terraform's output collapsed, redacted and split
// across comments without breaking a code fence, each under GitHub's 65,536-character limit).

import { fenceFor, splitMarkdown } from '../markdown/split-comment.js';
import type { LockRecord } from '../store/types.js';
import { redact } from '../util/redact.js';
import type { BlockedProject, LockWaiter } from './locks.js';
import type { Requirement } from './requirements.js';

/** Room for the headers and the <details> wrapper around each chunk of output. */
const OUTPUT_CHUNK_CHARS = 60_000;
/** At most this many output comments per apply; past it the output is cut and the run log keeps the rest. */
export const MAX_OUTPUT_COMMENTS = 5;
/** The check run summary limit is 65,535 characters. */
const CHECK_SUMMARY_CHARS = 60_000;

const ICON: Record<ProjectApplyStatus, string> = {
  applied: '✅ applied',
  failed: '❌ failed',
  skipped: '⏭️ not run',
  'already-applied': '✔️ applied before',
};

export type ProjectApplyStatus = 'applied' | 'failed' | 'skipped' | 'already-applied';

export interface ProjectApplyReport {
  project: string;
  workspace: string;
  planHash: string;
  status: ProjectApplyStatus;
  /** Resource counts of the plan that was applied. */
  counts?: { add: number; change: number; destroy: number; replace: number };
  durationMs?: number;
  /** Terraform's output (already redacted), or the error for a failed project. */
  output?: string;
  error?: string;
}

function projectLabel(name: string, workspace: string): string {
  return `\`${name}\`${workspace === 'default' ? '' : ` (${workspace})`}`;
}

export function renderRefusal(
  approver: string,
  missing: Requirement[],
  trigger: 'approval' | 'comment' | 'merge' = 'approval',
): string {
  const thanks = { approval: 'thanks for the review — ', comment: '', merge: '' }[trigger];
  const again = {
    approval: 'Approve again once they are met.',
    comment: 'Comment `/infra apply` again once they are met.',
    merge:
      'The pull request is merged but **not applied**; its locks stay until `/infra unlock`. Apply the change through a new pull request (it is planned and applied like this one).',
  }[trigger];
  return [
    `@${approver} ${thanks}**nothing was applied**, because ${missing.length === 1 ? 'this requirement is' : `these ${missing.length} requirements are`} not met:`,
    '',
    ...missing.map((m) => `- **${m.code}**: ${m.message}`),
    '',
    again,
  ].join('\n');
}

export function renderReplan(approver: string, reasons: Requirement[]): string {
  return [
    `@${approver} **nothing was applied**: the plan you reviewed is no longer the plan of this branch.`,
    '',
    ...reasons.map((m) => `- ${m.message}`),
    '',
    'infra-agent is planning again on the current head and base. Review the new plan when it is posted and approve again.',
  ].join('\n');
}

export function renderLockHeld(pr: number, blocked: BlockedProject[]): string {
  const rows = blocked.map(
    (b) =>
      `- ${projectLabel(b.project, b.workspace)} is locked by #${b.lock.holder.pr} since ${b.lock.acquiredAt.toISOString()}`,
  );
  return [
    `#${pr} cannot be applied yet: ${blocked.length === 1 ? 'a project it changes is' : 'projects it changes are'} locked by another pull request.`,
    '',
    ...rows,
    '',
    'A lock is released when its pull request is merged or closed, or with `/infra unlock` there. This pull request waits for it: it is planned again as soon as the lock frees (against the state the other pull request left), and an approval before then applies nothing.',
  ].join('\n');
}

export function renderUnlocked(actor: string, released: LockRecord[], waiters: LockWaiter[]): string {
  const lines = [
    `@${actor} released ${released.map((l) => projectLabel(l.project, l.workspace)).join(', ')}.`,
    'The saved plan of this pull request may now be outdated: comment `/infra plan` before approving it.',
  ];
  if (waiters.length > 0) lines.push('', `Now planning: ${waiters.map((w) => `#${w.pr}`).join(', ')}.`);
  return lines.join('\n');
}

export function renderOverrideRecorded(
  overrides: { ruleId: string; by: string; reason: string; planHash?: string; project: string; workspace: string }[],
): string {
  const first = overrides[0];
  if (!first) return '';
  return [
    `Override of **${first.ruleId}** recorded by @${first.by} for this plan only:`,
    '',
    '| Project | Plan |',
    '|---|---|',
    ...overrides.map((o) => `| ${projectLabel(o.project, o.workspace)} | \`${(o.planHash ?? '').slice(0, 12)}\` |`),
    '',
    `> ${first.reason}`,
    '',
    'A new plan (any push or re-plan) needs a new override.',
  ].join('\n');
}

export function renderOverrideRefused(login: string, message: string): string {
  return `@${login} the override was not recorded: ${message}.`;
}

export interface ApplyReportInput {
  approver: string;
  /** How the apply was asked for (default: an approval). */
  trigger?: 'approval' | 'comment' | 'merge';
  runId: string;
  headSha: string;
  projects: ProjectApplyReport[];
  ok: boolean;
  /** What happened after the apply: merged, merge refused, merge off… */
  after: string[];
  /** What to do next on failure. */
  nextSteps?: string[];
}

function reportTable(projects: ProjectApplyReport[]): string[] {
  return [
    '| Project | Plan | Result | + | ~ | − | ± |',
    '|---|---|---|---|---|---|---|',
    ...projects.map((p) => {
      const c = p.counts;
      return `| ${projectLabel(p.project, p.workspace)} | \`${p.planHash.slice(0, 12)}\` | ${ICON[p.status]} | ${c?.add ?? ''} | ${c?.change ?? ''} | ${c?.destroy ?? ''} | ${c?.replace ?? ''} |`;
    }),
  ];
}

/** The summary comment (always one comment) and the output comments (0..MAX_OUTPUT_COMMENTS). */
export function renderApplyReport(input: ApplyReportInput): { summary: string; outputs: string[] } {
  const by =
    input.trigger === 'merge'
      ? `merged by @${input.approver}`
      : input.trigger === 'comment'
        ? `\`/infra apply\` by @${input.approver}`
        : `approved by @${input.approver}`;
  const head = input.ok ? `### ✅ Applied the reviewed plan (${by})` : `### ❌ Apply failed (${by})`;
  const lines = [head, '', ...reportTable(input.projects), ''];
  for (const p of input.projects) {
    if (p.status === 'failed' && p.error) {
      const safe = redact(p.error);
      const fence = fenceFor(safe);
      lines.push(
        `**${projectLabel(p.project, p.workspace)} failed:**`,
        '',
        fence.open,
        safe.slice(0, 8_000),
        fence.close,
        '',
      );
    }
  }
  if (input.after.length > 0) lines.push(...input.after.map((a) => `- ${a}`), '');
  if (input.nextSteps && input.nextSteps.length > 0) {
    lines.push('**What to do next:**', '', ...input.nextSteps.map((s) => `- ${s}`), '');
  }
  lines.push(`<sub>run \`${input.runId}\` · head \`${input.headSha.slice(0, 7)}\`</sub>`);
  return { summary: lines.join('\n'), outputs: renderApplyOutputs(input.projects) };
}

/** Terraform's output per project, fenced and collapsed, split so no comment passes the limit. */
export function renderApplyOutputs(projects: ProjectApplyReport[]): string[] {
  const comments: string[] = [];
  for (const p of projects) {
    if (!p.output) continue;
    const text = redact(p.output).replace(/\r\n?/g, '\n').trimEnd();
    const fence = fenceFor(text);
    const chunks = splitMarkdown(`${fence.open}\n${text}\n${fence.close}`, OUTPUT_CHUNK_CHARS);
    chunks.forEach((chunk, i) => {
      const part = chunks.length > 1 ? ` (part ${i + 1} of ${chunks.length})` : '';
      comments.push(
        [
          '<details>',
          `<summary>terraform apply output — ${projectLabel(p.project, p.workspace)}${part}</summary>`,
          '',
          chunk,
          '',
          '</details>',
        ].join('\n'),
      );
    });
  }
  if (comments.length <= MAX_OUTPUT_COMMENTS) return comments;
  const kept = comments.slice(0, MAX_OUTPUT_COMMENTS);
  kept[MAX_OUTPUT_COMMENTS - 1] =
    `${kept[MAX_OUTPUT_COMMENTS - 1]}\n\n_Output cut after ${MAX_OUTPUT_COMMENTS} comments (${comments.length - MAX_OUTPUT_COMMENTS} more parts); the full log is in the run record._`;
  return kept;
}

/** The `infra-agent/apply` check run summary: the table and the outcome, bounded. */
export function renderApplyCheckSummary(input: ApplyReportInput): string {
  const text = renderApplyReport({ ...input, projects: input.projects.map((p) => ({ ...p, output: '' })) }).summary;
  return text.length > CHECK_SUMMARY_CHARS ? `${text.slice(0, CHECK_SUMMARY_CHARS)}\n…` : text;
}

export function renderInterruptedApply(pr: number, runId: string, stage: string): string {
  return [
    `⚠️ The apply of #${pr} (run \`${runId}\`) was interrupted at \`${stage}\` and is **not** re-run automatically: terraform may have changed infrastructure, and its state lock may still be held.`,
    '',
    '- Check the state (`terraform state list`, the backend lock) and finish or undo by hand.',
    '- Then `/infra unlock` and `/infra plan`, review the new plan, and approve again.',
    '',
    'The project lock stays with this pull request until then.',
  ].join('\n');
}
