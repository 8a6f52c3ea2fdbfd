// Pull requests people write, planned end to end through the App: signed webhooks, the GitHub stand-in, a real git
// remote, real terraform in the sandbox. A PR that changes a local module two projects call gets both planned (a
// third project, untouched, is not), ONE comment and one check run per project, and its plans recorded bound to head +
// base exactly as the App's own PRs' plans are, with the projects' locks taken.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { standinWebhooks } from '../../devtools/github-standin/index.js';
import { loadPlanSet } from '../../src/apply/plan-record.js';
import { hasOwnMarker } from '../../src/markdown/markers.js';
import { type AppWorld, startAppWorld } from '../helpers/app-world.js';
import { stubAgent, terraformOnly } from '../helpers/fault-world.js';
import { identityFor } from '../helpers/git-remote.js';
import { describeWithTools } from '../helpers/tools.js';
import { waitFor } from '../helpers/wait.js';

const OWNER = 'acme';
const REPO = 'infra';
const FULL = `${OWNER}/${REPO}`;

const CONFIG = `projects:
  - name: network
    dir: network
  - name: app
    dir: app
    depends_on: [network]
  - name: db
    dir: db
  - name: docs-site
    dir: docs-site
    when_modified: ["../docs/**/*.md"]
`;

const shared = (input: string) =>
  `variable "name" {\n  type = string\n}\n\nresource "terraform_data" "this" {\n  input = "${input}-\${var.name}"\n}\n\noutput "id" {\n  value = terraform_data.this.id\n}\n`;

const caller = (name: string) => `module "shared" {\n  source = "../modules/shared"\n  name   = "${name}"\n}\n`;

const FILES: Record<string, string> = {
  '.github/infra-agent.yml': CONFIG,
  'modules/shared/main.tf': shared('v1'),
  'app/main.tf': caller('app'),
  'db/main.tf': caller('db'),
  'network/main.tf': 'resource "terraform_data" "vpc" {\n  input = "10.0.0.0/16"\n}\n',
  'docs-site/main.tf': 'resource "terraform_data" "site" {\n  input = "docs"\n}\n',
  'README.md': '# infra\n',
};

