// Approve → apply with real terraform (offline provider mirror), a real store (embedded PGlite, encrypted plans) and
// a fake GitHub port. Each scenario plans with the real checks stage, records the plan set like the plan run does,
// deletes the plan file, and approves:
// - two projects (app depends on network): exactly the saved bytes are applied, in dependency order; state and the
//   local_file change for real; merged, issue closed, locks released, labels and check run set, audit written;
//   a re-delivered approval does nothing;
// - a push after the plan: the approval re-plans; nothing applied, state untouched;
// - refusals end to end (unauthorised reviewer, the requester, a PR the app does not own): nothing applied;
// - terraform fails during apply: lock kept, PR open, the error and what to do next posted;
// - a crash mid-apply: the run is left "applying"; recovery marks it needs-human, keeps the lock; a new approval of
//   the same plan refuses.
import { randomBytes } from 'node:crypto';
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type ApplyDeps, applyClaimKey, applyReviewedPlan, recoverInterruptedApplies } from '../../src/apply/apply.js';
import { lockProjectsForPlan } from '../../src/apply/handlers.js';
import { loadPlanSet, recordReviewedPlans, sha256 } from '../../src/apply/plan-record.js';
import { type RepoConfig, RepoConfigSchema } from '../../src/config/schema.js';
import { APPLY_LABELS } from '../../src/core/apply-port.js';
import type { ChecksResult, Project } from '../../src/core/types.js';
import { STATE_DIRS_ENV } from '../../src/sandbox/policy.js';
import { runChecks } from '../../src/stages/checks.js';
import { createStore } from '../../src/store/create-store.js';
import type { SqlStore } from '../../src/store/sql-store.js';
import { type CallOptions, Terraform } from '../../src/terraform/engine.js';
import { describeWithTools } from '../helpers/tools.js';
import { appPrBody, BOT, FakePort } from './fake-port.js';

const PLAN_KEY = randomBytes(32).toString('base64');
const H1 = '1'.repeat(40);
const H2 = '2'.repeat(40);
const B1 = 'b'.repeat(40);

/** Terraform that records what it applied: the dir and the sha256 of the plan file bytes it was handed. */
class RecordingTerraform extends Terraform {
  applied: { dir: string; planHash: string }[] = [];
  hang = false;
  override async apply(dir: string, planFile: string, opts: CallOptions = {}): Promise<{ output: string }> {
    this.applied.push({ dir, planHash: sha256(await readFile(planFile)) });
    // A worker that dies here never returns: the store keeps what was written before terraform started.
    if (this.hang) return new Promise(() => {});
    return super.apply(dir, planFile, opts);
  }
}

let store: SqlStore;
let work: string;
let prCounter = 100;

beforeAll(async () => {
  store = await createStore({ dataDir: 'memory://', planKey: PLAN_KEY });
  work = await mkdtemp(join(tmpdir(), 'apply-it-'));
});
afterAll(async () => {
  await store.close();
  await rm(work, { recursive: true, force: true });
});

const config: RepoConfig = RepoConfigSchema.parse({});

function moduleText(opts: { statePath: string; file: string; content: string; extra?: string }): string {
  return `terraform {
  required_providers {
    random = { source = "hashicorp/random" }
    local  = { source = "hashicorp/local" }
  }
  backend "local" {
    path = "${opts.statePath}"
  }
}

resource "random_pet" "name" {
  length = 2
}

resource "terraform_data" "marker" {
  input = random_pet.name.id
}

resource "local_file" "hello" {
  filename = "${opts.file}"
  content  = "${opts.content}"
}
${opts.extra ?? ''}`;
}

interface Scenario {
  /** One repo per scenario: locks are per repo + project, and each scenario plans its own `network`. */
  repo: string;
  pr: number;
  issue: number;
  /** The repository as committed: plan and apply each get their own copy. */
  source: string;
  projects: Project[];
  statePaths: Record<string, string>;
  files: Record<string, string>;
  port: FakePort;
  planned: { pr: number; reason: string }[];
  tf: RecordingTerraform;
  deps: ApplyDeps;
  results: ChecksResult[];
  config: RepoConfig;
}

