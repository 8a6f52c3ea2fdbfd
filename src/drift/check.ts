// One drift check of one project: `terraform plan -refresh-only` (what changed outside Terraform) and a normal plan
// (what the code and reality disagree on), both read-only (`-lock=false`: a check never blocks an apply holding the
// state lock, and neither plan is ever applied), run side by side after one init, and summarised like a PR's plan
// (resources, attribute names; values never leave src/terraform/plan-summary.ts). Used by the App's drift job, the
// reconcile run and `infra-agent drift`. The pre-plan guard runs first when asked (the App's checks): the default
// branch is reviewed code, but a check still runs nothing the guard would refuse on a PR.
import { mkdtemp, realpath, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RepoConfig } from '../config/schema.js';
import type { PlanSummary, Project, ResourceAction } from '../core/types.js';
import { applyLevels } from '../policy/findings.js';
import { runGuard } from '../policy/scanners/pregate.js';
import { cleanCheckout } from '../sandbox/clean.js';
import { refusalMessage, sandboxStatus } from '../sandbox/status.js';
import { resolveProjectDir } from '../stages/checks.js';
import { formatDiagnostic } from '../terraform/diagnostics.js';
import { type Terraform, TerraformError, terraformForRepo } from '../terraform/engine.js';
import { summarizePlan } from '../terraform/plan-summary.js';
import { redact } from '../util/redact.js';

/** One resource that drifted, as the drift issue lists it. */
export interface DriftedResource {
  address: string;
  /** What changed outside Terraform (the refresh-only plan): 'update' (attributes changed) or 'delete' (gone). */
  outside?: ResourceAction | undefined;
  /** What a normal plan would do to put reality back to the code. */
  plan?: ResourceAction | undefined;
  /** Attribute names that differ (outside changes first, then the plan's), never values. */
  attributes: string[];
}

export type DriftStatus = 'clean' | 'drifted' | 'error';

export interface DriftCheckResult {
  project: Project;
  status: DriftStatus;
  resources: DriftedResource[];
  refreshOnly?: PlanSummary;
  plan?: PlanSummary;
  /** Terraform's own message when the check failed (redacted, bounded). */
  error?: string;
  /** The raw plan JSONs, for grounding a reconcile (they hold values: never rendered, never stored). */
  planJson?: { refreshOnly: unknown; plan: unknown };
  durationMs: number;
}

export interface DriftCheckOptions {
  repoRoot: string;
  project: Project;
  config: RepoConfig;
  signal?: AbortSignal;
  /** Default: the pinned terraform with the config's passthrough credentials. */
  terraform?: Terraform;
  /**
   * A checkout of repository code (default true): refuse without the sandbox, clean the checkout (committed
   * .terraform/, state, CLI config, outward symlinks) and run the pre-plan guard first, as a PR's checks do. False
   * for `infra-agent drift` on the user's own directory (nothing there is deleted).
   */
  untrusted?: boolean;
  /** Keep the plan JSONs in the result (a reconcile grounds its request on them). */
  keepPlanJson?: boolean;
}

const ERROR_CAP = 4000;

/** Terraform's own words for a failure: its diagnostics when it gave any, else its message. */
export function terraformMessage(err: unknown): string {
  if (err instanceof TerraformError && err.diagnostics.length > 0) {
    const errors = err.diagnostics.filter((d) => d.severity === 'error');
    const text = (errors.length > 0 ? errors : err.diagnostics)
      .map((d) => formatDiagnostic(d, { withDetail: true }))
      .join('\n');
    return redact(`${err.command} failed:\n${text}`).slice(0, ERROR_CAP);
  }
  const text = err instanceof Error ? err.message : String(err);
  return redact(text).slice(0, ERROR_CAP);
}

