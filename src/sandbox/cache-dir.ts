// The App's own cache dir, shared by its processes on this machine: $INFRA_AGENT_CACHE_DIR, else
// $XDG_CACHE_HOME/infra-agent, else ~/.cache/infra-agent. What the sandboxes get from it (a tool's warm /tmp files,
// the provider cache) is bound read-only and was written by the App outside any sandbox run of repository code, so
// the dir must be the App's alone: owned by its user, writable by nobody else. A dir that is not is refused.
import { mkdirSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { protectedPathList } from './policy.js';

export const CACHE_DIR_ENV = 'INFRA_AGENT_CACHE_DIR';

export class CacheDirError extends Error {
  override readonly name = 'CacheDirError';
}

export function appCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const own = env[CACHE_DIR_ENV];
  if (own) return resolve(own);
  const xdg = env['XDG_CACHE_HOME'];
  return join(xdg ? resolve(xdg) : join(homedir(), '.cache'), 'infra-agent');
}

/** A dir we trust to hold what sandboxes read: ours, not writable by group or others. */
function assertOwn(path: string): void {
  const st = statSync(path);
  const uid = process.getuid?.();
  if (!st.isDirectory()) throw new CacheDirError(`${path} is not a directory`);
  if (uid !== undefined && st.uid !== uid) {
    throw new CacheDirError(`${path} belongs to uid ${st.uid}, not to the App's user (${uid}): refusing to trust it`);
  }
  if ((st.mode & 0o022) !== 0) {
    throw new CacheDirError(
      `${path} is writable by other users (mode ${(st.mode & 0o777).toString(8)}): refusing to trust it; chmod 700 it`,
    );
  }
}

/** `<cache dir>/<name>`, created 0700 when missing; throws CacheDirError when it or the cache dir is not the App's. */
export function ownCacheSubdir(name: string, env: NodeJS.ProcessEnv = process.env): string {
  const base = appCacheDir(env);
  // Its files are bound into sandboxes: it must not be, or hold, the App's data dir or key file.
  for (const p of protectedPathList()) {
    if (p === base || p.startsWith(`${base}/`) || base.startsWith(`${p}/`)) {
      throw new CacheDirError(`the cache dir ${base} overlaps the App's ${p}: set ${CACHE_DIR_ENV} elsewhere`);
    }
  }
  mkdirSync(base, { recursive: true, mode: 0o700 });
  assertOwn(base);
  const dir = join(base, name);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  assertOwn(dir);
  return dir;
}
