// Warm /tmp caches for sandboxed tools. A sandbox's /tmp is a fresh tmpfs, so whatever a tool caches there is rebuilt
// at every start: checkov's HCL parser (python-hcl2 on lark, `cache=True`) compiles its grammar into
// /tmp/.lark_cache_*.tmp — about a CPU-second per checkov process, twice per checks pass, and most of what the sandbox
// cost the checks stage (bench/README.md). A warm-up runs the tool with its version flag inside the sandbox — no
// repository content, no network, only the pinned tool and a fresh dir of the App's cache dir as its TMPDIR — and the
// regular files it left there are bound read-only into every later sandbox's /tmp. What is in them is a function of
// the pinned tool alone: no run writes them (read-only inside), no other user can (cache-dir.ts). Kept per tool
// binary (path, size, mtime), so processes share one warm-up and an upgraded tool gets its own.
import { createHash } from 'node:crypto';
import { lstatSync, mkdtempSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ownCacheSubdir } from './cache-dir.js';
import { run } from './exec.js';
import { toolReadPaths } from './policy.js';
import { sandboxStatus } from './status.js';

/** Files worth keeping: plain names, regular files, at most this big. */
const MAX_FILE_BYTES = 16 * 1024 * 1024;
const PLAIN_NAME = /^[A-Za-z0-9._-]+$/;
const WARM_TIMEOUT_MS = 120_000;

const warmed = new Map<string, Promise<string[]>>();

/** The regular top-level files of a warm dir (lstat: a symlink is not one). */
function filesOf(dir: string): string[] {
  const files: string[] = [];
  for (const name of readdirSync(dir)) {
    if (!PLAIN_NAME.test(name)) continue;
    const path = join(dir, name);
    const st = lstatSync(path, { throwIfNoEntry: false });
    if (st?.isFile() && st.size <= MAX_FILE_BYTES) files.push(path);
  }
  return files;
}

async function warm(tool: string, versionArgs: string[], env: Record<string, string>, key: string): Promise<string[]> {
  const parent = ownCacheSubdir('tool-tmp');
  const final = join(parent, key);
  try {
    if (statSync(final).isDirectory()) return filesOf(final);
  } catch {
    // not warmed yet
  }
  const dir = mkdtempSync(join(parent, '.warming-'));
  try {
    await run(tool, versionArgs, {
      cwd: dir,
      // The tool's /tmp is this dir (TMPDIR): the names it picks here are the ones it looks for in /tmp later.
      env: { ...env, HOME: dir, TMPDIR: dir },
      timeoutMs: WARM_TIMEOUT_MS,
      sandbox: { readOnly: toolReadPaths(tool), writable: [dir], network: { mode: 'none' }, cwd: dir },
    });
    renameSync(dir, final);
  } catch {
    // Another process won the rename (use its dir), or the tool could not even print its version (the scan itself
    // will fail with the tool's own words): no warm cache from this attempt.
    rmSync(dir, { recursive: true, force: true });
  }
  try {
    return statSync(final).isDirectory() ? filesOf(final) : [];
  } catch {
    return [];
  }
}

/**
 * The files to bind into `tool`'s sandbox /tmp (SandboxPolicy.tmpFiles), warmed once per tool binary. Empty when the
 * tool runs unsandboxed (it then has the host's /tmp), when the cache dir is not the App's, or the warm-up failed.
 */
export async function toolTmpFiles(
  tool: string,
  versionArgs: string[],
  env: Record<string, string> = {},
): Promise<string[]> {
  if ((await sandboxStatus()).mode !== 'sandboxed') return [];
  let id: string;
  try {
    const st = statSync(tool);
    id = `${tool}\0${st.size}\0${st.mtimeMs}\0${versionArgs.join('\0')}\0${process.getuid?.() ?? ''}\0${process.env['USER'] ?? ''}`;
  } catch {
    return [];
  }
  const key = createHash('sha256').update(id).digest('hex').slice(0, 24);
  let files = warmed.get(key);
  if (!files) {
    files = warm(tool, versionArgs, env, key).catch(() => []);
    warmed.set(key, files);
  }
  // A file removed since (a cache cleaner) is dropped rather than failing the bind.
  return (await files).filter((f) => statSync(f, { throwIfNoEntry: false })?.isFile() === true);
}
