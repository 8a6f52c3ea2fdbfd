// #18: the import rules of the README's architecture section, as dependency-cruiser checks them (`npm run deps`).
// The repository passes them; a small tree that breaks each rule once fails with that rule's name, so the check is
// shown to catch what it claims (a cycle, src/ importing devtools/, an arrow up a layer).
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { projectRoot } from '../../src/toolchain/tools.js';

const root = projectRoot();
const CONFIG = join(root, '.dependency-cruiser.cjs');
const DEPCRUISE = join(root, 'node_modules', '.bin', 'depcruise');

const Result = z.object({
  summary: z.object({
    error: z.number(),
    violations: z.array(z.object({ rule: z.object({ name: z.string() }), from: z.string(), to: z.string() })),
  }),
});

async function cruise(cwd: string): Promise<z.infer<typeof Result>['summary']> {
  // The CLI exits non-zero when it finds errors; the JSON report is on stdout either way.
  const { stdout } = await promisify(execFile)(
    DEPCRUISE,
    ['--config', CONFIG, '--output-type', 'json', 'src', 'devtools'],
    { cwd, maxBuffer: 64 * 1024 * 1024 },
  ).catch((e: unknown) => {
    const out = z.object({ stdout: z.string() }).safeParse(e);
    if (out.success && out.data.stdout) return { stdout: out.data.stdout };
    throw e;
  });
  return Result.parse(JSON.parse(stdout)).summary;
}

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

describe('the dependency rules', () => {
  it('hold for the repository: no cycle, no arrow up a layer, nothing in src/ imports devtools/', async () => {
    const summary = await cruise(root);
    expect(summary.violations.map((v) => `${v.rule.name}: ${v.from} → ${v.to}`)).toEqual([]);
    expect(summary.error).toBe(0);
  });

  it('fail, each under its own name, on a tree that breaks them', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'infra-agent-deps-'));
    dirs.push(dir);
    const files: Record<string, string> = {
      // core imports the store
      'src/core/types.ts': "import type { S } from '../store/types.js';\nexport type T = S;\n",
      'src/store/types.ts': 'export type S = string;\n',
      // the GitHub writes adapter calls up into a run; apply reaches into github/
      'src/github/write.ts': "import { run } from '../pipeline/run.js';\nexport const w = run;\n",
      'src/pipeline/run.ts': 'export const run = 1;\n',
      'src/apply/apply.ts': "import { w } from '../github/write.js';\nexport const a = w;\n",
      // two modules import each other
      'src/policy/a.ts': "import { b } from './b.js';\nexport const a = () => b;\n",
      'src/policy/b.ts': "import { a } from './a.js';\nexport const b = () => a;\n",
      // folders import each other without a module cycle
      'src/repo/x.ts': "import { y } from '../config/y.js';\nexport const x = y;\n",
      'src/config/y.ts': "import { z } from '../repo/z.js';\nexport const y = z;\n",
      'src/repo/z.ts': 'export const z = 1;\n',
      // the product loads a test double
      'src/cli/demo.ts': "import { d } from '../../devtools/demo.js';\nexport const c = d;\n",
      'devtools/demo.ts': 'export const d = 1;\n',
    };
    for (const [path, text] of Object.entries(files)) {
      await mkdir(dirname(join(dir, path)), { recursive: true });
      await writeFile(join(dir, path), text);
    }
    const summary = await cruise(dir);
    const broken = new Set(summary.violations.map((v) => v.rule.name));
    for (const rule of [
      'core-imports-nothing',
      'github-not-up',
      'apply-through-its-port',
      'no-circular',
      'no-folder-circular',
      'src-not-to-devtools',
    ])
      expect(broken, rule).toContain(rule);
    expect(summary.error).toBeGreaterThan(0);
  });
});
