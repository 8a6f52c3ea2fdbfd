// Untrusted text on its way into a prompt (issue bodies, review comments, diffs, repo file excerpts). What a human
// reviewer cannot see must not reach the model either: HTML comments, zero-width, invisible and bidi control
// characters are removed. Secrets are redacted. Text that could close the fence we put it in is neutralised, and the
// size is bounded — saying so, so the model knows it is looking at a cut.
// The invisible characters are the set the one escaping function drops (markdown/text.ts): one list, two directions.
import { INVISIBLE_CHARS } from '../markdown/text.js';
import { processRedactor, type Redactor } from '../util/redact.js';

export interface SanitizeOptions {
  maxChars?: number;
  redactor?: Redactor;
}

export interface SanitizeResult {
  text: string;
  /** What was removed or changed, for the audit trail. */
  removed: { htmlComments: number; invisibleChars: number; fenceBreakers: number };
  truncated: boolean;
}

export const DEFAULT_MAX_REQUEST_CHARS = 8_000;

/** The tags our prompts use as fences; an opening or closing one inside untrusted text is defused. */
export const FENCE_TAGS = [
  'request',
  'untrusted',
  'reviewer_feedback',
  'current_diff',
  'last_report',
  'repo_context',
  'state_context',
  'tool_output',
  'system',
  'instructions',
];
const FENCE_RE = new RegExp(`<(\\/?)\\s*(${FENCE_TAGS.join('|')})\\b`, 'gi');

export function sanitizeUntrusted(input: string, opts: SanitizeOptions = {}): SanitizeResult {
  const maxChars = opts.maxChars ?? DEFAULT_MAX_REQUEST_CHARS;
  const removed = { htmlComments: 0, invisibleChars: 0, fenceBreakers: 0 };
  let text = input.replace(/\r\n?/g, '\n');

  // HTML comments are invisible in rendered markdown; an unterminated one hides everything after it.
  text = text.replace(/<!--[\s\S]*?(?:-->|$)/g, () => {
    removed.htmlComments += 1;
    return '';
  });
  text = text.replace(INVISIBLE_CHARS, () => {
    removed.invisibleChars += 1;
    return '';
  });
  // Removing characters can re-form a comment opener (`<!\u200B--`): strip again until stable.
  while (/<!--/.test(text)) {
    text = text.replace(/<!--[\s\S]*?(?:-->|$)/g, () => {
      removed.htmlComments += 1;
      return '';
    });
  }
  text = (opts.redactor ?? processRedactor()).redact(text);
  text = text.replace(FENCE_RE, (_m, slash: string, tag: string) => {
    removed.fenceBreakers += 1;
    return `‹${slash}${tag}`;
  });
  // Triple backticks could close a markdown fence around this text in a rendered report.
  text = text.replace(/`{3,}/g, (m) => {
    removed.fenceBreakers += 1;
    return m.replace(/`/g, 'ˋ');
  });

  let truncated = false;
  if (text.length > maxChars) {
    const cut = text.length - maxChars;
    text = `${text.slice(0, maxChars)}\n[… cut: ${cut} more characters were not included]`;
    truncated = true;
  }
  return { text: text.trim(), removed, truncated };
}

/** Wrap sanitized text in a named fence; the note (ours, trusted) says what it is and that it is data. */
export function fence(tag: string, text: string, note: string): string {
  return `<${tag} note="${note.replace(/"/g, "'")}">\n${text}\n</${tag}>`;
}
