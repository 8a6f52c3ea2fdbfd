// The repo config, `.github/infra-agent.yml`: this zod schema is the single source of truth. The JSON Schema in
// schema/ is generated from it (`npm run schema`) and a test keeps the two equal. Keys are snake_case as users write
// them in YAML; every field has a safe default so a repo with no file works.
import { CronExpressionParser } from 'cron-parser';
import { z } from 'zod';
import { PERMISSIONS } from '../core/github.js';

export const LEVELS = ['hard', 'soft', 'advisory', 'off'] as const;
const FINDING_LEVELS = ['hard', 'soft', 'advisory'] as const;
export const DEFAULT_SEVERITY_LEVELS = {
  critical: 'hard',
  high: 'soft',
  medium: 'advisory',
  low: 'advisory',
  info: 'advisory',
} as const;

const relativeDir = z
  .string()
  .min(1)
  .refine((p) => !p.startsWith('/') && !p.split('/').includes('..'), {
    message: 'must be a path inside the repository (no leading "/" and no "..")',
  });

/** A cron expression (5 fields, or 6 with seconds first; `@hourly`, `@daily`…) evaluated in UTC, or `off`. */
const cronSchedule = z
  .string()
  .min(1)
  .max(120)
  .refine(
    (expr) => {
      if (expr === 'off') return true;
      // cron-parser fills missing fields with `*`: "* * *" would mean every second. Five or six fields, or an alias.
      const fields = expr.trim().split(/\s+/).length;
      if (!expr.startsWith('@') && fields !== 5 && fields !== 6) return false;
      try {
        CronExpressionParser.parse(expr, { tz: 'UTC' });
        return true;
      } catch {
        return false;
      }
    },
    { message: 'must be a cron expression (e.g. "0 */6 * * *", evaluated in UTC) or "off"' },
  );

export const AUTO_RECONCILE = ['code', 'revert', 'off'] as const;

/** Per project: overrides the repo-wide `drift` keys it names. */
export const ProjectDriftConfigSchema = z
  .object({
    schedule: cronSchedule.optional(),
    auto_reconcile: z.enum(AUTO_RECONCILE).optional(),
  })
  .strict();

export const DriftConfigSchema = z
  .object({
    /** When drift checks run (cron, UTC); `off` (the default) runs them only on `/infra drift`. */
    schedule: cronSchedule.default('off'),
    /** Open the reconciling PR on first detection without waiting for `/infra reconcile` (it is never applied unapproved). */
    auto_reconcile: z.enum(AUTO_RECONCILE).default('off'),
  })
  .strict();

export const ProjectConfigSchema = z
  .object({
    name: z
      .string()
      .regex(/^[A-Za-z0-9_.-]{1,64}$/, 'letters, digits, "_", "." and "-" only, at most 64')
      .optional(),
    dir: relativeDir,
    workspace: z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,64}$/)
      .default('default'),
    depends_on: z.array(z.string()).default([]),
    /**
     * More files that make this project "affected" by a pull request (globs relative to the project dir, `..`
     * allowed to reach shared files, `!` to exclude). Its own Terraform files and the local modules it calls always
     * count.
     */
    when_modified: z.array(z.string().min(1).max(300)).max(100).default([]),
    drift: ProjectDriftConfigSchema.optional(),
  })
  .strict();

/** Planning pull requests a person wrote: which ones, how many projects at once, what a fork gets. */
export const AutoplanConfigSchema = z
  .object({
    /** Plan every PR that touches Terraform (false: only on `/infra plan`). */
    enabled: z.boolean().default(true),
    /** Projects planned at once within one PR (the rest wait their turn; progress is shown). */
    max_parallel: z.number().int().min(1).max(16).default(4),
    /** The PR author's minimum permission for a plan without a maintainer's `/infra plan`. */
    required_permission: z.enum(PERMISSIONS).default('write'),
    /** Give a fork's plan the `terraform.env_passthrough` credentials (its code reads them). Default: never. */
    fork_env_passthrough: z.boolean().default(false),
  })
  .strict();

