// The facts of one Terraform file (resources, data sources, module calls, variables, outputs, providers, backends,
// each with its line), extracted from hcl2json's JSON or a `.tf.json` file. Independent of where the file is, so the
// index cache keys them by content hash.
import { z } from 'zod';
import { type HclBlockNode, HclParseError, type ParsedHclFile, parseHclFile } from './hcl.js';

// ---- Facts of one file (what the cache holds: independent of where the file is) -------------------------------

const Line = z.number().int().min(1);
export const FactsSchema = z.object({
  resources: z.array(z.object({ type: z.string(), name: z.string(), line: Line })),
  dataSources: z.array(z.object({ type: z.string(), name: z.string(), line: Line })),
  modules: z.array(z.object({ name: z.string(), source: z.string(), version: z.string().optional(), line: Line })),
  variables: z.array(
    z.object({
      name: z.string(),
      hasDefault: z.boolean(),
      sensitive: z.boolean(),
      type: z.string().optional(),
      description: z.string().optional(),
      line: Line,
    }),
  ),
  outputs: z.array(
    z.object({ name: z.string(), sensitive: z.boolean(), description: z.string().optional(), line: Line }),
  ),
  providers: z.array(
    z.object({
      name: z.string(),
      source: z.string().optional(),
      version: z.string().optional(),
      alias: z.string().optional(),
      kind: z.enum(['required', 'config']),
      line: Line,
    }),
  ),
  backends: z.array(z.object({ type: z.string(), line: Line })),
  error: z.object({ line: Line, message: z.string() }).optional(),
});
export type FileFacts = z.infer<typeof FactsSchema>;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function asArray(v: unknown): unknown[] {
  return Array.isArray(v) ? v : v === undefined ? [] : [v];
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

/** hcl2json renders expressions as "${…}"; a type constraint `map(string)` comes back as "${map(string)}". */
function unwrapExpression(v: unknown): string | undefined {
  if (typeof v !== 'string') return undefined;
  const m = /^\$\{([\s\S]*)\}$/.exec(v);
  return m ? (m[1] ?? '').trim() : v;
}

/** The body of the `occurrence`-th block with these labels, e.g. body.resource.aws_s3_bucket.logs[0]. */
function blockBody(
  body: Record<string, unknown>,
  kind: string,
  labels: string[],
  occurrence: number,
): Record<string, unknown> {
  let node: unknown = body[kind];
  for (const label of labels) node = isRecord(node) ? node[label] : undefined;
  const item = asArray(node)[occurrence];
  return isRecord(item) ? item : {};
}

function withOptional<T extends object>(base: T, extra: Record<string, string | undefined>): T {
  // Absent stays absent (rather than `key: undefined`), so JSON and the persisted cache stay minimal.
  const out = { ...base };
  for (const [k, v] of Object.entries(extra)) if (v !== undefined) Object.assign(out, { [k]: v });
  return out;
}

/** Facts of one parsed file: blocks give names and lines, the hcl2json body gives the attribute values. */
export function extractFacts(parsed: ParsedHclFile): FileFacts {
  const facts: FileFacts = {
    resources: [],
    dataSources: [],
    modules: [],
    variables: [],
    outputs: [],
    providers: [],
    backends: [],
  };
  const seen = new Map<string, number>();
  const occurrence = (key: string) => {
    const n = seen.get(key) ?? 0;
    seen.set(key, n + 1);
    return n;
  };
  for (const block of parsed.tree) {
    const [first, second] = block.labels;
    const nth = occurrence(`${block.kind}\u0000${block.labels.join('\u0000')}`);
    const b = blockBody(parsed.body, block.kind, block.labels, nth);
    switch (block.kind) {
      case 'resource':
        if (first && second) facts.resources.push({ type: first, name: second, line: block.line });
        break;
      case 'data':
        if (first && second) facts.dataSources.push({ type: first, name: second, line: block.line });
        break;
      case 'module':
        if (first) {
          facts.modules.push(
            withOptional(
              { name: first, source: str(b['source']) ?? '', line: block.line },
              { version: str(b['version']) },
            ),
          );
        }
        break;
      case 'variable':
        if (first) {
          facts.variables.push(
            withOptional(
              { name: first, hasDefault: 'default' in b, sensitive: b['sensitive'] === true, line: block.line },
              { type: unwrapExpression(b['type']), description: str(b['description']) },
            ),
          );
        }
        break;
      case 'output':
        if (first) {
          facts.outputs.push(
            withOptional(
              { name: first, sensitive: b['sensitive'] === true, line: block.line },
              { description: str(b['description']) },
            ),
          );
        }
        break;
      case 'provider':
        if (first) {
          facts.providers.push(
            withOptional(
              { name: first, kind: 'config' as const, line: block.line },
              { alias: str(b['alias']), version: str(b['version']) },
            ),
          );
        }
        break;
      case 'terraform':
        extractTerraformBlock(block, b, facts);
        break;
    }
  }
  return facts;
}

function extractTerraformBlock(block: HclBlockNode, b: Record<string, unknown>, facts: FileFacts): void {
  const required = asArray(b['required_providers']).filter(isRecord);
  const requiredNode = block.children.find((c) => c.kind === 'required_providers');
  for (const entry of required) {
    for (const [name, spec] of Object.entries(entry)) {
      const line = requiredNode?.attributes.find((a) => a.name === name)?.line ?? requiredNode?.line ?? block.line;
      // `aws = "~> 5.0"` is the legacy form: a bare version constraint.
      const source = isRecord(spec) ? str(spec['source']) : undefined;
      const version = isRecord(spec) ? str(spec['version']) : str(spec);
      facts.providers.push(withOptional({ name, kind: 'required' as const, line }, { source, version }));
    }
  }
  for (const backends of asArray(b['backend']).filter(isRecord)) {
    for (const type of Object.keys(backends)) {
      const node = block.children.find((c) => c.kind === 'backend' && c.labels[0] === type);
      facts.backends.push({ type, line: node?.line ?? block.line });
    }
  }
  if (b['cloud'] !== undefined) {
    const node = block.children.find((c) => c.kind === 'cloud');
    facts.backends.push({ type: 'cloud', line: node?.line ?? block.line });
  }
}

/** `.tf.json`: the same structure as JSON. Lines are found by searching for the label in the source (best effort). */
export function parseTfJson(file: string, content: string): ParsedHclFile {
  let body: unknown;
  try {
    body = JSON.parse(content);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    const pos = /position (\d+)/.exec(message);
    const line = pos ? content.slice(0, Number(pos[1])).split('\n').length : 1;
    throw new HclParseError(file, [{ line, message: `invalid JSON: ${message}` }]);
  }
  if (!isRecord(body)) throw new HclParseError(file, [{ line: 1, message: 'a .tf.json file must hold an object' }]);
  const lineOf = (label: string): number => {
    const at = content.indexOf(JSON.stringify(label));
    return at < 0 ? 1 : content.slice(0, at).split('\n').length;
  };
  const tree: HclBlockNode[] = [];
  const node = (kind: string, labels: string[], line: number, children: HclBlockNode[] = []): HclBlockNode => ({
    kind,
    labels,
    line,
    endLine: line,
    children,
    attributes: [],
  });
  for (const [kind, value] of Object.entries(body)) {
    if (kind === 'resource' || kind === 'data') {
      if (!isRecord(value)) continue;
      for (const [type, byName] of Object.entries(value)) {
        if (!isRecord(byName)) continue;
        for (const name of Object.keys(byName)) tree.push(node(kind, [type, name], lineOf(name)));
      }
    } else if (['module', 'variable', 'output', 'provider'].includes(kind)) {
      if (!isRecord(value)) continue;
      for (const name of Object.keys(value)) tree.push(node(kind, [name], lineOf(name)));
    } else if (kind === 'terraform') {
      for (const _ of asArray(value)) tree.push(node('terraform', [], lineOf('terraform')));
    }
  }
  // JSON allows one object per name where HCL allows repeated blocks: normalise to hcl2json's arrays.
  const normalised: Record<string, unknown> = {};
  for (const [kind, value] of Object.entries(body)) {
    if ((kind === 'resource' || kind === 'data') && isRecord(value)) {
      normalised[kind] = Object.fromEntries(
        Object.entries(value).map(([type, byName]) => [
          type,
          isRecord(byName) ? Object.fromEntries(Object.entries(byName).map(([n, v]) => [n, asArray(v)])) : {},
        ]),
      );
    } else if (['module', 'variable', 'output', 'provider'].includes(kind) && isRecord(value)) {
      normalised[kind] = Object.fromEntries(Object.entries(value).map(([n, v]) => [n, asArray(v)]));
    } else if (kind === 'terraform') {
      normalised[kind] = asArray(value).map((t) => {
        if (!isRecord(t)) return t;
        const backend = isRecord(t['backend']) ? t['backend'] : undefined;
        return backend ? { ...t, backend: [backend] } : t;
      });
    } else {
      normalised[kind] = value;
    }
  }
  return {
    file,
    body: normalised,
    blocks: tree.map(({ kind, labels, line, endLine }) => ({ kind, labels, line, endLine })),
    tree,
    source: content,
  };
}

export async function factsOf(path: string, content: string): Promise<FileFacts> {
  try {
    const parsed = path.endsWith('.tf.json') ? parseTfJson(path, content) : await parseHclFile(path, content);
    return extractFacts(parsed);
  } catch (err) {
    if (err instanceof HclParseError) {
      const first = err.errors[0];
      return {
        resources: [],
        dataSources: [],
        modules: [],
        variables: [],
        outputs: [],
        providers: [],
        backends: [],
        error: { line: first?.line ?? err.line, message: first?.message ?? err.message },
      };
    }
    throw err;
  }
}
