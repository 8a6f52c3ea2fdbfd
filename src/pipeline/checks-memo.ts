// Result-level reuse of the checks inside one run: the agent's last `run_checks` pass IS the final checks when the
// checkout has not changed since. A pass's result is remembered with a digest of the checkout taken after it (fmt and
// init may write files); the next pass first digests the checkout again and, when nothing changed, answers with the
// remembered result instead of running terraform and the scanners again. The digest covers every file of the checkout
// but `.git` (path, type, executable bit, content or link target), so any edit — by the model, a tool or a person's
// push fetched later — runs the checks again. A pass whose failure may be transient (init, module guard, plan or a
// scanner failed: network, a crash) is never reused.
import { createHash } from 'node:crypto';
import type { Dirent } from 'node:fs';
import { lstat, readdir, readFile, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { ChecksResult } from '../core/types.js';

/** Stages whose failure can be the world's (registry, network, a scanner's crash), not the code's. */
const TRANSIENT_STAGES = new Set(['init', 'modules', 'plan', 'scan']);

/** sha256 over the checkout's tree, `.git` at the top excluded; entries in name order. */
export async function checkoutDigest(root: string, signal?: AbortSignal): Promise<string> {
  const hash = createHash('sha256');
  const visit = async (dir: string, rel: string): Promise<void> => {
    signal?.throwIfAborted();
    const entries: Dirent[] = await readdir(dir, { withFileTypes: true });
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      if (rel === '' && e.name === '.git') continue;
      const path = join(dir, e.name);
      const name = rel === '' ? e.name : `${rel}/${e.name}`;
      if (e.isDirectory()) {
        hash.update(`d\0${name}\0`);
        await visit(path, name);
      } else if (e.isSymbolicLink()) {
        hash.update(`l\0${name}\0${await readlink(path)}\0`);
      } else if (e.isFile()) {
        const [st, content] = await Promise.all([lstat(path), readFile(path)]);
        const exec = (st.mode & 0o111) !== 0 ? 'x' : '-';
        hash.update(`f\0${name}\0${exec}\0${content.length}\0`);
        hash.update(content);
      } else {
        hash.update(`o\0${name}\0`);
      }
    }
  };
  await visit(root, '');
  return hash.digest('hex');
}

export function reusable(result: ChecksResult): boolean {
  return !result.stages.some((s) => s.status === 'failed' && TRANSIENT_STAGES.has(s.name));
}

export interface MemoizedChecks {
  (signal?: AbortSignal): Promise<ChecksResult>;
  /** Passes answered from the remembered result / passes really run (for the run's event log and tests). */
  readonly stats: { reused: number; ran: number };
}

/** `check` with result-level reuse over the checkout at `root` (one instance per run). */
export function memoizeChecks(root: string, check: (signal?: AbortSignal) => Promise<ChecksResult>): MemoizedChecks {
  let last: { digest: string; result: ChecksResult } | undefined;
  const stats = { reused: 0, ran: 0 };
  const memo = async (signal?: AbortSignal): Promise<ChecksResult> => {
    if (last && (await checkoutDigest(root, signal)) === last.digest) {
      stats.reused++;
      return last.result;
    }
    last = undefined;
    const result = await check(signal);
    stats.ran++;
    if (reusable(result)) last = { digest: await checkoutDigest(root, signal), result };
    return result;
  };
  return Object.assign(memo, { stats });
}