export const AgentConfigSchema = z
  .object({
    model: z.string().min(1).optional(),
    max_tokens: z.number().int().min(256).max(64_000).default(8192),
    max_turns: z.number().int().min(1).max(200).default(30),
    max_total_tokens: z.number().int().min(1000).default(2_000_000),
    max_cost_usd: z.number().positive().max(1000).default(5),
    max_duration_s: z.number().int().min(10).max(7200).default(900),
    /** Globs (relative to the repo root) the agent may write. `.github/**`, backend and state files never. */
    writable_paths: z.array(z.string().min(1)).default(['**/*.tf', '**/*.tfvars', '**/*.md']),
  })
  .strict();

export const PolicyConfigSchema = z
  .object({
    /** Per-rule level: hard | soft | advisory | off. Unlisted rules keep their default level. */
    levels: z.record(z.string().regex(/^[A-Za-z0-9_.-]+$/), z.enum(LEVELS)).default({}),
    /**
     * The level of a scanner finding that no rule of ours maps (tfsec, Trivy, checkov via its severity table), by the
     * scanner's own severity. Unlisted severities keep their default (critical hard, high soft, the rest advisory).
     */
    severity_levels: z
      .object({
        critical: z.enum(FINDING_LEVELS).default(DEFAULT_SEVERITY_LEVELS.critical),
        high: z.enum(FINDING_LEVELS).default(DEFAULT_SEVERITY_LEVELS.high),
        medium: z.enum(FINDING_LEVELS).default(DEFAULT_SEVERITY_LEVELS.medium),
        low: z.enum(FINDING_LEVELS).default(DEFAULT_SEVERITY_LEVELS.low),
        info: z.enum(FINDING_LEVELS).default(DEFAULT_SEVERITY_LEVELS.info),
      })
      .strict()
      .default(DEFAULT_SEVERITY_LEVELS),
    allowed_regions: z.array(z.string()).default([]),
    required_tags: z.array(z.string()).default([]),
    /**
     * Module source prefixes allowed besides local paths (./, ../) and the sources the default branch already uses.
     * Registry modules must also pin an exact version; anything else is a soft PRE-SOURCE-001 finding.
     */
    allowed_module_sources: z.array(z.string().min(1)).default([]),
    /**
     * Provider sources allowed besides the ones the default branch already uses: `namespace/type`, or `namespace/*`
     * for a whole namespace. Others are a soft PRE-SOURCE-001 finding.
     */
    allowed_providers: z.array(z.string().min(1)).default(['hashicorp/*']),
    /** A folder of the repo's own Rego policies (package infra_agent.custom.*), evaluated beside the defaults. */
    custom_policy_dir: relativeDir.optional(),
    /** Scanners that must run for a verdict to pass. A missing one makes the verdict not pass unless listed in allow_missing. */
    allow_missing_scanners: z.array(z.enum(['tfsec', 'trivy', 'checkov', 'opa'])).default([]),
    /** Who may `/infra override` a soft finding (GitHub logins or org/team slugs). */
    policy_owners: z.array(z.string()).default([]),
  })
  .strict();

export const ApplyConfigSchema = z
  .object({
    enabled: z.boolean().default(true),
    /**
     * When the reviewed plan is applied: on an approving review (`approval`), when the approved pull request is merged
     * (`merge`: the plan of the merge result, reported on the merged PR), or on `/infra apply` (`comment`). The same
     * requirements hold in every mode (authorised approvers who did not ask for the change, the plan bound to the head
     * and base, no hard finding, soft ones overridden, the locks held).
     */
    on: z.enum(['approval', 'merge', 'comment']).default('approval'),
    approvers: z
      .object({ users: z.array(z.string()).default([]), teams: z.array(z.string()).default([]) })
      .strict()
      .default({ users: [], teams: [] }),
    required_approvals: z.number().int().min(1).max(10).default(1),
    allow_self_approval: z.boolean().default(false),
    merge_method: z.enum(['merge', 'squash', 'rebase', 'off']).default('squash'),
    require_mergeable: z.boolean().default(true),
  })
  .strict();

