// The agent loop: model turn → tool calls → tool results → … until the model calls `finish` or a budget (turns,
// tokens, USD, wall time) or a cancellation stops it. Whatever happened, the harness then runs the final checks
// itself — the model's word that "checks pass" is never taken — and returns the partial or finished work with the
// reason, the usage and a redacted transcript. The loop never throws for things that happen during a run: model
// errors and budget stops are results, tool failures are tool results.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type {
  ContentBlockParam,
  MessageParam,
  TextBlockParam,
  Tool,
  ToolResultBlockParam,
} from '@anthropic-ai/sdk/resources/messages/messages';
import { type AgentConfig, AgentConfigSchema } from '../config/schema.js';
import type { ChecksResult, ModelUsage, ProjectCost } from '../core/types.js';
import { parseBudget } from '../cost/budget.js';
import { PathSandbox } from '../repo/sandbox.js';
import { processRedactor, type Redactor } from '../util/redact.js';
import { type AgentBudgets, budgetsFromConfig, UsageMeter } from './budget.js';
import type { AgentEnvironment } from './environment.js';
import { type ModelClient, ModelError, type ModelTurn } from './model-client.js';
import { buildFirstMessage, buildSystemPrompt, LIMITS, type RevisionInput } from './prompt.js';
import { AGENT_TOOLS, findTool } from './tools/index.js';
import { AgentSession, type ToolContext, type ToolOutput } from './tools/types.js';
import { Transcript, type TranscriptEntry } from './transcript.js';

export type { AgentBudgets } from './budget.js';
export type { RevisionInput } from './prompt.js';
export type { TranscriptEntry } from './transcript.js';

export interface RunAgentOptions {
  /** The checkout the agent works in (it writes the change here). */
  repoRoot: string;
  /** The user's request (untrusted: sanitized and fenced before it reaches the model). */
  request: string;
  env: AgentEnvironment;
  client: ModelClient;
  /** The repo's `agent:` config (budgets, writable paths); defaults when omitted. */
  agentConfig?: AgentConfig;
  /** Overrides of the configured budgets (tests, CLI flags). */
  budgets?: Partial<AgentBudgets>;
  /** The project's root module dir, relative to repoRoot, for the prompt. */
  projectDir?: string;
  /** Revision mode: revise an existing branch after review feedback. */
  revision?: RevisionInput;
  signal?: AbortSignal;
  redactor?: Redactor;
  now?: () => number;
  /**
   * Bound on the conversation after the first message (characters). Past it, the oldest tool results are elided
   * (the model is told it can run the tool again), so every request stays bounded however long the run.
   */
  maxConversationChars?: number;
}

export type AgentStatus = 'finished' | 'budget-exhausted' | 'error';

export interface AgentResult {
  status: AgentStatus;
  /** Why the loop stopped when it did not finish (budget, model error, cancellation). */
  reason?: string;
  title: string;
  summary: string;
  notes: string;
  /** What the agent chose and why, when a cheaper option was possible (its finish call's cost_notes). */
  costNotes: string;
  /** The monthly budget the request (or, when revising, the reviewer) stated. */
  budgetUsd?: number;
  /** The agent's last estimate_cost answer, and how many times it asked. */
  costEstimate?: ProjectCost;
  costEstimates: number;
  /** Paths (relative to repoRoot) whose content differs from before the run, created and deleted included. */
  filesChanged: string[];
  /** The harness's own checks after the loop (absent only when the run was cancelled or they could not run). */
  finalChecks?: ChecksResult;
  /** Why the final checks could not run, when they could not. */
  finalChecksError?: string;
  usage: ModelUsage;
  transcript: TranscriptEntry[];
}

const MAX_NUDGES = 2;
export const DEFAULT_MAX_CONVERSATION_CHARS = 400_000;
const ELIDED = '[elided to keep the conversation bounded: run the tool again if you still need this]';

function blockChars(b: ContentBlockParam): number {
  if (b.type === 'text') return b.text.length;
  if (b.type === 'tool_result')
    return typeof b.content === 'string' ? b.content.length : JSON.stringify(b.content ?? '').length;
  if (b.type === 'tool_use') return JSON.stringify(b.input).length + b.name.length;
  return JSON.stringify(b).length;
}

