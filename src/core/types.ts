// The words the whole code base uses. Every module speaks these types; each type's fields are the contract between
// the terraform engine, the gate, the agent, the store and the GitHub layer.

// ---- Projects and runs ------------------------------------------------------------------------------------------

/** A Terraform root module dir (relative to the repo root, posix separators, '.' for the root) + workspace. */
export interface Project {
  name: string;
  dir: string;
  workspace: string;
  /** Names of projects that must be applied before this one. */
  dependsOn: string[];
}

export type RunKind = 'generate' | 'revise' | 'plan' | 'apply';
export type RunStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled' | 'needs-human';

export interface ModelUsage {
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
  costUsd: number;
  turns: number;
  durationMs: number;
}

// ---- Plans ------------------------------------------------------------------------------------------------------

export type ResourceAction = 'create' | 'update' | 'delete' | 'replace' | 'read' | 'no-op' | 'import' | 'forget';

export interface ResourceChangeSummary {
  address: string;
  type: string;
  name: string;
  /** module path ('' for the root module), e.g. 'module.vpc'. */
  module: string;
  mode: 'managed' | 'data';
  action: ResourceAction;
  /** The raw actions array of the plan, e.g. ["delete","create"]. */
  actions: string[];
  /** Attributes whose value changes (top-level names), sensitive values never included. */
  changedAttributes: string[];
  /** Attributes known only after apply. */
  unknownAttributes: string[];
  /** Why a replace happens, from `replace_paths` (attribute names). */
  replacePaths: string[];
  importing: boolean;
  providerName: string;
}

export interface OutputChangeSummary {
  name: string;
  action: ResourceAction;
  sensitive: boolean;
}

export interface DriftSummary {
  address: string;
  action: ResourceAction;
  changedAttributes: string[];
}

export interface PlanSummary {
  terraformVersion: string;
  formatVersion: string;
  counts: { add: number; change: number; destroy: number; replace: number; import: number; read: number; noop: number };
  resources: ResourceChangeSummary[];
  drift: DriftSummary[];
  outputs: OutputChangeSummary[];
  /** True when nothing would change (resources and outputs). */
  empty: boolean;
  /** `errored` in the plan JSON: the plan is partial. */
  errored: boolean;
}

// ---- Policy gate ------------------------------------------------------------------------------------------------

export type Severity = 'critical' | 'high' | 'medium' | 'low' | 'info';
export type Level = 'hard' | 'soft' | 'advisory';
export type FindingSource = 'tfsec' | 'trivy' | 'checkov' | 'opa' | 'pregate' | 'cost';

export interface Finding {
  /** Our rule id (e.g. SEC-NET-001) when the concern maps to one; else the scanner's own id (CKV_AWS_123). */
  ruleId: string;
  /** The first source that reported it (kept for the JSON contract); `sources` lists all of them. */
  source: FindingSource;
  sources: FindingSource[];
  /** Scanner-native ids that reported the same concern, e.g. ["CKV_AWS_24", "aws-ec2-no-public-ingress-sgr"]. */
  sourceIds: string[];
  severity: Severity;
  level: Level;
  address?: string;
  file?: string;
  line?: number;
  message: string;
  remediation?: string;
  /** The value is unknown until apply: reported as advisory "not verified", never a silent pass. */
  notVerified?: boolean;
}

/** `cost` is the cost policy (cost.max_monthly_increase_usd), run beside the scanners when a budget is set. */
export type ScannerName = 'pregate' | 'tfsec' | 'trivy' | 'checkov' | 'opa' | 'cost';
export type ScannerStatus = 'ok' | 'not-run' | 'failed';

export interface ScannerRun {
  name: ScannerName;
  status: ScannerStatus;
  version?: string;
  durationMs: number;
  /** Why it did not run or failed. */
  reason?: string;
  /** What a reader should know about an otherwise good run (e.g. blocks the scanner could not read were left out). */
  notes?: string[];
  findings: Finding[];
}

export interface Override {
  ruleId: string;
  by: string;
  at: string;
  reason: string;
  /** The plan this override was given for (sha256 of the saved plan); an override never carries to another plan. */
  planHash?: string;
}

export type VerdictStatus = 'pass' | 'blocked' | 'needs-override';

export interface Verdict {
  status: VerdictStatus;
  findings: Finding[];
  scanners: ScannerRun[];
  overrides: Override[];
  /** Human-readable reasons when not pass (e.g. "2 hard findings", "checkov did not run"). */
  reasons: string[];
  /** What the policies judged: the saved plan, or the HCL alone (no plan could be made). */
  evaluatedOn?: 'plan' | 'hcl';
  /** Set when the tools ran outside the sandbox (the operator's INFRA_AGENT_UNSANDBOXED=1): every report says so. */
  unsandboxed?: true;
}

