// Pull requests people write, planned end to end through the App: signed webhooks, the GitHub stand-in, a real git
// remote, real terraform in the sandbox. A PR that changes a local module two projects call gets both planned (a
// third project, untouched, is not), ONE comment and one check run per project, and its plans recorded bound to head +
// base exactly as the App's own PRs' plans are, with the projects' locks taken.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { standinWebhooks } from '../../devtools/github-standin/index.js';
import { loadPlanSet } from '../../src/apply/plan-record.js';
import { hasOwnMarker } from '../../src/markdown/markers.js';
import { type AppWorld, startAppWorld } from '../helpers/app-world.js';
import { terraformOnly } from '../helpers/fault-world.js';
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
      server: { checks: terraformOnly },
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

  it('a PR that touches no Terraform gets nothing posted', { timeout: 300_000 }, async () => {
    const pr = await openPr('readme', { 'README.md': '# infra\n\nMore words.\n' });
    await settled(pr.number);
    expect(world.standin.comments(OWNER, REPO, pr.number)).toEqual([]);
    expect(planChecks(await world.remote.headSha('readme'))).toEqual([]);
  });
});
