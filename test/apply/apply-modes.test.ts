// When to apply (`apply.on: approval | comment | merge`) and in which order, on the real store with a stand-in
// terraform (what is asserted is what the app decides and in which order it runs projects; apply.test.ts and the e2e
// suites run the real one). Every mode must hold the same requirements, so each way a mode could be used to skip
// one is a case here: a comment-apply by the requester or by someone without the right, a comment-apply with no
// approval or with an approval of an older head (a push after the approval), a merge by someone without approval, a
// merge whose commit is not the planned change, a merge-apply where nobody can compare, a hard finding, a soft one
// not overridden, a lock held elsewhere. And the order: dependencies first, independent projects in parallel, one
// failure stopping only its dependants, reported per project.
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApplyDeps, type ApplyRequest, applyClaimKey, applyReviewedPlan } from '../../src/apply/apply.js';
import { handleOverrideCommand, lockProjectsForPlan } from '../../src/apply/handlers.js';
import { runInDependencyOrder } from '../../src/apply/order.js';
import { recordReviewedPlans, sha256 } from '../../src/apply/plan-record.js';
import { type RepoConfig, RepoConfigSchema } from '../../src/config/schema.js';
import type { ChecksResult, Finding } from '../../src/core/types.js';
import { decideVerdict } from '../../src/policy/verdict.js';
import { createStore } from '../../src/store/create-store.js';
import type { SqlStore } from '../../src/store/sql-store.js';
import { Terraform } from '../../src/terraform/engine.js';
import { ONE_ADD_SUMMARY } from '../helpers/plan-summary.js';
import { appPrBody, BOT, FakePort } from './fake-port.js';

const H1 = '1'.repeat(40);
const H2 = '2'.repeat(40);
const B1 = 'b'.repeat(40);
const M1 = 'e'.repeat(40);
let store: SqlStore;
let root: string;
let n = 0;

beforeAll(async () => {
  store = await createStore({ dataDir: 'memory://', planKey: randomBytes(32).toString('base64') });
  root = await mkdtemp(join(tmpdir(), 'apply-modes-'));
  for (const name of ['network', 'app', 'dns']) {
    await mkdir(join(root, name), { recursive: true });
    await writeFile(join(root, name, 'main.tf'), 'resource "terraform_data" "x" {}\n');
  }
});
afterAll(async () => {
  await store.close();
});

/** Terraform that records when each project's apply starts and ends; a project named in `failing` fails. */
class TimelineTerraform extends Terraform {
  events: string[] = [];
  failing = new Set<string>();
  constructor(readonly delayMs = 60) {
    super({ bin: '/nonexistent/terraform' });
  }
  override async init(): Promise<{ output: string }> {
    return { output: '' };
  }
  override async apply(_dir: string, planFile: string): Promise<{ output: string }> {
    const project = basename(planFile).replace(/-default\.tfplan$/, '');
    this.events.push(`start:${project}`);
    await new Promise((r) => setTimeout(r, this.delayMs));
    this.events.push(`end:${project}`);
    if (this.failing.has(project)) throw new Error(`apply of ${project} failed: quota exceeded`);
    return { output: `Apply complete! ${project}` };
  }
  applied(): string[] {
    return this.events.filter((e) => e.startsWith('end:')).map((e) => e.slice(4));
  }
}

