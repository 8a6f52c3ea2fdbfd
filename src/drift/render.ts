// What a human reads about drift: the drift issue's body (first seen, last checked, what changed since the last
// check, the drifted resources, how to reconcile), the failure comment (Terraform's own message), and the summary
// `infra-agent drift` and `/infra drift` print. Resource addresses and attribute names come from Terraform's plan of
// repository code: untrusted, so they go through the same cell/code escaping as the PR's plan table; Terraform's
// messages go in a fence longer than any run of backticks they contain. No attribute value is ever rendered.
import { fenceFor } from '../markdown/split-comment.js';
import { plainLine, plainText, renderCode } from '../markdown/text.js';
import { planHeadline } from '../terraform/plan-summary.js';
import type { DriftCheckResult, DriftedResource } from './check.js';
import type { DriftReport } from './report.js';

/** Addresses and attribute names come from a plan of repository code: literal code spans, safe in a table cell. */
function code(text: string): string {
  return renderCode(text, { inTable: true });
}

function when(d: Date | string): string {
  return new Date(d).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

const OUTSIDE: Record<string, string> = {
  update: 'changed',
  delete: 'deleted',
  create: 'created',
  replace: 'replaced',
};

function resourceTable(resources: DriftedResource[], max = 100): string[] {
  if (resources.length === 0) return [];
  const lines = ['| Resource | Outside Terraform | The plan would | Attributes |', '|---|---|---|---|'];
  for (const r of resources.slice(0, max)) {
    const outside = r.outside ? (OUTSIDE[r.outside] ?? r.outside) : '—';
    const attrs = r.attributes.slice(0, 20).map(code).join(', ');
    lines.push(`| ${code(r.address)} | ${outside} | ${r.plan ?? '—'} | ${attrs} |`);
  }
  if (resources.length > max) lines.push(`| … ${resources.length - max} more | | | |`);
  return lines;
}

function fenced(text: string): string[] {
  // Inside a fence longer than any backtick run the text is literal; redacted and bounded first, and no `<!--` left
  // that the App's marker reader could take for one of its own markers.
  const body = plainText(text, 4000).replace(/<!--/g, '<!\u200B--');
  const f = fenceFor(body, 'text');
  return [f.open, body, f.close];
}

/** The short form: `infra-agent drift`, the `/infra drift` reply. */
export function renderDriftMarkdown(result: DriftCheckResult): string {
  const p = result.project;
  const title = `### Drift check: ${code(p.name)}${p.workspace === 'default' ? '' : ` (workspace ${code(p.workspace)})`}`;
  const lines = [title, ''];
  if (result.status === 'error') {
    lines.push('**The check failed.** Terraform said:', '', ...fenced(result.error ?? 'unknown error'));
    return `${lines.join('\n')}\n`;
  }
  if (result.status === 'clean') {
    lines.push('**No drift.** Reality matches the state and the code.');
    return `${lines.join('\n')}\n`;
  }
  const outside = result.resources.filter((r) => r.outside).length;
  lines.push(
    `**Drift in ${result.resources.length} resource(s)**: ${outside} changed outside Terraform. ` +
      `A plan now: ${result.plan ? planHeadline(result.plan) : 'none.'}`,
    '',
    ...resourceTable(result.resources),
  );
  return `${lines.join('\n')}\n`;
}

/** What differs between the last check's resources and this one's. */
export interface DriftDelta {
  appeared: string[];
  resolved: string[];
  changed: string[];
}

function key(r: DriftedResource): string {
  return JSON.stringify([r.outside ?? '', r.plan ?? '', [...r.attributes].sort()]);
}

export function driftDelta(before: DriftedResource[], after: DriftedResource[]): DriftDelta {
  const prev = new Map(before.map((r) => [r.address, r]));
  const next = new Map(after.map((r) => [r.address, r]));
  const appeared = after.filter((r) => !prev.has(r.address)).map((r) => r.address);
  const resolved = before.filter((r) => !next.has(r.address)).map((r) => r.address);
  const changed = after
    .filter((r) => {
      const p = prev.get(r.address);
      return p !== undefined && key(p) !== key(r);
    })
    .map((r) => r.address);
  return { appeared, resolved, changed };
}

export function driftIssueTitle(project: { name: string; workspace: string }): string {
  return `Drift: ${plainLine(project.name, 64)}${project.workspace === 'default' ? '' : ` (${plainLine(project.workspace, 64)})`}`;
}

/** The drift issue's body, rewritten in place after every check. */
export function renderDriftIssueBody(report: DriftReport, opts: { requiredPermission: string }): string {
  const p = report.project;
  const lines: string[] = [
    `infra-agent checks project ${code(p.name)} (${code(p.dir)}, workspace ${code(p.workspace)}) on the default branch for drift: ` +
      '`terraform plan -refresh-only` (what changed outside Terraform) and a normal plan (what the code and reality disagree on).',
    '',
    '| | |',
    '|---|---|',
    `| Status | ${report.status === 'drifted' ? `**drift** in ${report.resources.length} resource(s)` : report.status === 'error' ? '**the check fails**' : 'no drift'} |`,
    `| First seen | ${report.firstSeenAt ? when(report.firstSeenAt) : '—'} |`,
    `| Last checked | ${when(report.checkedAt)} (${report.trigger === 'schedule' ? 'scheduled' : 'on demand'}) |`,
    `| Checks since first seen | ${report.checks} |`,
    '',
  ];
  if (report.status === 'error') {
    lines.push(
      '### The last check failed',
      '',
      'Terraform said (this is also posted once as a comment; the next successful check updates this issue):',
      '',
      ...fenced(report.error ?? 'unknown error'),
      '',
    );
  }
  if (report.resources.length > 0) {
    const d = report.delta;
    lines.push(`### Since the last check${report.previousCheckAt ? ` (${when(report.previousCheckAt)})` : ''}`, '');
    if (!report.previousCheckAt) lines.push('First detection.');
    else if (!d || d.appeared.length + d.resolved.length + d.changed.length === 0)
      lines.push('Nothing changed since the last check.');
    else {
      if (d.appeared.length > 0) lines.push(`- newly drifted: ${d.appeared.map(code).join(', ')}`);
      if (d.changed.length > 0) lines.push(`- drifted differently: ${d.changed.map(code).join(', ')}`);
      if (d.resolved.length > 0) lines.push(`- no longer drifted: ${d.resolved.map(code).join(', ')}`);
    }
    lines.push('', '### Drifted resources', '', ...resourceTable(report.resources), '');
    if (report.planHeadline) lines.push(`A plan of the default branch now: **${plainLine(report.planHeadline)}**`, '');
    lines.push(
      '### Reconcile',
      '',
      '| Command | What it does |',
      '|---|---|',
      '| `/infra reconcile revert` | opens a pull request whose plan puts reality back to the code (no code change: the plan is the change) |',
      '| `/infra reconcile code` | the agent changes the code to accept reality, so the next plan is empty |',
      '| `/infra drift` | checks again now |',
      '',
      `Commands need \`${opts.requiredPermission}\` permission. Either pull request goes through the policy gate and is applied only when a reviewer approves it.`,
    );
  }
  return `${lines.join('\n').trimEnd()}\n`;
}

export function renderFailureComment(project: { name: string }, error: string): string {
  return [
    `The drift check of ${code(project.name)} failed. Terraform said:`,
    '',
    ...fenced(error),
    '',
    'Fix the cause (backend credentials, `terraform.env_passthrough`); the next check that succeeds updates this issue, and closes it when there is no drift. This message is not repeated while the error stays the same.',
  ].join('\n');
}