const usd = z.number().nonnegative().max(10_000_000);

export const CostConfigSchema = z
  .object({
    /** Estimate the monthly cost of every plan (PR table, check run, JSON/SARIF, the agent's feedback). */
    enabled: z.boolean().default(true),
    /** `auto`: Infracost when the App has INFRACOST_API_KEY and the binary, else the built-in table. */
    engine: z.enum(['auto', 'built-in', 'infracost']).default('auto'),
    /**
     * A soft finding (COST-BUDGET-001) when the plan raises the monthly cost by more than this: one number for every
     * project and the PR as a whole, or `{ per_project, per_pr }`.
     */
    max_monthly_increase_usd: z
      .union([usd, z.object({ per_project: usd.optional(), per_pr: usd.optional() }).strict()])
      .optional(),
    /** Cost-allocation tags every taggable resource must carry: added to policy.required_tags (rule OPS-TAG-001). */
    require_tags: z.array(z.string().min(1)).default([]),
    /** Infracost usage file (version 0.1) for usage-priced resources, relative to the project directory. */
    usage_file: relativeDir.default('infracost-usage.yml'),
    /** A flat monthly price per resource of a type the built-in table lacks (or to use your own rate). */
    custom_prices: z
      .record(
        z.string().regex(/^[a-z][a-z0-9_]*$/, 'a Terraform resource type'),
        z.object({ monthly_usd: usd, note: z.string().max(100).optional() }).strict(),
      )
      .default({}),
  })
  .strict();

export const RepoConfigSchema = z
  .object({
    version: z.literal(1).default(1),
    projects: z.array(ProjectConfigSchema).default([]),
    trigger: z
      .object({
        label: z.string().min(1).default('infra-request'),
        required_permission: z.enum(PERMISSIONS).default('write'),
      })
      .strict()
      .default({ label: 'infra-request', required_permission: 'write' }),
    agent: AgentConfigSchema.default(AgentConfigSchema.parse({})),
    policy: PolicyConfigSchema.default(PolicyConfigSchema.parse({})),
    apply: ApplyConfigSchema.default(ApplyConfigSchema.parse({})),
    cost: CostConfigSchema.default(CostConfigSchema.parse({})),
    terraform: z
      .object({
        /** Environment variables passed through to terraform (provider credentials), by name. */
        env_passthrough: z.array(z.string().regex(/^[A-Z_][A-Z0-9_]*$/)).default([]),
        plan_timeout_s: z.number().int().min(10).max(7200).default(900),
        /**
         * Hosts `terraform init`/`plan`/`apply` may reach from the sandbox (through the App's filtering proxy):
         * `host`, `host:port` or `*.domain`. Default: the public registries and the big clouds' API domains.
         */
        allowed_hosts: z
          .array(z.string().regex(/^(?:\*\.)?[A-Za-z0-9.-]+(?::\d{1,5})?$/))
          .max(200)
          .optional(),
      })
      .strict()
      .default({ env_passthrough: [], plan_timeout_s: 900 }),
    drift: DriftConfigSchema.default(DriftConfigSchema.parse({})),
    autoplan: AutoplanConfigSchema.default(AutoplanConfigSchema.parse({})),
  })
  .strict();

export type RepoConfig = z.infer<typeof RepoConfigSchema>;
export type ProjectConfig = z.infer<typeof ProjectConfigSchema>;
export type AgentConfig = z.infer<typeof AgentConfigSchema>;
export type PolicyConfig = z.infer<typeof PolicyConfigSchema>;
export type ApplyConfig = z.infer<typeof ApplyConfigSchema>;
export type CostConfig = z.infer<typeof CostConfigSchema>;
export type DriftConfig = z.infer<typeof DriftConfigSchema>;
export type AutoplanConfig = z.infer<typeof AutoplanConfigSchema>;
export type AutoReconcile = (typeof AUTO_RECONCILE)[number];

export function defaultRepoConfig(): RepoConfig {
  return RepoConfigSchema.parse({});
}
