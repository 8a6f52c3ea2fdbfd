// `/infra revise` on pull requests people wrote, end to end through the App (signed webhooks, the GitHub stand-in, a
// git remote, the scripted model, real terraform): on a same-repo branch the agent adds a commit ON TOP of the
// person's head (their commit stays its parent; nothing is force-pushed), the PR is planned again at the new head,
// the thread is answered, the PR body is left as the person wrote it, and the commenter now counts among those who
// asked for the change (their approval is refused). On a fork's PR nothing is pushed and the thread says why.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { git } from '../../devtools/bare-repo.js';
import { standinWebhooks } from '../../devtools/github-standin/index.js';
import { loadPlanSet } from '../../src/apply/plan-record.js';
import { type AppWorld, startAppWorld } from '../helpers/app-world.js';
import { terraformOnly } from '../helpers/fault-world.js';
import { identityFor } from '../helpers/git-remote.js';
import { describeWithTools } from '../helpers/tools.js';
import { waitFor, waitForFinishedRuns } from '../helpers/wait.js';

const OWNER = 'acme';
const REPO = 'infra';
const FULL = `${OWNER}/${REPO}`;
const EXTRA = 'resource "terraform_data" "extra" {\n  input = "requested in review"\n}\n';

const step = (id: string, name: string, input: unknown) => ({
  kind: 'message' as const,
  content: [{ type: 'tool_use' as const, id, name, input }],
  stopReason: 'tool_use' as const,
  usage: { input_tokens: 2_000, output_tokens: 150 },
});

describeWithTools(['terraform', 'git'], '/infra revise on a person’s pull request', () => {
  let world: AppWorld;

  beforeAll(async () => {
    world = await startAppWorld({
      files: { 'main.tf': 'resource "terraform_data" "base" {\n  input = "v1"\n}\n', 'README.md': '# infra\n' },
      permissions: { mona: 'write', hubot: 'write', octo: 'write' },
      owner: OWNER,
      repo: REPO,
      server: { checks: terraformOnly },
      script: [
        step('toolu_revise_1', 'write_file', { path: 'extra.tf', content: EXTRA }),
        step('toolu_revise_2', 'run_checks', {}),
        step('toolu_revise_3', 'finish', {
          title: 'Add extra',
          summary: 'Adds `terraform_data.extra` as asked in review.',
          notes_for_reviewer: 'Nothing else changes.',
        }),
      ],
    });
  }, 120_000);

  afterAll(async () => {
    await world?.close();
  });

  const settled = (pr: number, n: number) => waitForFinishedRuns(world.server.runtime, FULL, pr, n);
  const send = async (hook: { event: string; payload: unknown }) => {
    const res = await world.sender.send(hook.event, hook.payload as never);
    expect(res.status).toBeLessThan(300);
  };
  const comment = async (pr: number, user: string, body: string) => {
    const c = world.standin.addComment({ owner: OWNER, repo: REPO, issueNumber: pr, user, body });
    await send(standinWebhooks(world.standin).issueCommentCreated(OWNER, REPO, c.id));
  };
  const botComments = (pr: number) =>
    world.standin.comments(OWNER, REPO, pr).filter((c) => c.user === world.standin.app.botLogin);

  it('adds a commit on top of the person’s branch, re-plans, answers; the commenter cannot approve it', {
    timeout: 900_000,
  }, async () => {
    const theirs = await world.remote.commitFiles(
      'bump-base',
      { 'main.tf': 'resource "terraform_data" "base" {\n  input = "v2"\n}\n' },
      'Bump base to v2',
      { from: 'main', author: identityFor('mona') },
    );
    const pr = await world.standin.addPullRequest({
      owner: OWNER,
      repo: REPO,
      head: 'bump-base',
      title: 'Bump base',
      body: 'My own words.',
      user: 'mona',
    });
    await send(await standinWebhooks(world.standin).pullRequestOpened(OWNER, REPO, pr.number));
    await settled(pr.number, 1);
    expect((await loadPlanSet(world.server.runtime.store, FULL, pr.number))?.headSha).toBe(theirs);

    await comment(pr.number, 'hubot', '/infra revise add a terraform_data called extra');
    const runs = await settled(pr.number, 3);
    const revise = runs.find((r) => r.kind === 'revise');
    expect(revise?.status, revise?.error ?? '').toBe('succeeded');

    // A new commit whose parent is their head: on top, nothing rewritten.
    const head = await world.remote.headSha('bump-base');
    expect(head).not.toBe(theirs);
    expect((await git(world.remote.path, ['rev-parse', `${head}^`])).stdout.trim()).toBe(theirs);
    expect(await world.remote.readFile('bump-base', 'extra.tf')).toBe(EXTRA);
    expect(await world.remote.readFile('bump-base', 'main.tf')).toContain('"v2"');
    // Planned again at the new head; the body is still theirs; the thread is answered.
    expect((await loadPlanSet(world.server.runtime.store, FULL, pr.number))?.headSha).toBe(head);
    expect(world.standin.pull(OWNER, REPO, pr.number)?.body).toBe('My own words.');
    const answer = botComments(pr.number).find((c) => c.body.includes('on top of'));
    expect(answer?.body).toContain(`added \`${head.slice(0, 7)}\` on top of \`bump-base\``);

    // hubot asked for part of this change: their approval applies nothing.
    const review = await world.standin.addReview({
      owner: OWNER,
      repo: REPO,
      pullNumber: pr.number,
      user: 'hubot',
      state: 'APPROVED',
    });
    await send(await standinWebhooks(world.standin).pullRequestReviewSubmitted(OWNER, REPO, review.id));
    await settled(pr.number, 4);
    const refusal = botComments(pr.number).at(-1)?.body ?? '';
    expect(refusal).toContain('**self-approval**');
    expect(refusal).toContain('asked for a revision');
    expect(world.standin.violations).toEqual([]);
  });

  it('on a fork’s pull request nothing is pushed and the thread says why', { timeout: 300_000 }, async () => {
    await world.remote.commitFiles(
      'fork-change',
      { 'main.tf': 'resource "terraform_data" "base" {\n  input = "fork"\n}\n' },
      'A fork change',
      { from: 'main', author: identityFor('octo') },
    );
    const pr = await world.standin.addPullRequest({
      owner: OWNER,
      repo: REPO,
      head: 'fork-change',
      title: 'From a fork',
      user: 'octo',
      fork: 'octo',
    });
    const before = world.standin.state.pulls.length;
    await comment(pr.number, 'hubot', '/infra revise add a terraform_data called extra');
    const answer = await waitFor('the fork answer', () =>
      botComments(pr.number).find((c) => c.body.includes('never pushes to a fork')),
    );
    expect(answer.body).toContain('`octo/infra`');
    expect((await world.server.runtime.store.listRuns({ repo: FULL })).filter((r) => r.number === pr.number)).toEqual(
      [],
    );
    expect(world.standin.state.pulls.length).toBe(before);
  });
});
