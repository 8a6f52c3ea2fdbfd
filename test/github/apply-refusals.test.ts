// Approvals that must not apply, through the real App: signed webhooks into the real server, the worker, the store,
// GitHub served by the stand-in (every request checked against GitHub's OpenAPI description) and a git remote on
// disk. Each case seeds one app PR with a recorded plan set (as the plan stage records it), then a review is
// submitted and its webhook delivered; the reply on the PR is asserted word for word where it names the requirement,
// and nothing is applied: no `infra-agent/apply` check run, no merge, the issue stays open. (A PR the app did not
// open is refused by the webhook handler itself: test/github/review-handler.test.ts.) Also: a failed apply keeps
// the lock and the PR open and says what to do next; `/infra override` refreshes the PR's policy report; `/infra
// unlock` and a closed PR release locks and plan the PR that waited.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type GitHubStandin, standinWebhooks } from '../../devtools/github-standin/index.js';
import { releasePullRequestLocks, takeProjectLocks } from '../../src/apply/locks.js';
import { recordReviewedPlans, sha256 } from '../../src/apply/plan-record.js';
import { RepoConfigSchema } from '../../src/config/schema.js';
import type { ChecksResult, Finding } from '../../src/core/types.js';
import { decideVerdict } from '../../src/policy/verdict.js';
import type { AppServer } from '../../src/server/server.js';
import type { Checker } from '../../src/stages/deps.js';
import type { RunRecord } from '../../src/store/types.js';
import { type AppWorld, startAppWorld } from '../helpers/app-world.js';
import { type GitRemote, identityFor } from '../helpers/git-remote.js';
import { ONE_ADD_SUMMARY } from '../helpers/plan-summary.js';
import { describeWithTools } from '../helpers/tools.js';
import type { WebhookSender } from '../helpers/webhooks.js';

const OWNER = 'acme';
const REPO = 'infra';
const FULL = `${OWNER}/${REPO}`;
const SECRET = 'apply-refusals-secret';
const CONFIG = 'policy:\n  policy_owners: [olga]\n';

const summary = ONE_ADD_SUMMARY;

const finding = (ruleId: string, level: Finding['level']): Finding => ({
  ruleId,
  source: 'opa',
  sources: ['opa'],
  sourceIds: [],
  severity: level === 'hard' ? 'high' : 'low',
  level,
  message: `${ruleId} finding`,
});

/** Plan runs the app starts by itself (re-plan, lock freed) stop at a plan that failed: no terraform needed here. */
const noPlanChecker: Checker = async (opts) => ({
  project: opts.project,
  ok: false,
  stages: [{ name: 'plan', status: 'failed', durationMs: 0, message: 'stub: not planned in this test' }],
  formatted: [],
  diagnostics: [],
  verdict: decideVerdict({ scanners: [], overrides: [], config: opts.config.policy }),
  durationMs: 0,
});