function conversationChars(messages: MessageParam[]): number {
  let n = 0;
  for (const m of messages.slice(1)) {
    n += typeof m.content === 'string' ? m.content.length : m.content.reduce((a, b) => a + blockChars(b), 0);
  }
  return n;
}

/**
 * Keeps the conversation under `max` characters by eliding the oldest tool results and write_file contents, down to
 * 70% of the bound in one go: a prompt-cache miss happens once per compaction, not on every turn. The first
 * message (the request) and the last exchange are never touched. Returns how many blocks were elided.
 */
export function compactConversation(messages: MessageParam[], max: number): number {
  let size = conversationChars(messages);
  if (size <= max) return 0;
  const target = Math.floor(max * 0.7);
  let elided = 0;
  for (let i = 1; i < messages.length - 2 && size > target; i++) {
    const m = messages[i];
    if (!m || typeof m.content === 'string') continue;
    const blocks = m.content.map((b): ContentBlockParam => {
      if (size <= target) return b;
      if (b.type === 'tool_result' && b.content !== ELIDED) {
        size -= blockChars(b) - ELIDED.length;
        elided += 1;
        return { ...b, content: ELIDED };
      }
      if (b.type === 'tool_use' && isRecord(b.input) && typeof b.input['content'] === 'string') {
        const before = blockChars(b);
        const input = { ...b.input, content: ELIDED };
        size -= before - (JSON.stringify(input).length + b.name.length);
        elided += 1;
        return { ...b, input };
      }
      return b;
    });
    messages[i] = m.role === 'user' ? { role: 'user', content: blocks } : { role: 'assistant', content: blocks };
  }
  return elided;
}

/** The tool definitions sent to the API; the breakpoint on the last one caches all of them. */
export function toolDefinitions(): Tool[] {
  return AGENT_TOOLS.map((t, i) => ({
    name: t.name,
    description: t.description,
    input_schema: t.inputSchema,
    ...(i === AGENT_TOOLS.length - 1 ? { cache_control: { type: 'ephemeral' as const } } : {}),
  }));
}

/** Tool output is data: labelled as such, and unable to close its own label. */
function wrapToolOutput(name: string, out: ToolOutput): string {
  const body = out.content.replace(/<(\/?)\s*tool_output\b/gi, '‹$1tool_output');
  return `<tool_output tool="${name}"${out.isError ? ' error="true"' : ''}>\n${body}\n</tool_output>`;
}

/**
 * The conversation as sent: a cache breakpoint on the last block of the last message, so each turn reads the whole
 * previous conversation from the cache (with the tools and system breakpoints: 3 of the 4 allowed).
 */
function withRollingCache(messages: MessageParam[]): MessageParam[] {
  const last = messages[messages.length - 1];
  if (last?.role !== 'user' || typeof last.content === 'string' || last.content.length === 0) return messages;
  const blocks = [...last.content];
  const tail = blocks[blocks.length - 1];
  if (tail && (tail.type === 'text' || tail.type === 'tool_result')) {
    blocks[blocks.length - 1] = { ...tail, cache_control: { type: 'ephemeral' } };
  }
  return [...messages.slice(0, -1), { role: 'user', content: blocks }];
}

