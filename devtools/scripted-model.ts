// A scripted model: a real local HTTP server speaking the Anthropic Messages API wire format, so tests (and the
// offline demo) drive the real SDK over a real socket instead of mocking it. The script is a list of steps, one per
// request; a step may be a function of the incoming request, so it can react to the tool_result it was sent. Every
// request is recorded (parsed body + headers) for assertions. Requests are validated the way the API would: a
// malformed body, or a tool_use left without its tool_result, gets a 400 like the real service.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { z } from 'zod';

// ---- What the server receives ----------------------------------------------------------------------------------

const ContentBlockIn = z
  .object({
    type: z.string(),
    text: z.string().optional(),
    id: z.string().optional(),
    name: z.string().optional(),
    input: z.unknown().optional(),
    tool_use_id: z.string().optional(),
    content: z
      .union([z.string(), z.array(z.object({ type: z.string(), text: z.string().optional() }).loose())])
      .optional(),
    is_error: z.boolean().optional(),
    cache_control: z
      .object({ type: z.literal('ephemeral') })
      .loose()
      .optional(),
  })
  .loose();

const MessageIn = z.object({
  role: z.enum(['user', 'assistant']),
  content: z.union([z.string(), z.array(ContentBlockIn).min(1)]),
});

export const MessagesRequestSchema = z
  .object({
    model: z.string().min(1),
    max_tokens: z.number().int().positive(),
    messages: z.array(MessageIn).min(1),
    system: z.union([z.string(), z.array(ContentBlockIn)]).optional(),
    tools: z
      .array(
        z
          .object({
            name: z.string().regex(/^[a-zA-Z0-9_-]{1,64}$/),
            description: z.string().optional(),
            input_schema: z.object({ type: z.literal('object') }).loose(),
            cache_control: z
              .object({ type: z.literal('ephemeral') })
              .loose()
              .optional(),
          })
          .loose(),
      )
      .optional(),
  })
  .loose();

export type MessagesRequest = z.infer<typeof MessagesRequestSchema>;
export type RequestContentBlock = z.infer<typeof ContentBlockIn>;

export interface RecordedRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  /** The parsed body (undefined when it was not valid JSON or not a Messages request). */
  body: MessagesRequest | undefined;
  raw: string;
  /** The status the server answered. */
  status: number;
}

// ---- What the server answers -----------------------------------------------------------------------------------

export type ResponseContentBlock =
  | { type: 'text'; text: string }
  | { type: 'tool_use'; id: string; name: string; input: unknown };

export interface UsageOverride {
  input_tokens?: number;
  output_tokens?: number;
  cache_creation_input_tokens?: number;
  cache_read_input_tokens?: number;
}

export type StepResponse =
  | {
      kind: 'message';
      content: ResponseContentBlock[];
      stopReason: 'tool_use' | 'end_turn' | 'max_tokens';
      usage?: UsageOverride;
    }
  | { kind: 'error'; status: number; errorType: string; message: string; retryAfter?: string };

export type ScriptStep = StepResponse | ((req: MessagesRequest, index: number) => StepResponse | Promise<StepResponse>);

let toolUseCounter = 0;
function nextToolUseId(): string {
  toolUseCounter += 1;
  return `toolu_scripted_${String(toolUseCounter).padStart(6, '0')}`;
}

/** One assistant turn calling one tool. */
export function toolUse(
  name: string,
  input: unknown,
  opts: { text?: string; usage?: UsageOverride } = {},
): StepResponse {
  return toolUses([{ name, input }], opts);
}

/** One assistant turn calling several tools at once (parallel tool use). */
export function toolUses(
  calls: { name: string; input: unknown }[],
  opts: { text?: string; usage?: UsageOverride } = {},
): StepResponse {
  const content: ResponseContentBlock[] = [];
  if (opts.text) content.push({ type: 'text', text: opts.text });
  for (const c of calls) content.push({ type: 'tool_use', id: nextToolUseId(), name: c.name, input: c.input });
  return { kind: 'message', content, stopReason: 'tool_use', ...(opts.usage ? { usage: opts.usage } : {}) };
}

/** A plain text answer that ends the turn (no tool call). */
export function text(
  t: string,
  opts: { stopReason?: 'end_turn' | 'max_tokens'; usage?: UsageOverride } = {},
): StepResponse {
  return {
    kind: 'message',
    content: [{ type: 'text', text: t }],
    stopReason: opts.stopReason ?? 'end_turn',
    ...(opts.usage ? { usage: opts.usage } : {}),
  };
}

