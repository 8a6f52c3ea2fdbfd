// The checks stage of a run, in order:
//   1 fmt (write)  2 pre-plan guard  3 init  3b guard on downloaded modules  4 validate  5 plan + show
//   (static scanners ∥ 3–5)   6 plan scanners  7 verdict
// The pre-plan guard runs before anything that could execute repository code: when it blocks, init and plan never
// run. `init` downloads modules (it runs no provider code); the guard then reads every module it installed, and when
// one of them blocks, validate and plan never run. tfsec and checkov read the HCL while terraform inits and plans;
// OPA and checkov's plan check need the plan. Literal secrets the guard found are masked in everything rendered
// from here (plan text, stage messages, diagnostics).
// Used by the agent's run_checks tool, the App's plan/revise runs and `infra-agent check`.
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, realpath, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { isAbsolute, join, relative, resolve } from 'node:path';
import type { RepoConfig } from '../config/schema.js';
import type {
  ChecksResult,
  Diagnostic,
  Finding,
  Override,
  Project,
  ProjectCost,
  SavedPlan,
  ScannerRun,
  StageName,
  StageResult,
} from '../core/types.js';
import { costPolicyRun, hasBudget, policyWithCostTags } from '../cost/policy.js';
import { estimateProjectCost } from '../cost/project-cost.js';
import { applyLevels } from '../policy/findings.js';
import type { DefaultBranchSnapshot } from '../policy/guard/baseline.js';
import { checkovScanner } from '../policy/scanners/checkov.js';
import { opaScanner } from '../policy/scanners/opa.js';
import { type GuardOptions, runGuard } from '../policy/scanners/pregate.js';
import { cachedScan } from '../policy/scanners/result-cache.js';
import { tfsecScanner } from '../policy/scanners/tfsec.js';
import type { ScanInput, Scanner } from '../policy/scanners/types.js';
import { decideVerdict } from '../policy/verdict.js';
import { hazardFindings } from '../policy/workspace-hazards.js';
import { cleanCheckout } from '../sandbox/clean.js';
import { refusalMessage, sandboxStatus } from '../sandbox/status.js';
import { type Terraform, TerraformError, terraformForRepo } from '../terraform/engine.js';
import { summarizePlan } from '../terraform/plan-summary.js';
import { Redactor, redact } from '../util/redact.js';

export interface RunChecksOptions {
  repoRoot: string;
  project: Project;
  config: RepoConfig;
  signal?: AbortSignal;
  /** Where the saved plan goes; default a fresh private temp dir (the caller owns it afterwards). */
  planDir?: string;
  /** Overrides already given for this PR; only those for the new plan's hash count. */
  overrides?: Override[];
  /** Defaults to the pinned terraform with the config's passthrough env. */
  terraform?: Terraform;
  /** Scanners to use (tests inject broken ones); default tfsec, checkov, opa. */
  scanners?: { static: Scanner[]; plan: Scanner[] };
  /** Rewrite files `terraform fmt` would change (default true: the agent's output is committed formatted). */
  fmtWrite?: boolean;
  /**
   * What the DEFAULT branch says (the App always passes it): the module sources and providers it already uses, and
   * its `policy.custom_policy_dir` Rego. Without it (the `check` CLI) only the config allows sources and custom
   * policies are read from the checkout.
   */
  defaultBranch?: Pick<DefaultBranchSnapshot, 'baseline' | 'customPolicies'>;
  /**
   * Runs the steps that touch the project's state (init, the module guard, validate, plan + show) exclusively, e.g.
   * under the project's slot; fmt, the guard and the scanners run outside it. Default: no exclusion.
   */
  serialize?: <T>(fn: () => Promise<T>) => Promise<T>;
}

const MESSAGE_CAP = 2000;

/** The project's dir inside the checkout, refusing anything that resolves outside it. */
export async function resolveProjectDir(repoRoot: string, projectDir: string): Promise<string> {
  const root = await realpath(repoRoot);
  if (isAbsolute(projectDir)) throw new Error(`project dir must be relative to the repository: ${projectDir}`);
  const dir = await realpath(resolve(root, projectDir)).catch(() => {
    throw new Error(`project dir ${projectDir} does not exist in the repository`);
  });
  const rel = relative(root, dir);
  if (rel.startsWith('..') || isAbsolute(rel))
    throw new Error(`project dir ${projectDir} resolves outside the repository`);
  return dir;
}

function messageOf(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return redact(text).slice(0, MESSAGE_CAP);
}

function skippedRun(name: Scanner['name'], reason: string): ScannerRun {
  return { name, status: 'not-run', durationMs: 0, reason, findings: [] };
}

