// Ten issues at once on one project: their plans used to run side by side on one Terraform state, and some failed on
// terraform's state lock ("Error acquiring the state lock") with their PRs labelled checks-failed. Runs are serialised
// per project+workspace (a store slot, whatever issue or PR asks), so all ten plan and open their PR — on the embedded
// store and on PostgreSQL with pg-boss. The state is a local backend at an absolute path shared by every checkout, as a
// remote backend would be; real git, real terraform, the agent stubbed to write one resource.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { standinWebhooks } from '../../devtools/github-standin/index.js';
import { STATE_DIRS_ENV } from '../../src/sandbox/policy.js';
import { type AppWorld, startAppWorld } from '../helpers/app-world.js';
import { stubAgent, terraformOnly, waitFor } from '../helpers/fault-world.js';
import { requirePostgres, startPostgres, type TestPostgres } from '../helpers/postgres.js';
import { describeWithTools } from '../helpers/tools.js';

const OWNER = 'acme';
const REPO = 'infra';
const ISSUES = 10;

function suite(store: 'embedded' | 'postgres') {
  let world: AppWorld | undefined;
  let stateDir: string;
  let pg: TestPostgres | undefined;

  beforeAll(async () => {
    stateDir = await mkdtemp(join(tmpdir(), 'infra-agent-serial-'));
    const statePath = join(stateDir, 'terraform.tfstate');
    // The operator lets terraform (in the sandbox) use this state dir, as for any local backend outside the checkout.
    process.env[STATE_DIRS_ENV] = stateDir;
    if (store === 'postgres') pg = await startPostgres();
    world = await startAppWorld({
      files: {
        'main.tf': 'resource "terraform_data" "base" {\n  input = "base"\n}\n',
        'backend.tf': `terraform {\n  backend "local" {\n    path = "${statePath}"\n  }\n}\n`,
      },
      permissions: { mona: 'write' },
      owner: OWNER,
      repo: REPO,
      server: { agent: stubAgent, checks: terraformOnly, concurrency: 5 },
      faults: {
        queue: { retryDelaySeconds: 1, pollIntervalSeconds: 0.2 },
        ...(pg ? { databaseUrl: pg.url } : {}),
      },
    });
  }, 600_000);

  afterAll(async () => {
    await world?.close();
    await pg?.stop();
    if (stateDir) await rm(stateDir, { recursive: true, force: true });
  });

  it(`ten issues on one project at once: all ten plan, none fails on the state lock (${store})`, {
    timeout: 900_000,
  }, async () => {
    if (!world) throw new Error('no world');
    const { standin, sender, server } = world;
    const numbers: number[] = [];
    for (let i = 0; i < ISSUES; i++) {
      numbers.push(
        standin.addIssue({ owner: OWNER, repo: REPO, title: `Change ${i}`, body: 'please', user: 'mona' }).number,
      );
    }
    const sent = await Promise.all(
      numbers.map((n) => {
        const hook = standinWebhooks(standin).issuesLabeled(OWNER, REPO, n, 'infra-request', 'mona');
        return sender.send(hook.event, hook.payload);
      }),
    );
    expect(sent.map((s) => s.status).filter((s) => s >= 300)).toEqual([]);
    const runs = await waitFor(
      'ten finished runs',
      async () => {
        const all = await server.runtime.store.listRuns({ repo: `${OWNER}/${REPO}` });
        return all.length >= ISSUES && all.every((r) => ['succeeded', 'failed', 'needs-human'].includes(r.status))
          ? all
          : undefined;
      },
      600_000,
    );
    const events = (await Promise.all(runs.map((r) => server.runtime.store.listRunEvents(r.id)))).flat();
    expect(events.filter((e) => /state lock/i.test(e.message ?? ''))).toEqual([]);
    expect(runs.map((r) => r.status)).toEqual(runs.map(() => 'succeeded'));
    const pulls = standin.pulls(OWNER, REPO);
    expect(pulls).toHaveLength(ISSUES);
    for (const p of pulls) {
      expect(p.labels).toContain('infra-agent:planned');
    }
    expect(standin.state.checkRuns.filter((c) => c.name === 'infra-agent/plan' && c.conclusion !== 'success')).toEqual(
      [],
    );
  });
}

describeWithTools(['terraform', 'git'], 'runs on one project are serialised (embedded store)', () => suite('embedded'));
if (requirePostgres('runs on one project are serialised (PostgreSQL)')) {
  describeWithTools(['terraform', 'git'], 'runs on one project are serialised (PostgreSQL)', () => suite('postgres'));
}
