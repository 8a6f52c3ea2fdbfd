// The apply flow around terraform, on the real store with a stand-in terraform (these cases are about what the app
// does, not what terraform does; apply.test.ts runs the real one): an override unblocking the apply end to end, the
// base moving, merge refused or turned off, a checkout that fails before anything ran, and a store failure after
// terraform ran (needs a human).
import { randomBytes } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApplyDeps, applyClaimKey, applyReviewedPlan } from '../../src/apply/apply.js';
import { handleOverrideCommand, lockProjectsForPlan } from '../../src/apply/handlers.js';
import { recordReviewedPlans, sha256 } from '../../src/apply/plan-record.js';
import { type RepoConfig, RepoConfigSchema } from '../../src/config/schema.js';
import { APPLY_LABELS } from '../../src/core/apply-port.js';
import type { ChecksResult, Finding } from '../../src/core/types.js';
import { decideVerdict } from '../../src/policy/verdict.js';
import { createStore } from '../../src/store/create-store.js';
import type { SqlStore } from '../../src/store/sql-store.js';
import type { Store } from '../../src/store/types.js';
import { Terraform } from '../../src/terraform/engine.js';
import { ONE_ADD_SUMMARY } from '../helpers/plan-summary.js';
import { appPrBody, BOT, FakePort } from './fake-port.js';

const H1 = '1'.repeat(40);
const B1 = 'b'.repeat(40);
let store: SqlStore;
let dir: string;
let n = 0;

beforeAll(async () => {
  store = await createStore({ dataDir: 'memory://', planKey: randomBytes(32).toString('base64') });
  dir = await mkdtemp(join(tmpdir(), 'apply-flow-'));
});
afterAll(async () => {
  await store.close();
});

/** Terraform that only records: init does nothing, apply "succeeds" with a fixed output. */
class StandInTerraform extends Terraform {
  applied: string[] = [];
  constructor() {
    super({ bin: '/nonexistent/terraform' });
  }
  override async init(): Promise<{ output: string }> {
    return { output: '' };
  }
  override async apply(_dir: string, planFile: string): Promise<{ output: string }> {
    this.applied.push(planFile);
    return { output: 'Apply complete! Resources: 1 added, 0 changed, 0 destroyed.' };
  }
}

const summary = ONE_ADD_SUMMARY;

interface Setup {
  repo: string;
  pr: number;
  port: FakePort;
  tf: StandInTerraform;
  deps: ApplyDeps;
  planHash: string;
  planned: number[];
}

async function setup(
  opts: { findings?: Finding[]; config?: RepoConfig; store?: Store; plannedAsMerge?: boolean } = {},
): Promise<Setup> {
  const repo = `acme/flow-${++n}`;
  const pr = 10 + n;
  const issue = 500 + n;
  const config = opts.config ?? RepoConfigSchema.parse({});
  const bytes = randomBytes(512);
  const file = join(dir, `plan-${n}`);
  await writeFile(file, bytes);
  const scanners = [{ name: 'opa' as const, status: 'ok' as const, durationMs: 1, findings: opts.findings ?? [] }];
  const result: ChecksResult = {
    project: { name: 'network', dir: '.', workspace: 'default', dependsOn: [] },
    ok: true,
    stages: [],
    formatted: [],
    diagnostics: [],
    plan: { file, hash: sha256(bytes), summary, text: '' },
    verdict: decideVerdict({ scanners, overrides: [], config: config.policy }),
    durationMs: 1,
  };
  const port = new FakePort(repo);
  expect(
    await lockProjectsForPlan(
      { store, port },
      { pr, runId: 'plan', projects: [{ name: 'network', workspace: 'default' }] },
    ),
  ).toBe(true);
  await recordReviewedPlans(store, {
    repo,
    pr,
    headSha: H1,
    baseSha: B1,
    runId: 'plan',
    results: [result],
    ...(opts.plannedAsMerge ? { plannedAsMerge: true } : {}),
  });
  await (opts.store ?? store).linkPullRequest({ repo, pr, issue, runId: 'run-1', branch: `infra/issue-${issue}` });
  port.prs.set(pr, {
    number: pr,
    state: 'open',
    merged: false,
    draft: false,
    headSha: H1,
    baseSha: B1,
    baseRef: 'main',
    author: { login: BOT, type: 'Bot' },
    body: appPrBody(issue),
    mergeable: true,
    mergeableState: 'clean',
  });
  port.commits.set(pr, [{ sha: H1, authorLogin: BOT, committerLogin: 'web-flow', authorName: 'infra-agent' }]);
  port.permissions.set('alice', 'write');
  const planned: number[] = [];
  const tf = new StandInTerraform();
  const deps: ApplyDeps = {
    store: opts.store ?? store,
    port,
    botLogin: BOT,
    checkout: async () => ({ root: dir, cleanup: async () => {} }),
    requestPlan: async (req) => {
      planned.push(req.pr);
    },
    terraform: () => tf,
  };
  return { repo, pr, port, tf, deps, planHash: sha256(bytes), planned };
}

