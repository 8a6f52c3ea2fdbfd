// The one interface every scanner implements. A scanner never throws for a tool problem: a missing tool is
// `not-run`, a crash is `failed` (with the stderr tail), and either keeps the verdict from passing.
import type { PolicyConfig } from '../../config/schema.js';
import type { ScannerName, ScannerRun } from '../../core/types.js';
import type { Baseline } from '../guard/sources.js';

export interface ScanInput {
  /** Absolute root-module dir. */
  dir: string;
  /** Absolute repository root: module sources and file paths are confined to it, findings are relative to it. */
  repoRoot: string;
  /** `terraform show -json` of the saved plan, already parsed. Holds secrets in clear: never posted anywhere. */
  planJson?: unknown;
  /** The same plan JSON on disk, when there is a file (checkov reads files). */
  planJsonPath?: string;
  config: PolicyConfig;
  signal?: AbortSignal;
  /**
   * Only the plan-dependent part: the checks stage already ran the HCL scans while terraform planned, so scanners
   * that read both (checkov) skip the directory pass here.
   */
  planOnly?: boolean;
  /** What the default branch already uses: module sources and providers the guard allows without asking. */
  baseline?: Baseline;
  /**
   * `policy.custom_policy_dir` as read from the DEFAULT branch (the App always sets this; a PR cannot change the
   * policy that judges it). Without it (the `check` CLI), the folder is read from `repoRoot`.
   */
  customPolicies?: { dir: string } | { error: string };
  /** Terraform's data dir after `init`: the guard also reads the modules init downloaded there. */
  dataDir?: string;
}

export interface Scanner {
  name: ScannerName;
  run(input: ScanInput): Promise<ScannerRun>;
}