/** A repo with the given projects, planned by the real checks stage and recorded as the plan run does. */
async function scenario(
  names: { name: string; dependsOn?: string[] }[],
  opts: { extra?: string; config?: RepoConfig } = {},
): Promise<Scenario> {
  const cfg = opts.config ?? config;
  const pr = ++prCounter;
  const issue = pr + 1000;
  const repo = `acme/infra-${pr}`;
  const root = join(work, `pr-${pr}`);
  const source = join(root, 'source');
  const statePaths: Record<string, string> = {};
  const files: Record<string, string> = {};
  const projects: Project[] = [];
  for (const n of names) {
    const dir = join(source, n.name);
    await mkdir(dir, { recursive: true });
    statePaths[n.name] = join(root, 'state', `${n.name}.tfstate`);
    files[n.name] = join(root, 'out', `${n.name}.txt`);
    await writeFile(
      join(dir, 'main.tf'),
      moduleText({
        statePath: statePaths[n.name] ?? '',
        file: files[n.name] ?? '',
        content: `reviewed ${n.name}`,
        ...(opts.extra ? { extra: opts.extra } : {}),
      }),
    );
    projects.push({ name: n.name, dir: n.name, workspace: 'default', dependsOn: n.dependsOn ?? [] });
  }
  // The operator's setting for state (and this test's output files) outside the checkout: the sandbox binds them.
  await mkdir(join(root, 'state'), { recursive: true });
  await mkdir(join(root, 'out'), { recursive: true });
  process.env[STATE_DIRS_ENV] = [process.env[STATE_DIRS_ENV], join(root, 'state'), join(root, 'out')]
    .filter(Boolean)
    .join(':');

  // Plan in a checkout of its own, as the plan run does; its plan files are deleted afterwards.
  const planCheckout = join(root, 'plan-checkout');
  await cp(source, planCheckout, { recursive: true });
  const results: ChecksResult[] = [];
  for (const project of projects) {
    const planDir = await mkdtemp(join(root, 'plan-'));
    const r = await runChecks({
      repoRoot: planCheckout,
      project,
      config: cfg,
      planDir,
      scanners: { static: [], plan: [] },
    });
    expect(r.stages.filter((s) => s.status === 'failed')).toEqual([]);
    expect(r.plan?.summary.counts.add).toBe(3);
    results.push(r);
  }
  await lockProjectsForPlanOk(repo, pr, projects);
  await recordReviewedPlans(store, { repo, pr, headSha: H1, baseSha: B1, runId: `plan-${pr}`, results });
  for (const r of results) if (r.plan) await rm(r.plan.file);

  const port = new FakePort(repo);
  await store.linkPullRequest({ repo, pr, issue, runId: `gen-${pr}`, branch: `infra/issue-${issue}` });
  port.prs.set(pr, {
    number: pr,
    state: 'open',
    merged: false,
    draft: false,
    headSha: H1,
    baseSha: B1,
    baseRef: 'main',
    author: { login: BOT, type: 'Bot' },
    body: appPrBody(issue, `gen-${pr}`),
    mergeable: true,
    mergeableState: 'clean',
  });
  port.commits.set(pr, [{ sha: H1, authorLogin: BOT, committerLogin: 'web-flow', authorName: 'infra-agent' }]);
  port.issueAuthors.set(issue, 'bob');
  port.permissions.set('alice', 'write');
  port.permissions.set('bob', 'write');
  port.permissions.set('eve', 'read');
  const planned: { pr: number; reason: string }[] = [];
  const tf = new RecordingTerraform();
  const deps: ApplyDeps = {
    store,
    port,
    botLogin: BOT,
    checkout: async () => {
      // A fresh clone at the head: the same files, none of the plan run's .terraform or plan files.
      const dir = await mkdtemp(join(root, 'apply-checkout-'));
      await cp(source, dir, { recursive: true });
      return { root: dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
    },
    requestPlan: async (req) => {
      planned.push(req);
    },
    terraform: () => tf,
  };
  return { repo, pr, issue, source, projects, statePaths, files, port, planned, tf, deps, results, config: cfg };
}

async function lockProjectsForPlanOk(repo: string, pr: number, projects: Project[]): Promise<void> {
  const port = new FakePort(repo);
  expect(await lockProjectsForPlan({ store, port }, { pr, runId: `plan-${pr}`, projects })).toBe(true);
}

function approve(s: Scenario, login: string, reviewId: number, commitId = H1) {
  s.port.reviews.set(s.pr, [
    ...(s.port.reviews.get(s.pr) ?? []),
    { id: reviewId, login, userType: 'User', state: 'APPROVED', commitId, submittedAt: new Date().toISOString() },
  ]);
  return applyReviewedPlan(s.deps, {
    pr: s.pr,
    review: { id: reviewId, login, userType: 'User', state: 'APPROVED', commitId },
    config: s.config,
  });
}

/** `terraform show -json` of a project's state, from a fresh init of its code (the state lives in its backend). */
async function stateAddresses(s: Scenario, name: string): Promise<string[]> {
  const dir = await mkdtemp(join(work, 'show-'));
  await cp(join(s.source, name), dir, { recursive: true });
  const tf = new Terraform();
  await tf.init(dir);
  const state = await tf.showStateJson(dir);
  await rm(dir, { recursive: true, force: true });
  const values = (state as { values?: { root_module?: { resources?: { address: string }[] } } }).values;
  return (values?.root_module?.resources ?? []).map((r) => r.address).sort();
}

async function exists(file: string): Promise<boolean> {
  return readFile(file).then(
    () => true,
    () => false,
  );
}

describeWithTools(['terraform'], 'applyReviewedPlan (real terraform, real store)', () => {
  it('applies exactly the saved plans in dependency order, merges, closes the issue and releases the locks', async () => {
    // `app` is listed first but depends on `network`.
    const s = await scenario([{ name: 'app', dependsOn: ['network'] }, { name: 'network' }]);
    const set = await loadPlanSet(store, s.repo, s.pr);
    const hashes = Object.fromEntries((set?.projects ?? []).map((p) => [p.name, p.planHash]));

    const out = await approve(s, 'alice', 1);
    expect(out.outcome).toBe('applied');
    if (out.outcome !== 'applied') return;

    // Exactly the reviewed bytes, network before app.
    expect(s.tf.applied.map((a) => [a.dir.split('/').pop(), a.planHash])).toEqual([
      ['network', hashes['network']],
      ['app', hashes['app']],
    ]);
    // Real state changed; the file terraform wrote is there with the reviewed content.
    for (const name of ['network', 'app']) {
      expect(await stateAddresses(s, name)).toEqual(['local_file.hello', 'random_pet.name', 'terraform_data.marker']);
      expect(await readFile(s.files[name] ?? '', 'utf8')).toBe(`reviewed ${name}`);
    }

    expect(out.merged).toBe(true);
    expect(s.port.merges).toEqual([{ pr: s.pr, sha: H1, method: 'squash' }]);
    expect(s.port.closedIssues).toEqual([s.issue]);
    expect(await store.listLocks({ repo: s.repo, pr: s.pr })).toEqual([]);
    expect([...(s.port.labels.get(s.pr) ?? [])]).toEqual([APPLY_LABELS.applied]);
    expect(s.port.checks.map((c) => [c.status, c.conclusion])).toEqual([
      ['in_progress', undefined],
      ['completed', 'success'],
    ]);
    const [summary, ...outputs] = s.port.bodies(s.pr);
    expect(summary).toContain('### ✅ Applied the reviewed plan (approved by @alice)');
    expect(summary).toContain(`| \`network\` | \`${hashes['network']?.slice(0, 12)}\` | ✅ applied | 3 | 0 | 0 | 0 |`);
    expect(summary).toContain('- Merged (squash).');
    expect(summary).toContain(`- Closed #${s.issue}.`);
    expect(outputs.join('\n')).toContain('Apply complete! Resources: 3 added, 0 changed, 0 destroyed.');

    const run = await store.getRun(out.runId);
    expect(run).toMatchObject({
      kind: 'apply',
      status: 'succeeded',
      triggeredBy: 'alice',
      key: `${s.repo}#${s.issue}`,
    });
    const audit = (await store.listAudit({ repo: s.repo, limit: 500 })).filter(
      (a) => a.target === `#${s.pr}` && a.details['runId'] === out.runId,
    );
    expect(audit.map((a) => a.action).reverse()).toEqual([
      'plan.approved',
      'apply.started',
      'apply.succeeded',
      'apply.started',
      'apply.succeeded',
    ]);
    expect(audit.find((a) => a.action === 'apply.started')?.details['planHash']).toBe(hashes['app']);
    expect(await store.getKey(applyClaimKey(s.repo, s.pr, 'network', 'default', hashes['network'] ?? ''))).toBe(
      `applied:${out.runId}`,
    );

    // The same approval delivered again: nothing happens.
    const comments = s.port.comments.length;
    expect(
      await applyReviewedPlan(s.deps, {
        pr: s.pr,
        review: { id: 1, login: 'alice', userType: 'User', state: 'APPROVED', commitId: H1 },
        config,
      }),
    ).toEqual({ outcome: 'duplicate' });
    expect(s.tf.applied.length).toBe(2);
    expect(s.port.comments.length).toBe(comments);
  });

  it('masks the literal secrets of the code in the apply output it posts (when a repo lowered SEC-SECRET-001)', async () => {
    const secret = 'Pr0d-DB-Passw0rd!';
    const lowered = RepoConfigSchema.parse({ policy: { levels: { 'SEC-SECRET-001': 'advisory' } } });
    const s = await scenario([{ name: 'app' }], {
      config: lowered,
      extra: `\nvariable "db_password" {\n  type    = string\n  default = "${secret}"\n}\n\noutput "db" {\n  value = var.db_password\n}\n`,
    });
    expect(s.results[0]?.plan?.text).not.toContain(secret);
    const out = await approve(s, 'alice', 1);
    expect(out.outcome).toBe('applied');
    const posted = JSON.stringify({ comments: s.port.comments, checkRuns: s.port.checks });
    expect(posted).toContain('Apply complete');
    expect(posted).not.toContain(secret);
    expect(posted).toContain('[REDACTED]');
  });

  it('a push after the plan makes the approval re-plan: nothing applied, state unchanged', async () => {
    const s = await scenario([{ name: 'network' }]);
    const pr = s.port.prs.get(s.pr);
    if (!pr) throw new Error('no PR');
    s.port.prs.set(s.pr, { ...pr, headSha: H2 });
    s.port.commits.set(s.pr, [
      ...(s.port.commits.get(s.pr) ?? []),
      { sha: H2, authorLogin: 'bob', committerLogin: 'bob', authorName: 'Bob' },
    ]);

    const out = await approve(s, 'alice', 2, H2);
    expect(out.outcome).toBe('re-plan');
    if (out.outcome !== 're-plan') return;
    expect(out.missing.map((m) => m.code)).toEqual(['stale-head', 'human-commits']);
    expect(s.planned).toEqual([{ pr: s.pr, reason: 'stale-head,human-commits' }]);
    expect(s.tf.applied).toEqual([]);
    expect(await stateAddresses(s, 'network')).toEqual([]);
    expect(await exists(s.files['network'] ?? '')).toBe(false);
    expect(s.port.merges).toEqual([]);
    expect(s.port.bodies(s.pr)[0]).toContain(
      '**nothing was applied**: the plan you reviewed is no longer the plan of this branch',
    );
    expect(s.port.bodies(s.pr)[0]).toContain('2222222 by @bob');
    // The lock stays: the PR is re-planned, not abandoned.
    expect((await store.listLocks({ repo: s.repo, pr: s.pr })).length).toBe(1);
  });

  it('refuses an unauthorised reviewer, the requester, and a PR the app does not own — nothing applied', async () => {
    const s = await scenario([{ name: 'network' }]);
    const eve = await approve(s, 'eve', 3);
    expect(eve).toMatchObject({ outcome: 'refused', missing: [{ code: 'approver-unauthorised' }] });
    expect(s.port.bodies(s.pr).at(-1)).toContain('- **approver-unauthorised**: @eve needs write permission');

    const bob = await approve(s, 'bob', 4);
    expect(bob).toMatchObject({ outcome: 'refused', missing: [{ code: 'self-approval' }] });
    expect(s.port.bodies(s.pr).at(-1)).toContain(
      '@bob is counted among the people who asked for this change (opened issue #',
    );

    // A person's PR the app never planned, carrying copied markers: refused with the reason.
    const pr = s.port.prs.get(s.pr);
    if (!pr) throw new Error('no PR');
    const other = s.pr + 5000;
    const approveOther = (id: number) =>
      applyReviewedPlan(s.deps, {
        pr: other,
        review: { id, login: 'alice', userType: 'User', state: 'APPROVED', commitId: H1 },
        config: s.config,
      });
    s.port.prs.set(other, { ...pr, number: other, author: { login: 'mallory', type: 'User' } });
    s.port.reviews.set(other, [
      {
        id: 5,
        login: 'alice',
        userType: 'User',
        state: 'APPROVED',
        commitId: H1,
        submittedAt: new Date().toISOString(),
      },
    ]);
    const forged = await approveOther(5);
    expect(forged).toMatchObject({ outcome: 'refused', missing: [{ code: 'not-app-pr' }] });
    // A person's PR without markers: no reply at all.
    s.port.prs.set(other, { ...pr, number: other, author: { login: 'mallory', type: 'User' }, body: 'my change' });
    const before = s.port.comments.length;
    expect(await approveOther(6)).toEqual({
      outcome: 'ignored',
      reason: 'not a pull request opened or planned by infra-agent',
    });
    expect(s.port.comments.length).toBe(before);

    expect(s.tf.applied).toEqual([]);
    expect(await stateAddresses(s, 'network')).toEqual([]);
    expect(s.port.merges).toEqual([]);
    const refusals = await store.listAudit({ repo: s.repo, action: 'apply.refused', limit: 500 });
    expect(
      refusals
        .filter((a) => a.target === `#${s.pr}` || a.target === `#${s.pr + 5000}`)
        .map((a) => a.actor)
        .sort(),
    ).toEqual(['alice', 'bob', 'eve']);
  });

  it('a terraform failure keeps the lock and the PR open and says what to do next', async () => {
    const s = await scenario([{ name: 'network' }]);
    // The directory local_file writes into becomes a file after the plan: apply fails for real.
    await rm(join(s.files['network'] ?? '', '..'), { recursive: true, force: true });
    await writeFile(join(s.files['network'] ?? '', '..'), 'not a directory');

    const out = await approve(s, 'alice', 7);
    expect(out.outcome).toBe('failed');
    if (out.outcome !== 'failed') return;
    expect(s.tf.applied.length).toBe(1);
    expect(s.port.merges).toEqual([]);
    expect(s.port.closedIssues).toEqual([]);
    expect((await store.listLocks({ repo: s.repo, pr: s.pr })).map((l) => l.holder.pr)).toEqual([s.pr]);
    const summary = s.port.bodies(s.pr)[0] ?? '';
    expect(summary).toContain('### ❌ Apply failed (approved by @alice)');
    expect(summary).toContain('❌ failed');
    expect(summary).toContain('terraform may have changed part of the infrastructure');
    expect(summary).toContain('a saved plan is applied once, never retried');
    expect(s.port.checks.at(-1)).toMatchObject({ status: 'completed', conclusion: 'failure' });
    expect([...(s.port.labels.get(s.pr) ?? [])]).toEqual([APPLY_LABELS.failed]);
    expect(await store.getRun(out.runId)).toMatchObject({ status: 'failed' });
    // random_pet and terraform_data were created before local_file failed: the state says so.
    expect(await stateAddresses(s, 'network')).toEqual(['random_pet.name', 'terraform_data.marker']);

    // Approving the same plan again does not retry it.
    const again = await approve(s, 'alice', 8);
    expect(again).toMatchObject({ outcome: 'refused', missing: [{ code: 'apply-failed-before' }] });
    expect(s.tf.applied.length).toBe(1);
  });

  it('a crash mid-apply: recovery marks the run needs-human, keeps the lock; approving again refuses', async () => {
    const s = await scenario([{ name: 'network' }]);
    s.tf.hang = true;
    // The worker "dies" inside terraform apply: the promise never settles.
    void approve(s, 'alice', 9);
    for (let i = 0; i < 600 && s.tf.applied.length === 0; i++) await new Promise((r) => setTimeout(r, 100));
    expect(s.tf.applied.length).toBe(1);

    const recovered = await recoverInterruptedApplies(store);
    const mine = recovered.filter((r) => r.pr === s.pr);
    expect(mine.length).toBe(1);
    expect(mine[0]?.run).toMatchObject({ status: 'needs-human', stage: 'applying:network' });
    expect(mine[0]?.message).toContain('is **not** re-run automatically');
    expect((await store.listLocks({ repo: s.repo, pr: s.pr })).length).toBe(1);
    expect(
      (await store.listAudit({ repo: s.repo, action: 'apply.interrupted', limit: 500 })).some(
        (a) => a.target === `#${s.pr}`,
      ),
    ).toBe(true);

    s.tf.hang = false;
    const again = await approve(s, 'alice', 10);
    expect(again).toMatchObject({ outcome: 'refused', missing: [{ code: 'apply-interrupted' }] });
    expect(s.tf.applied.length).toBe(1);
    expect(s.port.bodies(s.pr).at(-1)).toContain('it is never re-run automatically');
  });
});