/** The agent's `finish` tool call. */
export function finish(
  fields: { title?: string; summary?: string; notes_for_reviewer?: string; cost_notes?: string } = {},
  opts: { usage?: UsageOverride } = {},
): StepResponse {
  return toolUse(
    'finish',
    {
      title: fields.title ?? 'Scripted change',
      summary: fields.summary ?? 'A change written by the scripted model.',
      notes_for_reviewer: fields.notes_for_reviewer ?? '',
      ...(fields.cost_notes !== undefined ? { cost_notes: fields.cost_notes } : {}),
    },
    opts,
  );
}

const ERROR_TYPES: Record<number, string> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  403: 'permission_error',
  404: 'not_found_error',
  413: 'request_too_large',
  429: 'rate_limit_error',
  500: 'api_error',
  529: 'overloaded_error',
};

/** An error answer in the API's error JSON shape; `retryAfter` is sent as the `retry-after` header (seconds). */
export function error(status: number, retryAfter?: number | string, message?: string): StepResponse {
  return {
    kind: 'error',
    status,
    errorType: ERROR_TYPES[status] ?? 'api_error',
    message: message ?? (status === 529 ? 'Overloaded' : `scripted error ${status}`),
    ...(retryAfter !== undefined ? { retryAfter: String(retryAfter) } : {}),
  };
}

/** The tool_result blocks of the last user message of a request (what the agent sent back for the last turn). */
export function lastToolResults(req: MessagesRequest): { toolUseId: string; isError: boolean; text: string }[] {
  const last = req.messages[req.messages.length - 1];
  if (last?.role !== 'user' || typeof last.content === 'string') return [];
  return last.content
    .filter((b) => b.type === 'tool_result')
    .map((b) => ({
      toolUseId: b.tool_use_id ?? '',
      isError: b.is_error === true,
      text: blockText(b),
    }));
}

/** All text of a request (system, messages, tool results), for "was X in the prompt" assertions. */
export function requestText(req: MessagesRequest): string {
  const parts: string[] = [];
  if (typeof req.system === 'string') parts.push(req.system);
  else if (req.system) for (const b of req.system) parts.push(blockText(b));
  for (const m of req.messages) {
    if (typeof m.content === 'string') parts.push(m.content);
    else for (const b of m.content) parts.push(blockText(b));
  }
  return parts.join('\n');
}

function blockText(b: RequestContentBlock): string {
  if (typeof b.text === 'string') return b.text;
  if (typeof b.content === 'string') return b.content;
  if (Array.isArray(b.content)) return b.content.map((c) => c.text ?? '').join('\n');
  if (b.input !== undefined) return JSON.stringify(b.input);
  return '';
}

// ---- The server --------------------------------------------------------------------------------------------------

export interface ScriptedModel {
  /** Base URL for the SDK (`baseURL`). */
  url: string;
  requests: RecordedRequest[];
  /** Steps not yet consumed. */
  remaining(): number;
  close(): Promise<void>;
}

export interface ScriptedModelOptions {
  /** What to answer once the script is used up: a 400 naming the problem (default), or this step forever. */
  afterScript?: ScriptStep;
}

/** Checks the API itself would make on the conversation: alternation and tool_use ↔ tool_result pairing. */
function conversationProblem(body: MessagesRequest): string | undefined {
  const first = body.messages[0];
  if (first?.role !== 'user') return 'messages: the first message must use the "user" role';
  for (let i = 0; i < body.messages.length; i++) {
    const m = body.messages[i];
    const prev = body.messages[i - 1];
    if (!m) continue;
    if (prev && prev.role === m.role) return `messages.${i}: roles must alternate between "user" and "assistant"`;
    if (m.role === 'user' && typeof m.content !== 'string') {
      const results = m.content.filter((b) => b.type === 'tool_result');
      if (results.length === 0) continue;
      const asked = prev && typeof prev.content !== 'string' ? prev.content.filter((b) => b.type === 'tool_use') : [];
      const ids = new Set(asked.map((b) => b.id));
      const orphan = results.find((b) => !ids.has(b.tool_use_id));
      if (orphan) {
        return `messages.${i}: tool_result ${orphan.tool_use_id ?? '(no id)'} does not answer a tool_use of the previous message`;
      }
      const firstOther = m.content.findIndex((b) => b.type !== 'tool_result');
      const lastResult = m.content.map((b) => b.type).lastIndexOf('tool_result');
      if (firstOther >= 0 && firstOther < lastResult) {
        return `messages.${i}: tool_result blocks must come before any other content`;
      }
      continue;
    }
    if (m.role !== 'assistant' || typeof m.content === 'string') continue;
    const ids = m.content.filter((b) => b.type === 'tool_use').map((b) => b.id ?? '');
    if (ids.length === 0) continue;
    const next = body.messages[i + 1];
    if (!next) return `messages.${i}: tool_use ids were found without tool_result blocks immediately after`;
    const results = typeof next.content === 'string' ? [] : next.content.filter((b) => b.type === 'tool_result');
    const answered = new Set(results.map((b) => b.tool_use_id));
    const missing = ids.filter((id) => !answered.has(id));
    if (missing.length > 0) {
      return `messages.${i + 1}: tool_use ids were found without tool_result blocks immediately after: ${missing.join(', ')}`;
    }
  }
  return undefined;
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const data = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(data),
    'request-id': `req_scripted_${Date.now().toString(36)}`,
    ...headers,
  });
  res.end(data);
}

