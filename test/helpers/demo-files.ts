// The bundled example repository (examples/demo-repo) as path → content, to seed a GitHub stand-in repo in E2E tests.
import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { projectRoot } from '../../src/toolchain/tools.js';

export async function demoFiles(): Promise<Record<string, string>> {
  const root = join(projectRoot(), 'examples', 'demo-repo');
  const out: Record<string, string> = {};
  for (const entry of await readdir(root, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const abs = join(entry.parentPath, entry.name);
    out[relative(root, abs)] = await readFile(abs, 'utf8');
  }
  return out;
}
