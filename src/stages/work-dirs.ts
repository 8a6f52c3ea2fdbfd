// The App's work directories in TMPDIR (or the configured work root): checkouts, plan dirs of an apply. Each is
// named with the pid of the process that made it (`infra-agent-run-<pid>-XXXXXX`), so at start a process can tell
// its own leftovers from another live worker's: a directory whose process is gone was left by a crash (it may hold a
// plan, which holds secrets) and is removed.
import { readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Kinds of work directory, each a name prefix. */
export const WORK_DIR_KINDS = ['run', 'apply'] as const;
export type WorkDirKind = (typeof WORK_DIR_KINDS)[number];

/** The mkdtemp prefix for a new work directory of this process. */
export function workDirPrefix(root: string | undefined, kind: WorkDirKind): string {
  return join(root ?? tmpdir(), `infra-agent-${kind}-${process.pid}-`);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but is not ours to signal.
    return typeof err === 'object' && err !== null && 'code' in err && err.code === 'EPERM';
  }
}

const NAMED = /^infra-agent-(run|apply)-(\d+)-[A-Za-z0-9]{6}$/;
/** Before work dirs carried a pid: removed once clearly abandoned. */
const LEGACY = /^infra-agent-(run|apply)-[A-Za-z0-9]{6}$/;
const LEGACY_AGE_MS = 24 * 3600_000;

/** Remove work directories whose process is gone (and legacy unnamed ones older than a day); returns the paths. */
export async function removeStaleWorkDirs(root: string | undefined, now = Date.now()): Promise<string[]> {
  const dir = root ?? tmpdir();
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  const removed: string[] = [];
  for (const e of entries) {
    if (!e.isDirectory()) continue;
    const named = NAMED.exec(e.name);
    let stale = false;
    if (named) {
      const pid = Number(named[2]);
      stale = pid !== process.pid && !alive(pid);
    } else if (LEGACY.test(e.name)) {
      const info = await stat(join(dir, e.name)).catch(() => undefined);
      stale = info !== undefined && now - info.mtimeMs > LEGACY_AGE_MS;
    }
    if (!stale) continue;
    await rm(join(dir, e.name), { recursive: true, force: true }).catch(() => {});
    removed.push(join(dir, e.name));
  }
  return removed;
}
