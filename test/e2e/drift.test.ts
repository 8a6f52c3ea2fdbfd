// Drift end to end, over real sockets on the shared App harness: real terraform with real state in a local backend at
// an absolute path outside the checkout, the hashicorp/local provider writing real files, GitHub served by the
// stand-in (every request checked against GitHub's OpenAPI description), the scripted model for `reconcile code`.
// Reality is changed out of band the ways it happens: a managed file deleted, a managed file edited, a resource
// removed from state, an attribute changed in state.
//   1 `/infra drift` → one drift issue (labelled, the right resources) → a second check edits it, no new issue →
//     `/infra reconcile revert` → a PR whose plan restores reality (no code change) → approval applies it → the
//     drift issue stays open until the next check, which finds no drift and closes it.
//   2 an attribute drifts again → the same project gets a new issue → `/infra reconcile code` → the agent (scripted)
//     makes the code declare reality → the PR's plan is empty → approval applies it → the next check closes it.
import { mkdtemp, readFile, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { z } from 'zod';
import { standinWebhooks } from '../../devtools/github-standin/index.js';
import { DRIFT_LABEL } from '../../src/drift/issue.js';
import { parseReport } from '../../src/drift/report.js';
import { STATE_DIRS_ENV } from '../../src/sandbox/policy.js';
import { Terraform } from '../../src/terraform/engine.js';
import { type AppWorld, startAppWorld } from '../helpers/app-world.js';
import { describeWithTools } from '../helpers/tools.js';

const OWNER = 'acme';
const REPO = 'infra';

function backendTf(statePath: string): string {
  return [
    'terraform {',
    `  backend "local" {\n    path = ${JSON.stringify(statePath)}\n  }`,
    '  required_providers {\n    local = {\n      source = "hashicorp/local"\n    }\n  }',
    '}',
    '',
  ].join('\n');
}

function mainTf(outDir: string, release: string): string {
  return [
    'resource "local_file" "settings" {',
    `  filename        = ${JSON.stringify(join(outDir, 'settings.json'))}`,
    '  content         = "{\\"team\\":\\"platform\\"}"',
    '  file_permission = "0640"',
    '}',
    '',
    'resource "local_file" "motd" {',
    `  filename        = ${JSON.stringify(join(outDir, 'motd.txt'))}`,
    '  content         = "hello"',
    '  file_permission = "0640"',
    '}',
    '',
    'resource "terraform_data" "release" {',
    `  input = ${JSON.stringify(release)}`,
    '}',
    '',
    'resource "terraform_data" "owner" {',
    '  input = "platform"',
    '}',
    '',
  ].join('\n');
}

// The local backend and the managed files live outside the checkout on purpose (real state that survives runs): the
// operator allows that dir (INFRA_AGENT_SANDBOX_STATE_DIRS) and this repo turns the guard's PRE-FILE-001 down to advisory.
const CONFIG = 'projects:\n  - name: app\n    dir: .\npolicy:\n  levels:\n    PRE-FILE-001: advisory\n';

const StateSchema = z.looseObject({
  serial: z.number(),
  resources: z.array(
    z.looseObject({
      type: z.string(),
      name: z.string(),
      instances: z.array(z.looseObject({ attributes: z.record(z.string(), z.unknown()) })),
    }),
  ),
});

function step(id: string, name: string, input: unknown) {
  return {
    kind: 'message' as const,
    content: [{ type: 'tool_use' as const, id, name, input }],
    stopReason: 'tool_use' as const,
    usage: { input_tokens: 2_000, output_tokens: 150 },
  };
}

let explain: () => Promise<string> = async () => '';

async function waitFor<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, ms = 600_000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}: ${await explain()}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

