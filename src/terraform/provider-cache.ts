// The provider cache every run shares (#14 item 7). Parallel inits that share a writable plugin cache race (the
// tracker's most-voted complaint about other tools), and a cache a run can write lets one run's code plant a provider
// binary for the next. So the shared cache is READ-ONLY in every sandbox, and only the App fills it: under an
// exclusive lock (proper-lockfile), with a sandboxed `terraform init` of a module the App writes itself — nothing of
// any repository, just `required_providers` pinned to exact versions — into a staging dir, whose packages are then
// renamed into place one at a time (a reader sees a provider whole or not at all). Terraform verifies each package
// (registry signatures, or the operator's mirror) as it would for a run; what a repository controls is only which
// validated `host/namespace/type` and exact version are asked for.
import { existsSync, lstatSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import lockfile from 'proper-lockfile';
import { CacheDirError, ownCacheSubdir } from '../sandbox/cache-dir.js';

export interface ProviderPin {
  /** `registry.terraform.io/hashicorp/random` */
  source: string;
  /** Exact version, e.g. `3.6.2`. */
  version: string;
}

/** A source address a lock file may name (host/namespace/type) and an exact version: nothing else reaches HCL. */
const SOURCE = /^[a-z0-9][a-z0-9.-]*(?::\d{1,5})?\/[a-z0-9][a-z0-9_-]*\/[a-z0-9][a-z0-9_-]*$/;
const VERSION = /^\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?$/;

/** Terraform's name for this machine's platform (`linux_amd64`). */
export function terraformPlatform(): string {
  const arch = { x64: 'amd64', arm64: 'arm64', ia32: '386', arm: 'arm' }[process.arch as string] ?? process.arch;
  return `${process.platform}_${arch}`;
}

/** The providers a `.terraform.lock.hcl` pins, when their addresses and versions are plain; others are ignored. */
export function parseLockFile(text: string): ProviderPin[] {
  const pins: ProviderPin[] = [];
  const block = /^provider\s+"([^"]+)"\s*\{([\s\S]*?)^\}/gm;
  for (const m of text.matchAll(block)) {
    const source = (m[1] ?? '').toLowerCase();
    const version = /^\s*version\s*=\s*"([^"]+)"/m.exec(m[2] ?? '')?.[1] ?? '';
    if (SOURCE.test(source) && VERSION.test(version)) pins.push({ source, version });
  }
  return pins;
}

/** The pins of `<dir>/.terraform.lock.hcl` (a regular file only: a planted link is not followed). */
export async function lockedProviders(dir: string): Promise<ProviderPin[] | undefined> {
  const path = join(dir, '.terraform.lock.hcl');
  try {
    if (!lstatSync(path).isFile()) return undefined;
    return parseLockFile(await readFile(path, 'utf8'));
  } catch {
    return undefined;
  }
}

/** The shared cache dir, or undefined when the App's cache dir cannot be trusted (then every run has its own). */
export function sharedProviderCache(): string | undefined {
  try {
    return ownCacheSubdir('terraform-providers');
  } catch (err) {
    if (err instanceof CacheDirError) return undefined;
    throw err;
  }
}

function packageDir(cache: string, pin: ProviderPin): string {
  return join(cache, ...pin.source.split('/'), pin.version, terraformPlatform());
}

/** Whether every pin is in the cache. */
export function cacheHolds(cache: string, pins: readonly ProviderPin[]): boolean {
  return pins.every((p) => existsSync(packageDir(cache, p)));
}

/** The module a fill initialises: only the pins, each at its exact version. */
export function fillModule(pins: readonly ProviderPin[]): string {
  const lines = pins.map((p, i) => `    p${i} = { source = "${p.source}", version = "= ${p.version}" }`);
  return `terraform {\n  required_providers {\n${lines.join('\n')}\n  }\n}\n`;
}

export interface FillOptions {
  cache: string;
  pins: readonly ProviderPin[];
  /** Runs `terraform init -backend=false` in `dir` (sandboxed, no repository) with TF_PLUGIN_CACHE_DIR=`pluginCache`. */
  init: (dir: string, pluginCache: string) => Promise<void>;
}

const LOCK_WAIT = { retries: 600, factor: 1, minTimeout: 100, maxTimeout: 100 } as const;

/**
 * Puts the pins the cache lacks into it, under the cache's lock: one filler at a time; the others wait, then find
 * the packages there. Returns the pins it added.
 */
export async function fillProviderCache(opts: FillOptions): Promise<ProviderPin[]> {
  const pins = opts.pins.filter((p) => SOURCE.test(p.source) && VERSION.test(p.version));
  if (cacheHolds(opts.cache, pins)) return [];
  const release = await lockfile.lock(opts.cache, {
    lockfilePath: join(opts.cache, '.fill.lock'),
    realpath: false,
    stale: 30_000,
    retries: LOCK_WAIT,
    // Lost lock (event loop blocked past `stale`): renames stay atomic; never crash the App from a timer.
    onCompromised: () => {},
  });
  const work = mkdtempSync(join(opts.cache, '.fill-'));
  try {
    const missing = pins.filter((p) => !existsSync(packageDir(opts.cache, p)));
    if (missing.length === 0) return [];
    const module = join(work, 'module');
    const staging = join(work, 'cache');
    mkdirSync(module);
    mkdirSync(staging);
    writeFileSync(join(module, 'main.tf'), fillModule(missing));
    await opts.init(module, staging);
    const added: ProviderPin[] = [];
    for (const pin of missing) {
      const from = packageDir(staging, pin);
      if (!existsSync(from)) continue;
      const to = packageDir(opts.cache, pin);
      mkdirSync(dirname(to), { recursive: true, mode: 0o700 });
      renameSync(from, to);
      added.push(pin);
    }
    return added;
  } finally {
    rmSync(work, { recursive: true, force: true });
    await release();
  }
}

/** After an init into a run's own cache: what `<dir>/.terraform.lock.hcl` pins goes into the shared cache. */
export async function fillFromLockFile(cache: string, dir: string, init: FillOptions['init']): Promise<void> {
  const pins = await lockedProviders(dir);
  if (!pins || pins.length === 0) return;
  await fillProviderCache({ cache, pins, init }).catch(() => {
    // Not filled this time: the run already has its providers; the next cold run tries again.
  });
}
