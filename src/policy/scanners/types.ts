// The one interface every scanner implements. A scanner never throws for a tool problem: a missing tool is
// `not-run`, a crash is `failed` (with the stderr tail), and either keeps the verdict from passing.
import type { PolicyConfig } from '../../config/schema.js';
import type { ScannerName, ScannerRun } from '../../core/types.js';

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
}

export interface Scanner {
  name: ScannerName;
  run(input: ScanInput): Promise<ScannerRun>;
}
