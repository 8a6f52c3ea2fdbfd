// The reconcile run's part of a generate run on a drift issue. `revert`: no agent, no code change — the branch
// carries one empty commit (so a pull request can exist) and its plan, a normal plan of the default branch's code,
// is the change that puts reality back. `code`: the agent is asked to change the code so it declares what exists,
// grounded in a fresh check of this checkout: the refresh-only plan (what changed outside Terraform) and the normal
// plan (where code and reality disagree), with the real values of non-sensitive attributes (redacted like all
// model input), so the next plan is empty.
import type { RepoConfig } from '../config/schema.js';
import type { Project } from '../core/types.js';
import { redact } from '../util/redact.js';
import { runDriftCheck } from './check.js';

export type ReconcileMode = 'code' | 'revert';

export function reconcileTitle(mode: ReconcileMode, project: string): string {
  return mode === 'revert'
    ? `Reconcile drift in ${project}: put reality back to the code`
    : `Reconcile drift in ${project}: make the code declare reality`;
}

export function revertCommitMessage(project: string, issue: number, requester: string, runId: string): string {
  return [
    reconcileTitle('revert', project),
    '',
    'No code change: the plan of this branch (a plan of the default branch) is the change that puts the',
    `drifted resources back to what the code declares. Drift reported in #${issue}; asked by @${requester}.`,
    `infra-agent run ${runId}`,
  ].join('\n');
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

interface RawChange {
  address: string;
  mode?: string;
  actions: string[];
  before: Record<string, unknown>;
  after: Record<string, unknown>;
  sensitive: Set<string>;
}

function changesOf(planJson: unknown, field: 'resource_drift' | 'resource_changes'): RawChange[] {
  if (!isRecord(planJson)) return [];
  const list = planJson[field];
  if (!Array.isArray(list)) return [];
  const out: RawChange[] = [];
  for (const rc of list) {
    if (!isRecord(rc) || typeof rc['address'] !== 'string' || !isRecord(rc['change'])) continue;
    const change = rc['change'];
    const actions = Array.isArray(change['actions']) ? change['actions'].map(String) : [];
    const sensitive = new Set<string>();
    for (const key of ['before_sensitive', 'after_sensitive'] as const) {
      const s = change[key];
      if (isRecord(s)) for (const [k, v] of Object.entries(s)) if (v !== false && v !== undefined) sensitive.add(k);
    }
    out.push({
      address: rc['address'],
      ...(typeof rc['mode'] === 'string' ? { mode: rc['mode'] } : {}),
      actions,
      before: isRecord(change['before']) ? change['before'] : {},
      after: isRecord(change['after']) ? change['after'] : {},
      sensitive,
    });
  }
  return out;
}

function show(value: unknown): string {
  const text = redact(JSON.stringify(value) ?? 'null');
  return text.length > 300 ? `${text.slice(0, 300)}…` : text;
}

function differing(c: RawChange): string[] {
  const keys = new Set([...Object.keys(c.before), ...Object.keys(c.after)]);
  return [...keys].filter((k) => JSON.stringify(c.before[k] ?? null) !== JSON.stringify(c.after[k] ?? null)).sort();
}

/** The agent's request for `reconcile code`, from the two plans of a fresh check. */
export function groundedRequest(project: Project, planJson: { refreshOnly: unknown; plan: unknown }): string {
  const lines = [
    `Reconcile drift in project \`${project.name}\` (\`${project.dir}\`) by changing the Terraform code so that it declares the infrastructure as it really is now.`,
    'Do not change anything else. When you are done, a plan of your change must show no changes. Run the checks to confirm it.',
    '',
    'What changed outside Terraform (from `terraform plan -refresh-only`):',
  ];
  const outside = changesOf(planJson.refreshOnly, 'resource_drift');
  if (outside.length === 0) lines.push('- nothing');
  for (const c of outside) {
    if (c.actions.includes('delete') && !c.actions.includes('create')) {
      lines.push(`- ${c.address}: deleted outside Terraform. Accept it: remove the resource from the code.`);
      continue;
    }
    const attrs = differing(c).map((k) =>
      c.sensitive.has(k)
        ? `${k} (sensitive: value not shown)`
        : `${k}: was ${show(c.before[k])}, is now ${show(c.after[k])}`,
    );
    lines.push(`- ${c.address}: changed outside Terraform: ${attrs.join('; ') || 'attributes changed'}`);
  }
  lines.push('', 'Where the code and the real infrastructure disagree (from a normal plan: "before" is reality):');
  const planned = changesOf(planJson.plan, 'resource_changes').filter(
    (c) => c.mode !== 'data' && !(c.actions.length === 1 && (c.actions[0] === 'no-op' || c.actions[0] === 'read')),
  );
  if (planned.length === 0) lines.push('- nothing');
  for (const c of planned) {
    const replace = c.actions.includes('delete') && c.actions.includes('create');
    if (c.actions.includes('create') && !replace) {
      lines.push(
        `- ${c.address}: declared in the code but it does not exist (deleted, or no longer tracked in state). Accept it: remove it from the code.`,
      );
      continue;
    }
    if (c.actions.includes('delete') && !replace) {
      lines.push(`- ${c.address}: exists but is not in the code. Accept it: declare it in the code.`);
      continue;
    }
    const attrs = differing(c).map((k) =>
      c.sensitive.has(k)
        ? `${k} (sensitive: value not shown)`
        : `${k}: real value ${show(c.before[k])}, the code says ${show(c.after[k])}`,
    );
    lines.push(`- ${c.address}: ${attrs.join('; ') || 'differs'}. Accept it: make the code say the real value.`);
  }
  return lines.join('\n');
}

/** A fresh check of the checkout for `reconcile code`: the request, or why there is nothing to do. */
export async function prepareCodeReconcile(opts: {
  repoRoot: string;
  project: Project;
  config: RepoConfig;
  signal?: AbortSignal;
}): Promise<{ ok: true; request: string } | { ok: false; message: string; outcome: 'failed' | 'succeeded' }> {
  const result = await runDriftCheck({ ...opts, keepPlanJson: true });
  if (result.status === 'error') {
    return {
      ok: false,
      outcome: 'failed',
      message: `The drift check before reconciling failed:\n\n${result.error ?? ''}`,
    };
  }
  if (result.status === 'clean' || !result.planJson) {
    return {
      ok: false,
      outcome: 'succeeded',
      message: 'There is no drift any more: nothing to reconcile. The next drift check closes the drift issue.',
    };
  }
  return { ok: true, request: groundedRequest(opts.project, result.planJson) };
}
