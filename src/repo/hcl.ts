// Parsing one Terraform file. @cdktf/hcl2json gives the body as JSON but no positions, so a small scanner over the
// source (aware of strings, template interpolations, heredocs and comments) finds every block with its 1-based line
// span. Parse errors from hcl2json are mapped back to the real file and line. hcl2json (Go in WebAssembly) is loaded
// on the first parse, not on import: a process that never parses (the web role, a fully cached index) never loads it.

export interface HclBlock {
  kind:
    | 'resource'
    | 'data'
    | 'module'
    | 'variable'
    | 'output'
    | 'provider'
    | 'terraform'
    | 'locals'
    | 'moved'
    | 'import'
    | 'check'
    | string;
  labels: string[];
  line: number;
  endLine: number;
}

/** A block anywhere in the file, with its nested blocks and attributes (for locating findings). */
export interface HclBlockNode extends HclBlock {
  children: HclBlockNode[];
  attributes: HclAttribute[];
}

export interface HclAttribute {
  name: string;
  line: number;
  endLine: number;
}

export interface ParsedHclFile {
  /** Path as given. */
  file: string;
  /** hcl2json output. */
  body: Record<string, unknown>;
  /** Top-level blocks with 1-based lines. */
  blocks: HclBlock[];
  /** The same blocks with their nested blocks and attributes (for locating findings and nested settings). */
  tree: HclBlockNode[];
  source: string;
}

export interface HclErrorDetail {
  line: number;
  column?: number;
  message: string;
}

/** Invalid HCL. `message` is "file:line: message"; `errors` lists every problem hcl2json reported. */
export class HclParseError extends Error {
  override readonly name = 'HclParseError';
  readonly file: string;
  readonly line: number;
  readonly column?: number;
  readonly errors: HclErrorDetail[];
  constructor(file: string, errors: HclErrorDetail[]) {
    const first = errors[0] ?? { line: 1, message: 'invalid HCL' };
    super(`${file}:${first.line}: ${first.message}`);
    this.file = file;
    this.line = first.line;
    if (first.column !== undefined) this.column = first.column;
    this.errors = errors.length > 0 ? errors : [first];
  }
}

// hcl2json is given this name instead of the real one so that its error text can be split reliably whatever
// characters the real path contains.
const PARSE_NAME = '__infra_agent__.tf';
const MAX_ERROR_MESSAGE = 500;

/** Splits "parse config: [f.tf:2,7-3,1: Summary; Detail f.tf:3,2-4,1: …]" into located errors. */
export function parseHcl2jsonError(text: string, name = PARSE_NAME): HclErrorDetail[] {
  const escaped = name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const marker = new RegExp(`${escaped}:(\\d+),(\\d+)(?:-\\d+(?:,\\d+)?)?: `, 'g');
  const hits = [...text.matchAll(marker)];
  const errors: HclErrorDetail[] = [];
  for (let i = 0; i < hits.length; i++) {
    const hit = hits[i];
    if (!hit || hit.index === undefined) continue;
    const start = hit.index + hit[0].length;
    const end = hits[i + 1]?.index ?? text.length;
    let message = text.slice(start, end).trim();
    if (i === hits.length - 1) message = message.replace(/\]\s*$/, '').trim();
    if (message.length > MAX_ERROR_MESSAGE) message = `${message.slice(0, MAX_ERROR_MESSAGE)}…`;
    errors.push({ line: Number(hit[1]), column: Number(hit[2]), message });
  }
  if (errors.length === 0) {
    const message =
      text
        .replace(/^parse config:\s*/, '')
        .replace(/^\[|\]$/g, '')
        .trim() || 'invalid HCL';
    errors.push({ line: 1, message: message.slice(0, MAX_ERROR_MESSAGE) });
  }
  return errors;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

let hcl2json: Promise<typeof import('@cdktf/hcl2json')> | undefined;
const loadHcl2json = () => {
  hcl2json ??= import('@cdktf/hcl2json');
  return hcl2json;
};

/** Parses one `.tf` file. Throws HclParseError (never anything else) for invalid HCL. */
export async function parseHclFile(file: string, content: string): Promise<ParsedHclFile> {
  const { parse } = await loadHcl2json();
  let body: unknown;
  try {
    body = await parse(PARSE_NAME, content);
  } catch (err) {
    throw new HclParseError(file, parseHcl2jsonError(err instanceof Error ? err.message : String(err)));
  }
  if (!isRecord(body)) throw new HclParseError(file, [{ line: 1, message: 'hcl2json returned no object' }]);
  const tree = scanBlocks(content);
  const blocks = tree.map(({ kind, labels, line, endLine }) => ({ kind, labels, line, endLine }));
  return { file, body, blocks, tree, source: content };
}