describeWithTools(['git', 'terraform'], 'approvals that must not apply, through the App', () => {
  let standin: GitHubStandin;
  let remote: GitRemote;
  let server: AppServer;
  let sender: WebhookSender;
  let dir: string;
  let n = 0;
  let world: AppWorld | undefined;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'apply-refusals-'));
    world = await startAppWorld({
      files: {
        'main.tf': 'resource "terraform_data" "x" {\n  input = "a"\n}\n',
        '.github/infra-agent.yml': CONFIG,
      },
      permissions: { mona: 'write', octo: 'write', olga: 'write', octocat: 'write', guest: 'read' },
      server: {
        agent: async () => {
          throw new Error('the agent is not used in these tests');
        },
        checks: noPlanChecker,
      },
      owner: OWNER,
      repo: REPO,
      secret: SECRET,
    });
    ({ standin, remote, server, sender } = world);
  });

  afterAll(async () => {
    await world?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const settled = async (): Promise<RunRecord[]> => {
    const until = Date.now() + 180_000;
    for (;;) {
      const runs = await server.runtime.store.listRuns({});
      const open = runs.filter((r) => r.status === 'queued' || r.status === 'running');
      const depth = await server.runtime.queue.depth();
      if (open.length === 0 && depth.queued === 0 && depth.active === 0) return runs;
      if (Date.now() > until) throw new Error('runs did not settle');
      await new Promise((r) => setTimeout(r, 100));
    }
  };

  /** An app PR for a fresh issue, with a plan set recorded for project `project` on its head and the base tip. */
  async function seedPr(
    opts: { project?: string; findings?: Finding[] /** false: another PR holds it */; lock?: boolean } = {},
  ) {
    n += 1;
    const project = opts.project ?? `p${n}`;
    const issue = standin.addIssue({ owner: OWNER, repo: REPO, title: `request ${n}`, user: 'mona' });
    const branch = `infra/issue-${issue.number}-request-${n}`;
    const head = await remote.commitFiles(
      branch,
      { [`change-${n}.tf`]: `resource "terraform_data" "c${n}" {\n  input = "${n}"\n}\n` },
      `Change ${n}`,
      { author: identityFor(standin.app.botLogin), from: remote.defaultBranch },
    );
    const octokit = await server.probot.auth(7);
    const body = [
      `Closes #${issue.number}`,
      '',
      '| Project | Add | Change | Destroy | Replace | Import | Policy |',
      '|---|---:|---:|---:|---:|---:|---|',
      `| ${project} (.) | 1 | 0 | 0 | 0 | 0 | ⚠️ needs override |`,
      '',
      '## Policy report',
      '',
      'stale report',
      '',
      `<!-- infra-agent:run-id=seed-${n} -->`,
      `<!-- infra-agent:issue=${issue.number} -->`,
    ].join('\n');
    const { data: pr } = await octokit.rest.pulls.create({
      owner: OWNER,
      repo: REPO,
      head: branch,
      base: remote.defaultBranch,
      title: `Change ${n}`,
      body,
    });
    // As the publish stage does when it opens the PR: the store's link is what makes it the App's.
    await server.runtime.store.linkPullRequest({
      repo: FULL,
      pr: pr.number,
      issue: issue.number,
      runId: `seed-${n}`,
      branch,
    });
    const bytes = randomBytes(256);
    const file = join(dir, `plan-${n}`);
    await writeFile(file, bytes);
    const config = RepoConfigSchema.parse({ policy: { policy_owners: ['olga'] } });
    const scanners = [{ name: 'opa' as const, status: 'ok' as const, durationMs: 1, findings: opts.findings ?? [] }];
    const result: ChecksResult = {
      project: { name: project, dir: '.', workspace: 'default', dependsOn: [] },
      ok: true,
      stages: [],
      formatted: [],
      diagnostics: [],
      plan: { file, hash: sha256(bytes), summary, text: '' },
      verdict: decideVerdict({ scanners, overrides: [], config: config.policy }),
      durationMs: 1,
    };
    // As the plan stage does: take the lock, or (held by another PR) wait for it.
    const locked = await takeProjectLocks(server.runtime.store, {
      repo: FULL,
      pr: pr.number,
      runId: `seed-${n}`,
      projects: [{ name: project, workspace: 'default' }],
    });
    expect(locked.ok).toBe(opts.lock !== false);
    await recordReviewedPlans(server.runtime.store, {
      repo: FULL,
      pr: pr.number,
      headSha: head,
      baseSha: await remote.headSha(remote.defaultBranch),
      runId: `seed-${n}`,
      results: [result],
    });
    return { issue: issue.number, pr: pr.number, branch, head, project };
  }

  async function approve(pr: number, user: string) {
    const review = await standin.addReview({ owner: OWNER, repo: REPO, pullNumber: pr, user, state: 'APPROVED' });
    const hook = await standinWebhooks(standin).pullRequestReviewSubmitted(OWNER, REPO, review.id);
    expect((await sender.send(hook.event, hook.payload)).status).toBeLessThan(300);
    return settled();
  }

  async function comment(pr: number, user: string, body: string) {
    const c = standin.addComment({ owner: OWNER, repo: REPO, issueNumber: pr, user, body });
    const hook = standinWebhooks(standin).issueCommentCreated(OWNER, REPO, c.id);
    expect((await sender.send(hook.event, hook.payload)).status).toBeLessThan(300);
    return settled();
  }

  // The hidden marker that lets a retried reply find itself (a lost create answer) is not part of what is read.
  const botReplies = (pr: number) =>
    standin
      .comments(OWNER, REPO, pr)
      .filter((c) => c.user === standin.app.botLogin)
      .map((c) => c.body.replace(/\n<!-- infra-agent:comment=[0-9a-f]+ -->$/, ''));

  function expectNothingApplied(s: { pr: number; issue: number }) {
    const pull = standin.pull(OWNER, REPO, s.pr);
    expect(pull?.merged).toBe(false);
    expect(pull?.state).toBe('open');
    expect(standin.issue(OWNER, REPO, s.issue)?.state).toBe('open');
  }

  const applyChecksOn = (sha: string) =>
    standin.state.checkRuns.filter((c) => c.name === 'infra-agent/apply' && c.headSha === sha);

  it('an unauthorised reviewer (read permission) is refused, named', async () => {
    const s = await seedPr();
    await approve(s.pr, 'guest');
    expect(botReplies(s.pr)).toEqual([
      [
        '@guest thanks for the review — **nothing was applied**, because this requirement is not met:',
        '',
        '- **approver-unauthorised**: @guest needs write permission on the repository to approve an apply (has read)',
        '',
        'Approve again once they are met.',
      ].join('\n'),
    ]);
    expect(applyChecksOn(s.head)).toEqual([]);
    expectNothingApplied(s);
  });

  it('the requester approving their own change is refused, named', async () => {
    const s = await seedPr();
    await approve(s.pr, 'mona');
    const reply = botReplies(s.pr).at(-1) ?? '';
    expect(reply).toContain(
      `- **self-approval**: @mona is counted among the people who asked for this change (opened issue #${s.issue}) and cannot approve it; another approver must (\`apply.allow_self_approval\` is off). Counted: @mona (opened issue #${s.issue})`,
    );
    expect(applyChecksOn(s.head)).toEqual([]);
    expectNothingApplied(s);
  });

  it('a push after the plan re-plans (head moved): the thread says the plan changed and asks again', async () => {
    const s = await seedPr();
    const pushed = await remote.commitFiles(s.branch, { 'note.tf': '# note\n' }, 'A note', {
      author: identityFor('octocat'),
    });
    const runs = await approve(s.pr, 'octo');
    const replies = botReplies(s.pr);
    const notice = replies.find((b) => b.includes('the plan you reviewed is no longer the plan of this branch'));
    expect(notice).toContain(`@octo **nothing was applied**`);
    expect(notice).toContain(
      `- the branch moved since the plan (planned ${s.head.slice(0, 7)}, head is now ${pushed.slice(0, 7)})`,
    );
    expect(notice).toContain(`- commits were pushed by people after the plan (${pushed.slice(0, 7)} by @octocat)`);
    expect(notice).toContain(
      'infra-agent is planning again on the current head and base. Review the new plan when it is posted and approve again.',
    );
    const replan = runs.find((r) => r.kind === 'plan' && r.number === s.issue);
    expect(replan?.input).toMatchObject({ trigger: 'replan', prNumber: s.pr });
    expect(applyChecksOn(s.head)).toEqual([]);
    expect(applyChecksOn(pushed)).toEqual([]);
    expectNothingApplied(s);
  });

  it('the base branch gaining a commit the PR head lacks: refused (a re-plan would revert it), told to update', async () => {
    const s = await seedPr();
    await remote.commitFiles(remote.defaultBranch, { 'other.tf': '# another change\n' }, 'Another change');
    const runs = await approve(s.pr, 'octo');
    const reply = botReplies(s.pr).at(-1) ?? '';
    expect(reply).toContain('nothing was applied');
    expect(reply).toContain(
      `- **behind-base**: the PR is behind \`${remote.defaultBranch}\`: update the branch (merge or rebase \`${remote.defaultBranch}\` into it), then the app re-plans and asks for approval again`,
    );
    expect(botReplies(s.pr).some((b) => b.includes('no longer the plan of this branch'))).toBe(false);
    expect(runs.some((r) => r.kind === 'plan' && r.number === s.issue)).toBe(false);
    expectNothingApplied(s);
  });

  it('a blocked verdict is refused, naming the hard finding', async () => {
    const s = await seedPr({ findings: [finding('SEC-NET-001', 'hard')] });
    await approve(s.pr, 'octo');
    const reply = botReplies(s.pr).at(-1) ?? '';
    expect(reply).toContain('- **verdict-blocked**:');
    expect(reply).toContain('SEC-NET-001');
    expectNothingApplied(s);
  });

  it('a soft finding is refused until a policy owner overrides it; the override shows in the PR report', async () => {
    const s = await seedPr({ findings: [finding('SEC-TAG-001', 'soft')] });
    await approve(s.pr, 'octo');
    expect(botReplies(s.pr).at(-1)).toContain('- **soft-not-overridden**:');
    expect(botReplies(s.pr).at(-1)).toContain('SEC-TAG-001');
    expectNothingApplied(s);

    // Not a policy owner: refused, nothing recorded.
    await comment(s.pr, 'octo', '/infra override SEC-TAG-001 tags come from the account baseline');
    expect(botReplies(s.pr).at(-1)).toBe('@octo the override was not recorded: @octo is not a policy owner (@olga).');
    await comment(s.pr, 'olga', '/infra override SEC-TAG-001 tags come from the account baseline');
    expect(botReplies(s.pr).at(-1)).toContain('Override of **SEC-TAG-001** recorded by @olga for this plan only');
    const body = standin.pull(OWNER, REPO, s.pr)?.body ?? '';
    expect(body).not.toContain('stale report');
    expect(body).toContain('SEC-TAG-001 overridden by @olga');
    expect(body).toContain('tags come from the account baseline');
    expect(body).toContain(`| ${s.project} (.) | 1 | 0 | 0 | 0 | 0 | ✅ pass |`);
    expect(body).toContain(`<!-- infra-agent:issue=${s.issue} -->`);

    // Now the approval passes every requirement and applies — the seeded plan bytes are not a plan, so terraform
    // fails: the lock and the PR stay, and the reply says what to do next.
    await approve(s.pr, 'octo');
    const failed = botReplies(s.pr).find((b) => b.includes('Apply failed'));
    expect(failed).toContain('Nothing was merged; the pull request stays open and keeps its locks.');
    expect(failed).toContain('**What to do next:**');
    expect(applyChecksOn(s.head).map((c) => c.conclusion)).toEqual(['failure']);
    expect(await server.runtime.store.listLocks({ repo: FULL, pr: s.pr })).toHaveLength(1);
    expect(standin.pull(OWNER, REPO, s.pr)?.labels).toContain('infra-agent:apply-failed');
    expectNothingApplied(s);
  }, 300_000);

  it('a lock held by another PR refuses the approval and names that PR', async () => {
    const holder = await seedPr({ project: 'shared' });
    const waiting = await seedPr({ project: 'shared', lock: false });
    await approve(waiting.pr, 'octo');
    expect(botReplies(waiting.pr).at(-1)).toContain(
      `- **lock-held**: \`shared\` is locked by #${holder.pr}; it is applied after that pull request is merged, closed or unlocked`,
    );
    expectNothingApplied(waiting);

    // `/infra unlock` on the holder (write permission): released, and the waiting PR is planned.
    await comment(holder.pr, 'guest', '/infra unlock');
    expect(await server.runtime.store.listLocks({ repo: FULL, pr: holder.pr })).toHaveLength(1);
    const runs = await comment(holder.pr, 'octo', '/infra unlock');
    expect(botReplies(holder.pr).at(-1)).toBe(
      [
        '@octo released `shared`.',
        'The saved plan of this pull request may now be outdated: comment `/infra plan` before approving it.',
        '',
        `Now planning: #${waiting.pr}.`,
      ].join('\n'),
    );
    expect(await server.runtime.store.listLocks({ repo: FULL, pr: holder.pr })).toEqual([]);
    const replan = runs.find((r) => r.kind === 'plan' && r.number === waiting.issue);
    expect(replan?.input).toMatchObject({ trigger: 'replan', prNumber: waiting.pr });
    expect(replan?.status, replan?.error ?? '').toBe('succeeded');
  });

  it('planning a PR whose project another PR holds: told who holds it, planned again when that PR closes', async () => {
    // Start from no lock and no waiting list on the root project (earlier re-plans took it or waited for it).
    for (const l of await server.runtime.store.listLocks({ repo: FULL })) {
      await releasePullRequestLocks(server.runtime.store, {
        repo: FULL,
        pr: l.holder.pr,
        actor: 'test',
        reason: 'unlock',
      });
    }
    const a = await seedPr();
    const b = await seedPr();
    await comment(a.pr, 'octo', '/infra plan');
    expect((await server.runtime.store.listLocks({ repo: FULL, pr: a.pr })).map((l) => l.project)).toContain('.');
    await comment(b.pr, 'octo', '/infra plan');
    const told = botReplies(b.pr).find((c) => c.includes('cannot be applied yet'));
    expect(told).toContain(`- \`.\` is locked by #${a.pr} since `);
    const reply = botReplies(b.pr).find((c) => c.includes(`**Re-planned #${b.pr}**`));
    expect(reply).toContain('A project of this pull request is locked by another pull request');
    expect((await server.runtime.store.listLocks({ repo: FULL, pr: b.pr })).map((l) => l.project)).not.toContain('.');

    const closed = await standinWebhooks(standin).pullRequestClosed(OWNER, REPO, a.pr, 'octo');
    expect((await sender.send(closed.event, closed.payload)).status).toBeLessThan(300);
    const runs = await settled();
    expect(runs.filter((r) => r.kind === 'plan' && r.input['trigger'] === 'replan' && r.number === a.issue)).toEqual(
      [],
    );
    const replans = runs.filter((r) => r.kind === 'plan' && r.number === b.issue && r.input['trigger'] === 'replan');
    expect(replans).toHaveLength(1);
    const replan = replans[0];
    expect(replan?.input['reason']).toBe(`lock on ./default freed: #${a.pr} was closed`);
    expect(replan?.status, replan?.error ?? '').toBe('succeeded');
    expect((await server.runtime.store.listLocks({ repo: FULL, pr: b.pr })).map((l) => l.project)).toContain('.');
  });

  it('GitHub saw only requests and responses its OpenAPI description allows', () => {
    expect(standin.violations).toEqual([]);
    expect(standin.responseViolations).toEqual([]);
  });
});