interface Setup {
  repo: string;
  pr: number;
  issue: number;
  port: FakePort;
  tf: TimelineTerraform;
  deps: ApplyDeps;
  config: RepoConfig;
  hashes: Record<string, string>;
  checkouts: string[];
  planned: number[];
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
const hard: Finding = { ...soft, ruleId: 'SEC-PUBLIC-001', severity: 'critical', level: 'hard', message: 'public' };

async function setup(
  opts: {
    projects?: { name: string; dependsOn?: string[] }[];
    apply?: Record<string, unknown>;
    policy?: Record<string, unknown>;
    findings?: Record<string, Finding[]>;
    headSha?: string;
  } = {},
): Promise<Setup> {
  const repo = `acme/modes-${++n}`;
  const pr = 10 + n;
  const issue = 700 + n;
  const config = RepoConfigSchema.parse({ apply: opts.apply ?? {}, policy: opts.policy ?? {} });
  const projects = opts.projects ?? [{ name: 'network' }];
  const headSha = opts.headSha ?? H1;
  const results: ChecksResult[] = [];
  const hashes: Record<string, string> = {};
  for (const p of projects) {
    const bytes = randomBytes(256);
    const file = join(root, `plan-${n}-${p.name}`);
    await writeFile(file, bytes);
    const scanners = [
      { name: 'opa' as const, status: 'ok' as const, durationMs: 1, findings: opts.findings?.[p.name] ?? [] },
    ];
    hashes[p.name] = sha256(bytes);
    results.push({
      project: { name: p.name, dir: p.name, workspace: 'default', dependsOn: p.dependsOn ?? [] },
      ok: true,
      stages: [],
      formatted: [],
      diagnostics: [],
      plan: { file, hash: sha256(bytes), summary: ONE_ADD_SUMMARY, text: '' },
      verdict: decideVerdict({ scanners, overrides: [], config: config.policy }),
      durationMs: 1,
    });
  }
  const port = new FakePort(repo);
  const locked = await lockProjectsForPlan(
    { store, port },
    { pr, runId: 'plan', projects: projects.map((p) => ({ name: p.name, workspace: 'default' })) },
  );
  expect(locked).toBe(true);
  await recordReviewedPlans(store, { repo, pr, headSha, baseSha: B1, runId: 'plan', results });
  await store.linkPullRequest({ repo, pr, issue, runId: 'run-1', branch: `infra/issue-${issue}` });
  port.prs.set(pr, {
    number: pr,
    state: 'open',
    merged: false,
    draft: false,
    headSha,
    baseSha: B1,
    baseRef: 'main',
    author: { login: BOT, type: 'Bot' },
    body: appPrBody(issue),
    mergeable: true,
    mergeableState: 'clean',
  });
  port.commits.set(pr, [{ sha: headSha, authorLogin: BOT, committerLogin: 'web-flow', authorName: 'infra-agent' }]);
  port.issueAuthors.set(issue, 'bob');
  port.permissions.set('alice', 'write');
  port.permissions.set('bob', 'write');
  port.permissions.set('carol', 'write');
  port.permissions.set('eve', 'read');
  const tf = new TimelineTerraform();
  const checkouts: string[] = [];
  const planned: number[] = [];
  const deps: ApplyDeps = {
    store,
    port,
    botLogin: BOT,
    checkout: async (sha) => {
      checkouts.push(sha);
      return { root, cleanup: async () => {} };
    },
    requestPlan: async (req) => {
      planned.push(req.pr);
    },
    terraform: () => tf,
  };
  return { repo, pr, issue, port, tf, deps, config, hashes, checkouts, planned };
}

let ids = 5000;
function review(s: Setup, login: string, commitId = H1): number {
  const id = ++ids;
  s.port.reviews.set(s.pr, [
    ...(s.port.reviews.get(s.pr) ?? []),
    { id, login, userType: 'User', state: 'APPROVED', commitId, submittedAt: new Date().toISOString() },
  ]);
  return id;
}
function approve(s: Setup, login: string, commitId = H1) {
  const id = review(s, login, commitId);
  return applyReviewedPlan(s.deps, {
    pr: s.pr,
    review: { id, login, userType: 'User', state: 'APPROVED', commitId },
    config: s.config,
  });
}
function comment(s: Setup, login: string, projects: string[] = [], userType = 'User') {
  const req: ApplyRequest = {
    trigger: 'comment',
    pr: s.pr,
    comment: { id: ++ids, login, userType, projects },
    config: s.config,
  };
  return applyReviewedPlan(s.deps, req);
}
function merged(s: Setup, login: string, mergeCommitSha = M1) {
  const pr = s.port.prs.get(s.pr);
  if (!pr) throw new Error('no PR');
  s.port.prs.set(s.pr, { ...pr, state: 'closed', merged: true });
  return applyReviewedPlan(s.deps, {
    trigger: 'merge',
    pr: s.pr,
    merge: { login, userType: 'User', mergeCommitSha },
    config: s.config,
  });
}
const codes = (out: Awaited<ReturnType<typeof applyReviewedPlan>>) =>
  out.outcome === 'refused' || out.outcome === 're-plan' ? out.missing.map((m) => m.code) : [out.outcome];

describe('applies in dependency order', () => {
  const three = [{ name: 'app', dependsOn: ['network'] }, { name: 'network' }, { name: 'dns' }];

  it('dependencies first, independent projects at the same time, one row per project', async () => {
    const s = await setup({ projects: three });
    const out = await approve(s, 'alice');
    expect(out.outcome).toBe('applied');
    const ev = s.tf.events;
    // app waits for network to finish; dns does not wait for anyone.
    expect(ev.indexOf('start:app')).toBeGreaterThan(ev.indexOf('end:network'));
    expect(ev.indexOf('start:dns')).toBeLessThan(ev.indexOf('end:network'));
    if (out.outcome !== 'applied') return;
    expect(out.projects.map((p) => [p.project, p.status])).toEqual([
      ['network', 'applied'],
      ['app', 'applied'],
      ['dns', 'applied'],
    ]);
    expect(s.port.merges.length).toBe(1);
  });

  it('one failure stops its dependants only; each project is reported; nothing merged, locks kept', async () => {
    const s = await setup({ projects: three });
    s.tf.failing.add('network');
    const out = await approve(s, 'alice');
    expect(out.outcome).toBe('failed');
    if (out.outcome !== 'failed') return;
    expect(s.tf.applied().sort()).toEqual(['dns', 'network']);
    expect(s.tf.events).not.toContain('start:app');
    expect(Object.fromEntries(out.projects.map((p) => [p.project, p.status]))).toEqual({
      network: 'failed',
      app: 'skipped',
      dns: 'applied',
    });
    const report = s.port.bodies(s.pr)[0] ?? '';
    expect(report).toContain('quota exceeded');
    expect(out.error).toContain('app: not applied: it depends on `network`, which was not applied');
    expect(s.port.merges).toEqual([]);
    expect((await store.listLocks({ repo: s.repo, pr: s.pr })).length).toBe(3);
    // The applied one is never applied again; the failed one neither (a saved plan is applied once).
    expect(await store.getKey(applyClaimKey(s.repo, s.pr, 'dns', 'default', s.hashes['dns'] ?? ''))).toMatch(
      /^applied:/,
    );
  });

  it('the scheduler bounds parallel work and starts nothing once stopped', async () => {
    const items = Array.from({ length: 6 }, (_, i) => ({ name: `p${i}`, dependsOn: [] as string[] }));
    let running = 0;
    let peak = 0;
    const res = await runInDependencyOrder(
      items,
      async () => {
        running += 1;
        peak = Math.max(peak, running);
        await new Promise((r) => setTimeout(r, 20));
        running -= 1;
        return { value: 1, ok: true };
      },
      { concurrency: 2 },
    );
    expect(peak).toBe(2);
    expect(res.every((r) => r.state === 'done')).toBe(true);
    let started = 0;
    const stopped = await runInDependencyOrder(
      items,
      async () => {
        started += 1;
        return { value: 1, ok: true };
      },
      { concurrency: 2, stop: () => started >= 2 },
    );
    expect(started).toBe(2);
    expect(stopped.filter((r) => r.state === 'blocked').length).toBe(4);
  });
});

describe('apply.on: comment', () => {
  const apply = { on: 'comment' };

  it('an approval alone applies nothing and draws no reply', async () => {
    const s = await setup({ apply });
    expect(await approve(s, 'alice')).toEqual({ outcome: 'ignored', reason: 'this repository applies on comment' });
    expect(s.port.comments).toEqual([]);
    expect(s.tf.applied()).toEqual([]);
  });

  it('`/infra apply` by an authorised approver after an approval applies and merges', async () => {
    const s = await setup({ apply });
    review(s, 'alice');
    const out = await comment(s, 'carol');
    expect(out).toMatchObject({ outcome: 'applied', merged: true });
    expect(s.port.bodies(s.pr)[0]).toContain('`/infra apply` by @carol');
  });

  it('the requester cannot apply by comment, even with someone else’s approval', async () => {
    const s = await setup({ apply });
    review(s, 'alice');
    expect(codes(await comment(s, 'bob'))).toEqual(['self-approval']);
    expect(s.tf.applied()).toEqual([]);
    expect(s.port.bodies(s.pr).at(-1)).toContain('Comment `/infra apply` again once they are met.');
  });

  it('someone without write (or a bot) cannot apply by comment', async () => {
    const s = await setup({ apply });
    review(s, 'alice');
    expect(codes(await comment(s, 'eve'))).toEqual(['approver-unauthorised']);
    expect(codes(await comment(s, 'helper[bot]', [], 'Bot'))).toEqual(['approver-is-bot']);
    expect(s.tf.applied()).toEqual([]);
  });

  it('a comment is not an approval: without one, or with one of an older head (a push after it), nothing applies', async () => {
    const s = await setup({ apply });
    expect(codes(await comment(s, 'alice'))).toEqual(['not-enough-approvals']);
    // The approver's own comment does not count for them either: the requester approved nothing.
    const pushed = await setup({ apply, headSha: H2 });
    review(pushed, 'alice', H1);
    expect(codes(await comment(pushed, 'carol'))).toEqual(['not-enough-approvals']);
    expect(s.tf.applied()).toEqual([]);
    expect(pushed.tf.applied()).toEqual([]);
  });

  it('the requester’s own approval does not count towards a comment-apply', async () => {
    const s = await setup({ apply });
    review(s, 'bob');
    expect(codes(await comment(s, 'alice'))).toEqual(['not-enough-approvals']);
  });

  it('a hard finding refuses; a soft one refuses until a policy owner overrides it', async () => {
    const blocked = await setup({ apply, findings: { network: [hard] } });
    review(blocked, 'alice');
    expect(codes(await comment(blocked, 'carol'))).toEqual(['verdict-blocked']);

    const policy = { policy_owners: ['olga'] };
    const s = await setup({ apply, policy, findings: { network: [soft] } });
    review(s, 'alice');
    expect(codes(await comment(s, 'carol'))).toEqual(['soft-not-overridden']);
    const o = await handleOverrideCommand(
      { store, port: s.port },
      { pr: s.pr, login: 'olga', ruleId: 'SEC-TAG-001', reason: 'tagged by the account baseline', config: s.config },
    );
    expect(o.ok).toBe(true);
    expect((await comment(s, 'carol')).outcome).toBe('applied');
  });

  it('a lock held by another pull request refuses', async () => {
    const s = await setup({ apply });
    await store.releaseLock({ repo: s.repo, project: 'network', workspace: 'default', pr: s.pr });
    const other = new FakePort(s.repo);
    expect(
      await lockProjectsForPlan(
        { store, port: other },
        { pr: s.pr + 900, runId: 'x', projects: [{ name: 'network', workspace: 'default' }] },
      ),
    ).toBe(true);
    review(s, 'alice');
    expect(codes(await comment(s, 'carol'))).toEqual(['lock-held']);
  });

  it('`/infra apply <project>` applies that one (its dependencies first or before), then the rest, then merges', async () => {
    const s = await setup({ apply, projects: [{ name: 'app', dependsOn: ['network'] }, { name: 'network' }] });
    review(s, 'alice');
    expect(codes(await comment(s, 'carol', ['app']))).toEqual(['dependency-not-applied']);
    expect(codes(await comment(s, 'carol', ['nope']))).toEqual(['unknown-project']);
    const first = await comment(s, 'carol', ['network']);
    expect(first).toMatchObject({ outcome: 'applied', merged: false });
    expect(s.tf.applied()).toEqual(['network']);
    expect(s.port.bodies(s.pr).join('\n')).toContain('other projects of this pull request are not applied yet');
    const rest = await comment(s, 'carol');
    expect(rest).toMatchObject({ outcome: 'applied', merged: true });
    expect(s.tf.applied()).toEqual(['network', 'app']);
    if (rest.outcome !== 'applied') return;
    expect(rest.projects.map((p) => p.status)).toEqual(['already-applied', 'applied']);
  });

  it('the same comment delivered twice applies once', async () => {
    const s = await setup({ apply });
    review(s, 'alice');
    const req: ApplyRequest = {
      trigger: 'comment',
      pr: s.pr,
      comment: { id: ++ids, login: 'carol', userType: 'User', projects: [] },
      config: s.config,
    };
    expect((await applyReviewedPlan(s.deps, req)).outcome).toBe('applied');
    expect(await applyReviewedPlan(s.deps, req)).toEqual({ outcome: 'duplicate' });
    expect(s.tf.applied()).toEqual(['network']);
  });

  it('in a repo that applies on approval, `/infra apply` is refused and says how to apply', async () => {
    const s = await setup();
    review(s, 'alice');
    expect(codes(await comment(s, 'carol'))).toEqual(['apply-mode']);
    expect(s.port.bodies(s.pr).at(-1)).toContain(
      'this repository applies on approval (`apply.on: approval`), not on `/infra apply`',
    );
  });
});

describe('apply.on: merge', () => {
  const apply = { on: 'merge' };
  const matches = (s: Setup, answer: boolean) => {
    const asked: string[] = [];
    s.deps.mergedTreeMatchesPlan = async (m) => {
      asked.push(`${m.mergeCommitSha}=${m.headSha}+${m.baseSha}`);
      return answer;
    };
    return asked;
  };

  it('an approval applies nothing; the merge of the approved PR applies the plan from the merge commit', async () => {
    const s = await setup({ apply, projects: [{ name: 'app', dependsOn: ['network'] }, { name: 'network' }] });
    const asked = matches(s, true);
    expect((await approve(s, 'alice')).outcome).toBe('ignored');
    expect(s.tf.applied()).toEqual([]);
    const out = await merged(s, 'bob');
    expect(out).toMatchObject({ outcome: 'applied', merged: true });
    expect(asked).toEqual([`${M1}=${H1}+${B1}`]);
    expect(s.checkouts).toEqual([M1]);
    expect(s.tf.applied()).toEqual(['network', 'app']);
    // Already merged: no merge call; the locks are released only now, after the apply; the issue is closed.
    expect(s.port.merges).toEqual([]);
    expect(await store.listLocks({ repo: s.repo, pr: s.pr })).toEqual([]);
    expect(s.port.closedIssues).toEqual([s.issue]);
    expect(s.port.bodies(s.pr)[0]).toContain('merged by @bob');
  });

  it('a merge without an approval applies nothing and says so on the merged PR; locks stay', async () => {
    const s = await setup({ apply });
    matches(s, true);
    const out = await merged(s, 'alice');
    expect(codes(out)).toEqual(['not-enough-approvals']);
    expect(s.tf.applied()).toEqual([]);
    expect(s.port.bodies(s.pr).at(-1)).toContain('The pull request is merged but **not applied**');
    expect((await store.listLocks({ repo: s.repo, pr: s.pr })).length).toBe(1);
  });

  it('a merge approved only by the requester, or approved before a push, applies nothing', async () => {
    const self = await setup({ apply });
    matches(self, true);
    review(self, 'bob');
    expect(codes(await merged(self, 'bob'))).toEqual(['not-enough-approvals']);

    const pushed = await setup({ apply, headSha: H2 });
    matches(pushed, true);
    review(pushed, 'alice', H1);
    expect(codes(await merged(pushed, 'alice'))).toEqual(['not-enough-approvals']);
    expect(self.tf.applied()).toEqual([]);
    expect(pushed.tf.applied()).toEqual([]);
  });

  it('a merged commit that is not the planned change (the base moved) is refused, not re-planned', async () => {
    const s = await setup({ apply });
    const asked = matches(s, false);
    review(s, 'alice');
    const out = await merged(s, 'alice', 'f'.repeat(40));
    expect(codes(out)).toEqual(['merge-differs']);
    expect(asked.length).toBe(1);
    expect(s.planned).toEqual([]);
    expect(s.tf.applied()).toEqual([]);
  });

  it('when nobody can compare the merge with the plan, nothing is applied', async () => {
    const s = await setup({ apply });
    review(s, 'alice');
    expect(codes(await merged(s, 'alice'))).toEqual(['merge-differs']);
    expect(s.port.bodies(s.pr).at(-1)).toContain('could not compare the merged commit');
  });

  it('commits pushed after the plan refuse a merge-apply even with an approval of the head', async () => {
    const s = await setup({ apply });
    matches(s, true);
    const pr = s.port.prs.get(s.pr);
    if (!pr) throw new Error('no PR');
    s.port.prs.set(s.pr, { ...pr, headSha: H2 });
    s.port.commits.set(s.pr, [
      { sha: H1, authorLogin: BOT, committerLogin: 'web-flow', authorName: 'infra-agent' },
      { sha: H2, authorLogin: 'bob', committerLogin: 'bob', authorName: 'Bob' },
    ]);
    review(s, 'alice', H2);
    expect(codes(await merged(s, 'alice'))).toEqual(['stale-head', 'human-commits']);
    expect(s.tf.applied()).toEqual([]);
  });

  it('a PR closed without merging is not applied; the same merge delivered twice applies once', async () => {
    const s = await setup({ apply });
    matches(s, true);
    review(s, 'alice');
    const pr = s.port.prs.get(s.pr);
    if (!pr) throw new Error('no PR');
    s.port.prs.set(s.pr, { ...pr, state: 'closed', merged: false });
    const closed = await applyReviewedPlan(s.deps, {
      trigger: 'merge',
      pr: s.pr,
      merge: { login: 'alice', userType: 'User', mergeCommitSha: M1 },
      config: s.config,
    });
    expect(codes(closed)).toEqual(['pr-not-merged']);
    const again = await setup({ apply });
    matches(again, true);
    review(again, 'alice');
    expect((await merged(again, 'alice')).outcome).toBe('applied');
    expect(await merged(again, 'alice')).toEqual({ outcome: 'duplicate' });
    expect(again.tf.applied()).toEqual(['network']);
  });
});
