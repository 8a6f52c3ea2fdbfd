// `infra-agent check <dir> [--plan plan.json] [--format markdown|json|sarif] [--config file]`: the policy gate from
// the command line. Exit 0 pass, 1 blocked or needs override, 2 error (bad arguments, bad config, malformed plan).
// Without --plan it plans the directory itself when it can (after the pre-plan guard allows it, and again after
// `init` downloaded modules: the guard reads them before anything plans) and says when it cannot; the policies then
// run on the HCL. `--base <git ref>` judges the directory as the App judges a PR: the module sources and providers
// that ref already uses are allowed, and `policy.custom_policy_dir` Rego is read from that ref.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { CONFIG_PATH, parseRepoConfig } from '../config/load.js';
import { defaultRepoConfig, type PolicyConfig, PolicyConfigSchema, type RepoConfig } from '../config/schema.js';
import type { ProjectCost, ScannerRun } from '../core/types.js';
import { costPolicyRun, hasBudget, policyWithCostTags } from '../cost/policy.js';
import { estimateProjectCost } from '../cost/project-cost.js';
import { applyLevels } from '../policy/findings.js';
import { runGate, runPregate } from '../policy/gate.js';
import { type DefaultBranchSnapshot, snapshotDefaultBranch } from '../policy/guard/baseline.js';
import { SCANNERS } from '../policy/scanners/index.js';
import { renderCostMarkdown } from '../report/cost-markdown.js';
import { renderJson } from '../report/policy-json.js';
import { renderPolicyMarkdown } from '../report/policy-markdown.js';
import { renderSarif } from '../report/sarif.js';
import { run } from '../sandbox/exec.js';
import { sandboxStatus } from '../sandbox/status.js';
import { requireTool } from '../toolchain/tools.js';
import { redact } from '../util/redact.js';

const USAGE =
  'usage: infra-agent check <dir> [--plan plan.json] [--format markdown|json|sarif] [--config file] [--repo-root dir] [--base git-ref]';
const FORMATS = ['markdown', 'json', 'sarif'] as const;
type Format = (typeof FORMATS)[number];

export class UsageError extends Error {}

/** The smallest shape we accept as `terraform show -json` output. */
const PlanShape = z.looseObject({
  format_version: z.string(),
  resource_changes: z.array(z.looseObject({ address: z.string() })).optional(),
});

export async function readPlanJson(path: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read plan ${path}: ${err instanceof Error ? err.message : String(err)}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`malformed plan JSON in ${path}: ${err instanceof Error ? err.message : String(err)}`);
  }
  const shape = PlanShape.safeParse(value);
  if (!shape.success) {
    const issue = shape.error.issues[0];
    throw new UsageError(
      `${path} is not a plan from \`terraform show -json\`: ${issue ? `${issue.path.join('.') || '(root)'}: ${issue.message}` : 'unexpected shape'}`,
    );
  }
  return value;
}