describeWithTools(['terraform', 'git'], 'autoplan: pull requests people write', () => {
  let world: AppWorld;

  beforeAll(async () => {
    world = await startAppWorld({
      files: FILES,
      permissions: { mona: 'write', hubot: 'write', outsider: 'read' },
      owner: OWNER,
      repo: REPO,
      server: { checks: terraformOnly, agent: stubAgent },
    });
  }, 120_000);

  afterAll(async () => {
    await world?.close();
  });

  async function openPr(branch: string, files: Record<string, string | null>, user = 'mona') {
    await world.remote.commitFiles(branch, files, `Change on ${branch}`, { from: 'main', author: identityFor(user) });
    const pr = await world.standin.addPullRequest({ owner: OWNER, repo: REPO, head: branch, title: branch, user });
    const hook = await standinWebhooks(world.standin).pullRequestOpened(OWNER, REPO, pr.number);
    const res = await world.sender.send(hook.event, hook.payload);
    expect(res.status).toBeLessThan(300);
    return pr;
  }

  async function settled(pr: number) {
    return waitFor(`the runs of #${pr} to end`, async () => {
      const runs = await world.server.runtime.store.listRuns({ repo: FULL });
      const mine = runs.filter((r) => r.number === pr);
      return mine.length > 0 && mine.every((r) => ['succeeded', 'failed', 'needs-human'].includes(r.status))
        ? mine
        : undefined;
    });
  }

  const botComments = (pr: number) =>
    world.standin
      .comments(OWNER, REPO, pr)
      .filter(
        (c) => c.user === world.standin.app.botLogin && hasOwnMarker(c.body, `<!-- infra-agent:autoplan=${pr} -->`),
      );

  const planChecks = (sha: string) =>
    world.standin.state.checkRuns.filter((c) => c.headSha === sha && c.name.startsWith('infra-agent/plan'));

  describe('a PR that changes a shared local module', () => {
    it('plans both projects that call it (not the others): one comment, two check runs, plans recorded on head + base', {
      timeout: 600_000,
    }, async () => {
      const pr = await openPr('shared-v2', { 'modules/shared/main.tf': shared('v2') });
      const runs = await settled(pr.number);
      expect(runs.map((r) => r.status)).toEqual(['succeeded']);
      const head = await world.remote.headSha('shared-v2');
      const base = await world.remote.headSha('main');

      const comments = botComments(pr.number);
      expect(comments).toHaveLength(1);
      const body = comments[0]?.body ?? '';
      expect(body).toContain('2 project(s) planned');
      expect(body).toMatch(/\| `app` \| `app` \| \+1 ~0 -0/);
      expect(body).toMatch(/\| `db` \| `db` \| \+1 ~0 -0/);
      expect(body).not.toContain('`network`');
      expect(body).toContain('module `modules/shared` changed');
      expect(body).toContain('terraform_data.this');

      const checks = planChecks(head);
      expect(checks.map((c) => c.name).sort()).toEqual(['infra-agent/plan: app', 'infra-agent/plan: db']);
      for (const c of checks) {
        expect(c.conclusion).toBe('success');
        expect(c.output.text ?? '').toContain('module.shared.terraform_data.this');
      }

      const set = await loadPlanSet(world.server.runtime.store, FULL, pr.number);
      expect(set).toMatchObject({ headSha: head, baseSha: base });
      expect(set?.projects.map((p) => p.name).sort()).toEqual(['app', 'db']);
      expect(set?.projects.every((p) => p.planHash !== null)).toBe(true);
      const plans = await world.server.runtime.store.listPlans({ repo: FULL, pr: pr.number });
      expect(plans.map((p) => p.project).sort()).toEqual(['app', 'db']);
      expect(plans.every((p) => p.headSha === head && p.baseSha === base)).toBe(true);
      for (const project of ['app', 'db']) {
        const lock = await world.server.runtime.store.getLock({ repo: FULL, project, workspace: 'default' });
        expect(lock?.holder.pr).toBe(pr.number);
      }
      expect(world.standin.violations).toEqual([]);
    });
  });

  it('a second PR on a locked project waits (said in its one comment), is planned when the lock frees, and frees it when a push undoes its change', {
    timeout: 600_000,
  }, async () => {
    const holder = (await world.server.runtime.store.getLock({ repo: FULL, project: 'app', workspace: 'default' }))
      ?.holder.pr;
    expect(holder).toBeDefined();
    const pr = await openPr('app-tags', {
      'app/main.tf': `${caller('app')}\nresource "terraform_data" "tags" {\n  input = "t"\n}\n`,
    });
    await settled(pr.number);
    const head = await world.remote.headSha('app-tags');
    const [waiting] = botComments(pr.number);
    expect(waiting?.body).toContain(`| \`app\` | \`app\` | ⏸️ waiting |  | 🔒 held by #${holder} |`);
    expect(waiting?.body).toContain('planned as soon as it is merged, closed or unlocked');
    expect(planChecks(head)).toEqual([]);
    expect(await loadPlanSet(world.server.runtime.store, FULL, pr.number)).toBeUndefined();

    // The holder is closed: its locks go, and the waiting PR is planned (the same comment, edited in place).
    const closedPr = world.standin.pull(OWNER, REPO, holder ?? 0);
    if (closedPr) closedPr.state = 'closed';
    const closed = await standinWebhooks(world.standin).pullRequestClosed(OWNER, REPO, holder ?? 0, 'mona');
    expect((await world.sender.send(closed.event, closed.payload)).status).toBeLessThan(300);
    const runs = await waitFor('the re-plan after the lock freed', async () => {
      const all = (await settled(pr.number)).filter((r) => r.input['trigger'] === 'replan');
      return all.length > 0 ? all : undefined;
    });
    expect(runs.map((r) => r.status)).toEqual(['succeeded']);
    const after = botComments(pr.number);
    expect(after.map((c) => c.id)).toEqual([waiting?.id]);
    expect(after[0]?.body).toMatch(/\| `app` \| `app` \| \+2 ~0 -0/);
    expect(planChecks(head).map((c) => c.name)).toEqual(['infra-agent/plan: app']);
    const lock = await world.server.runtime.store.getLock({ repo: FULL, project: 'app', workspace: 'default' });
    expect(lock?.holder.pr).toBe(pr.number);

    // A push that undoes the change to `app`: the PR no longer affects it, so its lock frees (no stuck lock).
    await world.remote.commitFiles('app-tags', { 'app/main.tf': caller('app') }, 'Undo', {
      author: identityFor('mona'),
    });
    const sync = await standinWebhooks(world.standin).pullRequestSynchronize(OWNER, REPO, pr.number, head, 'mona');
    expect((await world.sender.send(sync.event, sync.payload)).status).toBeLessThan(300);
    await waitFor('the app lock to be released', async () =>
      (await world.server.runtime.store.getLock({ repo: FULL, project: 'app', workspace: 'default' }))
        ? undefined
        : true,
    );
    await waitFor('the comment to say so', () =>
      botComments(pr.number)[0]?.body.includes('no longer changes any project') ? true : undefined,
    );
    expect(botComments(pr.number)).toHaveLength(1);
  });

  it('a branch behind its base is planned as merged into the base as it is now', { timeout: 600_000 }, async () => {
    await world.remote.commitFiles(
      'net-peering',
      { 'network/peering.tf': 'resource "terraform_data" "peering" {\n  input = "pcx"\n}\n' },
      'Peering',
      { from: 'main', author: identityFor('mona') },
    );
    // The base moves on after the branch was cut: a plan of the branch alone would not have `nat`.
    await world.remote.commitFiles(
      'main',
      { 'network/nat.tf': 'resource "terraform_data" "nat" {\n  input = "nat"\n}\n' },
      'NAT on main',
    );
    const base = await world.remote.headSha('main');
    const pr = await world.standin.addPullRequest({
      owner: OWNER,
      repo: REPO,
      head: 'net-peering',
      title: 'peering',
      user: 'mona',
    });
    const hook = await standinWebhooks(world.standin).pullRequestOpened(OWNER, REPO, pr.number);
    expect((await world.sender.send(hook.event, hook.payload)).status).toBeLessThan(300);
    await settled(pr.number);
    const head = await world.remote.headSha('net-peering');
    const set = await loadPlanSet(world.server.runtime.store, FULL, pr.number);
    expect(set).toMatchObject({ headSha: head, baseSha: base });
    const [check] = planChecks(head);
    expect(check?.name).toBe('infra-agent/plan: network');
    for (const r of ['terraform_data.vpc', 'terraform_data.peering', 'terraform_data.nat']) {
      expect(check?.output.text).toContain(r);
    }
    expect(botComments(pr.number)[0]?.body).toContain(`merged into \`main\` at \`${base.slice(0, 7)}\``);
  });

  it('a fork PR is not planned (said once) until a maintainer asks; then planned without passthrough credentials', {
    timeout: 600_000,
  }, async () => {
    await world.remote.commitFiles('fork-docs', { 'docs/guide.md': '# Guide\n' }, 'Docs', {
      from: 'main',
      author: identityFor('mallory'),
    });
    const pr = await world.standin.addPullRequest({
      owner: OWNER,
      repo: REPO,
      head: 'fork-docs',
      title: 'docs',
      user: 'mallory',
      fork: 'mallory',
    });
    const opened = await standinWebhooks(world.standin).pullRequestOpened(OWNER, REPO, pr.number);
    expect((await world.sender.send(opened.event, opened.payload)).status).toBeLessThan(300);
    const said = await waitFor('the not-planned note', () => botComments(pr.number)[0]);
    expect(said.body).toContain('it comes from a fork (`mallory/infra`)');
    expect(said.body).toContain('comment `/infra plan`');
    // A second delivery (a push) does not say it again.
    const again = await standinWebhooks(world.standin).pullRequestOpened(OWNER, REPO, pr.number);
    await world.sender.send(again.event, again.payload);
    await new Promise((r) => setTimeout(r, 3_000));
    expect(botComments(pr.number).map((c) => c.body)).toEqual([said.body]);
    expect(await world.server.runtime.store.listRuns({ repo: FULL })).not.toContainEqual(
      expect.objectContaining({ number: pr.number }),
    );
    const head = await world.standin.json
      .pullRequest(OWNER, REPO, pr.number)
      .then((j) => (j['head'] as { sha: string }).sha);
    expect(planChecks(head)).toEqual([]);

    const ask = world.standin.addComment({
      owner: OWNER,
      repo: REPO,
      issueNumber: pr.number,
      user: 'hubot',
      body: '/infra plan',
    });
    const hook = standinWebhooks(world.standin).issueCommentCreated(OWNER, REPO, ask.id);
    expect((await world.sender.send(hook.event, hook.payload)).status).toBeLessThan(300);
    const runs = await settled(pr.number);
    expect(runs.map((r) => [r.status, r.input['trigger']])).toEqual([['succeeded', 'command']]);
    const after = botComments(pr.number);
    expect(after.map((c) => c.id)).toEqual([said.id]);
    expect(after[0]?.body).toContain('Planned on request of @hubot');
    expect(after[0]?.body).toContain('without the `terraform.env_passthrough` credentials');
    expect(after[0]?.body).toContain('`docs/guide.md` matches `when_modified`');
    expect(planChecks(head).map((c) => c.name)).toEqual(['infra-agent/plan: docs-site']);
  });

  it('a PR by someone without the configured permission is not planned, and says why', {
    timeout: 300_000,
  }, async () => {
    const pr = await openPr(
      'outsider-change',
      { 'db/extra.tf': 'resource "terraform_data" "x" {\n  input = "x"\n}\n' },
      'outsider',
    );
    const said = await waitFor('the not-planned note', () => botComments(pr.number)[0]);
    expect(said.body).toContain('@outsider has `read` permission');
    expect(await world.server.runtime.store.listRuns({ repo: FULL })).not.toContainEqual(
      expect.objectContaining({ number: pr.number }),
    );
  });

  it('a PR that touches no Terraform gets nothing posted', { timeout: 300_000 }, async () => {
    const pr = await openPr('readme', { 'README.md': '# infra\n\nMore words.\n' });
    await settled(pr.number);
    expect(world.standin.comments(OWNER, REPO, pr.number)).toEqual([]);
    expect(planChecks(await world.remote.headSha('readme'))).toEqual([]);
  });

  it('a PR whose config names a missing dir, a depends_on cycle and a glob matching nothing: a failing config check with key paths', {
    timeout: 300_000,
  }, async () => {
    const bad = `projects:
  - name: app
    dir: app
    depends_on: [db]
  - name: db
    dir: db
    depends_on: [app]
  - name: cache
    dir: cache
  - name: docs-site
    dir: docs-site
    when_modified: ["../handbook/**/*.md"]
`;
    const pr = await openPr('bad-config', { '.github/infra-agent.yml': bad });
    const head = await world.remote.headSha('bad-config');
    const check = await waitFor('the config check', () =>
      world.standin.state.checkRuns.find((c) => c.headSha === head && c.name === 'infra-agent/config'),
    );
    expect(check.conclusion).toBe('failure');
    expect(check.output.summary).toBe(
      [
        '`.github/infra-agent.yml` is invalid:',
        '- projects[2].dir: "cache" does not exist on this branch',
        '- projects[3].when_modified[0]: "../handbook/**/*.md" matches no file on this branch (it is relative to the project dir "docs-site")',
        '- projects[0].depends_on: a cycle: app → db → app; one of them must not depend on the other',
      ].join('\n'),
    );
    await settled(pr.number);
  });

  it("the App's own PR behind its base is re-planned as merged, bound to its head and the base's tip", {
    timeout: 600_000,
  }, async () => {
    const issue = world.standin.addIssue({
      owner: OWNER,
      repo: REPO,
      title: 'Add a cache to db',
      body: 'please',
      user: 'mona',
    });
    const labelled = standinWebhooks(world.standin).issuesLabeled(OWNER, REPO, issue.number, 'infra-request', 'mona');
    expect((await world.sender.send(labelled.event, labelled.payload)).status).toBeLessThan(300);
    await settled(issue.number);
    const appPr = world.standin
      .pulls(OWNER, REPO)
      .find((p) => p.user === world.standin.app.botLogin && p.state === 'open');
    expect(appPr).toBeDefined();
    const head = await world.remote.headSha(appPr?.headRef ?? '');
    await world.remote.commitFiles(
      'main',
      { 'db/replica.tf': 'resource "terraform_data" "replica" {\n  input = "r"\n}\n' },
      'Replica on main',
    );
    const base = await world.remote.headSha('main');

    const ask = world.standin.addComment({
      owner: OWNER,
      repo: REPO,
      issueNumber: appPr?.number ?? 0,
      user: 'mona',
      body: '/infra plan',
    });
    const hook = standinWebhooks(world.standin).issueCommentCreated(OWNER, REPO, ask.id);
    expect((await world.sender.send(hook.event, hook.payload)).status).toBeLessThan(300);
    const runs = await waitFor('the plan run', async () => {
      const all = (await settled(issue.number)).filter((r) => r.kind === 'plan');
      return all.length > 0 ? all : undefined;
    });
    expect(runs.map((r) => r.status)).toEqual(['succeeded']);
    const set = await loadPlanSet(world.server.runtime.store, FULL, appPr?.number ?? 0);
    expect(set).toMatchObject({ headSha: head, baseSha: base });
    const plans = world.standin.state.checkRuns.filter((c) => c.headSha === head && c.name === 'infra-agent/plan');
    expect(plans.at(-1)?.output.text).toContain('terraform_data.replica');
    // Nothing was pushed: the branch is the App's head, the merge lived only in the checkout.
    expect(await world.remote.headSha(appPr?.headRef ?? '')).toBe(head);
    expect(set?.planned).toBe('merge');

    // Approved by someone who did not ask for it: the plan of the merge is applied from that same merge — being
    // behind the base is no reason to refuse (it was, before the App's branches were planned as merged).
    const review = await world.standin.addReview({
      owner: OWNER,
      repo: REPO,
      pullNumber: appPr?.number ?? 0,
      user: 'hubot',
      state: 'APPROVED',
    });
    const approved = await standinWebhooks(world.standin).pullRequestReviewSubmitted(OWNER, REPO, review.id);
    expect((await world.sender.send(approved.event, approved.payload)).status).toBeLessThan(300);
    const apply = await waitFor('the apply run', async () => {
      const all = (await settled(issue.number)).filter((r) => r.kind === 'apply');
      return all.length > 0 ? all[0] : undefined;
    });
    expect(apply?.status, apply?.error ?? '').toBe('succeeded');
    const said = world.standin.comments(OWNER, REPO, appPr?.number ?? 0).map((c) => c.body);
    expect(said.some((b) => b.includes('Applied the reviewed plan'))).toBe(true);
    expect(said.some((b) => b.includes('behind'))).toBe(false);
  });

  it('a PR that does not merge cleanly into its base says which files conflict, and plans nothing', {
    timeout: 300_000,
  }, async () => {
    await world.remote.commitFiles('db-conflict', { 'db/main.tf': caller('database') }, 'Rename', {
      from: 'main',
      author: identityFor('mona'),
    });
    await world.remote.commitFiles('main', { 'db/main.tf': caller('db-primary') }, 'Rename on main');
    const pr = await world.standin.addPullRequest({
      owner: OWNER,
      repo: REPO,
      head: 'db-conflict',
      title: 'conflict',
      user: 'mona',
    });
    const hook = await standinWebhooks(world.standin).pullRequestOpened(OWNER, REPO, pr.number);
    expect((await world.sender.send(hook.event, hook.payload)).status).toBeLessThan(300);
    const said = await waitFor('the conflict note', () => botComments(pr.number)[0]);
    expect(said.body).toContain('this pull request does not merge cleanly into main: `db/main.tf` conflict');
    expect(await loadPlanSet(world.server.runtime.store, FULL, pr.number)).toBeUndefined();
  });

  it('GitHub saw only requests and responses its OpenAPI description allows', () => {
    expect(world.standin.violations).toEqual([]);
    expect(world.standin.responseViolations).toEqual([]);
  });
});