// ---- Terraform diagnostics --------------------------------------------------------------------------------------

export interface Diagnostic {
  severity: 'error' | 'warning';
  summary: string;
  detail?: string;
  file?: string;
  line?: number;
}

// ---- The checks stage (fmt → pre-plan gate → init/validate → plan ∥ scanners → verdict) ------------------------

export type StageName = 'fmt' | 'pregate' | 'init' | 'modules' | 'validate' | 'plan' | 'scan' | 'verdict';

export interface StageResult {
  name: StageName;
  status: 'ok' | 'failed' | 'skipped';
  durationMs: number;
  /** Short, redacted, user-facing: why it failed or was skipped. */
  message?: string;
}

export interface SavedPlan {
  /** Absolute path of the binary plan file (`plan -out`). */
  file: string;
  /** sha256 of the plan file bytes: what a reviewer approved. */
  hash: string;
  summary: PlanSummary;
  /** `terraform show` of the plan, human-readable, redacted, ANSI-free. */
  text: string;
}

export interface ChecksResult {
  project: Project;
  /** True only when every stage succeeded and the verdict is pass. */
  ok: boolean;
  stages: StageResult[];
  /** Files `terraform fmt` rewrote (relative to the project dir). */
  formatted: string[];
  diagnostics: Diagnostic[];
  plan?: SavedPlan;
  /** The plan's monthly cost (absent without a plan, or with `cost.enabled: false`). */
  cost?: ProjectCost;
  verdict: Verdict;
  durationMs: number;
}

// ---- Cost ------------------------------------------------------------------------------------------------------

// The cost model every part speaks: what a plan costs per month, per resource, before and after, from the built-in
// price table or from Infracost. Amounts are USD per month (730 hours). A resource the estimate cannot price is never
// a silent zero: it carries a status and the reason.
/**
 * - `priced`: every part has a price (usage-priced parts from the usage file when it gives them).
 * - `usage-based`: the whole cost depends on usage nobody stated (object storage, functions…): not estimated.
 * - `not-priced`: the type, region, size or an attribute is not in the table, or only known after apply.
 * - `free`: the provider charges nothing for this type (networks, IAM, security groups…).
 */
export type CostStatus = 'priced' | 'usage-based' | 'not-priced' | 'free';

export interface CostComponent {
  /** e.g. "Instance (t3.micro)", "Storage (gp3)". */
  name: string;
  quantity: number;
  /** e.g. "hours", "GB-month". */
  unit: string;
  unitPrice: number;
  monthlyUsd: number;
}

/** One side (before or after) of one resource, priced. */
export interface PricedSide {
  status: CostStatus;
  monthlyUsd: number;
  components: CostComponent[];
  /** Why it is not priced / usage-based. */
  reason?: string;
  /** Usage-priced parts that were not estimated (no usage given), e.g. "data processed (per GB)". */
  notEstimated: string[];
  /** What the estimate assumed (defaults for values known only after apply, usage from the usage file…). */
  assumptions: string[];
  region?: string;
}

export interface ResourceCost {
  address: string;
  type: string;
  action: ResourceAction;
  /** Monthly cost before the change; undefined when the resource does not exist before (create). */
  before?: number;
  /** Monthly cost after the change; undefined when the resource is gone after (delete). */
  after?: number;
  /** after − before (0 for a side that is not priced). */
  delta: number;
  /** The status of the side that matters: after, or before for a delete. */
  status: CostStatus;
  reason?: string;
  components: CostComponent[];
  notEstimated: string[];
  assumptions: string[];
  region?: string;
}

export type CostSource = 'built-in' | 'infracost';

export interface ProjectCost {
  /** The project name (set by the caller). */
  project?: string;
  source: CostSource;
  currency: 'USD';
  /** Where the prices come from and as of when. */
  priceSource: string;
  asOf: string;
  /** Totals over every resource of the plan (unchanged ones too) whose side is priced. */
  before: number;
  after: number;
  delta: number;
  /** Every resource that changes (any status), and every unchanged resource that costs something. */
  resources: ResourceCost[];
  counts: Record<CostStatus, number>;
  /** Lines a human must see (Infracost configured but missing, a usage file that could not be read…). */
  warnings: string[];
}

/** Round to cents (the model keeps cents; the report decides how to show them). */
export function cents(n: number): number {
  return Math.round(n * 100) / 100;
}
