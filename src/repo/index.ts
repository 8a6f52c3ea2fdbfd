// The Terraform inventory of a repository: every `.tf` / `.tf.json` file parsed into resources, data sources, module
// calls, variables, outputs, providers and backends, each with its file and line, plus the root modules. Facts are
// cached by content hash, so an unchanged file is never parsed twice; a file that does not parse is reported
// (`file:line: message`) and does not stop the rest. Repo files are untrusted: symlinks never lead out of the root,
// huge files and huge trees are bounded.
import { createHash } from 'node:crypto';
import type { Dirent } from 'node:fs';
import { lstat, readdir, readFile, realpath, stat } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { factsOf } from './facts.js';
import { IndexCache } from './index-cache.js';
import type { IndexError, IndexedFile, RepoIndex } from './inventory.js';

export type { FileFacts } from './facts.js';
export { IndexCache } from './index-cache.js';
export { summarizeIndex } from './index-summary.js';
export type * from './inventory.js';

// ---- Walking the tree ----------------------------------------------------------------------------------------------

const SKIP_DIRS = new Set(['node_modules']);
const MAX_FILE_BYTES = 4 * 1024 * 1024;
const DEFAULT_MAX_FILES = 50_000;
const RACY_MS = 2_000;
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
    const kind = path.endsWith('.tf.json') ? 'json' : 'hcl';
    // A file whose stamp (size, mtime, ctime, inode) is unchanged since the cache saw it is not even read.
    const st = await stat(full);
    const known = st.size <= MAX_FILE_BYTES ? cache.knownHash(full, st) : undefined;
    const remembered = known ? cache.get(`${kind}:${known}`) : undefined;
    if (known && remembered) {
      stats.cached++;
      return { file: { path, sha256: known, bytes: st.size }, facts: remembered, tooBig: false };
    }
    const buf = await readFile(full);
    const sha256 = createHash('sha256').update(buf).digest('hex');
    const file: IndexedFile = { path, sha256, bytes: buf.length };
    if (buf.length > MAX_FILE_BYTES) {
      stats.skipped++;
      return { file, facts: undefined, tooBig: true };
    }
    const key = `${kind}:${sha256}`;
    let facts = cache.get(key);
    if (facts) stats.cached++;
    else {
      facts = await factsOf(path, buf.toString('utf8'));
      stats.parsed++;
      cache.set(key, facts);
    }
    // Racy-git rule: a file changed within the last seconds could change again under the same mtime; not stamped.
    if (buf.length === st.size && Date.now() - st.mtimeMs > RACY_MS) cache.stamp(full, st, sha256);
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
