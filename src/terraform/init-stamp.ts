// When `init` on a project's reused data dir (data-dirs.ts) would do nothing: the last init into that dir was for the
// same lock file, the same `terraform {}` blocks (required providers, backend, cloud) and `module {}` blocks (sources,
// versions) in every configuration file of the checkout, the same init arguments (backend config values included),
// the same environment given to Terraform and the same binary — and it linked its providers from the shared
// read-only cache, which still holds them. The stamp saying so is written by the App after init succeeded, outside
// the data dir (which the sandboxed init can write), and removed before any init starts, so it always describes the
// last init. Only a digest is kept: backend config values and credentials never reach the disk.
import { createHash } from 'node:crypto';
import { lstat, readdir, readFile, realpath, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { scanBlocks } from '../repo/hcl.js';
import { CacheDirError, ownCacheSubdir } from '../sandbox/cache-dir.js';

/** Bumped when what init depends on, as read here, changes. */
const FORMAT = 1;
/** Checkouts with more configuration files than this are always initialised (the walk would cost more than init). */
const MAX_FILES = 5000;

export interface InitInputs {
  /** The terraform binary. */
  bin: string;
  /** The checkout (every module a project can call by path is inside it). */
  checkout: string;
  /** The project dir (its lock file). */
  dir: string;
  /** init's arguments, with backend config values. */
  args: string[];
  /** The environment the init gets beyond the App's own settings (passthrough credentials, backend settings). */
  env: Record<string, string>;
}

/** What an init depends on in one configuration file: its `terraform` and `module` blocks, as written. */
function initBlocks(name: string, text: string): string {
  if (name.endsWith('.tf.json')) {
    try {
      const json: unknown = JSON.parse(text);
      if (json === null || typeof json !== 'object' || Array.isArray(json)) return text;
      return JSON.stringify([Reflect.get(json, 'terraform') ?? null, Reflect.get(json, 'module') ?? null]);
    } catch {
      return text; // not JSON: all of it counts
    }
  }
  const lines = text.split('\n');
  return scanBlocks(text)
    .filter((b) => b.kind === 'terraform' || b.kind === 'module')
    .map((b) => lines.slice(b.line - 1, b.endLine).join('\n'))
    .join('\n\0\n');
}

/** The digest of what init depends on, or undefined when it cannot be known (then init always runs). */
export async function initDigest(inputs: InitInputs): Promise<string | undefined> {
  const hash = createHash('sha256');
  hash.update(JSON.stringify([FORMAT, inputs.args, Object.entries(inputs.env).sort()]));
  const bin = await realpath(inputs.bin);
  const st = await stat(bin);
  hash.update(`\0bin\0${bin}\0${st.size}\0${st.mtimeMs}\n`);
  const lock = await readFile(join(inputs.dir, '.terraform.lock.hcl'), 'utf8').catch(() => undefined);
  if (lock === undefined) return undefined; // without a lock file init chooses provider versions
  hash.update(`\0lock\0${lock}\n`);
  let files = 0;
  const visit = async (dir: string, rel: string): Promise<boolean> => {
    for (const name of (await readdir(dir)).sort()) {
      if (rel === '' && name === '.git') continue;
      const abs = join(dir, name);
      const path = rel === '' ? name : `${rel}/${name}`;
      const s = await lstat(abs);
      if (s.isSymbolicLink()) return false; // a link could lead a module call anywhere: not worth the risk
      if (s.isDirectory()) {
        if (!(await visit(abs, path))) return false;
      } else if (s.isFile() && /\.tf(\.json)?$/.test(name)) {
        if (++files > MAX_FILES) return false;
        hash.update(`\0file\0${path}\0${initBlocks(name, await readFile(abs, 'utf8'))}\n`);
      }
    }
    return true;
  };
  return (await visit(await realpath(inputs.checkout), '')) ? hash.digest('hex') : undefined;
}

function stampFile(dataDir: string): string | undefined {
  try {
    const key = createHash('sha256').update(dataDir).digest('hex').slice(0, 24);
    return join(ownCacheSubdir('terraform-init-stamps'), `${key}.json`);
  } catch (err) {
    if (err instanceof CacheDirError) return undefined;
    throw err;
  }
}

/** Whether the last init into `dataDir` was for `digest`, with its providers linked from `cache`. */
export async function initIsCurrent(dataDir: string, digest: string, cache: string): Promise<boolean> {
  const file = stampFile(dataDir);
  if (!file) return false;
  const text = await readFile(file, 'utf8').catch(() => '');
  return text === JSON.stringify({ digest, cache });
}

/** Before an init starts: whatever it leaves behind is not what the stamp said. */
export async function forgetInit(dataDir: string): Promise<void> {
  const file = stampFile(dataDir);
  if (file) await rm(file, { force: true });
}

/** After an init that linked its providers from `cache` succeeded. */
export async function recordInit(dataDir: string, digest: string, cache: string): Promise<void> {
  const file = stampFile(dataDir);
  if (file) await writeFile(file, JSON.stringify({ digest, cache }), { mode: 0o600 });
}
