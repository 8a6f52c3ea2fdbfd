// Children die with the App: a SIGKILL of the App (nothing of it runs afterwards, no cleanup handler) mid-plan must
// leave no descendant alive — terraform and its providers in the sandbox (bwrap --die-with-parent, pid namespace),
// unsandboxed children like git (parent-death signal). Before, children were detached into their own process groups
// and outlived the App.
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { bwrapPath } from '../../src/sandbox/bwrap.js';
import { describeWithTools } from '../helpers/tools.js';

interface Proc {
  pid: number;
  ppid: number;
  comm: string;
  start: string;
}

function processes(): Proc[] {
  const out: Proc[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const m = /^(\d+) \((.*)\) (\S) (\d+)(?: \S+){17} (\d+)/.exec(stat);
      if (!m || m[3] === 'Z' || m[3] === 'X') continue;
      out.push({ pid: Number(m[1]), comm: m[2] ?? '', ppid: Number(m[4]), start: m[5] ?? '' });
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

function descendants(root: number): Proc[] {
  const all = processes();
  const found: Proc[] = [];
  let frontier = [root];
  while (frontier.length > 0) {
    const next = all.filter((p) => frontier.includes(p.ppid));
    found.push(...next);
    frontier = next.map((p) => p.pid);
  }
  return found;
}

const base = mkdtempSync(join(tmpdir(), 'die-with-app-'));
afterAll(() => rmSync(base, { recursive: true, force: true }));

describeWithTools(['terraform'], 'children die with the App', () => {
  it.skipIf(!bwrapPath() && !process.env['CI'])(
    'a SIGKILL of the App mid-plan leaves no descendant alive',
    async () => {
      const app = spawn(
        process.execPath,
        ['--import', 'tsx', join(import.meta.dirname, 'fixtures', 'app-mid-plan.ts'), base],
        {
          stdio: ['ignore', 'pipe', 'pipe'],
          cwd: join(import.meta.dirname, '..', '..'),
        },
      );
      let stderr = '';
      app.stderr.on('data', (c: Buffer) => {
        stderr += c.toString();
      });
      const pid = app.pid ?? 0;
      // Wait until terraform is planning and both sleepers run.
      const until = Date.now() + 60_000;
      let tree: Proc[] = [];
      for (;;) {
        tree = descendants(pid);
        const planning = tree.some((p) => p.comm === 'terraform') && tree.filter((p) => p.comm === 'sleep').length >= 2;
        if (planning) break;
        if (Date.now() > until || app.exitCode !== null) throw new Error(`the App did not get to plan: ${stderr}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      await new Promise((r) => setTimeout(r, 500));
      tree = descendants(pid);
      expect(tree.length).toBeGreaterThanOrEqual(4);
      app.kill('SIGKILL');
      const gone = Date.now() + 15_000;
      let alive: Proc[] = tree;
      while (Date.now() < gone) {
        const now = processes();
        alive = tree.filter((p) => now.some((q) => q.pid === p.pid && q.start === p.start));
        if (alive.length === 0) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(alive.map((p) => `${p.pid} ${p.comm}`)).toEqual([]);
    },
    120_000,
  );
});