async function runScanner(scanner: Scanner, input: ScanInput): Promise<ScannerRun> {
  const started = Date.now();
  try {
    return await scanner.run(input);
  } catch (err) {
    return {
      name: scanner.name,
      status: 'failed',
      durationMs: Date.now() - started,
      reason: messageOf(err),
      findings: [],
    };
  }
}

/** Merge the dir-phase and plan-phase runs of the same scanner into one row of the report. */
function mergeRuns(runs: ScannerRun[]): ScannerRun[] {
  const byName = new Map<string, ScannerRun>();
  for (const r of runs) {
    const prev = byName.get(r.name);
    if (!prev) {
      byName.set(r.name, { ...r, findings: [...r.findings] });
      continue;
    }
    const worst =
      prev.status === 'failed' || r.status === 'failed'
        ? 'failed'
        : prev.status === 'ok' && r.status === 'ok'
          ? 'ok'
          : 'not-run';
    const merged: ScannerRun = {
      name: r.name,
      status: worst,
      durationMs: prev.durationMs + r.durationMs,
      findings: [...prev.findings, ...r.findings],
    };
    const version = prev.version ?? r.version;
    if (version) merged.version = version;
    const reason = [prev.reason, r.reason].filter(Boolean).join('; ');
    if (reason) merged.reason = reason;
    byName.set(r.name, merged);
  }
  return [...byName.values()];
}

export async function runChecks(opts: RunChecksOptions): Promise<ChecksResult> {
  const started = Date.now();
  const { repoRoot, project, config } = opts;

  const root = await realpath(repoRoot);
  // No sandbox, no untrusted code (the operator's switch is the one exception, and every report then says so).
  const sandbox = await sandboxStatus();
  if (sandbox.mode === 'unavailable') throw new Error(refusalMessage(sandbox.reason));
  // 0 a clean workspace: committed .terraform/, state, CLI config and outward symlinks go before any tool runs.
  const hazards = await cleanCheckout(root);
  const dir = await resolveProjectDir(root, project.dir);
  const ownTf = opts.terraform === undefined;
  const tf = opts.terraform ?? terraformForRepo(config, { checkout: root });
  try {
    return await checksIn({
      opts,
      root,
      dir,
      tf,
      hazards: hazardFindings(hazards),
      started,
      unsandboxed: sandbox.mode === 'unsandboxed',
    });
  } finally {
    if (ownTf) tf.dispose();
  }
}

