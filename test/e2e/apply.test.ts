// Approve → apply, end to end over real sockets, on the same harness as app.test.ts: the real server (Probot
// middleware, embedded store and queue, the worker), GitHub served by the stand-in (every request and response checked
// against GitHub's OpenAPI description), a real git remote on disk, the scripted model, real terraform and scanners.
// State lives in a local backend at an absolute path, so the plan run's checkout and the apply's checkout share it.
//   1 issue → PR; approvals by a read-only user and by the requester are refused with the reason; an approval by an
//     authorised reviewer applies the saved plan: real state, check run, merged, issue closed, lock released;
//     re-delivering the approval (same id, or a new id for the same review) applies nothing twice.
//   2 a second issue → PR; a person pushes after the plan; the approval re-plans instead of applying (state unchanged,
//     a new plan posted, the thread asks for approval again); approving the new plan applies it.
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { z } from 'zod';
import { DEMO_FILE, DEMO_REQUEST, demoModelScript } from '../../devtools/demo-model-script.js';
import { type GitHubStandin, standinWebhooks } from '../../devtools/github-standin/index.js';
import { readMarkers } from '../../src/markdown/markers.js';
import { STATE_DIRS_ENV } from '../../src/sandbox/policy.js';
import { type AppServer, WEBHOOK_PATH } from '../../src/server/server.js';
import type { RunRecord } from '../../src/store/types.js';
import { projectRoot } from '../../src/toolchain/tools.js';
import { type AppWorld, startAppWorld } from '../helpers/app-world.js';
import { type GitRemote, HUMAN_IDENTITY } from '../helpers/git-remote.js';
import { describeWithTools } from '../helpers/tools.js';
import { waitFor as waitForValue } from '../helpers/wait.js';
import type { WebhookSender } from '../helpers/webhooks.js';

const OWNER = 'acme';
const REPO = 'infra';
const SECRET = 'e2e-apply-webhook-secret';
const MARKER_FILE = 'marker.tf';

const SECOND_REQUEST = {
  title: 'Add a release marker',
  body: 'Please add a `terraform_data` called `marker` holding the release name `v1`.',
};

/** The demo's generate conversation for issue 1, then one that adds a `terraform_data.marker` for issue 2. */
function modelScript() {
  const [write, check, finish] = demoModelScript();
  if (!write || !check || !finish) throw new Error('the demo script changed');
  const step = (id: string, name: string, input: unknown) => ({
    kind: 'message' as const,
    content: [{ type: 'tool_use' as const, id, name, input }],
    stopReason: 'tool_use' as const,
    usage: { input_tokens: 2_000, output_tokens: 150 },
  });
  return [
    write,
    check,
    finish,
    step('toolu_apply_0001', 'write_file', {
      path: MARKER_FILE,
      content: 'resource "terraform_data" "marker" {\n  input = "v1"\n}\n',
    }),
    step('toolu_apply_0002', 'run_checks', {}),
    step('toolu_apply_0003', 'finish', {
      title: 'Add a release marker',
      summary: 'Adds `terraform_data.marker` holding `v1`.',
      notes_for_reviewer: 'Nothing else changes.',
    }),
  ];
}

