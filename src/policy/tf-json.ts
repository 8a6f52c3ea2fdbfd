// Terraform's JSON syntax (`*.tf.json`, `*.tfvars.json`): the same configuration as HCL, so the guard must read it
// the same way. jsonc-parser gives the value and every node's offset, from which this builds the block outline
// (kind, labels, 1-based line span, attributes) the HCL scanner gives for `.tf` files; findings in JSON files then
// carry a file:line like any other. The body is shaped like hcl2json's output at the top level (kind → labels →
// list of bodies), so every reader of module-tree handles both syntaxes with one code path.
import { type Node, type ParseError, parseTree, printParseErrorCode } from 'jsonc-parser';
import { type HclBlockNode, HclParseError, type ParsedHclFile } from '../repo/hcl.js';

/** How many labels a top-level block kind has in Terraform's JSON syntax. */
const LABELS: Record<string, number> = {
  resource: 2,
  data: 2,
  module: 1,
  provider: 1,
  variable: 1,
  output: 1,
  check: 1,
  ephemeral: 2,
  action: 2,
  list: 2,
};

function lineAt(lineStarts: number[], offset: number): number {
  let lo = 0;
  let hi = lineStarts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if ((lineStarts[mid] ?? 0) <= offset) lo = mid;
    else hi = mid - 1;
  }
  return lo + 1;
}

function propertyKey(prop: Node): string | undefined {
  const key = prop.children?.[0];
  return typeof key?.value === 'string' ? key.value : undefined;
}

/** Object nodes of a JSON value that is an object or an array of objects (JSON syntax allows both for blocks). */
function objectNodes(node: Node | undefined): Node[] {
  if (!node) return [];
  if (node.type === 'object') return [node];
  if (node.type === 'array') return (node.children ?? []).filter((c) => c.type === 'object');
  return [];
}

export function parseTfJson(file: string, source: string): ParsedHclFile & { nodes: HclBlockNode[] } {
  const errors: ParseError[] = [];
  const root = parseTree(source, errors, { allowTrailingComma: false, disallowComments: true });
  const lineStarts = [0];
  for (let i = 0; i < source.length; i++) if (source[i] === '\n') lineStarts.push(i + 1);
  const line = (offset: number) => lineAt(lineStarts, offset);
  if (errors.length > 0 || !root) {
    throw new HclParseError(
      file,
      errors.length > 0
        ? errors.map((e) => ({ line: line(e.offset), message: `invalid JSON: ${printParseErrorCode(e.error)}` }))
        : [{ line: 1, message: 'empty JSON file' }],
    );
  }
  if (root.type !== 'object')
    throw new HclParseError(file, [{ line: 1, message: 'a Terraform JSON file must hold one object' }]);

  // The outline of one block body: nested objects become child blocks (kind = key), every key an attribute.
  const outline = (kind: string, labels: string[], at: Node, body: Node): HclBlockNode => {
    const node: HclBlockNode = {
      kind,
      labels,
      line: line(at.offset),
      endLine: line(body.offset + body.length),
      children: [],
      attributes: [],
    };
    for (const prop of body.children ?? []) {
      const key = propertyKey(prop);
      const value = prop.children?.[1];
      if (!key || !value) continue;
      node.attributes.push({ name: key, line: line(prop.offset), endLine: line(prop.offset + prop.length) });
      for (const obj of objectNodes(value)) node.children.push(outline(key, [], prop, obj));
    }
    return node;
  };

  const nodes: HclBlockNode[] = [];
  const body: Record<string, unknown> = {};
  for (const prop of root.children ?? []) {
    const kind = propertyKey(prop);
    const valueNode = prop.children?.[1];
    if (!kind || !valueNode || kind === '//') continue;
    const depth = LABELS[kind] ?? 0;
    // Walk `depth` levels of labels down to the block bodies, keeping hcl2json's shape: labels → [body, …].
    const walk = (n: Node, labels: string[], at: Node): unknown => {
      if (labels.length === depth) {
        const bodies = objectNodes(n);
        for (const b of bodies) nodes.push(outline(kind, labels, at, b));
        return bodies.map((b) => nodeValue(b));
      }
      const out: Record<string, unknown> = {};
      for (const obj of objectNodes(n)) {
        for (const p of obj.children ?? []) {
          const label = propertyKey(p);
          const v = p.children?.[1];
          if (!label || !v || label === '//') continue;
          const value = walk(v, [...labels, label], p);
          const prev = out[label];
          out[label] = Array.isArray(prev) && Array.isArray(value) ? [...prev, ...value] : value;
        }
      }
      return out;
    };
    const value = walk(valueNode, [], prop);
    const prev = body[kind];
    body[kind] = Array.isArray(prev) && Array.isArray(value) ? [...prev, ...value] : (prev ?? value);
  }
  const blocks = nodes.map(({ kind, labels, line: l, endLine }) => ({ kind, labels, line: l, endLine }));
  return { file, body, blocks, tree: nodes, source, nodes };
}

function nodeValue(n: Node): unknown {
  switch (n.type) {
    case 'object': {
      const out: Record<string, unknown> = {};
      for (const p of n.children ?? []) {
        const k = propertyKey(p);
        const v = p.children?.[1];
        if (k !== undefined && v) out[k] = nodeValue(v);
      }
      return out;
    }
    case 'array':
      return (n.children ?? []).map(nodeValue);
    default:
      return n.value;
  }
}

/** A `*.tfvars.json` file: one object of variable values. */
export function parseTfvarsJson(file: string, source: string): ParsedHclFile & { nodes: HclBlockNode[] } {
  const errors: ParseError[] = [];
  const root = parseTree(source, errors, { disallowComments: true });
  if (errors.length > 0 || !root || root.type !== 'object')
    throw new HclParseError(file, [{ line: 1, message: 'invalid JSON variables file' }]);
  const body: Record<string, unknown> = {};
  for (const p of root.children ?? []) {
    const k = propertyKey(p);
    const v = p.children?.[1];
    if (k !== undefined && v) body[k] = nodeValue(v);
  }
  return { file, body, blocks: [], tree: [], source, nodes: [] };
}