async function checksIn(ctx: {
  opts: RunChecksOptions;
  root: string;
  dir: string;
  tf: Terraform;
  hazards: Finding[];
  started: number;
  unsandboxed: boolean;
}): Promise<ChecksResult> {
  const { opts, root, dir, tf, started } = ctx;
  const { project, config, signal } = opts;
  const stages: StageResult[] = [];
  const diagnostics: Diagnostic[] = [];
  let formatted: string[] = [];
  let plan: SavedPlan | undefined;
  const scanners = opts.scanners ?? { static: [tfsecScanner, checkovScanner], plan: [opaScanner, checkovScanner] };

  /** Times a stage; a thrown error marks it failed (with diagnostics kept) and returns undefined. */
  async function stage<T>(name: StageName, fn: () => Promise<T>): Promise<T | undefined> {
    const t0 = Date.now();
    try {
      const value = await fn();
      stages.push({ name, status: 'ok', durationMs: Date.now() - t0 });
      return value;
    } catch (err) {
      if (err instanceof TerraformError) diagnostics.push(...err.diagnostics);
      stages.push({ name, status: 'failed', durationMs: Date.now() - t0, message: messageOf(err) });
      return undefined;
    }
  }
  const skip = (name: StageName, message: string) => stages.push({ name, status: 'skipped', durationMs: 0, message });

  // 1 fmt — a failure here is a syntax error terraform will report again in validate; it does not stop the run.
  const fmt = await stage('fmt', () => tf.fmt(dir, { write: opts.fmtWrite ?? true, ...(signal ? { signal } : {}) }));
  if (fmt) formatted = fmt.files;

  // 2 pre-plan guard: on the HCL, before any terraform command that could run repository code.
  const guardOpts: GuardOptions = opts.defaultBranch ? { baseline: opts.defaultBranch.baseline } : {};
  const t0 = Date.now();
  const guard = await runGuard(dir, root, config.policy, guardOpts);
  let pregate = guard.run;
  pregate.findings.push(...ctx.hazards);
  // The literal secrets the guard found are masked wherever this run's output is rendered.
  const masker = new Redactor();
  for (const secret of guard.secrets) masker.add(secret);
  const mask = (text: string) => masker.redact(text);
  const guardBlocked = blocks(pregate, config.policy.levels);
  stages.push({
    name: 'pregate',
    status: guardBlocked ? 'failed' : 'ok',
    durationMs: Date.now() - t0,
    ...(guardBlocked ? { message: blockMessage(pregate, config.policy.levels, 'the pre-plan guard blocked') } : {}),
  });

  const scanInput: ScanInput = {
    dir,
    repoRoot: root,
    // Cost-allocation tags (cost.require_tags) are checked by the tag rule with the other required tags.
    config: policyWithCostTags(config.policy, config.cost),
    ...(signal ? { signal } : {}),
    ...(opts.defaultBranch?.baseline ? { baseline: opts.defaultBranch.baseline } : {}),
    ...(opts.defaultBranch?.customPolicies ? { customPolicies: opts.defaultBranch.customPolicies } : {}),
  };
  let scannerRuns: ScannerRun[];
  let cost: ProjectCost | undefined;

  if (guardBlocked) {
    const why = 'skipped: the pre-plan guard blocked before init';
    for (const name of ['init', 'modules', 'validate', 'plan', 'scan'] as const) skip(name, why);
    const names = new Set([...scanners.static, ...scanners.plan].map((s) => s.name));
    scannerRuns = [pregate, ...[...names].map((n) => skippedRun(n, why))];
  } else {
    // 3–5 terraform, with the static scanners alongside.
    // A re-check of unchanged files (and plan) reuses scanner results (result-cache.ts: keyed by all they read).
    const staticScan = Promise.all(
      scanners.static.map((s) => cachedScan(s, scanInput, () => runScanner(s, scanInput)).then((r) => r.run)),
    );
    const planDir = opts.planDir ?? (await mkdtemp(join(tmpdir(), 'infra-agent-plan-')));
    const planFile = join(planDir, 'tfplan');
    let planJson: unknown;
    const sig = signal ? { signal } : {};

    // 3–5 touch the project's state (init, plan): the one part that holds the project's slot when the caller gives
    // one, so another run's scanners and fmt/guard overlap it; the scanners here run outside it.
    const exclusive = opts.serialize ?? (<T>(fn: () => Promise<T>) => fn());
    await exclusive(async () => {
      const inited = await stage('init', async () => {
        await tf.init(dir, sig);
        if (project.workspace !== 'default') await tf.selectWorkspace(dir, project.workspace, sig);
        return true;
      });
      // 3b the guard again, now on every module init downloaded (and the repo's, which it re-reads cheaply).
      let modulesOk = false;
      if (inited) {
        const t3 = Date.now();
        const after = await runGuard(dir, root, config.policy, {
          ...guardOpts,
          dataDir: tf.dataDir(dir),
          requireInstalled: true,
        });
        for (const secret of after.secrets) masker.add(secret);
        pregate = {
          ...after.run,
          findings: [...after.run.findings, ...ctx.hazards],
          durationMs: pregate.durationMs + after.run.durationMs,
        };
        modulesOk = !blocks(after.run, config.policy.levels);
        stages.push({
          name: 'modules',
          status: modulesOk ? 'ok' : 'failed',
          durationMs: Date.now() - t3,
          ...(modulesOk
            ? {}
            : {
                message: blockMessage(after.run, config.policy.levels, 'the guard blocked the modules init downloaded'),
              }),
        });
      } else {
        skip('modules', 'skipped: init failed');
      }
      let valid: true | undefined;
      if (inited && modulesOk) {
        valid = await stage('validate', async () => {
          const v = await tf.validate(dir, sig);
          diagnostics.push(...v.diagnostics);
          if (!v.valid)
            throw new Error(
              v.diagnostics
                .filter((d) => d.severity === 'error')
                .map(formatDiagnostic)
                .join('\n'),
            );
          return true as const;
        });
      } else {
        skip('validate', inited ? 'skipped: the guard blocked a downloaded module' : 'skipped: init failed');
      }
      if (valid) {
        plan = await stage('plan', async () => {
          const p = await tf.plan(dir, { out: planFile, ...sig });
          diagnostics.push(...p.diagnostics.filter((d) => d.severity === 'warning'));
          const [json, text, bytes] = await Promise.all([
            tf.showPlanJson(dir, planFile, sig),
            tf.showPlanText(dir, planFile, sig),
            readFile(planFile),
          ]);
          planJson = json;
          return {
            file: planFile,
            hash: createHash('sha256').update(bytes).digest('hex'),
            summary: summarizePlan(json),
            text: mask(redact(text)),
          } satisfies SavedPlan;
        });
      } else {
        skip(
          'plan',
          !inited
            ? 'skipped: init failed'
            : !modulesOk
              ? 'skipped: the guard blocked a downloaded module'
              : 'skipped: validate failed',
        );
      }
    });

    // 6 plan scanners: on the plan JSON when there is one (OPA falls back to the HCL without it).
    const t6 = Date.now();
    let planJsonPath: string | undefined;
    if (planJson !== undefined) {
      // checkov reads a file; the plan JSON holds secrets in clear, so it lives 0600 beside the plan and goes away.
      planJsonPath = join(planDir, 'plan.json');
      await writeFile(planJsonPath, JSON.stringify(planJson), { mode: 0o600 });
    }
    const planInput: ScanInput = {
      ...scanInput,
      ...(planJson !== undefined ? { planJson } : {}),
      ...(planJsonPath ? { planJsonPath, planOnly: true } : {}),
    };
    const planScanners = scanners.plan.filter((s) => planJson !== undefined || !scanners.static.includes(s));
    // The plan's monthly cost, beside the plan scanners; a budget makes it a policy run of its own.
    const tc = Date.now();
    const costing =
      planJson !== undefined && config.cost.enabled
        ? estimateProjectCost({
            planJson,
            projectDir: dir,
            projectPath: project.dir,
            config: config.cost,
            ...sig,
          }).then(
            (c): ProjectCost | string => c,
            (err: unknown) => `the cost estimate failed: ${messageOf(err)}`,
          )
        : Promise.resolve(undefined);
    const [staticRuns, planRuns, costed] = await Promise.all([
      staticScan,
      Promise.all(planScanners.map((s) => cachedScan(s, planInput, () => runScanner(s, planInput)).then((r) => r.run))),
      costing,
    ]);
    if (planJsonPath) await rm(planJsonPath, { force: true });
    const costRuns: ScannerRun[] = [];
    if (typeof costed === 'object') cost = { ...costed, project: project.name };
    if (plan && config.cost.enabled && hasBudget(config.cost)) {
      costRuns.push(
        cost
          ? costPolicyRun([{ name: project.name, cost }], config.cost, Date.now() - tc)
          : {
              name: 'cost',
              status: 'failed',
              durationMs: Date.now() - tc,
              reason: typeof costed === 'string' ? costed : 'no cost estimate',
              findings: [],
            },
      );
    }
    scannerRuns = mergeRuns([pregate, ...staticRuns, ...planRuns, ...costRuns]);
    const broken = scannerRuns.filter((r) => r.status !== 'ok');
    stages.push({
      name: 'scan',
      status: broken.length > 0 ? 'failed' : 'ok',
      durationMs: Date.now() - t6,
      ...(broken.length > 0
        ? { message: broken.map((r) => `${r.name} ${r.status}: ${r.reason ?? ''}`.trim()).join('; ') }
        : {}),
    });
  }

  // 7 verdict
  const verdict = decideVerdict({
    scanners: scannerRuns,
    overrides: opts.overrides ?? [],
    config: config.policy,
    ...(plan ? { planHash: plan.hash } : {}),
  });
  if (ctx.unsandboxed) verdict.unsandboxed = true;
  stages.push({
    name: 'verdict',
    status: verdict.status === 'pass' ? 'ok' : 'failed',
    durationMs: 0,
    message: verdict.status,
  });

  const terraformOk = stages.every(
    (s) => s.name === 'fmt' || s.name === 'scan' || s.name === 'verdict' || s.status === 'ok',
  );
  for (const s of stages) if (s.message) s.message = mask(s.message);
  const masked = diagnostics.map((d) => ({
    ...d,
    summary: mask(d.summary),
    ...(d.detail !== undefined ? { detail: mask(d.detail) } : {}),
  }));
  return {
    project,
    ok: terraformOk && verdict.status === 'pass' && plan !== undefined,
    stages,
    formatted,
    diagnostics: masked,
    ...(plan ? { plan } : {}),
    ...(cost ? { cost } : {}),
    verdict,
    durationMs: Date.now() - started,
  };
}

/** A guard run stops the checks when it failed or found something hard (at the repo's configured levels). */
function blocks(run: ScannerRun, levels: RepoConfig['policy']['levels']): boolean {
  return run.status !== 'ok' || applyLevels(run.findings, levels).some((f) => f.level === 'hard');
}

/** "the pre-plan guard blocked: PRE-EXEC-001 at main.tf:3, …" — where, so the author can go and fix it. */
function blockMessage(run: ScannerRun, levels: RepoConfig['policy']['levels'], what: string): string {
  if (run.status !== 'ok' && run.reason) return run.reason;
  const hard = applyLevels(run.findings, levels).filter((f) => f.level === 'hard');
  const shown = hard
    .slice(0, 10)
    .map((f) => `${f.ruleId}${f.file ? ` at ${f.file}${f.line ? `:${f.line}` : ''}` : ''}`)
    .join(', ');
  return `${what}: ${shown}${hard.length > 10 ? ` and ${hard.length - 10} more` : ''}`;
}

function formatDiagnostic(d: Diagnostic): string {
  const where = d.file ? `${d.file}${d.line ? `:${d.line}` : ''}: ` : '';
  return `${where}${d.summary}${d.detail ? ` — ${d.detail}` : ''}`;
}
