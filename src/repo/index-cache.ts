// The index's cache: a file's facts by content hash (never parsed twice), and, for a cache persisted between runs of
// the CLI, each path's size/mtime/ctime/inode with the hash they had — an unchanged file is then neither parsed nor
// even read (git's own index works this way). Persisted as one JSON file written atomically; a missing, outdated or
// unreadable file is an empty cache, and each entry is validated when first used, so a corrupt entry is re-parsed.
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { z } from 'zod';
import { FactsSchema, type FileFacts } from './facts.js';

/** Bump when extraction changes, so persisted caches from older code are not trusted. */
const FACTS_VERSION = 2;
const CacheFileSchema = z.object({
  version: z.literal(FACTS_VERSION),
  entries: z.record(z.string(), z.unknown()),
  stats: z.record(z.string(), z.unknown()).optional(),
});
const StatSchema = z.tuple([z.number(), z.number(), z.number(), z.number(), z.string().regex(/^[0-9a-f]{64}$/)]);

/** What identifies a file's content without reading it (size, mtime, ctime, inode). */
export interface FileStamp {
  size: number;
  mtimeMs: number;
  ctimeMs: number;
  ino: number;
}

export class IndexCache {
  private readonly entries = new Map<string, FileFacts>();
  /** Persisted entries not validated yet (validated on first use). */
  private readonly raw = new Map<string, unknown>();
  private readonly stamps = new Map<string, z.infer<typeof StatSchema>>();
  /** Keys and paths seen since load: what a save keeps (a persisted cache follows its repo, it does not grow). */
  private readonly usedKeys = new Set<string>();
  private readonly usedPaths = new Set<string>();
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
      if (parsed.success) {
        for (const [k, v] of Object.entries(parsed.data.entries)) cache.raw.set(k, v);
        for (const [p, v] of Object.entries(parsed.data.stats ?? {})) {
          const st = StatSchema.safeParse(v);
          if (st.success) cache.stamps.set(p, st.data);
        }
      }
    } catch {
      // no cache yet
    }
    return cache;
  }

  get size(): number {
    return this.entries.size + this.raw.size;
  }

  private lookup(key: string): FileFacts | undefined {
    const hit = this.entries.get(key);
    if (hit) return hit;
    if (!this.raw.has(key)) return undefined;
    const parsed = FactsSchema.safeParse(this.raw.get(key));
    this.raw.delete(key);
    if (!parsed.success) return undefined;
    this.entries.set(key, parsed.data);
    return parsed.data;
  }

  get(key: string): FileFacts | undefined {
    const hit = this.lookup(key);
    if (hit) {
      this.hits++;
      this.usedKeys.add(key);
    } else this.misses++;
    return hit;
  }

  set(key: string, facts: FileFacts): void {
    if (this.entries.size >= this.maxEntries && !this.entries.has(key)) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    this.entries.set(key, facts);
    this.usedKeys.add(key);
  }

  /** The content hash `path` had when it last had exactly this stamp, if it did. */
  knownHash(path: string, st: FileStamp): string | undefined {
    const s = this.stamps.get(path);
    if (!s || s[0] !== st.size || s[1] !== st.mtimeMs || s[2] !== st.ctimeMs || s[3] !== st.ino) return undefined;
    return s[4];
  }

  /** Remembers that `path` with this stamp has content `sha256`. */
  stamp(path: string, st: FileStamp, sha256: string): void {
    this.stamps.set(path, [st.size, st.mtimeMs, st.ctimeMs, st.ino, sha256]);
    this.usedPaths.add(path);
  }

  /**
   * Writes the cache atomically to the path given to load() (or `path`). Only what was used since load is kept
   * when anything was: a persisted cache describes the last tree it indexed, not every tree it ever saw.
   */
  save(path = this.file): void {
    if (!path) throw new Error('IndexCache.save: no path');
    const entries: Record<string, unknown> = {};
    const prune = this.usedKeys.size > 0;
    for (const [k, v] of this.raw) if (!prune || this.usedKeys.has(k)) entries[k] = v;
    for (const [k, v] of this.entries) if (!prune || this.usedKeys.has(k)) entries[k] = v;
    const stats: Record<string, unknown> = {};
    for (const [p, v] of this.stamps) if (this.usedPaths.size === 0 || this.usedPaths.has(p)) stats[p] = v;
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    const tmp = `${path}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify({ version: FACTS_VERSION, entries, stats }), { mode: 0o600 });
    renameSync(tmp, path);
  }
}
