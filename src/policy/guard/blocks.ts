// What every guard rule needs: each block of a file (kind, labels, the n-th of that name, its body) in both syntaxes,
// the blocks nested in `check` blocks (scoped data sources), and where in the file a thing is, for file:line.
import { findLine, type HclBlockNode } from '../../repo/hcl.js';
import type { TreeFile, TreeModule } from '../module-tree.js';

export type Body = Record<string, unknown>;

/** Labels per top-level block kind (the rest have none: locals, terraform, removed, moved, import…). */
const LABELS: Record<string, number> = {
  resource: 2,
  data: 2,
  ephemeral: 2,
  module: 1,
  provider: 1,
  variable: 1,
  output: 1,
  check: 1,
};

export interface BlockRef {
  kind: string;
  labels: string[];
  /** Index among blocks of the same kind and labels in this file (provider "aws" twice: 0 and 1). */
  nth: number;
  body: Body;
  /** Set for blocks nested in another (a data source inside `check "x"`). */
  parent?: BlockRef;
}

export function isBody(v: unknown): v is Body {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function bodies(v: unknown): Body[] {
  if (Array.isArray(v)) return v.filter(isBody);
  return isBody(v) ? [v] : [];
}

function* labelledBlocks(kind: string, value: unknown, depth: number, labels: string[]): Generator<BlockRef> {
  if (labels.length === depth) {
    let nth = 0;
    for (const body of bodies(value)) yield { kind, labels, nth: nth++, body };
    return;
  }
  for (const group of bodies(value)) {
    for (const [label, v] of Object.entries(group)) {
      if (label === '//') continue;
      yield* labelledBlocks(kind, v, depth, [...labels, label]);
    }
  }
}

/** Every top-level block of a file body, and the data/resource blocks nested in `check` blocks. */
export function* eachBlock(body: Body): Generator<BlockRef> {
  for (const [kind, value] of Object.entries(body)) {
    if (kind === '//') continue;
    for (const ref of labelledBlocks(kind, value, LABELS[kind] ?? 0, [])) {
      yield ref;
      if (kind === 'check') {
        for (const [inner, v] of Object.entries(ref.body)) {
          if (inner !== 'data' && inner !== 'resource') continue;
          for (const nested of labelledBlocks(inner, v, 2, [])) yield { ...nested, parent: ref };
        }
      }
    }
  }
}

/** The address a finding on this block carries (module prefix included). */
export function addressOf(mod: TreeModule, ref: BlockRef): string | undefined {
  const p = mod.prefix;
  const [a, b] = ref.labels;
  switch (ref.kind) {
    case 'resource':
      return `${p}${a}.${b}`;
    case 'data':
      return `${p}data.${a}.${b}`;
    case 'ephemeral':
      return `${p}ephemeral.${a}.${b}`;
    case 'module':
      return `${p}module.${a}`;
    case 'provider': {
      const alias = typeof ref.body['alias'] === 'string' ? `.${ref.body['alias']}` : '';
      return `${p}provider.${a}${alias}`;
    }
    case 'variable':
      return `${p}var.${a}`;
    case 'output':
      return `${p}output.${a}`;
    default:
      return p ? p.replace(/\.$/, '') : undefined;
  }
}

/** The outline node of a block (the n-th of its kind and labels; inside its `check` parent when nested). */
export function nodeOf(file: TreeFile, ref: BlockRef): HclBlockNode | undefined {
  const match = (nodes: HclBlockNode[], kind: string, labels: string[], nth: number) =>
    nodes.filter((n) => n.kind === kind && labels.every((l, i) => n.labels[i] === l))[nth];
  if (ref.parent) {
    const outer = match(file.nodes, ref.parent.kind, ref.parent.labels, ref.parent.nth);
    if (!outer) return undefined;
    // In JSON the nested block is `data` → {type: {name: {...}}}: take the `data` child's span.
    return match(outer.children, ref.kind, ref.labels, ref.nth) ?? outer.children.find((c) => c.kind === ref.kind);
  }
  return match(file.nodes, ref.kind, ref.labels, ref.nth);
}

/** The first line inside the block (or the whole file) whose text contains `needle`. */
export function lineOf(file: TreeFile, node: HclBlockNode | undefined, needle: string): number | undefined {
  if (!needle) return node?.line;
  const inBlock = node
    ? findLine(file.parsed.source, (t) => t.includes(needle), { from: node.line, to: node.endLine })
    : undefined;
  return inBlock ?? (node ? undefined : findLine(file.parsed.source, (t) => t.includes(needle)));
}

/** The line of an attribute (by name) inside a block: `name =` in HCL, `"name":` in JSON. */
export function attributeLine(file: TreeFile, node: HclBlockNode | undefined, name: string): number | undefined {
  const escaped = name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const re = file.syntax === 'json' ? new RegExp(`"${escaped}"\\s*:`) : new RegExp(`(^|[\\s{,])"?${escaped}"?\\s*[=:]`);
  return findLine(file.parsed.source, (t) => re.test(t), node ? { from: node.line, to: node.endLine } : {});
}

/** Every string in a value, with the path of keys that leads to it. */
export function* stringsIn(value: unknown, path: string[] = []): Generator<{ path: string[]; value: string }> {
  if (typeof value === 'string') yield { path, value };
  else if (Array.isArray(value)) for (const v of value) yield* stringsIn(v, path);
  else if (isBody(value)) for (const [k, v] of Object.entries(value)) yield* stringsIn(v, [...path, k]);
}

/** The `${ … }` interpolations of a template string (nesting- and quote-aware); `$${` is an escape. */
export function interpolations(text: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < text.length; i++) {
    if (text[i] !== '$' || text[i + 1] !== '{') continue;
    if (text[i - 1] === '$') continue;
    const end = closing(text, i + 2, '{', '}');
    out.push(text.slice(i + 2, end));
    i = end;
  }
  return out;
}

/** Index of the bracket closing the one before `from` (quote-aware), or the text's end. */
export function closing(text: string, from: number, open: string, close: string): number {
  let depth = 1;
  let inString = false;
  for (let j = from; j < text.length; j++) {
    const c = text[j];
    if (inString) {
      if (c === '\\') j++;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') inString = true;
    else if (c === open) depth++;
    else if (c === close) {
      depth--;
      if (depth === 0) return j;
    }
  }
  return text.length;
}

/** A value is literal when it holds no interpolation, or only interpolations of string literals (`"${"x"}"`). */
export function literalString(value: unknown): string | undefined {
  if (typeof value !== 'string' || value === '') return undefined;
  if (!value.includes('${') && !value.includes('%{')) return value;
  if (value.includes('%{')) return undefined;
  let out = '';
  let i = 0;
  while (i < value.length) {
    const at = value.indexOf('${', i);
    if (at === -1 || value[at - 1] === '$') {
      out += value.slice(i);
      break;
    }
    out += value.slice(i, at);
    const end = closing(value, at + 2, '{', '}');
    const inner = value.slice(at + 2, end).trim();
    const m = /^"((?:[^"\\$]|\\.)*)"$/.exec(inner);
    if (!m) return undefined;
    out += m[1] ?? '';
    i = end + 1;
  }
  return out === '' ? undefined : out;
}
