// A PR that touches 60 projects, through the App: planned a few at a time (`autoplan.max_parallel`, never 60 at
// once), with the one comment showing progress while it goes, then 60 check runs and 60 recorded plans. terraform is
// replaced by a checker that writes a plan file and counts how many run at once (what is under test is the batching).
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { standinWebhooks } from '../../devtools/github-standin/index.js';
import { loadPlanSet, sha256 } from '../../src/apply/plan-record.js';
import type { ChecksResult } from '../../src/core/types.js';
import type { Checker } from '../../src/stages/deps.js';
import { type AppWorld, startAppWorld } from '../helpers/app-world.js';
import { identityFor } from '../helpers/git-remote.js';
import { ONE_ADD_SUMMARY } from '../helpers/plan-summary.js';
import { describeWithTools } from '../helpers/tools.js';
import { waitFor } from '../helpers/wait.js';

const OWNER = 'acme';
const REPO = 'many';
const PROJECTS = 60;
const tf = (i: number, v: string) => `resource "terraform_data" "p${i}" {\n  input = "${v}"\n}\n`;

describeWithTools(['git'], 'autoplan: a PR touching 60 projects', () => {
  let world: AppWorld;
  let active = 0;
  let peak = 0;
  let calls = 0;
  const checks: Checker = async (opts) => {
    active++;
    calls++;
    peak = Math.max(peak, active);
    try {
      await new Promise((r) => setTimeout(r, 400));
      const file = join(opts.planDir ?? '', 'tfplan');
      const bytes = Buffer.from(`plan of ${opts.project.name}`);
      await writeFile(file, bytes);
      const result: ChecksResult = {
        project: opts.project,
        ok: true,
        stages: [],
        formatted: [],
        diagnostics: [],
        plan: { file, hash: sha256(bytes), summary: ONE_ADD_SUMMARY, text: `+ terraform_data.${opts.project.name}` },
        verdict: { status: 'pass', findings: [], scanners: [], overrides: [], reasons: [] },
        durationMs: 400,
      };
      return result;
    } finally {
      active--;
    }
  };

  beforeAll(async () => {
    const files: Record<string, string> = { '.github/infra-agent.yml': 'autoplan:\n  max_parallel: 4\n' };
    for (let i = 0; i < PROJECTS; i++) files[`stacks/p${i}/main.tf`] = tf(i, 'v1');
    world = await startAppWorld({
      files,
      permissions: { mona: 'write' },
      owner: OWNER,
      repo: REPO,
      server: { checks },
    });
  }, 120_000);

  afterAll(async () => {
    await world?.close();
  });

  it('planned in bounded parallel batches, progress shown in the one comment, every project checked and recorded', {
    timeout: 600_000,
  }, async () => {
    const change: Record<string, string> = {};
    for (let i = 0; i < PROJECTS; i++) change[`stacks/p${i}/main.tf`] = tf(i, 'v2');
    await world.remote.commitFiles('all', change, 'Touch everything', { from: 'main', author: identityFor('mona') });
    const pr = await world.standin.addPullRequest({
      owner: OWNER,
      repo: REPO,
      head: 'all',
      title: 'all',
      user: 'mona',
    });
    const hook = await standinWebhooks(world.standin).pullRequestOpened(OWNER, REPO, pr.number);
    expect((await world.sender.send(hook.event, hook.payload)).status).toBeLessThan(300);
    const set = await waitFor(
      'the plan set',
      () => loadPlanSet(world.server.runtime.store, `${OWNER}/${REPO}`, pr.number),
      500_000,
    );
    expect(set.projects).toHaveLength(PROJECTS);
    expect(calls).toBe(PROJECTS);
    expect(peak).toBe(4);

    const head = await world.remote.headSha('all');
    const checkRuns = await waitFor('60 check runs', () => {
      const runs = world.standin.state.checkRuns.filter(
        (c) => c.headSha === head && c.name.startsWith('infra-agent/plan: '),
      );
      return runs.length === PROJECTS ? runs : undefined;
    });
    expect(new Set(checkRuns.map((c) => c.name)).size).toBe(PROJECTS);
    const comment = await waitFor('the final comment', () => {
      const [c] = world.standin.comments(OWNER, REPO, pr.number);
      return c?.body.includes(`${PROJECTS} project(s) planned`) ? c : undefined;
    });
    expect(world.standin.comments(OWNER, REPO, pr.number)).toHaveLength(1);
    // Edited in place as projects finished: the first body said 0 done, a later one some but not all.
    const progress = [...comment.bodyHistory, comment.body].flatMap((b) => {
      const m = /planning 60 project\(s\), (\d+) done/.exec(b ?? '');
      return m ? [Number(m[1])] : [];
    });
    expect(progress[0]).toBe(0);
    expect(progress.some((n) => n > 0 && n < PROJECTS)).toBe(true);
    expect(world.standin.violations).toEqual([]);
  });
});
