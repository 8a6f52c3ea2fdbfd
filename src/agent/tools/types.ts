// The shape every agent tool has: a name, a description for the model, a zod input schema (the one source of truth:
// the JSON Schema sent to the API is generated from it) and a run function. `defineTool` turns that into a uniform
// object the registry can hold; input validation and error capture live here once, so a bad input or a failing
// tool always becomes an `is_error` tool result the model can act on — never a crash of the loop.
import { posix } from 'node:path';
import { z } from 'zod';
import type { ChecksResult, ProjectCost } from '../../core/types.js';
import type { PathSandbox } from '../../repo/sandbox.js';
import { SandboxError } from '../../repo/sandbox.js';
import type { Redactor } from '../../util/redact.js';
import type { AgentEnvironment, ProvidersSchemaLookup } from '../environment.js';

/** A failure the model should read and act on (bad path, no such file, unknown resource type…). */
export class ToolError extends Error {
  override readonly name = 'ToolError';
}

export interface FinishFields {
  title: string;
  summary: string;
  notes: string;
  /** What the agent chose and why, when a cheaper option was possible. */
  costNotes: string;
}

/** What a run's tools share: the files touched (with their original content), checks, the finish call. */
export class AgentSession {
  /** Real-root-relative path → content before the agent first touched it (null = did not exist). */
  readonly originals = new Map<string, string | null>();
  finished: FinishFields | undefined;
  lastChecks: ChecksResult | undefined;
  checksRuns = 0;
  /** Bumped on every write/delete; compared with the value at the last run_checks. */
  writeSerial = 0;
  checkedAtSerial = -1;
  finishRefusals = 0;
  /** Files `terraform fmt` rewrote during checks (repo-relative): changed by the run, though not by a tool call. */
  readonly formatted = new Set<string>();
  schema: Promise<ProvidersSchemaLookup> | undefined;
  /** The monthly budget the request (or the reviewer) stated, USD: the most the change may add. */
  budgetUsd: number | undefined;
  /** The last estimate_cost answer, and how many times the agent asked. */
  lastEstimate: ProjectCost | undefined;
  estimates = 0;
  budgetRefusals = 0;

  noteChecks(r: ChecksResult): void {
    for (const f of r.formatted) this.formatted.add(posix.normalize(posix.join(r.project.dir, f)));
  }

  remember(rel: string, before: string | null): void {
    if (!this.originals.has(rel)) this.originals.set(rel, before);
    this.writeSerial += 1;
  }
}

export interface ToolContext {
  sandbox: PathSandbox;
  env: AgentEnvironment;
  session: AgentSession;
  signal: AbortSignal;
  redactor: Redactor;
}

export interface ToolOutput {
  content: string;
  isError: boolean;
}

export interface AgentToolInputSchema {
  type: 'object';
  properties?: unknown;
  required?: string[];
  [k: string]: unknown;
}

export interface AgentTool {
  name: string;
  description: string;
  inputSchema: AgentToolInputSchema;
  execute(input: unknown, ctx: ToolContext): Promise<ToolOutput>;
}

export function defineTool<S extends z.ZodType>(def: {
  name: string;
  description: string;
  input: S;
  run: (input: z.output<S>, ctx: ToolContext) => Promise<string>;
}): AgentTool {
  const json = z.toJSONSchema(def.input, { io: 'input' });
  const { $schema: _ignored, ...rest } = json;
  const inputSchema: AgentToolInputSchema = { ...rest, type: 'object' };
  return {
    name: def.name,
    description: def.description,
    inputSchema,
    async execute(input, ctx) {
      const parsed = def.input.safeParse(input);
      if (!parsed.success) {
        return { isError: true, content: `invalid input for ${def.name}: ${z.prettifyError(parsed.error)}` };
      }
      try {
        return { isError: false, content: await def.run(parsed.data, ctx) };
      } catch (err) {
        if (ctx.signal.aborted) throw err;
        const message = err instanceof Error ? err.message : String(err);
        const known = err instanceof ToolError || err instanceof SandboxError;
        return {
          isError: true,
          content: ctx.redactor.redact(known ? message : `${def.name} failed: ${message}`),
        };
      }
    },
  };
}

/** Cut text to a size, saying how much was left out. */
export function cap(text: string, maxChars: number, hint = ''): string {
  if (text.length <= maxChars) return text;
  return `${text.slice(0, maxChars)}\n[… ${text.length - maxChars} more characters not shown${hint ? `; ${hint}` : ''}]`;
}