let reviewId = 1000;
function approve(s: Setup, config: RepoConfig = RepoConfigSchema.parse({})) {
  const id = ++reviewId;
  s.port.reviews.set(s.pr, [
    ...(s.port.reviews.get(s.pr) ?? []),
    { id, login: 'alice', userType: 'User', state: 'APPROVED', commitId: H1, submittedAt: new Date().toISOString() },
  ]);
  return applyReviewedPlan(s.deps, {
    pr: s.pr,
    review: { id, login: 'alice', userType: 'User', state: 'APPROVED', commitId: H1 },
    config,
  });
}

const soft: Finding = {
  ruleId: 'SEC-TAG-001',
  source: 'opa',
  sources: ['opa'],
  sourceIds: [],
  severity: 'low',
  level: 'soft',
  message: 'missing tags',
};

describe('apply flow', () => {
  it('a soft finding refuses the apply until a policy owner overrides it for this plan', async () => {
    const config = RepoConfigSchema.parse({ policy: { policy_owners: ['olga'] } });
    const s = await setup({ findings: [soft], config });
    const first = await approve(s, config);
    expect(first).toMatchObject({ outcome: 'refused', missing: [{ code: 'soft-not-overridden', project: 'network' }] });
    expect(s.tf.applied).toEqual([]);

    const o = await handleOverrideCommand(
      { store, port: s.port },
      { pr: s.pr, login: 'olga', ruleId: 'SEC-TAG-001', reason: 'tags are set by the account baseline', config },
    );
    expect(o.ok).toBe(true);
    const second = await approve(s, config);
    expect(second.outcome).toBe('applied');
    expect(s.tf.applied.length).toBe(1);
  });

  it('the base branch moving after the plan re-plans instead of applying', async () => {
    const s = await setup();
    const pr = s.port.prs.get(s.pr);
    if (!pr) throw new Error('no PR');
    s.port.prs.set(s.pr, { ...pr, baseSha: 'c'.repeat(40) });
    const out = await approve(s);
    expect(out).toMatchObject({ outcome: 're-plan', missing: [{ code: 'stale-base' }] });
    expect(s.planned).toEqual([s.pr]);
    expect(s.tf.applied).toEqual([]);
  });

  it('a head behind its base is refused with how to update the branch: no re-plan, nothing applied', async () => {
    const s = await setup();
    const asked: string[] = [];
    s.deps.headContainsBase = async (pr) => {
      asked.push(`${pr.headSha}..${pr.baseSha}`);
      return false;
    };
    // The base moved too (the usual way a head falls behind): still refused, not re-planned.
    const pr = s.port.prs.get(s.pr);
    if (!pr) throw new Error('no PR');
    s.port.prs.set(s.pr, { ...pr, baseSha: 'c'.repeat(40) });
    const out = await approve(s);
    expect(out).toMatchObject({ outcome: 'refused', missing: [{ code: 'behind-base' }] });
    expect(asked).toEqual([`${H1}..${'c'.repeat(40)}`]);
    expect(s.planned).toEqual([]);
    expect(s.tf.applied).toEqual([]);
    expect(s.port.bodies(s.pr).at(-1)).toContain(
      'the PR is behind `main`: update the branch (merge or rebase `main` into it), then the app re-plans and asks for approval again',
    );
    // Once the branch contains the base (and was re-planned on it) the same check lets the apply through.
    s.port.prs.set(s.pr, { ...pr });
    s.deps.headContainsBase = async () => true;
    expect((await approve(s)).outcome).toBe('applied');
  });

  it('a head behind its base whose plan was of the merge (a plan run of a behind branch) applies that same merge', async () => {
    const s = await setup({ plannedAsMerge: true });
    let asked = 0;
    s.deps.headContainsBase = async () => {
      asked += 1;
      return false;
    };
    const checkouts: unknown[] = [];
    s.deps.checkout = async (sha, merge) => {
      checkouts.push({ sha, merge });
      return { root: dir, cleanup: async () => {} };
    };
    expect((await approve(s)).outcome).toBe('applied');
    // Behind or not does not matter for a plan of the merge: the apply checks out the merge of the planned commits.
    expect(asked).toBe(0);
    expect(checkouts).toEqual([{ sha: H1, merge: { headSha: H1, baseSha: B1 } }]);
    expect(s.tf.applied).toHaveLength(1);
  });

  it('the behind-base check is not asked for an approval that is refused anyway', async () => {
    const s = await setup();
    let asked = 0;
    s.deps.headContainsBase = async () => {
      asked += 1;
      return false;
    };
    const pr = s.port.prs.get(s.pr);
    if (!pr) throw new Error('no PR');
    s.port.prs.set(s.pr, { ...pr, draft: true });
    expect(await approve(s)).toMatchObject({ outcome: 'refused', missing: [{ code: 'pr-draft' }] });
    expect(asked).toBe(0);
  });

  it('merge refused by GitHub: applied, issue closed, locks kept, told to merge by hand', async () => {
    const s = await setup();
    s.port.mergeRefusal = 'Required status check "ci" is failing';
    const out = await approve(s);
    expect(out).toMatchObject({ outcome: 'applied', merged: false });
    expect((await store.listLocks({ repo: s.repo, pr: s.pr })).length).toBe(1);
    expect(s.port.bodies(s.pr)[0]).toContain(
      '**Not merged**: Required status check "ci" is failing. The change is applied: merge this pull request by hand',
    );
  });

  it('merge_method off: no merge, locks kept until the PR is merged or closed', async () => {
    const config = RepoConfigSchema.parse({ apply: { merge_method: 'off' } });
    const s = await setup({ config });
    const out = await approve(s, config);
    expect(out).toMatchObject({ outcome: 'applied', merged: false });
    expect(s.port.merges).toEqual([]);
    expect((await store.listLocks({ repo: s.repo, pr: s.pr })).length).toBe(1);
    expect(s.port.bodies(s.pr)[0]).toContain('Merging is off');
  });

  it('a checkout that fails before anything ran: failed, nothing claimed, lock kept, re-approvable', async () => {
    const s = await setup();
    s.deps.checkout = async () => {
      throw new Error('clone failed: remote hung up');
    };
    const out = await approve(s);
    expect(out).toMatchObject({ outcome: 'failed', error: 'clone failed: remote hung up' });
    expect(s.tf.applied).toEqual([]);
    expect(await store.getKey(applyClaimKey(s.repo, s.pr, 'network', 'default', s.planHash))).toBeUndefined();
    expect((await store.listLocks({ repo: s.repo, pr: s.pr })).length).toBe(1);
    // Nothing was applied, so the same plan may be approved again once the checkout works.
    s.deps.checkout = async () => ({ root: dir, cleanup: async () => {} });
    expect((await approve(s)).outcome).toBe('applied');
  });

  it('the store failing after terraform ran: needs a human, the plan is marked applied, no second apply', async () => {
    let failing = false;
    const flaky = new Proxy(store, {
      get(target, prop, receiver) {
        if (prop === 'addRunEvent' && failing) {
          return async (e: { status: string }) => {
            if (e.status === 'ok') throw new Error('connection to the database lost');
            return target.addRunEvent(e as Parameters<Store['addRunEvent']>[0]);
          };
        }
        const value = Reflect.get(target, prop, receiver);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const s = await setup({ store: flaky });
    failing = true;
    const out = await approve(s);
    expect(out).toMatchObject({ outcome: 'needs-human', error: 'connection to the database lost' });
    if (out.outcome !== 'needs-human') return;
    expect(s.tf.applied.length).toBe(1);
    expect(await store.getRun(out.runId)).toMatchObject({ status: 'needs-human' });
    expect(await store.getKey(applyClaimKey(s.repo, s.pr, 'network', 'default', s.planHash))).toBe(
      `applied:${out.runId}`,
    );
    expect(s.port.merges).toEqual([]);
    expect([...(s.port.labels.get(s.pr) ?? [])]).toEqual([APPLY_LABELS.needsHuman]);
    expect(s.port.bodies(s.pr)[0]).toContain('it is **not** re-run automatically');
    failing = false;
    expect(await approve(s)).toMatchObject({ outcome: 'refused', missing: [{ code: 'already-applied' }] });
    expect(s.tf.applied.length).toBe(1);
  });
});
