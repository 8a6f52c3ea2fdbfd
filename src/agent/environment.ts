// What the agent needs from the world besides files, as one small interface so the loop can be tested with the real
// checks or with a stand-in, and the CLI and the App wire in the real index, state reader, schema lookup and gate.
import type { ChecksResult } from '../core/types.js';

export type ProvidersSchemaLookup =
  | { ok: true; schema: unknown }
  /** Why there are no schemas (providers not installed, init failed…), said to the model as-is. */
  | { ok: false; reason: string };

export interface AgentEnvironment {
  /** Frees what the environment made (terraform's data dirs); called once the agent is done. */
  close?(): void;
  /** The repo index as bounded text (files, resources, modules, providers, variables) — never whole files. */
  repoSummary(maxChars: number, signal?: AbortSignal): Promise<string>;
  /** The redacted state inventory as bounded text; `filter` narrows it to addresses containing the text. */
  stateSummary(opts: { maxChars: number; filter?: string }, signal?: AbortSignal): Promise<string>;
  /** The raw `terraform providers schema -json` document of the project. Called at most once per run. */
  providersSchema(signal?: AbortSignal): Promise<ProvidersSchemaLookup>;
  /** fmt → pre-plan guard → init → validate → plan ∥ scanners → verdict, on the working tree as it is now. */
  runChecks(signal?: AbortSignal): Promise<ChecksResult>;
}