async function repoFiles(statePath: string): Promise<Record<string, string>> {
  const root = join(projectRoot(), 'examples', 'demo-repo');
  const out: Record<string, string> = {};
  for (const entry of await readdir(root, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const abs = join(entry.parentPath, entry.name);
    out[relative(root, abs)] = await readFile(abs, 'utf8');
  }
  // Each run checks out afresh: state in a relative path would be lost between the plan and the apply.
  out['backend.tf'] = `terraform {\n  backend "local" {\n    path = "${statePath}"\n  }\n}\n`;
  return out;
}

const StateSchema = z.object({
  serial: z.number(),
  resources: z.array(
    z.object({
      type: z.string(),
      name: z.string(),
      instances: z.array(z.object({ attributes: z.record(z.string(), z.unknown()) })),
    }),
  ),
});

describeWithTools(['terraform', 'git', 'tfsec', 'checkov', 'opa'], 'approve → apply end to end', () => {
  let standin: GitHubStandin;
  let remote: GitRemote;
  let server: AppServer;
  let sender: WebhookSender;
  let stateDir: string;
  let statePath: string;
  let world: AppWorld | undefined;

  beforeAll(async () => {
    stateDir = await mkdtemp(join(tmpdir(), 'infra-agent-e2e-state-'));
    statePath = join(stateDir, 'terraform.tfstate');
    // The operator's setting for a local backend outside the checkout (as the demo does).
    process.env[STATE_DIRS_ENV] = stateDir;
    world = await startAppWorld({
      files: await repoFiles(statePath),
      permissions: { mona: 'write', octo: 'write', octocat: 'write', guest: 'read' },
      script: modelScript(),
      owner: OWNER,
      repo: REPO,
      secret: SECRET,
    });
    ({ standin, remote, server, sender } = world);
  });

  afterAll(async () => {
    await world?.close();
    if (stateDir) await rm(stateDir, { recursive: true, force: true });
  });

  /** Wait until `n` runs exist and every run is finished. */
  const runsDone = async (n: number): Promise<RunRecord[]> =>
    waitFor(`${n} finished run(s)`, async () => {
      const runs = await server.runtime.store.listRuns({});
      const done = runs.filter((r) => ['succeeded', 'failed', 'cancelled', 'needs-human'].includes(r.status));
      const settled = (await server.runtime.queue.depth()).queued === 0;
      return runs.length >= n && done.length === runs.length && settled ? runs : undefined;
    });

  const readState = async () => StateSchema.parse(JSON.parse(await readFile(statePath, 'utf8')));
  const botComments = (n: number) => standin.comments(OWNER, REPO, n).filter((c) => c.user === standin.app.botLogin);
  const approve = async (pr: number, user: string) => {
    const review = await standin.addReview({ owner: OWNER, repo: REPO, pullNumber: pr, user, state: 'APPROVED' });
    const hook = await standinWebhooks(standin).pullRequestReviewSubmitted(OWNER, REPO, review.id);
    const res = await sender.send(hook.event, hook.payload);
    expect(res.status).toBeLessThan(300);
    return { review, hook, res };
  };
  const openIssue = async (request: { title: string; body: string }) => {
    const issue = standin.addIssue({ owner: OWNER, repo: REPO, ...request, user: 'mona', labels: ['infra-request'] });
    const labeled = standinWebhooks(standin).issuesLabeled(OWNER, REPO, issue.number, 'infra-request', 'mona');
    expect((await sender.send(labeled.event, labeled.payload)).status).toBeLessThan(300);
    return issue;
  };

  it('approval by an authorised reviewer applies the reviewed plan, merges, closes, unlocks; refusals apply nothing', async () => {
    const issue = await openIssue(DEMO_REQUEST);
    let runs = await runsDone(1);
    expect(runs[0]?.status, runs[0]?.error ?? '').toBe('succeeded');
    const pr = standin.pulls(OWNER, REPO)[0];
    if (!pr) throw new Error('no PR');
    const repoName = `${OWNER}/${REPO}`;
    expect(await server.runtime.store.listLocks({ repo: repoName, pr: pr.number })).toHaveLength(1);

    // A read-only reviewer: refused, named.
    await approve(pr.number, 'guest');
    runs = await runsDone(2);
    expect(botComments(pr.number).at(-1)?.body).toContain('**approver-unauthorised**');
    expect(botComments(pr.number).at(-1)?.body).toContain('**nothing was applied**');
    // The requester approving their own change: refused, named.
    await approve(pr.number, 'mona');
    runs = await runsDone(3);
    expect(botComments(pr.number).at(-1)?.body).toContain('**self-approval**');
    await expect(readFile(statePath, 'utf8')).rejects.toThrow();
    expect(standin.pull(OWNER, REPO, pr.number)?.merged).toBe(false);

    // An authorised reviewer who did not ask for it: applied.
    const approval = await approve(pr.number, 'octo');
    runs = await runsDone(4);
    const apply = runs.find((r) => r.kind === 'apply' && r.status === 'succeeded');
    expect(apply, JSON.stringify(runs.map((r) => [r.kind, r.status, r.error]))).toBeDefined();
    const state = await readState();
    expect(state.resources.map((r) => `${r.type}.${r.name}`).sort()).toEqual([
      'local_file.settings',
      'random_pet.environment',
      'terraform_data.settings',
    ]);
    const localFile = state.resources.find((r) => r.type === 'local_file');
    expect(String(localFile?.instances[0]?.attributes['content'])).toContain('"team":"platform"');
    const merged = standin.pull(OWNER, REPO, pr.number);
    expect(merged?.merged).toBe(true);
    expect(await remote.readFile(remote.defaultBranch, DEMO_FILE)).toContain('resource "local_file" "settings"');
    expect(standin.issue(OWNER, REPO, issue.number)?.state).toBe('closed');
    expect(await server.runtime.store.listLocks({ repo: repoName, pr: pr.number })).toEqual([]);
    const applyChecks = standin.state.checkRuns.filter((c) => c.name === 'infra-agent/apply');
    expect(applyChecks.map((c) => `${c.status}:${c.conclusion}`)).toEqual(['completed:success']);
    expect(applyChecks[0]?.headSha).toBe(approval.review.commitId);
    expect(merged?.labels).toContain('infra-agent:applied');
    const report = botComments(pr.number).find((c) => c.body.includes('Applied the reviewed plan'));
    expect(report?.body).toContain('approved by @octo');
    expect(report?.body).toContain('Merged (squash).');
    expect(report?.body).toContain(`Closed #${issue.number}.`);
    const output = botComments(pr.number).find((c) => c.body.includes('terraform apply output'));
    expect(output?.body).toContain('<details>');
    expect(output?.body).toMatch(/Apply complete! Resources: 3 added/);

    // Re-delivery of the approval (same delivery id), and a second delivery of the same review: nothing twice.
    const serial = state.serial;
    const before = {
      comments: standin.state.comments.filter((c) => !c.deleted).length,
      checkRuns: standin.state.checkRuns.length,
      main: await remote.headSha(remote.defaultBranch),
    };
    const { deliver } = await import('../../devtools/webhooks.js');
    expect((await deliver(`${server.url}${WEBHOOK_PATH}`, approval.res.delivery)).status).toBeLessThan(300);
    expect((await sender.send(approval.hook.event, approval.hook.payload)).status).toBeLessThan(300);
    runs = await runsDone(5);
    expect(runs.filter((r) => r.kind === 'apply')).toHaveLength(4);
    expect((await readState()).serial).toBe(serial);
    expect({
      comments: standin.state.comments.filter((c) => !c.deleted).length,
      checkRuns: standin.state.checkRuns.length,
      main: await remote.headSha(remote.defaultBranch),
    }).toEqual(before);

    expect(standin.violations).toEqual([]);
    expect(standin.responseViolations).toEqual([]);
  }, 900_000);

  it('a push after the plan makes the approval re-plan instead of apply; approving the new plan applies it', async () => {
    const already = (await server.runtime.store.listRuns({})).length;
    const issue = await openIssue(SECOND_REQUEST);
    let runs = await runsDone(already + 1);
    const generate = runs.find((r) => r.kind === 'generate' && r.number === issue.number);
    expect(generate?.status, generate?.error ?? '').toBe('succeeded');
    const pr = standin.pulls(OWNER, REPO, { state: 'open' })[0];
    if (!pr) throw new Error('no PR');
    const planned = readMarkers(standin.pull(OWNER, REPO, pr.number)?.body)['head-sha'];
    const stateBefore = await readFile(statePath, 'utf8');

    // A person pushes to the branch after the plan (no synchronize webhook: the approval must notice by itself).
    const humanHead = await remote.commitFiles(
      pr.headRef,
      { [MARKER_FILE]: 'resource "terraform_data" "marker" {\n  input = "v1" # release name\n}\n' },
      'Comment the release name',
      { author: HUMAN_IDENTITY },
    );
    expect(humanHead).not.toBe(planned);
    await approve(pr.number, 'octo');
    runs = await runsDone(already + 3);
    const refusedApply = runs.find((r) => r.kind === 'apply' && r.number === issue.number);
    expect(refusedApply?.status).toBe('succeeded');
    const replan = runs.find((r) => r.kind === 'plan' && r.number === issue.number);
    expect(replan?.status, replan?.error ?? '').toBe('succeeded');
    expect(await readFile(statePath, 'utf8')).toBe(stateBefore);
    const thread = botComments(pr.number);
    const notice = thread.find((c) => c.body.includes('the plan you reviewed is no longer the plan of this branch'));
    expect(notice?.body).toContain('@octo');
    expect(notice?.body).toMatch(/octocat/);
    expect(thread.at(-1)?.body).toContain('This is a new plan: review it and approve again to apply it.');
    const body = standin.pull(OWNER, REPO, pr.number)?.body ?? '';
    expect(readMarkers(body)['head-sha']).toBe(humanHead);
    expect(body).toContain('Re-planned by infra-agent');
    expect(standin.pull(OWNER, REPO, pr.number)?.merged).toBe(false);
    expect(standin.state.checkRuns.filter((c) => c.name === 'infra-agent/apply' && c.headSha === humanHead)).toEqual(
      [],
    );

    // The new plan, approved: applied.
    await approve(pr.number, 'octo');
    runs = await runsDone(already + 4);
    const applied = runs.filter((r) => r.kind === 'apply' && r.number === issue.number && r.status === 'succeeded');
    expect(applied).toHaveLength(2);
    const state = await readState();
    const marker = state.resources.find((r) => r.type === 'terraform_data' && r.name === 'marker');
    expect(marker?.instances[0]?.attributes['input']).toEqual({ type: 'string', value: 'v1' });
    expect(standin.pull(OWNER, REPO, pr.number)?.merged).toBe(true);
    expect(standin.issue(OWNER, REPO, issue.number)?.state).toBe('closed');
    expect(await server.runtime.store.listLocks({ repo: `${OWNER}/${REPO}` })).toEqual([]);

    expect(standin.violations).toEqual([]);
    expect(standin.responseViolations).toEqual([]);
  }, 900_000);
});

function waitFor<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, ms = 300_000): Promise<T> {
  return waitForValue(what, probe, ms);
}