/** The refresh-only drift and the plan's changes, one row per address. */
export function driftedResources(refreshOnly: PlanSummary, plan: PlanSummary): DriftedResource[] {
  const byAddress = new Map<string, DriftedResource>();
  for (const d of refreshOnly.drift) {
    if (d.action === 'no-op' || d.action === 'read') continue;
    byAddress.set(d.address, { address: d.address, outside: d.action, attributes: [...d.changedAttributes] });
  }
  for (const r of plan.resources) {
    if (r.action === 'read' || r.mode === 'data') continue;
    const row = byAddress.get(r.address) ?? { address: r.address, attributes: [] };
    row.plan = r.action;
    for (const a of r.changedAttributes) if (!row.attributes.includes(a)) row.attributes.push(a);
    byAddress.set(r.address, row);
  }
  return [...byAddress.values()].sort((a, b) => a.address.localeCompare(b.address));
}

export async function runDriftCheck(opts: DriftCheckOptions): Promise<DriftCheckResult> {
  const started = Date.now();
  const { project, config, signal } = opts;
  const fail = (error: string): DriftCheckResult => ({
    project,
    status: 'error',
    resources: [],
    error,
    durationMs: Date.now() - started,
  });
  let root: string;
  let dir: string;
  try {
    root = await realpath(opts.repoRoot);
    if (opts.untrusted !== false) {
      const sandbox = await sandboxStatus();
      if (sandbox.mode === 'unavailable') return fail(refusalMessage(sandbox.reason));
      await cleanCheckout(root);
    }
    dir = await resolveProjectDir(root, project.dir);
  } catch (err) {
    return fail(terraformMessage(err));
  }
  if (opts.untrusted !== false) {
    const guard = await runGuard(dir, root, config.policy);
    const hard = applyLevels(guard.run.findings, config.policy.levels).filter((f) => f.level === 'hard');
    if (guard.run.status !== 'ok' || hard.length > 0) {
      const why =
        guard.run.status !== 'ok'
          ? (guard.run.reason ?? 'the guard did not run')
          : hard
              .map((f) => `${f.ruleId}${f.file ? ` at ${f.file}${f.line ? `:${f.line}` : ''}` : ''}: ${f.message}`)
              .join('; ');
      return fail(`The pre-plan guard refused to run terraform on the default branch: ${redact(why)}`);
    }
  }
  const ownTf = opts.terraform === undefined;
  const tf = opts.terraform ?? terraformForRepo(config, { checkout: root });
  const sig = signal ? { signal } : {};
  const scratch = await mkdtemp(join(tmpdir(), 'infra-agent-drift-'));
  try {
    await tf.init(dir, sig);
    if (project.workspace !== 'default') await tf.selectWorkspace(dir, project.workspace, sig);
    const refreshFile = join(scratch, 'refresh-only.tfplan');
    const planFile = join(scratch, 'plan.tfplan');
    // Both plans only read state (no lock taken): side by side, a check costs about one plan.
    const [refreshJson, planJson] = await Promise.all([
      tf
        .plan(dir, { out: refreshFile, refreshOnly: true, lock: false, ...sig })
        .then(() => tf.showPlanJson(dir, refreshFile, sig)),
      tf.plan(dir, { out: planFile, lock: false, ...sig }).then(() => tf.showPlanJson(dir, planFile, sig)),
    ]);
    const refreshOnly = summarizePlan(refreshJson);
    const plan = summarizePlan(planJson);
    const resources = driftedResources(refreshOnly, plan);
    const drifted = resources.length > 0 || !plan.empty;
    return {
      project,
      status: drifted ? 'drifted' : 'clean',
      resources,
      refreshOnly,
      plan,
      ...(opts.keepPlanJson ? { planJson: { refreshOnly: refreshJson, plan: planJson } } : {}),
      durationMs: Date.now() - started,
    };
  } catch (err) {
    if (signal?.aborted) throw signal.reason ?? err;
    return fail(terraformMessage(err));
  } finally {
    await rm(scratch, { recursive: true, force: true });
    if (ownTf) tf.dispose();
  }
}
