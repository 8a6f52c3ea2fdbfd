// Where Terraform keeps a project's working data (TF_DATA_DIR: installed modules, provider links, backend settings),
// always outside the checkout so a committed `.terraform/` is never read. Two kinds:
// - private to one Terraform instance (one run), in a temp dir removed by dispose();
// - the project's own, REUSED across runs (#17 item 3) when the caller names the repository: kept in the App's
//   cache dir per repository + project path, held under an exclusive lock while a run uses it (another run of the
//   same project meanwhile gets a private one), and writable in the sandbox only while `init`/`workspace` run —
//   Terraform's own installer is its only writer; validate, plan, show and apply (where repository code and
//   providers run) see it read-only. The workspace it last selected is forgotten at every reuse.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import lockfile from 'proper-lockfile';
import { CacheDirError, ownCacheSubdir } from '../sandbox/cache-dir.js';

export function realOrResolved(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return resolve(path);
  }
}

/**
 * The repository a checkout is a clone of: its `origin` URL as the App's git wrote it into `.git/config` (read-only
 * in every sandbox; a pull request cannot change it), credentials stripped. Undefined without one.
 */
export function checkoutIdentity(checkout: string): string | undefined {
  let text: string;
  try {
    text = readFileSync(join(checkout, '.git', 'config'), 'utf8');
  } catch {
    return undefined;
  }
  const section = /\[remote "origin"\]([\s\S]*?)(?=^\[|(?![\s\S]))/m.exec(text)?.[1] ?? '';
  const url = /^\s*url\s*=\s*(\S+)\s*$/m.exec(section)?.[1];
  if (!url) return undefined;
  return url.replace(/^([a-z+]+:\/\/)[^@/]*@/i, '$1').replace(/\.git$/, '');
}

export class DataDirs {
  /** Per-instance parent of private data dirs and of this instance's own plugin cache. */
  private root: string | undefined;
  private readonly held = new Map<string, { path: string; release: () => void }>();

  /**
   * @param reuse the repository's identity (checkoutIdentity), or undefined for private data dirs only
   * @param checkoutOf the checkout a project dir belongs to (the project's key is its path inside it)
   */
  constructor(
    private readonly reuse: string | undefined,
    private readonly checkoutOf: (dir: string) => string,
  ) {}

  private ownRoot(): string {
    this.root ??= mkdtempSync(join(tmpdir(), 'infra-agent-tfdata-'));
    return this.root;
  }

  /** The data dir for a project dir: its reused one when it can be had, else a private one. */
  dataDir(dir: string): string {
    const real = realOrResolved(dir);
    const held = this.held.get(real);
    if (held) return held.path;
    const reused = this.reuse === undefined ? undefined : this.claim(real);
    if (reused) return reused;
    const key = createHash('sha256').update(real).digest('hex').slice(0, 16);
    const path = join(this.ownRoot(), key);
    mkdirSync(path, { recursive: true, mode: 0o700 });
    return path;
  }

  /** Whether `dir`'s data dir is a reused one (then it is read-only outside init/workspace). */
  isReused(dir: string): boolean {
    return this.held.has(realOrResolved(dir));
  }

  private claim(real: string): string | undefined {
    let base: string;
    try {
      base = ownCacheSubdir('terraform-data');
    } catch (err) {
      if (err instanceof CacheDirError) return undefined;
      throw err;
    }
    const project = relative(realOrResolved(this.checkoutOf(real)), real) || '.';
    const key = createHash('sha256').update(`${this.reuse}\0${project}`).digest('hex').slice(0, 24);
    const path = join(base, key);
    mkdirSync(path, { recursive: true, mode: 0o700 });
    let release: () => void;
    try {
      release = lockfile.lockSync(path, {
        lockfilePath: `${path}.lock`,
        realpath: false,
        stale: 60_000,
        // Lost (a blocked event loop past `stale`, a cleaned cache dir): the run goes on; never crash the App.
        onCompromised: () => {},
      });
    } catch {
      return undefined; // another run of this project holds it: this run gets a private one
    }
    // The workspace is chosen by each run (selectWorkspace), never inherited from the last one.
    rmSync(join(path, 'environment'), { force: true });
    this.held.set(real, { path, release });
    return path;
  }

  /** This instance's own plugin cache (Terraform refuses to start when the configured one is missing). */
  pluginCache(): string {
    const cache = join(this.ownRoot(), 'plugin-cache');
    if (!existsSync(cache)) mkdirSync(cache, { recursive: true, mode: 0o700 });
    return cache;
  }

  /** Releases the reused data dirs (kept for the next run) and removes the private ones. */
  dispose(): void {
    for (const { release } of this.held.values()) {
      try {
        release();
      } catch {
        // already released (a stale lock taken over): nothing to give back
      }
    }
    this.held.clear();
    if (this.root) rmSync(this.root, { recursive: true, force: true });
    this.root = undefined;
  }
}