function assistantParam(turn: ModelTurn): MessageParam {
  const content: ContentBlockParam[] = turn.content.map((b) =>
    b.type === 'text'
      ? { type: 'text', text: b.text }
      : { type: 'tool_use', id: b.id, name: b.name, input: isRecord(b.input) ? b.input : {} },
  );
  // The API refuses an empty assistant message; an empty answer is kept as an explicit marker.
  if (content.length === 0) content.push({ type: 'text', text: '(no answer)' });
  return { role: 'assistant', content };
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function textOf(blocks: TextBlockParam[]): string {
  return blocks.map((b) => b.text).join('\n\n');
}

async function safely(what: string, f: () => Promise<string>): Promise<string> {
  try {
    return await f();
  } catch (err) {
    return `(${what} unavailable: ${err instanceof Error ? err.message : String(err)})`;
  }
}

async function changedFiles(repoRoot: string, session: AgentSession): Promise<string[]> {
  const root = await new PathSandbox(repoRoot, { writable: [] }).realRoot();
  const changed: string[] = [];
  for (const [rel, before] of session.originals) {
    const now = await readFile(join(root, rel), 'utf8').catch(() => null);
    if (now !== before) changed.push(rel);
  }
  for (const rel of session.formatted) if (!session.originals.has(rel)) changed.push(rel);
  return changed.sort();
}

export async function runAgent(opts: RunAgentOptions): Promise<AgentResult> {
  const now = opts.now ?? Date.now;
  const startedAt = now();
  const agentConfig = opts.agentConfig ?? AgentConfigSchema.parse({});
  const budgets = budgetsFromConfig(agentConfig, opts.budgets);
  const redactor = opts.redactor ?? processRedactor();
  const sandbox = new PathSandbox(opts.repoRoot, { writable: agentConfig.writable_paths });
  const session = new AgentSession();
  const meter = new UsageMeter(opts.client.model, startedAt, now);
  const transcript = new Transcript(redactor, startedAt, now);
  const deadline = AbortSignal.timeout(Math.max(1, budgets.maxDurationMs));
  const runSignal = opts.signal ? AbortSignal.any([opts.signal, deadline]) : deadline;

  const [repoSummary, stateSummary] = await Promise.all([
    safely('repository summary', () => opts.env.repoSummary(LIMITS.repoSummaryChars, runSignal)),
    safely('state summary', () => opts.env.stateSummary({ maxChars: LIMITS.stateSummaryChars }, runSignal)),
  ]);
  const system = buildSystemPrompt(
    {
      repoSummary,
      stateSummary,
      writablePaths: agentConfig.writable_paths,
      ...(opts.projectDir !== undefined ? { projectDir: opts.projectDir } : {}),
    },
    redactor,
  );
  const tools = toolDefinitions();
  // A budget the reviewer states when revising replaces the request's.
  const budgetUsd = (opts.revision ? parseBudget(opts.revision.feedback) : undefined) ?? parseBudget(opts.request);
  session.budgetUsd = budgetUsd;
  const first = buildFirstMessage(opts.request, redactor, opts.revision, budgetUsd);
  const messages: MessageParam[] = [{ role: 'user', content: [{ type: 'text', text: first.text }] }];
  transcript.add({
    kind: 'prompt',
    at: transcript.at(),
    system: transcript.clean(textOf(system), 40_000),
    firstMessage: transcript.clean(first.text, 40_000),
  });
  // Before the first answer there is no input count to go by: estimate it (chars / 4).
  const firstInputEstimate = Math.ceil((textOf(system).length + JSON.stringify(tools).length + first.text.length) / 4);

  let status: AgentStatus = 'error';
  let reason = '';
  let nudges = 0;
  const stopFromAbort = (): { status: AgentStatus; reason: string } =>
    opts.signal?.aborted
      ? { status: 'error', reason: 'the run was cancelled' }
      : { status: 'budget-exhausted', reason: `time budget: ${Math.round(budgets.maxDurationMs / 1000)} s used` };

  loop: for (;;) {
    if (runSignal.aborted) {
      ({ status, reason } = stopFromAbort());
      break;
    }
    const over = meter.check(budgets, firstInputEstimate);
    if (over) {
      status = 'budget-exhausted';
      reason = over;
      break;
    }
    compactConversation(messages, opts.maxConversationChars ?? DEFAULT_MAX_CONVERSATION_CHARS);
    let turn: ModelTurn;
    try {
      turn = await opts.client.createMessage({
        system,
        tools,
        messages: withRollingCache(messages),
        maxTokens: budgets.maxTokensPerTurn,
        signal: runSignal,
      });
    } catch (err) {
      if (runSignal.aborted) ({ status, reason } = stopFromAbort());
      else {
        status = 'error';
        reason =
          err instanceof ModelError
            ? err.message
            : `model call failed: ${err instanceof Error ? err.message : String(err)}`;
      }
      break;
    }
    meter.add(turn.usage);
    const turnNo = meter.usage.turns;
    const calls = turn.content.flatMap((b) => (b.type === 'tool_use' ? [b] : []));
    transcript.add({
      kind: 'assistant',
      at: transcript.at(),
      turn: turnNo,
      text: transcript.clean(
        turn.content
          .flatMap((b) => (b.type === 'text' ? [b.text] : []))
          .join('\n')
          .trim(),
      ),
      toolCalls: calls.map((c) => ({
        id: c.id,
        name: c.name,
        input: transcript.clean(JSON.stringify(c.input), 2_000),
      })),
      stopReason: turn.stopReason,
      usage: turn.usage,
      attempts: turn.attempts,
    });
    messages.push(assistantParam(turn));

    if (calls.length === 0) {
      nudges += 1;
      if (nudges > MAX_NUDGES) {
        status = 'error';
        reason = `the model stopped ${nudges} times without calling a tool or finish`;
        break;
      }
      const nudge =
        turn.stopReason === 'max_tokens'
          ? 'Your answer was cut at max_tokens. Continue with tool calls; write one file per call.'
          : 'Continue by calling tools. When the change is complete and run_checks passes, call finish — a text answer alone does nothing.';
      messages.push({ role: 'user', content: [{ type: 'text', text: nudge }] });
      continue;
    }

    const results: ToolResultBlockParam[] = [];
    for (const call of calls) {
      let out: ToolOutput;
      const tool = findTool(call.name);
      if (session.finished) {
        out = { isError: true, content: 'not run: finish was already called in this turn' };
      } else if (!tool) {
        out = {
          isError: true,
          content: `there is no tool named ${JSON.stringify(call.name.slice(0, 64))}; the tools are: ${AGENT_TOOLS.map((t) => t.name).join(', ')}`,
        };
      } else {
        const ctx: ToolContext = { sandbox, env: opts.env, session, signal: runSignal, redactor };
        try {
          out = await tool.execute(call.input, ctx);
        } catch (err) {
          // Tools only throw when the run is being stopped (their own failures are results).
          if (runSignal.aborted) {
            ({ status, reason } = stopFromAbort());
            break loop;
          }
          out = { isError: true, content: redactor.redact(`${call.name} failed: ${String(err)}`) };
        }
      }
      results.push({
        type: 'tool_result',
        tool_use_id: call.id,
        content: wrapToolOutput(call.name, out),
        ...(out.isError ? { is_error: true } : {}),
      });
      transcript.add({
        kind: 'tool',
        at: transcript.at(),
        turn: turnNo,
        toolUseId: call.id,
        name: call.name,
        isError: out.isError,
        output: transcript.clean(out.content),
      });
    }
    const content: (ToolResultBlockParam | TextBlockParam)[] = [...results];
    if (turn.stopReason === 'max_tokens') {
      content.push({ type: 'text', text: 'Your answer was cut at max_tokens: keep each tool call smaller.' });
    }
    messages.push({ role: 'user', content });
    if (session.finished) {
      status = 'finished';
      reason = '';
      break;
    }
  }

  // The harness's own verdict, whatever the model said. Only a cancellation skips it: then nobody wants more work.
  let finalChecks: ChecksResult | undefined;
  let finalChecksError: string | undefined;
  if (!opts.signal?.aborted) {
    try {
      finalChecks = await opts.env.runChecks(opts.signal);
      session.noteChecks(finalChecks);
    } catch (err) {
      finalChecksError = redactor.redact(err instanceof Error ? err.message : String(err));
    }
  }
  const filesChanged = await changedFiles(opts.repoRoot, session);
  transcript.add({ kind: 'stop', at: transcript.at(), status, reason: reason || 'finish called' });

  const finished = session.finished;
  const headline = first.sanitized.request.text.split('\n').find((l) => l.trim()) ?? 'infrastructure change';
  return {
    status,
    ...(reason ? { reason } : {}),
    title: finished?.title ?? `Partial change: ${headline.trim().slice(0, 60)}`,
    summary:
      finished?.summary ??
      `The agent stopped before it finished (${reason}). The files it changed so far are kept for a human to continue.`,
    notes: finished?.notes ?? '',
    costNotes: finished?.costNotes ?? '',
    ...(budgetUsd !== undefined ? { budgetUsd } : {}),
    ...(session.lastEstimate ? { costEstimate: session.lastEstimate } : {}),
    costEstimates: session.estimates,
    filesChanged,
    ...(finalChecks ? { finalChecks } : {}),
    ...(finalChecksError ? { finalChecksError } : {}),
    usage: meter.finish(),
    transcript: transcript.entries,
  };
}
