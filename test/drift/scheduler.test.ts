// The drift scheduler through the real App server, the stand-in and real terraform (built-in terraform_data, local
// backend at an absolute path). Time is injected (`now`), nothing else:
//   1 embedded store on disk: a slot due at start runs once; the App stops; two more slots pass while it is down; a
//     restarted App runs the missed check once (not once per missed slot), and a further pass at the same time runs
//     nothing.
//   2 PostgreSQL, two worker processes' worth of servers on one database, both scheduling the same slot (ticking
//     concurrently, repeatedly): the project's check runs exactly once.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type GitHubStandin, startGitHubStandin } from '../../devtools/github-standin/index.js';
import { createLogger } from '../../src/observability/logger.js';
import { STATE_DIRS_ENV } from '../../src/sandbox/policy.js';
import { type AppServer, startAppServer } from '../../src/server/server.js';
import type { Store } from '../../src/store/types.js';
import { createGitRemote, type GitRemote } from '../helpers/git-remote.js';
import { requirePostgres, startPostgres, type TestPostgres } from '../helpers/postgres.js';
import { describeWithTools } from '../helpers/tools.js';

const OWNER = 'acme';

function files(statePath: string): Record<string, string> {
  return {
    'main.tf': [
      'terraform {',
      `  backend "local" {\n    path = ${JSON.stringify(statePath)}\n  }`,
      '}',
      '',
      'resource "terraform_data" "marker" {',
      '  input = "v1"',
      '}',
      '',
    ].join('\n'),
    '.github/infra-agent.yml': [
      'policy:',
      '  levels:',
      '    PRE-FILE-001: advisory',
      'drift:',
      "  schedule: '*/10 * * * *'",
      'projects:',
      '  - name: app',
      '    dir: .',
      '',
    ].join('\n'),
  };
}

interface World {
  standin: GitHubStandin;
  remote: GitRemote;
  dir: string;
  close(): Promise<void>;
}

async function startWorld(repo: string): Promise<World> {
  const dir = await mkdtemp(join(tmpdir(), 'infra-agent-drift-sched-'));
  // State outside the checkout, allowed by the operator (and PRE-FILE-001 turned down in the repo's config).
  process.env[STATE_DIRS_ENV] = [process.env[STATE_DIRS_ENV], dir].filter(Boolean).join(':');
  const standin = await startGitHubStandin();
  standin.addInstallation({ id: 7, account: OWNER, accountType: 'Organization' });
  const remote = await createGitRemote({ files: files(join(dir, 'state', 'terraform.tfstate')), owner: OWNER, repo });
  standin.addRepo({
    owner: OWNER,
    name: repo,
    remotePath: remote.path,
    defaultBranch: remote.defaultBranch,
    installationId: 7,
  });
  return {
    standin,
    remote,
    dir,
    async close() {
      await standin.close();
      await remote.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

function server(
  world: World,
  opts: { now: Date; dataDir?: string; databaseUrl?: string; role: 'all' | 'worker' },
): Promise<AppServer> {
  return startAppServer({
    appId: String(world.standin.app.id),
    privateKey: world.standin.app.privateKey ?? '',
    webhookSecret: 'drift-scheduler-secret',
    githubApiUrl: world.standin.url,
    role: opts.role,
    githubThrottle: false,
    port: 0,
    host: '127.0.0.1',
    ...(opts.dataDir ? { dataDir: opts.dataDir } : {}),
    ...(opts.databaseUrl ? { databaseUrl: opts.databaseUrl } : {}),
    gitUrlTemplate: world.remote.urlTemplate,
    // Passes only when a test asks (tick), at the test's time, with no jitter.
    driftScheduler: { intervalMs: 3_600_000, maxJitterMs: 0, now: () => opts.now },
    log: createLogger({ level: 'fatal' }),
  });
}

async function checks(store: Store): Promise<number> {
  return (await store.listAudit({ action: 'drift.checked', limit: 100 })).length;
}

async function settle(store: Store, server: AppServer, expected: number): Promise<void> {
  const until = Date.now() + 180_000;
  for (;;) {
    const d = await server.runtime.queue.depth();
    if ((await checks(store)) >= expected && d.queued === 0 && d.active === 0) return;
    if (Date.now() > until) throw new Error(`expected ${expected} drift check(s), saw ${await checks(store)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describeWithTools(['terraform', 'git'], 'drift scheduler', () => {
  it('survives a restart: a check due while the App was down runs once when it comes back', async () => {
    const world = await startWorld('infra');
    const dataDir = join(world.dir, 'data');
    try {
      const first = await server(world, { now: new Date('2026-12-01T10:05:00Z'), dataDir, role: 'all' });
      await first.driftScheduler?.tick();
      await settle(first.runtime.store, first, 1);
      await first.driftScheduler?.tick();
      await settle(first.runtime.store, first, 1);
      expect(await checks(first.runtime.store)).toBe(1);
      await first.close();

      // Down from 10:05 to 10:35: the 10:10, 10:20 and 10:30 slots pass with no App running.
      const second = await server(world, { now: new Date('2026-12-01T10:35:00Z'), dataDir, role: 'all' });
      await second.driftScheduler?.tick();
      await settle(second.runtime.store, second, 2);
      for (let i = 0; i < 3; i++) await second.driftScheduler?.tick();
      await settle(second.runtime.store, second, 2);
      const audits = await second.runtime.store.listAudit({ action: 'drift.checked', limit: 100 });
      expect(audits.map((a) => a.details['slot'])).toEqual(['2026-12-01T10:30:00.000Z', '2026-12-01T10:00:00.000Z']);
      expect(audits.every((a) => a.details['status'] === 'drifted')).toBe(true);
      // Never applied: the project's state is still empty, so the check is drift (code not in reality), one issue.
      expect(world.standin.state.issues.filter((i) => i.labels.includes('infra-agent:drift'))).toHaveLength(1);
      expect(world.standin.violations).toEqual([]);
      await second.close();
    } finally {
      await world.close();
    }
  }, 600_000);

  if (requirePostgres('drift scheduler on PostgreSQL')) {
    describe('on PostgreSQL', () => {
      let pg: TestPostgres;
      beforeAll(async () => {
        pg = await startPostgres();
      }, 120_000);
      afterAll(async () => {
        await pg?.stop();
      });

      it("two workers scheduling the same slot run the project's check once", async () => {
        const world = await startWorld('infra-pg');
        const now = new Date('2026-12-01T10:05:00Z');
        const a = await server(world, { now, databaseUrl: pg.url, role: 'worker' });
        const b = await server(world, { now, databaseUrl: pg.url, role: 'worker' });
        try {
          await Promise.all([a.driftScheduler?.tick(), b.driftScheduler?.tick(), a.driftScheduler?.tick()]);
          await settle(a.runtime.store, a, 1);
          await Promise.all([b.driftScheduler?.tick(), a.driftScheduler?.tick()]);
          await settle(b.runtime.store, b, 1);
          // Let any straggler job surface before counting.
          await new Promise((r) => setTimeout(r, 3_000));
          await settle(a.runtime.store, a, 1);
          expect(await checks(a.runtime.store)).toBe(1);
          expect(world.standin.state.issues.filter((i) => i.labels.includes('infra-agent:drift'))).toHaveLength(1);
          expect(world.standin.violations).toEqual([]);
        } finally {
          await a.close();
          await b.close();
          await world.close();
        }
      }, 600_000);
    });
  }
});
