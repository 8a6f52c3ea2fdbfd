import { afterAll, beforeAll, expect, it } from 'vitest';
import { standinWebhooks } from '../../devtools/github-standin/index.js';
import type { ChecksResult } from '../../src/core/types.js';
import { type RunChecksOptions, runChecks } from '../../src/stages/checks.js';
import { type AppWorld, startAppWorld } from '../helpers/app-world.js';
import { demoFiles } from '../helpers/demo-files.js';
import { finish, toolUse } from '../helpers/scripted-model.js';
import { describeWithTools } from '../helpers/tools.js';
import { waitFor } from '../helpers/wait.js';

const OWNER = 'acme';
const REPO = 'infra';

const pet = (name: string) => `resource "random_pet" "${name}" {\n  length = 2\n}\n`;

describeWithTools(['terraform', 'git', 'tfsec', 'checkov', 'opa'], 'checks reused within a run', () => {
  let world: AppWorld | undefined;
  const passes: ChecksResult[] = [];

  beforeAll(async () => {
    world = await startAppWorld({
      files: await demoFiles(),
      permissions: { mona: 'write' },
      owner: OWNER,
      repo: REPO,
      script: [
        // run 1: write, check, finish → the check is the final one
        toolUse('write_file', { path: 'pet.tf', content: pet('one') }),
        toolUse('run_checks', {}),
        finish({ title: 'Add a pet', summary: 'Adds random_pet.one.' }),
        // run 2: write, check, write again, finish → the final checks must run on the new file
        toolUse('write_file', { path: 'pet.tf', content: pet('two') }),
        toolUse('run_checks', {}),
        toolUse('write_file', { path: 'pet.tf', content: pet('three') }),
        finish({ title: 'Add another pet', summary: 'Adds random_pet.three.' }),
      ],
      server: {
        concurrency: 1,
        checks: async (opts: RunChecksOptions) => {
          const r = await runChecks(opts);
          passes.push(r);
          return r;
        },
      },
    });
  });

  afterAll(async () => {
    await world?.close();
  });

  const runIssue = async (title: string, n: number) => {
    const w = world;
    if (!w) throw new Error('no world');
    const issue = w.standin.addIssue({ owner: OWNER, repo: REPO, title, user: 'mona', labels: ['infra-request'] });
    const hook = standinWebhooks(w.standin).issuesLabeled(OWNER, REPO, issue.number, 'infra-request', 'mona');
    expect((await w.sender.send(hook.event, hook.payload)).status).toBeLessThan(300);
    return waitFor(`run ${n} done`, async () => {
      const runs = await w.server.runtime.store.listRuns({});
      const done = runs.filter((r) => ['succeeded', 'failed', 'needs-human'].includes(r.status));
      return done.length >= n ? done : undefined;
    });
  };

  it('checks once when the model checked last: its last run_checks pass is the final checks', async () => {
    const w = world;
    if (!w) throw new Error('no world');
    const first = await runIssue('A pet', 1);
    expect(first[0]?.status, first[0]?.error ?? '').toBe('succeeded');
    expect(passes).toHaveLength(1);
    const events = await w.server.runtime.store.listRunEvents(first[0]?.id ?? '');
    expect(events.find((e) => e.stage === 'agent')?.message).toContain('final checks = the last run_checks pass');
    const pr1 = w.standin.pulls(OWNER, REPO)[0];
    expect(pr1?.body).toContain('random_pet.one');
  });

  it('checks again when the model edited after its last check, and the PR shows the final pass', async () => {
    const w = world;
    if (!w) throw new Error('no world');
    const both = await runIssue('Another pet', 2);
    expect(both.every((r) => r.status === 'succeeded')).toBe(true);
    expect(passes).toHaveLength(3);
    const pr2 = w.standin.pulls(OWNER, REPO)[1];
    // the PR reports the final pass on the edited file, not the agent's stale one
    expect(pr2?.body).toContain('random_pet.three');
    expect(pr2?.body).not.toContain('random_pet.two');
  });
});