/** The whole repo config of `check` (undefined when there is no file): the policy, plus cost budgets and tags. */
export async function loadCheckConfig(file: string | undefined, repoRoot: string): Promise<RepoConfig | undefined> {
  const path = file ?? join(repoRoot, CONFIG_PATH);
  if (!file && !existsSync(path)) return undefined;
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read config ${path}: ${err instanceof Error ? err.message : String(err)}`);
  }
  // The App's own parser: the same size and alias limits, the same key-path messages as a comment on GitHub.
  const parsed = parseRepoConfig(text);
  if (!parsed.ok) throw new UsageError(`invalid config ${path}:\n${parsed.problems.map((p) => `  ${p}`).join('\n')}`);
  return parsed.config;
}

/** The nearest directory up from `dir` holding `.git` (else `dir`). */
export function findRepoRoot(dir: string): string {
  let d = dir;
  for (;;) {
    if (existsSync(join(d, '.git'))) return d;
    const up = dirname(d);
    if (up === d) return dir;
    d = up;
  }
}

/**
 * Plans the directory with the project's terraform, or says why it could not. Between init and plan the guard reads
 * every module init downloaded; when one of them blocks, nothing plans.
 */
async function planDirectory(
  dir: string,
  afterInit: (dataDir: string) => Promise<string | undefined>,
): Promise<{ planJson: unknown; dataDir: string } | { why: string; dataDir?: string }> {
  let engine: typeof import('../terraform/engine.js');
  try {
    engine = await import('../terraform/engine.js');
  } catch {
    return { why: 'the terraform engine is not available in this build' };
  }
  const work = await mkdtemp(join(tmpdir(), 'infra-agent-check-'));
  try {
    const tf = new engine.Terraform();
    await tf.init(dir);
    const dataDir = tf.dataDir(dir);
    const blocked = await afterInit(dataDir);
    if (blocked) return { why: blocked, dataDir };
    const out = join(work, 'plan.tfplan');
    await tf.plan(dir, { out });
    return { planJson: await tf.showPlanJson(dir, out), dataDir };
  } catch (err) {
    return { why: err instanceof Error ? err.message.split('\n').slice(0, 3).join(' ') : String(err) };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

type Trusted = {
  baseline?: DefaultBranchSnapshot['baseline'];
  customPolicies?: DefaultBranchSnapshot['customPolicies'];
};

/**
 * Plans `dir` behind the pre-plan guard: before init on the code, and after init on every module it downloaded.
 * `guardBlocked` says the guard refused before init (nothing ran).
 */
export async function planBehindGuard(
  dir: string,
  repoRoot: string,
  config: PolicyConfig,
  trusted: Trusted = {},
): Promise<{ planJson: unknown; dataDir: string } | { why: string; dataDir?: string; guardBlocked?: true }> {
  const blocked = (r: ScannerRun) =>
    r.status !== 'ok' || applyLevels(r.findings, config.levels).some((f) => f.level === 'hard');
  const guard = await runPregate(dir, repoRoot, config, trusted);
  if (blocked(guard)) return { why: 'the pre-plan guard blocks this code', guardBlocked: true };
  return planDirectory(dir, async (d) => {
    const after = await runPregate(dir, repoRoot, config, { ...trusted, dataDir: d, requireInstalled: true });
    if (!blocked(after)) return undefined;
    return after.status === 'ok'
      ? 'the pre-plan guard blocks a module that init downloaded'
      : `the pre-plan guard failed on what init downloaded: ${after.reason ?? 'unknown error'}`;
  });
}

/** The Terraform files and custom policies of `ref` in the repository at `repoRoot`, in a private temp dir. */
async function snapshotBase(
  repoRoot: string,
  ref: string,
  config: PolicyConfig,
): Promise<{ snapshot: DefaultBranchSnapshot; remove: () => Promise<void> }> {
  if (!/^[A-Za-z0-9_./@^~-]+$/.test(ref) || ref.startsWith('-')) throw new UsageError(`--base: invalid git ref ${ref}`);
  const git = requireTool('git');
  const out = await mkdtemp(join(tmpdir(), 'infra-agent-base-'));
  const runGit = async (args: string[]) =>
    (await run(git, ['-C', repoRoot, '-c', 'core.hooksPath=/dev/null', ...args], { timeoutMs: 60_000 })).stdout;
  try {
    await runGit(['rev-parse', '--verify', `${ref}^{commit}`]).catch(() => {
      throw new UsageError(`--base: ${ref} is not a commit of the repository at ${repoRoot}`);
    });
    const snapshot = await snapshotDefaultBranch(runGit, ref, out, config.custom_policy_dir);
    return { snapshot, remove: () => rm(out, { recursive: true, force: true }) };
  } catch (err) {
    await rm(out, { recursive: true, force: true });
    throw err;
  }
}

export async function main(args: string[]): Promise<number> {
  try {
    const { values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      options: {
        plan: { type: 'string' },
        format: { type: 'string', default: 'markdown' },
        config: { type: 'string' },
        'repo-root': { type: 'string' },
        base: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
    if (values.help) {
      process.stdout.write(`${USAGE}\n`);
      return 0;
    }
    if (positionals.length !== 1 || !positionals[0]) throw new UsageError(USAGE);
    const format = values.format as string;
    if (!(FORMATS as readonly string[]).includes(format))
      throw new UsageError(`--format must be one of ${FORMATS.join(', ')}`);
    const dir = resolve(positionals[0]);
    if (!existsSync(dir)) throw new UsageError(`${positionals[0]}: no such directory\n${USAGE}`);
    if (!statSync(dir).isDirectory())
      throw new UsageError(
        `${positionals[0]} is a file: check takes the directory of a Terraform root module (the folder holding its .tf files)\n${USAGE}`,
      );
    const tfFiles = readdirSync(dir).filter((n) => n.endsWith('.tf') || n.endsWith('.tf.json'));
    if (tfFiles.length === 0)
      throw new UsageError(
        `no Terraform in ${positionals[0]}: looked for *.tf and *.tf.json files directly in that directory (Terraform does not read subdirectories); point check at a root module`,
      );
    const repoRoot = resolve(values['repo-root'] ?? findRepoRoot(dir));
    const repoConfig = await loadCheckConfig(values.config, repoRoot);
    const config = repoConfig ? policyWithCostTags(repoConfig.policy, repoConfig.cost) : PolicyConfigSchema.parse({});
    const costConfig = (repoConfig ?? defaultRepoConfig()).cost;
    const base = values.base ? await snapshotBase(repoRoot, values.base, config) : undefined;
    const trusted = base
      ? {
          baseline: base.snapshot.baseline,
          ...(base.snapshot.customPolicies ? { customPolicies: base.snapshot.customPolicies } : {}),
        }
      : {};

    let planJson: unknown;
    let planJsonPath: string | undefined;
    let dataDir: string | undefined;
    try {
      if (values.plan) {
        planJsonPath = resolve(values.plan);
        planJson = await readPlanJson(planJsonPath);
      } else {
        const planned = await planBehindGuard(dir, repoRoot, config, trusted);
        dataDir = planned.dataDir;
        if ('planJson' in planned) planJson = planned.planJson;
        else if (planned.guardBlocked)
          process.stderr.write(
            'infra-agent: not planned: the pre-plan guard blocks this code; policies run on the HCL\n',
          );
        else
          process.stderr.write(
            `infra-agent: not planned: ${positionals[0]}: ${redact(planned.why)}; policies run on the HCL\n`,
          );
      }

      // The plan's monthly cost; with a budget, the cost policy runs beside the scanners.
      let cost: ProjectCost | undefined;
      if (planJson !== undefined && costConfig.enabled) {
        cost = await estimateProjectCost({ planJson, projectDir: dir, config: costConfig, strict: true });
        for (const w of cost.warnings) process.stderr.write(`infra-agent: cost: ${redact(w)}\n`);
      }
      const priced = cost;
      const costScanners =
        priced && hasBudget(costConfig)
          ? [
              {
                name: 'cost' as const,
                run: async () => costPolicyRun([{ name: positionals[0] ?? dir, cost: priced }], costConfig),
              },
            ]
          : [];
      const verdict = await runGate({
        dir,
        repoRoot,
        config,
        ...trusted,
        ...(costScanners.length > 0 ? { scanners: [...SCANNERS, ...costScanners] } : {}),
        ...(dataDir ? { dataDir } : {}),
        ...(planJson === undefined ? {} : { planJson }),
        ...(planJsonPath ? { planJsonPath } : {}),
      });
      // The operator ran the tools without the sandbox: the report says so, whatever its format.
      if ((await sandboxStatus()).mode === 'unsandboxed') verdict.unsandboxed = true;
      const f = format as Format;
      const text =
        f === 'json'
          ? JSON.stringify(renderJson(verdict, cost ? { cost } : {}), null, 2)
          : f === 'sarif'
            ? JSON.stringify(renderSarif(verdict, cost ? { cost } : {}), null, 2)
            : `${renderPolicyMarkdown(verdict, { title: `Policy check: ${positionals[0]}` })}${cost ? `\n\n${renderCostMarkdown(cost)}` : ''}`;
      process.stdout.write(`${text}\n`);
      return verdict.status === 'pass' ? 0 : 1;
    } finally {
      await base?.remove();
    }
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    process.stderr.write(`infra-agent check: ${redact(message)}\n`);
    return 2;
  }
}