// ---- The scanner ---------------------------------------------------------------------------------------------------

type TokenType = 'ident' | 'string' | 'heredoc' | 'open' | 'close' | 'eq' | 'newline' | 'other';

interface Token {
  type: TokenType;
  /** For ident: the name; for string: the raw content between quotes; for open/close: the bracket. */
  value: string;
  line: number;
  endLine: number;
}

const IDENT_START = /[A-Za-z_]/;
const IDENT_PART = /[A-Za-z0-9_-]/;

/** Tokenizes just enough of HCL to find block structure; tolerant of anything it does not understand. */
function tokenize(src: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  let line = 1;
  const n = src.length;

  // Skips a quoted string starting after its opening quote; returns the index after the closing quote.
  const skipQuoted = (start: number): number => {
    let j = start;
    while (j < n) {
      const c = src[j];
      if (c === '\\') {
        j += 2;
        continue;
      }
      if (c === '"') return j + 1;
      if (c === '\n') return j; // quoted strings cannot span lines outside templates; recover
      if ((c === '$' || c === '%') && src[j + 1] === '{') {
        if (src[j - 1] === c && src[j - 2] !== c) {
          // "$${" / "%%{" is an escaped literal, not a template
          j += 2;
          continue;
        }
        j = skipTemplate(j + 2);
        continue;
      }
      j++;
    }
    return j;
  };

  // Skips a template interpolation body (after "${"), which may hold nested strings and braces.
  const skipTemplate = (start: number): number => {
    let depth = 1;
    let j = start;
    while (j < n && depth > 0) {
      const c = src[j];
      if (c === '"') {
        j = skipQuoted(j + 1);
        continue;
      }
      if (c === '\n') line++;
      if (c === '{') depth++;
      else if (c === '}') depth--;
      j++;
    }
    return j;
  };

  while (i < n) {
    const c = src[i] as string;
    const startLine = line;
    if (c === '\n') {
      tokens.push({ type: 'newline', value: '\n', line, endLine: line });
      line++;
      i++;
      continue;
    }
    if (c === ' ' || c === '\t' || c === '\r') {
      i++;
      continue;
    }
    if (c === '#' || (c === '/' && src[i + 1] === '/')) {
      while (i < n && src[i] !== '\n') i++;
      continue;
    }
    if (c === '/' && src[i + 1] === '*') {
      const end = src.indexOf('*/', i + 2);
      const stop = end === -1 ? n : end + 2;
      for (let j = i; j < stop; j++) if (src[j] === '\n') line++;
      i = stop;
      continue;
    }
    if (c === '"') {
      const end = skipQuoted(i + 1);
      const closed = src[end - 1] === '"' && end - 1 > i;
      const value = src.slice(i + 1, closed ? end - 1 : end);
      tokens.push({ type: 'string', value, line: startLine, endLine: line });
      i = end;
      continue;
    }
    if (c === '<' && src[i + 1] === '<') {
      const m = /^<<(-?)([A-Za-z_][A-Za-z0-9_-]*)[ \t]*\r?\n/.exec(src.slice(i, i + 200));
      if (m) {
        const marker = m[2] as string;
        let j = i + m[0].length;
        line++;
        // The closing marker is alone on its line (leading whitespace allowed).
        while (j < n) {
          const eol = src.indexOf('\n', j);
          const lineEnd = eol === -1 ? n : eol;
          const text = src.slice(j, lineEnd).replace(/\r$/, '').trim();
          if (text === marker) {
            j = lineEnd;
            break;
          }
          if (eol === -1) {
            j = n;
            break;
          }
          line++;
          j = eol + 1;
        }
        tokens.push({ type: 'heredoc', value: marker, line: startLine, endLine: line });
        i = j;
        continue;
      }
    }
    if (IDENT_START.test(c)) {
      let j = i + 1;
      while (j < n && IDENT_PART.test(src[j] as string)) j++;
      tokens.push({ type: 'ident', value: src.slice(i, j), line, endLine: line });
      i = j;
      continue;
    }
    if (c === '{' || c === '[' || c === '(') {
      tokens.push({ type: 'open', value: c, line, endLine: line });
      i++;
      continue;
    }
    if (c === '}' || c === ']' || c === ')') {
      tokens.push({ type: 'close', value: c, line, endLine: line });
      i++;
      continue;
    }
    if (c === '=') {
      const next = src[i + 1];
      const prev = src[i - 1];
      if (next === '=' || next === '>') {
        tokens.push({ type: 'other', value: src.slice(i, i + 2), line, endLine: line });
        i += 2;
        continue;
      }
      const isCompare = prev === '!' || prev === '<' || prev === '>' || prev === '=';
      tokens.push({ type: isCompare ? 'other' : 'eq', value: '=', line, endLine: line });
      i++;
      continue;
    }
    tokens.push({ type: 'other', value: c, line, endLine: line });
    i++;
  }
  return tokens;
}

