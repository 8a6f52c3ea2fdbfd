// The one way untrusted text reaches GitHub Markdown: a model's summary, an issue title, scanner messages, terraform
// diagnostics and plan text, git author names. The output renders as exactly the input text (as the GFM parser in
// markdown.ts reads it): every ASCII punctuation character that can start anything is backslash-escaped, which
// CommonMark defines as a literal for all of them, so no HTML (a tag with attributes, a comment, an App marker), no link, emphasis, table, fence,
// heading or list can start; leading indentation is dropped (no indented code); newlines are kept as hard breaks.
// Two things GitHub does after Markdown are disarmed with an invisible U+200B: `@user`/`@org/team` mentions and
// `#123` references (which "Closes #123" would turn into a closing keyword). Bidi controls and other invisible
// characters are removed, secrets redacted, and the length bounded before escaping so a cut never splits an escape.
// The property test (test/markdown/text.test.ts) parses what these functions produce with the same parser.
import { redact } from '../util/redact.js';

/** Zero-width and invisible formatting characters, bidi controls, the tag block, C0/C1 controls except \t and \n. */
export const INVISIBLE_CHARS =
  /[\u00AD\u061C\u115F\u1160\u17B4\u17B5\u200B-\u200F\u202A-\u202E\u2060-\u206F\u3164\uFEFF\uFFA0\uFFF9-\uFFFB]|\u034F|[\u180B-\u180F]|[\uFE00-\uFE0F]|[\u{E0000}-\u{E007F}]|[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]/gu;

/** What GitHub must not see as a mention or an issue reference gets this after its `@` or `#`. */
const ZWSP = '\u200B';
const CUT = '[… cut]';

export interface TextOptions {
  /** Characters of input kept (default 6,000); longer text is cut and says so. */
  max?: number;
}

/** Redacted, newline-normalised, without invisible characters, bounded. Not yet escaped. */
function clean(text: string, max: number): string {
  let out = redact(text.replace(/\r\n?/g, '\n')).replace(INVISIBLE_CHARS, '');
  if (out.length > max) out = `${out.slice(0, max).trimEnd()} ${CUT}`;
  return out;
}

/** One line of text as inline Markdown that renders as itself. */
function escapeLine(line: string): string {
  return (
    line
      .trim()
      .replace(/\t/g, ' ')
      // Every ASCII punctuation character CommonMark lets us escape, except those that start nothing anywhere
      // (`,` `;` `?` `'` `"` `%` `/`) or only at a line's start: kept bare so the source stays readable. `-`, `+`, `=`
      // start something only there (a list, a thematic break, a setext heading); a `.` only after leading digits
      // (an ordered list) and in `www.`: an autolink started there in the source would swallow the next escape's
      // backslash (the `:` of `://` is escaped for `https://`). URLs still end up linked — GFM links them in the resolved text too —
      // and a link's text is the text.
      .replace(/[!#$&()*<>@[\\\]^_`{|}~]/g, (c) => `\\${c}`)
      .replace(/:(?=\/\/)/g, '\\:')
      .replace(/^[-+=]/, (c) => `\\${c}`)
      .replace(/^(\d{1,9})\.(?=[ \t]|$)/, '$1\\.')
      .replace(/(www)\./gi, '$1\\.')
      .replace(/\\@(?=[\p{L}\p{N}])/gu, `\\@${ZWSP}`)
      .replace(/\\#(?=\p{N})/gu, `\\#${ZWSP}`)
  );
}

/** One line: for table cells, headings, list items and sentences the App writes around it. */
export function renderInline(text: string, opts: TextOptions = {}): string {
  return escapeLine(clean(text, opts.max ?? 6_000).replace(/\n+/g, ' '));
}

/** Paragraphs and line breaks as written; every line visible as text. */
export function renderText(text: string, opts: TextOptions = {}): string {
  const paragraphs: string[][] = [[]];
  for (const line of clean(text, opts.max ?? 6_000).split('\n')) {
    const escaped = escapeLine(line);
    const current = paragraphs.at(-1) ?? [];
    if (escaped) current.push(escaped);
    else if (current.length > 0) paragraphs.push([]);
  }
  return paragraphs
    .filter((p) => p.length > 0)
    .map((p) => p.join('\\\n'))
    .join('\n\n');
}

/** renderText inside a block quote: the way the App shows words that are not its own. */
export function renderQuoted(text: string, opts: TextOptions = {}): string {
  const body = renderText(text, opts);
  if (!body) return '';
  return body
    .split('\n')
    .map((l) => (l ? `> ${l}` : '>'))
    .join('\n');
}

/**
 * An inline code span holding the text literally (a resource address, a file path): no markup and no mentions are
 * processed inside code. In a table cell GFM still splits on `|`, so `inTable` escapes it there.
 */
export function renderCode(text: string, opts: TextOptions & { inTable?: boolean } = {}): string {
  let value = clean(text, opts.max ?? 500).replace(/\s+/g, ' ');
  if (opts.inTable) value = value.replace(/\|/g, '\\|');
  const longest = Math.max(0, ...[...value.matchAll(/`+/g)].map((m) => m[0].length));
  const fence = '`'.repeat(longest + 1);
  const pad = value.startsWith('`') || value.endsWith('`') || /^ .* $/.test(value) ? ' ' : '';
  return value ? `${fence}${pad}${value}${pad}${fence}` : '';
}

/** Redacted, bounded, no invisible characters, and nothing GitHub turns into a mention or an issue reference. */
function disarm(text: string): string {
  return text.replace(/@(?=[\p{L}\p{N}])/gu, `@${ZWSP}`).replace(/#(?=\p{N})/gu, `#${ZWSP}`);
}

/**
 * Plain-text fields GitHub does not render as Markdown but still links (commit messages, PR titles, check-run
 * annotation titles): one line.
 */
export function plainLine(text: string, max = 200): string {
  return disarm(clean(text, max).replace(/\s+/g, ' ').trim());
}

/** Plain-text fields that keep their lines (check-run annotation messages). */
export function plainText(text: string, max = 4_000): string {
  return disarm(clean(text, max).trim());
}
