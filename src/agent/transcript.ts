// The run's transcript: what the model said and called, and what the tools answered — redacted and with big
// payloads (file contents) cut, so it can be stored with the run and shown to a human investigating it.
import type { Redactor } from '../util/redact.js';

export type TranscriptEntry =
  | { kind: 'prompt'; at: number; system: string; firstMessage: string }
  | {
      kind: 'assistant';
      at: number;
      turn: number;
      text: string;
      toolCalls: { id: string; name: string; input: string }[];
      stopReason: string;
      usage: { inputTokens: number; outputTokens: number; cacheReadTokens: number; cacheWriteTokens: number };
      attempts: number;
    }
  | { kind: 'tool'; at: number; turn: number; toolUseId: string; name: string; isError: boolean; output: string }
  | { kind: 'stop'; at: number; status: string; reason: string };

const MAX_FIELD = 4_000;

export class Transcript {
  readonly entries: TranscriptEntry[] = [];

  constructor(
    private readonly redactor: Redactor,
    private readonly startedAt: number,
    private readonly now: () => number,
  ) {}

  at(): number {
    return this.now() - this.startedAt;
  }

  clean(text: string, max = MAX_FIELD): string {
    const t = this.redactor.redact(text);
    return t.length > max ? `${t.slice(0, max)}… [${t.length - max} more characters]` : t;
  }

  add(entry: TranscriptEntry): void {
    this.entries.push(entry);
  }
}
