// Structured logs (pino, one JSON object per line) whose secrets are scrubbed by the logger itself: every line goes
// through the redactor on its way to the stream (pino's streamWrite hook), so a private key pasted into a message,
// a token in a field, or a secret in an error's stack is masked whoever logged it. Convention: a fixed message and
// a metadata object (`log.info({ stage, durationMs }, 'stage done')`); `childLogger(runId)` puts the run id on
// every line of a run.
import pino, { type DestinationStream, type Logger } from 'pino';
import { processRedactor, type Redactor } from '../util/redact.js';

export type { Logger } from 'pino';

export interface LoggerOptions {
  /** Default INFRA_AGENT_LOG_LEVEL or 'info'. */
  level?: string;
  /** Where lines go (default stdout). */
  destination?: DestinationStream;
  /** Default: the process's own secrets + known credential patterns. */
  redactor?: Redactor;
  /** Fields on every line (default { app: 'infra-agent' }). */
  base?: Record<string, unknown>;
}

/** Secret names whose values are also masked in their JSON-escaped form (a PEM key's newlines become `\n`). */
const ESCAPED_SECRETS = ['PRIVATE_KEY', 'WEBHOOK_SECRET', 'ANTHROPIC_API_KEY', 'GITHUB_TOKEN', 'INFRA_AGENT_PLAN_KEY'];

/** The process redactor, plus each secret as it appears inside a JSON string. */
export function logRedactor(env: NodeJS.ProcessEnv = process.env): Redactor {
  const r = processRedactor(env);
  for (const name of ESCAPED_SECRETS) {
    const value = env[name]?.trim();
    if (value) r.add(JSON.stringify(value).slice(1, -1));
  }
  return r;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const redactor = options.redactor ?? logRedactor();
  return pino(
    {
      level: options.level ?? process.env['INFRA_AGENT_LOG_LEVEL'] ?? 'info',
      base: options.base ?? { app: 'infra-agent' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      hooks: {
        // The whole serialised line: message, fields, bindings, error stacks — nothing gets around it.
        streamWrite: (line) => redactor.redact(line),
      },
    },
    options.destination ?? pino.destination({ dest: 1, sync: false }),
  );
}

let root: Logger | undefined;

/** The process-wide logger (created on first use). */
export function rootLogger(): Logger {
  root ??= createLogger();
  return root;
}

/** Replace the process-wide logger (serve at start with its options; tests with a capture stream). */
export function setRootLogger(logger: Logger): void {
  root = logger;
}

/** A logger for one run: `runId` on every line, plus any other bindings (kind, repo, key). */
export function childLogger(runId: string, bindings: Record<string, unknown> = {}, parent?: Logger): Logger {
  return (parent ?? rootLogger()).child({ ...bindings, runId });
}
