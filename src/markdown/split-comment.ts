// Splitting long markdown (plan output) into GitHub comments without ever breaking a code fence: a chunk that ends
// inside a fence closes it, and the next chunk reopens it with the same opener (language tag included). Lines longer
// than a chunk are hard-wrapped. Every chunk, including its "part i of n" header, stays under the limit.

/** GitHub refuses bodies of 65,536 characters or more; leave room for headers and markers. */
export const GITHUB_BODY_LIMIT = 65_536;
export const DEFAULT_CHUNK_CHARS = 60_000;

interface Fence {
  /** The opening line as written, e.g. "```hcl" or "~~~~". */
  opener: string;
  char: '`' | '~';
  length: number;
}

function parseFenceLine(line: string): { char: '`' | '~'; length: number; info: string } | undefined {
  const m = /^ {0,3}(`{3,}|~{3,})(.*)$/.exec(line);
  if (!m?.[1]) return undefined;
  const char = m[1][0] === '`' ? '`' : '~';
  const info = m[2] ?? '';
  // A backtick fence's info string cannot contain backticks (CommonMark): then it is not a fence.
  if (char === '`' && info.includes('`')) return undefined;
  return { char, length: m[1].length, info };
}

/** Longest opener the splitter repeats at the top of a continuation chunk. */
const MAX_OPENER = 64;

/** The opener repeated in a continuation chunk: the same fence and language tag, without the rest of the info. */
function reopener(f: { char: '`' | '~'; length: number; info: string }): string {
  const lang = (f.info.trim().split(/\s+/)[0] ?? '').slice(0, 24);
  return `${f.char.repeat(Math.min(f.length, MAX_OPENER - lang.length))}${lang}`;
}

function closerFor(fence: Fence): string {
  return fence.char.repeat(fence.length);
}

/**
 * Split `text` into chunks of at most `maxChars` characters each (a chunk's fences balanced).
 * `maxChars` must leave room for one opener and one closer line; 200 is the practical minimum.
 */
export function splitMarkdown(text: string, maxChars = DEFAULT_CHUNK_CHARS): string[] {
  if (maxChars < 200) throw new Error('splitMarkdown: maxChars must be at least 200');
  const normalised = text.replace(/\r\n?/g, '\n');
  if (normalised.length <= maxChars && !unbalanced(normalised)) return [normalised];
  const chunks: string[] = [];
  let current: string[] = [];
  let size = 0;
  let fence: Fence | undefined;
  // True while the chunk holds nothing but the opener repeated from the previous chunk.
  let onlyReopener = false;

  const close = (lines: string[]) => (fence ? [...lines, closerFor(fence)] : lines);
  const flush = () => {
    chunks.push(close(current).join('\n'));
    current = fence ? [fence.opener] : [];
    size = fence ? fence.opener.length + 1 : 0;
    onlyReopener = fence !== undefined;
  };

  for (const rawLine of normalised.split('\n')) {
    // A line that could never fit is hard-wrapped; only its first piece can be a fence line.
    const room = maxChars - 2 * MAX_OPENER - 16;
    const pieces: string[] = [];
    for (let i = 0; i < rawLine.length || i === 0; i += room) pieces.push(rawLine.slice(i, i + room));
    pieces.forEach((line, index) => {
      const f = index === 0 ? parseFenceLine(line) : undefined;
      let nextFence = fence;
      if (fence === undefined && f) nextFence = { opener: reopener(f), char: f.char, length: f.length };
      else if (fence && f && f.char === fence.char && f.length >= fence.length && f.info.trim() === '')
        nextFence = undefined;
      const closerAfter = nextFence ? closerFor(nextFence).length + 1 : 0;
      const hasContent = current.length > 0 && !onlyReopener;
      if (hasContent && size + line.length + 1 + closerAfter > maxChars) flush();
      // A closing fence right after a reopened opener would make an empty block: drop both instead.
      if (onlyReopener && nextFence === undefined && fence !== undefined) {
        current = [];
        size = 0;
        onlyReopener = false;
        fence = undefined;
        return;
      }
      current.push(line);
      size += line.length + 1;
      onlyReopener = false;
      fence = nextFence;
    });
  }
  if (current.length > 0 && !onlyReopener) chunks.push(close(current).join('\n'));
  return chunks.length > 0 ? chunks : [''];
}

function unbalanced(text: string): boolean {
  let fence: Fence | undefined;
  for (const line of text.split('\n')) {
    const f = parseFenceLine(line);
    if (!f) continue;
    if (fence === undefined) fence = { opener: line, char: f.char, length: f.length };
    else if (f.char === fence.char && f.length >= fence.length && f.info.trim() === '') fence = undefined;
  }
  return fence !== undefined;
}

/** A fence opener long enough that no run of backticks inside `content` can close it. */
export function fenceFor(content: string, info = ''): { open: string; close: string } {
  let longest = 0;
  for (const m of content.matchAll(/`+/g)) longest = Math.max(longest, m[0].length);
  const ticks = '`'.repeat(Math.max(3, longest + 1));
  return { open: `${ticks}${info}`, close: ticks };
}
