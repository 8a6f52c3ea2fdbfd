// A pull request a person wrote, applied end to end through the App (signed webhooks, the GitHub stand-in, a git
// remote, real terraform): the App plans both projects it touches (autoplan), the PR's author approving it is refused
// (they asked for the change), and another authorised reviewer's approval applies both projects' reviewed plans in
// `depends_on` order (`app` depends on `network`), merges and releases the locks. Each project keeps its state in a
// local backend outside the checkout, so what terraform applied is read back from real state files.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { z } from 'zod';
import { standinWebhooks } from '../../devtools/github-standin/index.js';
import { loadPlanSet } from '../../src/apply/plan-record.js';
import { STATE_DIRS_ENV } from '../../src/sandbox/policy.js';
import { type AppWorld, startAppWorld } from '../helpers/app-world.js';
import { terraformOnly } from '../helpers/fault-world.js';
import { identityFor } from '../helpers/git-remote.js';
import { describeWithTools } from '../helpers/tools.js';
import { waitForFinishedRuns } from '../helpers/wait.js';

const OWNER = 'acme';
const REPO = 'infra';
const FULL = `${OWNER}/${REPO}`;

const CONFIG = `projects:
  - name: app
    dir: app
    depends_on: [network]
  - name: network
    dir: network
`;

const project = (statePath: string, name: string, input: string) =>
  `terraform {\n  backend "local" {\n    path = "${statePath}"\n  }\n}\n\nresource "terraform_data" "${name}" {\n  input = "${input}"\n}\n`;

const StateSchema = z.object({
  resources: z.array(
    z.object({
      type: z.string(),
      name: z.string(),
      instances: z.array(z.object({ attributes: z.record(z.string(), z.unknown()) })),
    }),
  ),
});

describeWithTools(['terraform', 'git'], 'a person’s pull request, approved, applied in dependency order', () => {
  let world: AppWorld;
  let stateDir: string;
  const statePath = (name: string) => join(stateDir, `${name}.tfstate`);

  beforeAll(async () => {
    stateDir = await mkdtemp(join(tmpdir(), 'infra-agent-e2e-human-'));
    process.env[STATE_DIRS_ENV] = stateDir;
    world = await startAppWorld({
      files: {
        '.github/infra-agent.yml': CONFIG,
        'network/main.tf': project(statePath('network'), 'vpc', 'v1'),
        'app/main.tf': project(statePath('app'), 'service', 'v1'),
      },
      permissions: { mona: 'write', hubot: 'write' },
      owner: OWNER,
      repo: REPO,
      server: { checks: terraformOnly },
    });
  }, 120_000);

  afterAll(async () => {
    await world?.close();
    if (stateDir) await rm(stateDir, { recursive: true, force: true });
  });

  const settled = (pr: number, n: number) => waitForFinishedRuns(world.server.runtime, FULL, pr, n);
  const approve = async (pr: number, user: string) => {
    const review = await world.standin.addReview({ owner: OWNER, repo: REPO, pullNumber: pr, user, state: 'APPROVED' });
    const hook = await standinWebhooks(world.standin).pullRequestReviewSubmitted(OWNER, REPO, review.id);
    expect((await world.sender.send(hook.event, hook.payload)).status).toBeLessThan(300);
  };
  const input = async (name: string) => {
    const state = StateSchema.parse(JSON.parse(await readFile(statePath(name), 'utf8')));
    return state.resources[0]?.instances[0]?.attributes['input'];
  };
  const botComments = (pr: number) =>
    world.standin.comments(OWNER, REPO, pr).filter((c) => c.user === world.standin.app.botLogin);

  it('approval by another reviewer applies both projects, network before app; the author’s own is refused', {
    timeout: 900_000,
  }, async () => {
    await world.remote.commitFiles(
      'bump-both',
      {
        'network/main.tf': project(statePath('network'), 'vpc', 'v2'),
        'app/main.tf': project(statePath('app'), 'service', 'v2'),
      },
      'Bump network and app',
      { from: 'main', author: identityFor('mona') },
    );
    const pr = await world.standin.addPullRequest({
      owner: OWNER,
      repo: REPO,
      head: 'bump-both',
      title: 'Bump',
      user: 'mona',
    });
    const opened = await standinWebhooks(world.standin).pullRequestOpened(OWNER, REPO, pr.number);
    expect((await world.sender.send(opened.event, opened.payload)).status).toBeLessThan(300);
    await settled(pr.number, 1);
    const set = await loadPlanSet(world.server.runtime.store, FULL, pr.number);
    expect(set?.projects.map((p) => p.name).sort()).toEqual(['app', 'network']);

    // The author asked for the change: their approval applies nothing.
    await approve(pr.number, 'mona');
    await settled(pr.number, 2);
    expect(botComments(pr.number).at(-1)?.body).toContain('**self-approval**');
    expect(botComments(pr.number).at(-1)?.body).toContain('opened pull request #');
    await expect(readFile(statePath('network'), 'utf8')).rejects.toThrow();

    await approve(pr.number, 'hubot');
    const runs = await settled(pr.number, 3);
    const apply = runs.find((r) => r.kind === 'apply' && r.triggeredBy === 'hubot');
    expect(apply?.status, apply?.error ?? '').toBe('succeeded');
    expect(await input('network')).toEqual({ type: 'string', value: 'v2' });
    expect(await input('app')).toEqual({ type: 'string', value: 'v2' });
    // network's apply finished before app's started.
    const events = await world.server.runtime.store.listRunEvents(apply?.id ?? '');
    const at = (stage: string, status: string) => events.findIndex((e) => e.stage === stage && e.status === status);
    expect(at('applying:network', 'ok')).toBeGreaterThan(-1);
    expect(at('applying:app', 'started')).toBeGreaterThan(at('applying:network', 'ok'));
    const report = botComments(pr.number).find((c) => c.body.includes('Applied the reviewed plan'));
    expect(report?.body).toContain('approved by @hubot');
    expect(world.standin.pull(OWNER, REPO, pr.number)?.merged).toBe(true);
    expect(await world.server.runtime.store.listLocks({ repo: FULL })).toEqual([]);
    expect(world.standin.violations).toEqual([]);
    expect(world.standin.responseViolations).toEqual([]);
  });
});