function apiError(res: ServerResponse, status: number, type: string, message: string, retryAfter?: string): void {
  sendJson(
    res,
    status,
    { type: 'error', error: { type, message } },
    retryAfter !== undefined ? { 'retry-after': retryAfter } : {},
  );
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
  return Buffer.concat(chunks).toString('utf8');
}

export async function startScriptedModel(
  script: ScriptStep[],
  opts: ScriptedModelOptions = {},
): Promise<ScriptedModel> {
  const requests: RecordedRequest[] = [];
  let cursor = 0;
  let messageCounter = 0;

  const server = createServer((req, res) => {
    void (async () => {
      const raw = await readBody(req);
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) {
        if (typeof v === 'string') headers[k] = v;
        else if (Array.isArray(v)) headers[k] = v.join(', ');
      }
      const record: RecordedRequest = {
        method: req.method ?? '',
        path: (req.url ?? '').split('?')[0] ?? '',
        headers,
        body: undefined,
        raw,
        status: 0,
      };
      requests.push(record);
      const answerError = (status: number, type: string, message: string, retryAfter?: string): void => {
        record.status = status;
        apiError(res, status, type, message, retryAfter);
      };

      if (record.method !== 'POST' || record.path !== '/v1/messages') {
        answerError(404, 'not_found_error', `scripted model: no route ${record.method} ${record.path}`);
        return;
      }
      if (!headers['x-api-key'] && !headers['authorization']) {
        answerError(401, 'authentication_error', 'scripted model: no x-api-key or authorization header');
        return;
      }
      let json: unknown;
      try {
        json = JSON.parse(raw);
      } catch {
        answerError(400, 'invalid_request_error', 'scripted model: the body is not JSON');
        return;
      }
      const parsed = MessagesRequestSchema.safeParse(json);
      if (!parsed.success) {
        answerError(400, 'invalid_request_error', `scripted model: ${z.prettifyError(parsed.error)}`);
        return;
      }
      record.body = parsed.data;
      const problem = conversationProblem(parsed.data);
      if (problem) {
        answerError(400, 'invalid_request_error', problem);
        return;
      }

      const index = cursor;
      const step = index < script.length ? script[index] : opts.afterScript;
      if (index < script.length) cursor += 1;
      if (!step) {
        answerError(
          400,
          'invalid_request_error',
          `scripted model: the script has no step ${index + 1} (it has ${script.length})`,
        );
        return;
      }
      const answer = typeof step === 'function' ? await step(parsed.data, index) : step;
      if (answer.kind === 'error') {
        answerError(answer.status, answer.errorType, answer.message, answer.retryAfter);
        return;
      }
      messageCounter += 1;
      const inputEstimate = Math.ceil(raw.length / 4);
      const outputEstimate = Math.max(1, Math.ceil(JSON.stringify(answer.content).length / 4));
      const usage = {
        input_tokens: answer.usage?.input_tokens ?? inputEstimate,
        output_tokens: answer.usage?.output_tokens ?? outputEstimate,
        cache_creation_input_tokens: answer.usage?.cache_creation_input_tokens ?? 0,
        cache_read_input_tokens: answer.usage?.cache_read_input_tokens ?? 0,
      };
      record.status = 200;
      sendJson(res, 200, {
        id: `msg_scripted_${String(messageCounter).padStart(4, '0')}`,
        type: 'message',
        role: 'assistant',
        model: parsed.data.model,
        content: answer.content,
        stop_reason: answer.stopReason,
        stop_sequence: null,
        usage,
      });
    })().catch((err: unknown) => {
      if (!res.headersSent) apiError(res, 500, 'api_error', `scripted model crashed: ${String(err)}`);
    });
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    remaining: () => Math.max(0, script.length - cursor),
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}
