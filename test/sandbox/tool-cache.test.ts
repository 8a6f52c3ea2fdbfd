// Warm /tmp files for sandboxed tools (src/sandbox/tool-cache.ts): built once by a warm-up that sees no repository,
// kept in a cache dir that must be the App's alone, and bound read-only into later sandboxes' private /tmp.
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { bwrapPath } from '../../src/sandbox/bwrap.js';
import { CacheDirError, ownCacheSubdir } from '../../src/sandbox/cache-dir.js';
import { ExecError, run } from '../../src/sandbox/exec.js';
import { protectPath, scannerPolicy } from '../../src/sandbox/policy.js';
import { toolTmpFiles } from '../../src/sandbox/tool-cache.js';
import { findTool } from '../../src/toolchain/tools.js';

const suite = bwrapPath() || process.env['CI'] ? describe : describe.skip;
if (!bwrapPath() && !process.env['CI'])
  console.warn('\n*** SKIPPED tool-cache tests: bubblewrap is not installed ***\n');

suite('warm /tmp files for sandboxed tools (real bubblewrap)', () => {
  let base: string;
  let repo: string;
  let toolDir: string;
  const saved = { ...process.env };

  beforeAll(() => {
    base = mkdtempSync(join(tmpdir(), 'tool-cache-test-'));
    repo = join(base, 'run', 'repo');
    toolDir = join(base, 'tools');
    mkdirSync(repo, { recursive: true });
    mkdirSync(toolDir);
    writeFileSync(join(repo, 'main.tf'), '# repository content\n');
  });
  afterAll(() => rmSync(base, { recursive: true, force: true }));
  afterEach(() => {
    process.env = { ...saved };
  });

  /** A tool whose "--version" caches something in $TMPDIR, saying whether it could see the repository. */
  function fakeTool(name: string): string {
    const tool = join(toolDir, name);
    writeFileSync(
      tool,
      `#!/bin/sh\nif [ -e '${repo}/main.tf' ]; then seen=repo-visible; else seen=no-repo; fi\n` +
        `echo "grammar $seen $$" > "$TMPDIR/.grammar_cache.tmp"\nln -s /etc/passwd "$TMPDIR/.link"\nmkdir "$TMPDIR/sub"\n`,
      { mode: 0o755 },
    );
    return tool;
  }

  it('warms once, without the repository, and binds the result read-only into the private /tmp', async () => {
    process.env['INFRA_AGENT_CACHE_DIR'] = join(base, 'cache-1');
    const tool = fakeTool('scanner-a');
    const files = await toolTmpFiles(tool, ['--version']);
    // Only regular files: the symlink and the dir the warm-up made are not kept.
    expect(files.map((f) => basename(f))).toEqual(['.grammar_cache.tmp']);
    const warmed = readFileSync(files[0] ?? '', 'utf8');
    expect(warmed).toMatch(/^grammar no-repo \d+\n$/);
    // Once per tool binary: a second ask reuses the same file, it does not run the tool again.
    expect(await toolTmpFiles(tool, ['--version'])).toEqual(files);
    expect(readFileSync(files[0] ?? '', 'utf8')).toBe(warmed);

    const scratch = mkdtempSync(join(base, 'scratch-'));
    const r = await run(
      '/bin/sh',
      ['-c', 'cat /tmp/.grammar_cache.tmp; echo tampered > /tmp/.grammar_cache.tmp 2>/dev/null; echo "w=$?"'],
      { sandbox: scannerPolicy({ tool: '/bin/sh', read: [repo], scratch, tmpFiles: files }) },
    );
    expect(r.stdout).toContain(warmed.trim());
    expect(r.stdout).toMatch(/w=[12]/);
    expect(readFileSync(files[0] ?? '', 'utf8')).toBe(warmed);
  });

  it('refuses a cache dir other users can write, and then warms nothing', async () => {
    const shared = join(base, 'cache-shared');
    mkdirSync(shared, { mode: 0o777 });
    chmodSync(shared, 0o777);
    process.env['INFRA_AGENT_CACHE_DIR'] = shared;
    expect(() => ownCacheSubdir('tool-tmp')).toThrow(CacheDirError);
    expect(() => ownCacheSubdir('tool-tmp')).toThrow(/writable by other users.*chmod 700/);
    expect(await toolTmpFiles(fakeTool('scanner-b'), ['--version'])).toEqual([]);
  });

  it('binds only regular files that are not the App’s own into /tmp', async () => {
    const scratch = mkdtempSync(join(base, 'scratch-'));
    const link = join(base, 'link.tmp');
    symlinkSync('/etc/hostname', link);
    const key = join(base, 'app-key.pem');
    writeFileSync(key, 'secret');
    protectPath(key);
    for (const [file, why] of [
      [link, /not a regular file/],
      [key, /refusing to expose/],
      [join(base, 'missing.tmp'), /does not exist/],
    ] as const) {
      const err = await run('/bin/true', [], {
        sandbox: scannerPolicy({ tool: '/bin/true', read: [], scratch, tmpFiles: [file] }),
      }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ExecError);
      expect((err as ExecError).reason).toBe('sandbox');
      expect((err as ExecError).message).toMatch(why);
    }
  });

  const checkov = findTool('checkov');
  (checkov ? it : it.skip)(
    "gives checkov its compiled HCL grammar (lark's cache) instead of rebuilding it",
    async () => {
      process.env['INFRA_AGENT_CACHE_DIR'] = join(base, 'cache-checkov');
      const files = await toolTmpFiles(checkov ?? '', ['--version']);
      expect(files.map((f) => basename(f)).some((n) => /^\.lark_cache_.*\.tmp$/.test(n))).toBe(true);
    },
    180_000,
  );
});