describeWithTools(['terraform', 'git', 'tfsec', 'checkov', 'opa'], 'drift end to end', () => {
  let world: AppWorld;
  let dir: string;
  let statePath: string;
  let outDir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'infra-agent-e2e-drift-'));
    process.env[STATE_DIRS_ENV] = [process.env[STATE_DIRS_ENV], dir].filter(Boolean).join(':');
    statePath = join(dir, 'state', 'terraform.tfstate');
    outDir = join(dir, 'out');
    const files = {
      'backend.tf': backendTf(statePath),
      'main.tf': mainTf(outDir, 'v1'),
      '.github/infra-agent.yml': CONFIG,
    };
    world = await startAppWorld({
      files,
      permissions: { mona: 'write', octo: 'write', guest: 'read' },
      owner: OWNER,
      repo: REPO,
      script: [
        step('toolu_drift_0001', 'write_file', { path: 'main.tf', content: mainTf(outDir, 'v2') }),
        step('toolu_drift_0002', 'run_checks', {}),
        step('toolu_drift_0003', 'finish', {
          title: 'Accept the release drift',
          summary: 'The code now declares `terraform_data.release` as `v2`, as it really is.',
          notes_for_reviewer: 'No resource changes: the plan is empty.',
        }),
      ],
      server: { driftScheduler: false },
    });
    // The infrastructure as the code says, applied outside the App (a first apply by the team).
    const checkout = join(dir, 'checkout');
    await writeFile(join(await mkdirp(checkout), 'backend.tf'), backendTf(statePath));
    await writeFile(join(checkout, 'main.tf'), mainTf(outDir, 'v1'));
    const tf = new Terraform();
    await tf.init(checkout);
    await tf.plan(checkout, { out: join(dir, 'first.tfplan') });
    await tf.apply(checkout, join(dir, 'first.tfplan'));
  }, 300_000);

  afterAll(async () => {
    await world?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const store = () => world.server.runtime.store;
  explain = async () =>
    JSON.stringify({
      runs: (await store().listRuns({})).map((r) => [r.kind, r.status, r.stage, r.error]),
      queue: await world.server.runtime.queue.depth(),
      comments: world.standin.state.comments.slice(-4).map((c) => c.body.slice(0, 300)),
    });
  const readState = async () => StateSchema.parse(JSON.parse(await readFile(statePath, 'utf8')));
  const writeState = async (edit: (s: z.infer<typeof StateSchema>) => void) => {
    const s = await readState();
    edit(s);
    s.serial += 1;
    await writeFile(statePath, JSON.stringify(s, null, 2));
  };
  const driftIssues = () => world.standin.state.issues.filter((i) => i.labels.includes(DRIFT_LABEL));
  const idle = async () => {
    const d = await world.server.runtime.queue.depth();
    const runs = await store().listRuns({});
    return d.queued === 0 && d.active === 0 && runs.every((r) => !['queued', 'running'].includes(r.status));
  };
  const checks = async () => (await store().listAudit({ action: 'drift.checked', limit: 1000 })).length;
  const comment = async (issueNumber: number, user: string, body: string) => {
    const c = world.standin.addComment({ owner: OWNER, repo: REPO, issueNumber, user, body });
    const hook = standinWebhooks(world.standin).issueCommentCreated(OWNER, REPO, c.id);
    expect((await world.sender.send(hook.event, hook.payload)).status).toBeLessThan(300);
  };
  /** `/infra drift` on the ops issue; resolves once the check is recorded and the queue is idle. */
  const checkNow = async (on: number) => {
    const before = await checks();
    await comment(on, 'mona', '/infra drift');
    await waitFor('a drift check', async () => ((await checks()) > before && (await idle()) ? true : undefined));
  };
  const approve = async (pr: number, user: string) => {
    const review = await world.standin.addReview({ owner: OWNER, repo: REPO, pullNumber: pr, user, state: 'APPROVED' });
    const hook = await standinWebhooks(world.standin).pullRequestReviewSubmitted(OWNER, REPO, review.id);
    expect((await world.sender.send(hook.event, hook.payload)).status).toBeLessThan(300);
  };
  const status = async () => store().getDrift({ repo: `${OWNER}/${REPO}`, project: 'app', workspace: 'default' });

  it('detects drift in one issue, edits it, reverts reality with a reviewed PR, and closes it on the next clean check', async () => {
    const ops = world.standin.addIssue({ owner: OWNER, repo: REPO, title: 'ops', user: 'mona' });
    await checkNow(ops.number);
    expect(driftIssues()).toEqual([]);
    expect((await status())?.state).toBe('clean');

    // Out of band: a managed file deleted, another edited, a resource dropped from state, an attribute changed.
    await unlink(join(outDir, 'motd.txt'));
    await writeFile(join(outDir, 'settings.json'), '{"team":"someone-else"}');
    await writeState((s) => {
      s.resources = s.resources.filter((r) => !(r.type === 'terraform_data' && r.name === 'owner'));
      const release = s.resources.find((r) => r.type === 'terraform_data' && r.name === 'release');
      const attrs = release?.instances[0]?.attributes;
      if (!attrs) throw new Error('no release in state');
      attrs['input'] = { type: 'string', value: 'v0' };
      attrs['output'] = { type: 'string', value: 'v0' };
    });

    await checkNow(ops.number);
    expect(driftIssues()).toHaveLength(1);
    const issue = driftIssues()[0];
    if (!issue) throw new Error('no drift issue');
    expect(issue.user).toBe(world.standin.app.botLogin);
    expect(issue.title).toBe('Drift: app');
    const body = issue.body ?? '';
    for (const address of [
      'local_file.motd',
      'local_file.settings',
      'terraform_data.owner',
      'terraform_data.release',
    ]) {
      expect(body).toContain(`\`${address}\``);
    }
    expect(body).toMatch(/`local_file\.motd` \| deleted \| create/);
    expect(body).toMatch(/`terraform_data\.owner` \| — \| create/);
    expect(body).toMatch(/`terraform_data\.release` \| — \| update \| `input`/);
    expect(body).toContain('First detection.');
    expect(body).not.toContain('someone-else');
    const first = await status();
    expect(first?.state).toBe('drifted');
    expect(first?.issueNumber).toBe(issue.number);
    const reply = world.standin
      .comments(OWNER, REPO, ops.number)
      .filter((c) => c.user === world.standin.app.botLogin)
      .at(-1);
    expect(reply?.body).toContain(`Drift issue: #${issue.number}`);

    // A second check: the same issue is edited in place, saying what changed since; no second issue.
    await writeFile(join(outDir, 'settings.json'), '{"team":"platform"}');
    await checkNow(ops.number);
    expect(driftIssues()).toHaveLength(1);
    const edited = world.standin.issue(OWNER, REPO, issue.number);
    expect(edited?.bodyHistory.length).toBeGreaterThan(0);
    expect(edited?.body).toContain('| Checks since first seen | 2 |');
    expect(edited?.body).toContain('- no longer drifted: `local_file.settings`');
    expect((await status())?.firstSeenAt?.toISOString()).toBe(first?.firstSeenAt?.toISOString());

    // Reconcile: a read-only user is refused; a writer gets a PR whose plan is the change, with no code change.
    await comment(issue.number, 'guest', '/infra reconcile revert');
    await waitFor('the refusal', () =>
      world.standin.comments(OWNER, REPO, issue.number).find((c) => c.body.includes('@guest')) ? true : undefined,
    );
    expect(world.standin.pulls(OWNER, REPO)).toEqual([]);
    await comment(issue.number, 'mona', '/infra reconcile revert');
    const pr = await waitFor('the reconcile PR', async () =>
      (await idle()) ? world.standin.pulls(OWNER, REPO)[0] : undefined,
    );
    const generate = (await store().listRuns({ kind: 'generate' }))[0];
    expect(generate?.status, generate?.error ?? '').toBe('succeeded');
    const prBody = world.standin.pull(OWNER, REPO, pr.number)?.body ?? '';
    expect(prBody).toContain(`Reconciles the drift reported in #${issue.number}`);
    expect(prBody).not.toContain(`Closes #${issue.number}`);
    expect(prBody).toMatch(/Plan: 2 to add, 1 to change, 0 to destroy/);
    // No code change: the branch's tree is the default branch's.
    expect(await world.remote.readFile(pr.headRef, 'main.tf')).toBe(mainTf(outDir, 'v1'));

    // Approval applies the reviewed plan: reality is back to the code. The drift issue waits for the next check.
    await approve(pr.number, 'octo');
    await waitFor('the apply', async () =>
      (await idle()) && (await store().listRuns({ kind: 'apply', status: 'succeeded' })).length === 1
        ? true
        : undefined,
    );
    expect(await readFile(join(outDir, 'motd.txt'), 'utf8')).toBe('hello');
    const restored = await readState();
    expect(restored.resources.map((r) => `${r.type}.${r.name}`).sort()).toEqual([
      'local_file.motd',
      'local_file.settings',
      'terraform_data.owner',
      'terraform_data.release',
    ]);
    const release = restored.resources.find((r) => r.name === 'release');
    expect(release?.instances[0]?.attributes['input']).toEqual({ type: 'string', value: 'v1' });
    expect(world.standin.pull(OWNER, REPO, pr.number)?.merged).toBe(true);
    expect(world.standin.issue(OWNER, REPO, issue.number)?.state).toBe('open');

    await checkNow(ops.number);
    expect(world.standin.issue(OWNER, REPO, issue.number)?.state).toBe('closed');
    const clean = await status();
    expect(clean?.state).toBe('clean');
    expect(clean?.issueNumber).toBeNull();
    expect(driftIssues()).toHaveLength(1);
    expect(world.standin.violations).toEqual([]);
    expect(world.standin.responseViolations).toEqual([]);
  }, 1_200_000);

  it('reconcile code: the agent makes the code declare reality, and after its PR is applied the plan is empty', async () => {
    const ops = world.standin.state.issues.find((i) => i.title === 'ops');
    if (!ops) throw new Error('no ops issue');
    await writeState((s) => {
      const release = s.resources.find((r) => r.type === 'terraform_data' && r.name === 'release');
      const attrs = release?.instances[0]?.attributes;
      if (!attrs) throw new Error('no release in state');
      attrs['input'] = { type: 'string', value: 'v2' };
      attrs['output'] = { type: 'string', value: 'v2' };
    });
    await checkNow(ops.number);
    const open = driftIssues().filter((i) => i.state === 'open');
    expect(open).toHaveLength(1);
    const issue = open[0];
    if (!issue) throw new Error('no drift issue');
    expect(issue.body).toMatch(/`terraform_data\.release` \| — \| update \| `input`/);

    const prsBefore = world.standin.pulls(OWNER, REPO).length;
    await comment(issue.number, 'mona', '/infra reconcile code');
    const pr = await waitFor('the reconcile PR', async () =>
      (await idle()) && world.standin.pulls(OWNER, REPO).length > prsBefore
        ? world.standin.pulls(OWNER, REPO, { state: 'open' })[0]
        : undefined,
    );
    // The agent's request was grounded in the plans: it named the real value.
    const request = JSON.stringify(world.model.requests[0] ?? {});
    expect(request).toContain('terraform_data.release');
    expect(request).toContain('real value \\\\\\"v2\\\\\\"');
    const prBody = world.standin.pull(OWNER, REPO, pr.number)?.body ?? '';
    expect(prBody).toContain(`Reconciles the drift reported in #${issue.number}`);
    expect(prBody).toMatch(/\| app \(\.\) \| 0 \| 0 \| 0 \| 0 \| 0 \| .*\| ✅ pass \|/);
    expect(prBody).toContain('No changes. Your infrastructure matches the configuration.');
    expect(await world.remote.readFile(pr.headRef, 'main.tf')).toContain('input = "v2"');

    await approve(pr.number, 'octo');
    await waitFor('the apply', async () =>
      (await idle()) && (await store().listRuns({ kind: 'apply', status: 'succeeded' })).length === 2
        ? true
        : undefined,
    );
    expect(world.standin.pull(OWNER, REPO, pr.number)?.merged).toBe(true);

    await checkNow(ops.number);
    expect(world.standin.issue(OWNER, REPO, issue.number)?.state).toBe('closed');
    const after = await status();
    expect(after?.state).toBe('clean');
    const report = parseReport(after?.report);
    expect(report?.status).toBe('clean');
    // The plan of the default branch is empty now.
    const reply = world.standin
      .comments(OWNER, REPO, ops.number)
      .filter((c) => c.user === world.standin.app.botLogin)
      .at(-1);
    expect(reply?.body).toContain('**No drift.**');
    expect((await stat(statePath)).isFile()).toBe(true);
    expect(world.standin.violations).toEqual([]);
    expect(world.standin.responseViolations).toEqual([]);
  }, 1_200_000);

  it('drift.auto_reconcile opens the reconciling PR on first detection, once, and applies nothing by itself', async () => {
    const ops = world.standin.state.issues.find((i) => i.title === 'ops');
    if (!ops) throw new Error('no ops issue');
    await world.remote.commitFiles(
      world.remote.defaultBranch,
      { '.github/infra-agent.yml': `${CONFIG}drift:\n  auto_reconcile: revert\n` },
      'Reconcile drift by reverting it, automatically',
    );
    const prsBefore = world.standin.pulls(OWNER, REPO).length;
    await unlink(join(outDir, 'motd.txt'));
    await checkNow(ops.number);
    const issue = driftIssues().find((i) => i.state === 'open');
    if (!issue) throw new Error('no drift issue');
    const pr = await waitFor('the automatic reconcile PR', async () =>
      (await idle()) && world.standin.pulls(OWNER, REPO).length > prsBefore
        ? world.standin.pulls(OWNER, REPO, { state: 'open' })[0]
        : undefined,
    );
    const body = world.standin.pull(OWNER, REPO, pr.number)?.body ?? '';
    expect(body).toContain(`Reconciles the drift reported in #${issue.number}`);
    expect(body).toMatch(/Plan: 1 to add, 0 to change, 0 to destroy/);
    // A later check edits the same issue and asks for no second PR; nothing was applied.
    await checkNow(ops.number);
    expect(world.standin.pulls(OWNER, REPO)).toHaveLength(prsBefore + 1);
    expect(driftIssues().filter((i) => i.state === 'open')).toHaveLength(1);
    expect((await store().listRuns({ kind: 'apply' })).length).toBe(2);
    await expect(stat(join(outDir, 'motd.txt'))).rejects.toThrow();
    expect(world.standin.violations).toEqual([]);
  }, 1_200_000);
});

async function mkdirp(path: string): Promise<string> {
  const { mkdir } = await import('node:fs/promises');
  await mkdir(path, { recursive: true });
  return path;
}
