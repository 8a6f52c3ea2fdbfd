// The Terraform inventory of a repository: every `.tf` / `.tf.json` file parsed into resources, data sources, module
// calls, variables, outputs, providers and backends, each with its file and line, plus the root modules. Facts are
// cached by content hash, so an unchanged file is never parsed twice; a file that does not parse is reported
// (`file:line: message`) and does not stop the rest. Repo files are untrusted: symlinks never lead out of the root,
// huge files and huge trees are bounded.
import { createHash } from 'node:crypto';
import { type Dirent, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { lstat, readdir, readFile, realpath, stat } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { z } from 'zod';
import { type HclBlockNode, HclParseError, type ParsedHclFile, parseHclFile } from './hcl.js';

// ---- The inventory ------------------------------------------------------------------------------------------------

export interface IndexedFile {
  /** Relative to the repo root, posix separators. */
  path: string;
  sha256: string;
  bytes: number;
}

export interface Located {
  /** The directory (module) the block lives in, relative to the root, posix, '.' for the root. */
  dir: string;
  file: string;
  line: number;
}

export interface ResourceRef extends Located {
  type: string;
  name: string;
}

export interface ModuleCall extends Located {
  name: string;
  source: string;
  version?: string | undefined;
}

export interface VariableDecl extends Located {
  name: string;
  hasDefault: boolean;
  sensitive: boolean;
  type?: string | undefined;
  description?: string | undefined;
}

export interface OutputDecl extends Located {
  name: string;
  sensitive: boolean;
  description?: string | undefined;
}

export interface ProviderRef extends Located {
  /** Local name (`aws`), from `required_providers` or a `provider` block. */
  name: string;
  source?: string | undefined;
  version?: string | undefined;
  alias?: string | undefined;
  /** Where it was found: a `required_providers` entry or a `provider` configuration block. */
  kind: 'required' | 'config';
}

export interface BackendRef extends Located {
  /** `s3`, `gcs`, `local`… or `cloud` for a `cloud {}` block. */
  type: string;
}

export interface IndexError {
  file: string;
  line: number;
  message: string;
}

export interface RepoIndex {
  /** Absolute path that was indexed. */
  root: string;
  files: IndexedFile[];
  /** Dirs with a backend, a provider config or required_providers (and not only used as a local module), or declared. */
  rootModules: string[];
  resources: ResourceRef[];
  dataSources: ResourceRef[];
  modules: ModuleCall[];
  variables: VariableDecl[];
  outputs: OutputDecl[];
  providers: ProviderRef[];
  backends: BackendRef[];
  errors: IndexError[];
  stats: { parsed: number; cached: number; skipped: number };
}

// ---- Facts of one file (what the cache holds: independent of where the file is) -------------------------------

const Line = z.number().int().min(1);
const FactsSchema = z.object({
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

/** Bump when extraction changes, so persisted caches from older code are not trusted. */
const FACTS_VERSION = 1;
const CacheFileSchema = z.object({ version: z.literal(FACTS_VERSION), entries: z.record(z.string(), FactsSchema) });

/** Facts by content hash. In memory; optionally persisted as JSON between runs. */
export class IndexCache {
  private readonly entries = new Map<string, FileFacts>();
  hits = 0;
  misses = 0;

  constructor(
    private readonly file?: string,
    private readonly maxEntries = 100_000,
  ) {}

  /** Loads a persisted cache; a missing, unreadable or outdated file gives an empty cache (it is only a cache). */
  static load(path: string): IndexCache {
    const cache = new IndexCache(path);
    try {
      const parsed = CacheFileSchema.safeParse(JSON.parse(readFileSync(path, 'utf8')));
      if (parsed.success) for (const [k, v] of Object.entries(parsed.data.entries)) cache.entries.set(k, v);
    } catch {
      // no cache yet
    }
    return cache;
  }

  get size(): number {
    return this.entries.size;
  }

  get(key: string): FileFacts | undefined {
    const hit = this.entries.get(key);
    if (hit) this.hits++;
    else this.misses++;
    return hit;
  }

  set(key: string, facts: FileFacts): void {
    if (this.entries.size >= this.maxEntries && !this.entries.has(key)) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    this.entries.set(key, facts);
  }

  /** Writes the cache atomically to the path given to load() (or `path`). */
  save(path = this.file): void {
    if (!path) throw new Error('IndexCache.save: no path');
    mkdirSync(dirname(path), { recursive: true });
    const tmp = `${path}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify({ version: FACTS_VERSION, entries: Object.fromEntries(this.entries) }));
    renameSync(tmp, path);
  }
}

// ---- Extraction ----------------------------------------------------------------------------------------------------

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

async function factsOf(path: string, content: string): Promise<FileFacts> {
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

// ---- Walking the tree ----------------------------------------------------------------------------------------------

const SKIP_DIRS = new Set(['node_modules']);
const MAX_FILE_BYTES = 4 * 1024 * 1024;
const DEFAULT_MAX_FILES = 50_000;
// hcl2json runs in Go's WebAssembly runtime, which answers each call on a later event-loop turn: one call at a time
// costs ~10 ms a file, many in flight ~1 ms. So files are parsed many at a time (bench/index.ts measures it).
const DEFAULT_CONCURRENCY = 64;

function toPosix(p: string): string {
  return sep === '/' ? p : p.split(sep).join('/');
}

function isTerraformFile(name: string): boolean {
  return name.endsWith('.tf') || name.endsWith('.tf.json');
}

interface Walked {
  files: string[];
  skipped: IndexError[];
}

/** Terraform files under root (relative posix paths). Hidden dirs (.git, .terraform…) and node_modules are skipped. */
async function walk(root: string, realRoot: string, maxFiles: number, signal?: AbortSignal): Promise<Walked> {
  const out: string[] = [];
  const skipped: IndexError[] = [];
  const queue: string[] = [root];
  while (queue.length > 0) {
    signal?.throwIfAborted();
    const dir = queue.shift() as string;
    let entries: Dirent[];
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch {
      continue;
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      if (entry.name.startsWith('.') || SKIP_DIRS.has(entry.name)) continue;
      const full = join(dir, entry.name);
      if (entry.isDirectory()) {
        queue.push(full);
        continue;
      }
      if (!isTerraformFile(entry.name)) continue;
      if (entry.isSymbolicLink()) {
        // A link may point anywhere; only files that resolve inside the root are read.
        const target = await realpath(full).catch(() => undefined);
        const st = target ? await stat(target).catch(() => undefined) : undefined;
        if (!target || !st?.isFile() || !(target === realRoot || target.startsWith(`${realRoot}${sep}`))) {
          skipped.push({
            file: toPosix(relative(root, full)),
            line: 1,
            message: 'symlink leaving the repository: not read',
          });
          continue;
        }
      } else if (!entry.isFile()) {
        continue;
      }
      if (out.length >= maxFiles) {
        skipped.push({
          file: toPosix(relative(root, full)),
          line: 1,
          message: `more than ${maxFiles} Terraform files: rest not indexed`,
        });
        return { files: out, skipped };
      }
      out.push(full);
    }
  }
  return { files: out, skipped };
}

async function mapBounded<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

export interface IndexOptions {
  cache?: IndexCache;
  /** Root-module dirs declared in config (relative posix); always counted as root modules. */
  declaredProjects?: string[];
  signal?: AbortSignal;
  maxFiles?: number;
  /** Files read and parsed at once (default 64). */
  concurrency?: number;
}

export async function indexRepo(root: string, opts: IndexOptions = {}): Promise<RepoIndex> {
  const cache = opts.cache ?? new IndexCache();
  const realRoot = await realpath(root);
  const rootStat = await lstat(realRoot);
  if (!rootStat.isDirectory()) throw new Error(`${root} is not a directory`);
  const walked = await walk(realRoot, realRoot, opts.maxFiles ?? DEFAULT_MAX_FILES, opts.signal);
  // Path order, so the inventory (and anything rendered from it) is stable whatever the walk order.
  walked.files.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const stats = { parsed: 0, cached: 0, skipped: walked.skipped.length };

  const perFile = await mapBounded(walked.files, opts.concurrency ?? DEFAULT_CONCURRENCY, async (full) => {
    opts.signal?.throwIfAborted();
    const path = toPosix(relative(realRoot, full));
    const buf = await readFile(full);
    const sha256 = createHash('sha256').update(buf).digest('hex');
    const file: IndexedFile = { path, sha256, bytes: buf.length };
    if (buf.length > MAX_FILE_BYTES) {
      stats.skipped++;
      return { file, facts: undefined, tooBig: true };
    }
    const key = `${path.endsWith('.tf.json') ? 'json' : 'hcl'}:${sha256}`;
    let facts = cache.get(key);
    if (facts) stats.cached++;
    else {
      facts = await factsOf(path, buf.toString('utf8'));
      stats.parsed++;
      cache.set(key, facts);
    }
    return { file, facts, tooBig: false };
  });

  const index: RepoIndex = {
    root: realRoot,
    files: [],
    rootModules: [],
    resources: [],
    dataSources: [],
    modules: [],
    variables: [],
    outputs: [],
    providers: [],
    backends: [],
    errors: [...walked.skipped],
    stats,
  };
  for (const { file, facts, tooBig } of perFile) {
    index.files.push(file);
    if (tooBig || !facts) {
      index.errors.push({ file: file.path, line: 1, message: `larger than ${MAX_FILE_BYTES} bytes: not parsed` });
      continue;
    }
    const dirOf = dirname(file.path);
    const at = { dir: dirOf === '' ? '.' : dirOf, file: file.path };
    if (facts.error) index.errors.push({ file: file.path, line: facts.error.line, message: facts.error.message });
    for (const r of facts.resources) index.resources.push({ ...at, ...r });
    for (const d of facts.dataSources) index.dataSources.push({ ...at, ...d });
    for (const m of facts.modules) index.modules.push({ ...at, ...m });
    for (const v of facts.variables) index.variables.push({ ...at, ...v });
    for (const o of facts.outputs) index.outputs.push({ ...at, ...o });
    for (const p of facts.providers) index.providers.push({ ...at, ...p });
    for (const b of facts.backends) index.backends.push({ ...at, ...b });
  }
  index.rootModules = findRootModules(index, opts.declaredProjects ?? []);
  return index;
}

/** posix join + normalise of a local module source relative to the calling dir; undefined when it leaves the repo. */
function resolveLocalSource(dir: string, source: string): string | undefined {
  if (!source.startsWith('./') && !source.startsWith('../')) return undefined;
  const parts = dir === '.' ? [] : dir.split('/');
  for (const part of source.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (parts.length === 0) return undefined;
      parts.pop();
    } else parts.push(part);
  }
  return parts.length === 0 ? '.' : parts.join('/');
}

/**
 * Root modules: dirs with a backend (or cloud block), a provider configuration or required_providers — except dirs
 * that other dirs call as a local module (reusable modules declare required_providers too) unless they have a
 * backend. Declared projects always count.
 */
function findRootModules(index: RepoIndex, declared: string[]): string[] {
  const withBackend = new Set(index.backends.map((b) => b.dir));
  const candidates = new Set([...withBackend, ...index.providers.map((p) => p.dir)]);
  const calledLocally = new Set<string>();
  for (const m of index.modules) {
    const target = resolveLocalSource(m.dir, m.source);
    if (target !== undefined && target !== m.dir) calledLocally.add(target);
  }
  const roots = new Set<string>();
  for (const dir of candidates) if (withBackend.has(dir) || !calledLocally.has(dir)) roots.add(dir);
  // A config with only resources (providers configured implicitly) is still a root module: when nothing qualifies
  // by the rules above, every dir with .tf files that no other dir calls is one.
  if (roots.size === 0) {
    for (const f of index.files) {
      const slash = f.path.lastIndexOf('/');
      const dir = slash < 0 ? '.' : f.path.slice(0, slash);
      if (f.path.endsWith('.tf') && !calledLocally.has(dir)) roots.add(dir);
    }
  }
  for (const d of declared) roots.add(d.replace(/\/+$/, '').replace(/^\.\/(?=.)/, '') || '.');
  return [...roots].sort();
}

// ---- A bounded text summary for prompts ------------------------------------------------------------------------

function listLine(label: string, items: string[], maxItems: number, count = String(items.length)): string {
  if (items.length === 0) return `${label}: none`;
  const shown = items.slice(0, maxItems);
  const more = items.length > maxItems ? `, … ${items.length - maxItems} more` : '';
  return `${label} (${count}): ${shown.join(', ')}${more}`;
}

/** A compact summary of the inventory, at most maxChars long whatever the size of the repo. */
export function summarizeIndex(index: RepoIndex, opts: { maxChars?: number; maxItems?: number } = {}): string {
  const maxChars = opts.maxChars ?? 4000;
  const maxItems = opts.maxItems ?? 20;
  if (index.files.length === 0) return 'No Terraform files (.tf / .tf.json) in this repository.';
  const lines: string[] = [];
  lines.push(`${index.files.length} Terraform files, ${index.rootModules.length} root modules.`);
  lines.push(listLine('Root modules', index.rootModules, maxItems));
  const backends = index.backends.map((b) => `${b.dir}: ${b.type}`);
  lines.push(listLine('Backends', backends, maxItems));
  // A provider without a source is hashicorp/<name> (Terraform's implied source) unless its module says otherwise.
  const sourceOf = new Map(index.providers.filter((p) => p.source).map((p) => [`${p.dir}\u0000${p.name}`, p.source]));
  const versions = new Map<string, Set<string>>();
  for (const p of index.providers) {
    const source = p.source ?? sourceOf.get(`${p.dir}\u0000${p.name}`) ?? `hashicorp/${p.name}`;
    const set = versions.get(source) ?? new Set<string>();
    if (p.version) set.add(p.version);
    versions.set(source, set);
  }
  const providers = [...versions.entries()].map(([source, v]) =>
    v.size > 0 ? `${source} (${[...v].join('; ')})` : source,
  );
  lines.push(listLine('Providers', providers.sort(), maxItems));
  const modules = index.modules.map((m) => `${m.dir}/${m.name} ← ${m.source}${m.version ? `@${m.version}` : ''}`);
  lines.push(listLine('Module calls', modules, maxItems));
  const byType = new Map<string, number>();
  for (const r of index.resources) byType.set(r.type, (byType.get(r.type) ?? 0) + 1);
  const types = [...byType.entries()]
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .map(([t, n]) => `${t}×${n}`);
  const count = `${index.resources.length} in ${types.length} types`;
  lines.push(listLine('Resources by type', types, maxItems, count));
  const dataTypes = [...new Set(index.dataSources.map((d) => d.type))].sort();
  lines.push(listLine('Data sources', dataTypes, maxItems));
  const variables = index.variables.map(
    (v) => `${v.dir === '.' ? '' : `${v.dir}:`}${v.name}${v.sensitive ? ' (sensitive)' : ''}`,
  );
  lines.push(listLine('Variables', variables, maxItems));
  if (index.errors.length > 0) {
    lines.push(
      listLine(
        'Parse errors',
        index.errors.map((e) => `${e.file}:${e.line}: ${e.message.slice(0, 120)}`),
        5,
      ),
    );
  }
  const text = lines.join('\n');
  if (text.length <= maxChars) return text;
  const note = '\n… (summary cut)';
  return `${text.slice(0, Math.max(0, maxChars - note.length))}${note}`;
}
