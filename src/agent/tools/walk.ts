// Walking the checkout for list_files and search: never follows symlinked folders (a link could lead out of the
// checkout or loop), skips folders the agent may not see and bulky ones nobody wants in a prompt, and stops at a
// fixed number of entries so a huge repo costs the same as a big one.
import type { Dirent } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';

const SKIP_DIRS = new Set(['.git', '.terraform', 'node_modules', '.venv', '__pycache__']);

export interface WalkEntry {
  /** Path relative to the walk root's repo root (posix). */
  rel: string;
  abs: string;
  isSymlink: boolean;
}

/** Files under `absDir` (whose repo-relative path is `relDir`), depth-first in name order, at most `limit`. */
export async function walkFiles(
  absDir: string,
  relDir: string,
  limit: number,
  signal?: AbortSignal,
): Promise<{ files: WalkEntry[]; more: boolean }> {
  const files: WalkEntry[] = [];
  let more = false;
  const stack: { abs: string; rel: string }[] = [{ abs: absDir, rel: relDir === '.' ? '' : relDir }];
  while (stack.length > 0) {
    if (signal?.aborted) break;
    const dir = stack.pop();
    if (!dir) break;
    let entries: Dirent[];
    try {
      entries = await readdir(dir.abs, { withFileTypes: true });
    } catch {
      continue;
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const subdirs: { abs: string; rel: string }[] = [];
    for (const e of entries) {
      const rel = dir.rel ? `${dir.rel}/${e.name}` : e.name;
      if (e.isDirectory()) {
        if (!SKIP_DIRS.has(e.name)) subdirs.push({ abs: join(dir.abs, e.name), rel });
      } else if (e.isFile() || e.isSymbolicLink()) {
        if (files.length >= limit) {
          more = true;
          return { files, more };
        }
        if (e.name.toLowerCase().includes('.tfstate')) continue;
        files.push({ rel, abs: join(dir.abs, e.name), isSymlink: e.isSymbolicLink() });
      }
    }
    // Reverse so the stack pops them in name order.
    for (const s of subdirs.reverse()) stack.push(s);
  }
  return { files, more };
}