/**
 * Every block of the file (top-level, each with nested `children`) and the attributes of each, with 1-based lines.
 * Works on any input; on invalid HCL the result is a best effort.
 */
export function scanBlocks(source: string): HclBlockNode[] {
  const tokens = tokenize(source);
  let p = 0;

  const skipNewlines = () => {
    while (tokens[p]?.type === 'newline') p++;
  };

  // Consumes an expression: up to a newline at bracket depth 0, or up to (not including) a "}" closing the body.
  const skipExpression = (): number => {
    let depth = 0;
    let lastLine = tokens[p]?.line ?? 1;
    while (p < tokens.length) {
      const t = tokens[p] as Token;
      if (t.type === 'newline' && depth === 0) break;
      if (t.type === 'open') depth++;
      if (t.type === 'close') {
        if (depth === 0) break;
        depth--;
      }
      lastLine = t.endLine;
      p++;
    }
    return lastLine;
  };

  // Parses a block body until its closing "}" (consumed). Returns the closing line.
  const parseBody = (into: HclBlockNode[], attrs: HclAttribute[], topLevel: boolean): number => {
    while (p < tokens.length) {
      skipNewlines();
      const t = tokens[p];
      if (!t) break;
      if (t.type === 'close') {
        p++;
        if (!topLevel) return t.line;
        continue; // a stray "}" at top level: skip it
      }
      if (t.type === 'ident') {
        const next = tokens[p + 1];
        if (next?.type === 'eq') {
          p += 2;
          const endLine = skipExpression();
          attrs.push({ name: t.value, line: t.line, endLine: Math.max(endLine, t.line) });
          continue;
        }
        // A block: identifier, labels (quoted or bare), then "{".
        let q = p + 1;
        const labels: string[] = [];
        while (tokens[q]?.type === 'string' || tokens[q]?.type === 'ident') {
          labels.push((tokens[q] as Token).value);
          q++;
        }
        const open = tokens[q];
        if (open?.type === 'open' && open.value === '{') {
          p = q + 1;
          const node: HclBlockNode = {
            kind: t.value,
            labels,
            line: t.line,
            endLine: t.line,
            children: [],
            attributes: [],
          };
          node.endLine = parseBody(node.children, node.attributes, false);
          into.push(node);
          continue;
        }
      }
      // Something unexpected: skip to the next line to resynchronise.
      skipExpression();
      const stop = tokens[p];
      if (stop?.type === 'close' && topLevel) p++;
    }
    return tokens[tokens.length - 1]?.endLine ?? 1;
  };

  const top: HclBlockNode[] = [];
  parseBody(top, [], true);
  return top;
}

// ---- Locating things for findings ------------------------------------------------------------------------------------

/** The first 1-based line (within [from, to], inclusive) whose text satisfies the predicate. */
export function findLine(
  source: string,
  predicate: (text: string, line: number) => boolean,
  opts: { from?: number; to?: number } = {},
): number | undefined {
  const lines = source.split('\n');
  const from = Math.max(1, opts.from ?? 1);
  const to = Math.min(lines.length, opts.to ?? lines.length);
  for (let ln = from; ln <= to; ln++) {
    if (predicate(lines[ln - 1] ?? '', ln)) return ln;
  }
  return undefined;
}

/** A top-level block by kind and labels, e.g. findBlock(nodes, 'resource', ['aws_security_group', 'web']). */
export function findBlock(blocks: HclBlockNode[], kind: string, labels: string[]): HclBlockNode | undefined {
  return blocks.find((b) => b.kind === kind && labels.every((l, i) => b.labels[i] === l));
}

/**
 * The line of a nested block or attribute inside a block, by path: e.g. ['ingress'] finds the first `ingress`
 * block (or `ingress = …` attribute), ['ingress', 'cidr_blocks'] an attribute inside it.
 */
export function findNestedLine(block: HclBlockNode, path: string[]): number | undefined {
  let node: HclBlockNode = block;
  for (let i = 0; i < path.length; i++) {
    const name = path[i] as string;
    // `dynamic "ingress" { content { … } }` counts as an ingress block.
    const child = node.children.find((c) => c.kind === name || (c.kind === 'dynamic' && c.labels[0] === name));
    if (child) {
      if (i === path.length - 1) return child.line;
      node = child;
      continue;
    }
    const attr = node.attributes.find((a) => a.name === name);
    return attr && i === path.length - 1 ? attr.line : undefined;
  }
  return node.line;
}
