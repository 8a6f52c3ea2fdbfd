// Every apply requirement and refusal, on data: each test starts from an approval that passes and breaks one thing.
import { describe, expect, it } from 'vitest';
import {
  type ApplyRequirementsInput,
  countingApprovals,
  evaluateApplyRequirements,
  type ProjectFacts,
} from '../../src/apply/requirements.js';
import { ApplyConfigSchema, defaultRepoConfig } from '../../src/config/schema.js';
import type { ReviewFacts } from '../../src/core/apply-port.js';
import type { Finding, Override, ScannerRun } from '../../src/core/types.js';
import { decideVerdict } from '../../src/policy/verdict.js';

const HEAD = 'a'.repeat(40);
const BASE = 'b'.repeat(40);
const HASH = 'c'.repeat(64);
const OTHER_HASH = 'd'.repeat(64);

function finding(ruleId: string, level: Finding['level']): Finding {
  return {
    ruleId,
    source: 'opa',
    sources: ['opa'],
    sourceIds: [],
    severity: 'high',
    level,
    message: `${ruleId} finding`,
  };
}

function verdict(findings: Finding[], overrides: Override[] = [], planHash = HASH) {
  const scanners: ScannerRun[] = [{ name: 'opa', status: 'ok', durationMs: 1, findings }];
  return decideVerdict({ scanners, overrides, config: defaultRepoConfig().policy, planHash });
}

function review(login: string, state: ReviewFacts['state'], commitId = HEAD, at = '2026-01-01T10:00:00Z'): ReviewFacts {
  return { id: Math.floor(Math.random() * 1e6), login, userType: 'User', state, commitId, submittedAt: at };
}

function project(over: Partial<ProjectFacts> = {}): ProjectFacts {
  return {
    name: 'network',
    workspace: 'default',
    planHash: HASH,
    savedPlan: { headSha: HEAD, baseSha: BASE, planHash: HASH },
    verdict: verdict([]),
    ...over,
  };
}

function base(over: Partial<ApplyRequirementsInput> = {}): ApplyRequirementsInput {
  const approver = { login: 'alice', type: 'User', permission: 'write' as const, teams: [] };
  return {
    config: ApplyConfigSchema.parse({}),
    pr: {
      number: 7,
      state: 'open',
      draft: false,
      headSha: HEAD,
      baseSha: BASE,
      mergeable: true,
      mergeableState: 'clean',
    },
    ownedByApp: true,
    review: { id: 1, login: 'alice', state: 'APPROVED', commitId: HEAD },
    approver,
    requesters: ['bob'],
    reviewers: { alice: approver },
    reviews: [review('alice', 'APPROVED')],
    plan: { headSha: HEAD, baseSha: BASE },
    humanCommits: [],
    planHeadInBranch: true,
    projects: [project()],
    ...over,
  };
}

function codes(input: ApplyRequirementsInput): string[] {
  const d = evaluateApplyRequirements(input);
  return d.ok ? [] : d.missing.map((m) => m.code);
}

describe('evaluateApplyRequirements', () => {
  it('applies when every requirement holds', () => {
    expect(evaluateApplyRequirements(base())).toEqual({ ok: true, action: 'apply' });
  });

  it('refuses when apply is disabled', () => {
    const d = evaluateApplyRequirements(base({ config: ApplyConfigSchema.parse({ enabled: false }) }));
    expect(d).toMatchObject({ ok: false, action: 'refuse' });
    expect(codes(base({ config: ApplyConfigSchema.parse({ enabled: false }) }))).toEqual(['apply-disabled']);
  });

  it('refuses a PR the app does not own, and a closed PR', () => {
    expect(codes(base({ ownedByApp: false }))).toEqual(['not-app-pr']);
    expect(codes(base({ pr: { ...base().pr, state: 'closed' } }))).toEqual(['pr-not-open']);
  });

  it('refuses a reviewer without write permission, naming what they have', () => {
    const approver = { login: 'mallory', type: 'User', permission: 'read' as const, teams: [] };
    const d = evaluateApplyRequirements(
      base({ approver, review: { id: 2, login: 'mallory', state: 'APPROVED', commitId: HEAD } }),
    );
    expect(d.ok).toBe(false);
    if (d.ok) return;
    expect(d.action).toBe('refuse');
    expect(d.missing).toEqual([
      {
        code: 'approver-unauthorised',
        message: '@mallory needs write permission on the repository to approve an apply (has read)',
      },
    ]);
  });

  it('with configured approvers, write permission alone is not enough; a listed user or team member is', () => {
    const config = ApplyConfigSchema.parse({ approvers: { users: ['carol'], teams: ['acme/platform'] } });
    expect(codes(base({ config }))).toEqual(['approver-unauthorised']);
    const d = evaluateApplyRequirements(base({ config }));
    if (!d.ok) expect(d.missing[0]?.message).toContain('@carol, @acme/platform');

    const teamMember = { login: 'alice', type: 'User', permission: 'read' as const, teams: ['acme/platform'] };
    expect(codes(base({ config, approver: teamMember, reviewers: { alice: teamMember } }))).toEqual([]);
    const listed = { login: 'Carol', type: 'User', permission: 'none' as const, teams: [] };
    expect(
      codes(
        base({
          config,
          approver: listed,
          reviewers: { Carol: listed },
          review: { id: 3, login: 'Carol', state: 'APPROVED', commitId: HEAD },
          reviews: [review('Carol', 'APPROVED')],
        }),
      ),
    ).toEqual([]);
  });

  it('refuses a bot approval', () => {
    const bot = { login: 'renovate[bot]', type: 'Bot', permission: 'write' as const, teams: [] };
    expect(codes(base({ approver: bot }))).toEqual(['approver-is-bot']);
  });

  it('refuses the requester approving their own request, unless allow_self_approval', () => {
    expect(codes(base({ requesters: ['alice'] }))).toEqual(['self-approval']);
    expect(codes(base({ requesters: ['ALICE'] }))).toEqual(['self-approval']);
    const config = ApplyConfigSchema.parse({ allow_self_approval: true });
    expect(codes(base({ requesters: ['alice'], config }))).toEqual([]);
  });

  it('an unauthorised approval never re-plans, even when the plan is stale', () => {
    const approver = { login: 'mallory', type: 'User', permission: 'triage' as const, teams: [] };
    const d = evaluateApplyRequirements(base({ approver, pr: { ...base().pr, headSha: 'e'.repeat(40) } }));
    expect(d).toMatchObject({ ok: false, action: 'refuse' });
  });

  it('counts approvals: latest review per reviewer, on the current head, authorised, not the requester', () => {
    const config = ApplyConfigSchema.parse({ required_approvals: 2 });
    const dave = { login: 'dave', type: 'User', permission: 'write' as const, teams: [] };
    const bob = { login: 'bob', type: 'User', permission: 'admin' as const, teams: [] };
    const eve = { login: 'eve', type: 'User', permission: 'read' as const, teams: [] };
    const reviewers = { alice: base().approver, dave, bob, eve };
    // dave approved an older commit; bob is the requester; eve has read only.
    const reviews = [
      review('alice', 'APPROVED'),
      review('dave', 'APPROVED', 'f'.repeat(40)),
      review('bob', 'APPROVED'),
      review('eve', 'APPROVED'),
    ];
    const input = base({ config, reviewers, reviews });
    expect(countingApprovals(input)).toEqual(['alice']);
    const d = evaluateApplyRequirements(input);
    expect(d.ok).toBe(false);
    if (d.ok) return;
    expect(d.missing).toEqual([
      {
        code: 'not-enough-approvals',
        message: '2 approvals of the current head by authorised reviewers are required, 1 counted (@alice)',
      },
    ]);
    // dave approves the current head: two.
    const more = base({
      config,
      reviewers,
      reviews: [...reviews, review('dave', 'APPROVED', HEAD, '2026-01-01T11:00:00Z')],
    });
    expect(codes(more)).toEqual([]);
  });

  it('a later "changes requested" replaces an approval; a plain comment does not', () => {
    const reviews = [
      review('alice', 'APPROVED', HEAD, '2026-01-01T10:00:00Z'),
      review('alice', 'COMMENTED', HEAD, '2026-01-01T12:00:00Z'),
    ];
    expect(codes(base({ reviews }))).toEqual([]);
    const carol = { login: 'carol', type: 'User', permission: 'write' as const, teams: [] };
    const blocked = base({
      reviewers: { alice: base().approver, carol },
      reviews: [
        ...reviews,
        review('carol', 'APPROVED', HEAD, '2026-01-01T09:00:00Z'),
        review('carol', 'CHANGES_REQUESTED', HEAD, '2026-01-01T13:00:00Z'),
      ],
    });
    expect(codes(blocked)).toEqual(['changes-requested']);
  });

  it('head moved since the plan → re-plan, not refuse', () => {
    const d = evaluateApplyRequirements(
      base({
        pr: { ...base().pr, headSha: 'e'.repeat(40) },
        review: { id: 1, login: 'alice', state: 'APPROVED', commitId: 'e'.repeat(40) },
      }),
    );
    expect(d).toEqual({
      ok: false,
      action: 're-plan',
      missing: [
        { code: 'stale-head', message: 'the branch moved since the plan (planned aaaaaaa, head is now eeeeeee)' },
      ],
    });
  });

  it('base moved since the plan → re-plan', () => {
    const d = evaluateApplyRequirements(base({ pr: { ...base().pr, baseSha: '9'.repeat(40) } }));
    expect(d).toEqual({
      ok: false,
      action: 're-plan',
      missing: [
        {
          code: 'stale-base',
          message: 'the base branch moved since the plan (planned on bbbbbbb, base is now 9999999)',
        },
      ],
    });
  });

  it('a head behind its base is refused (not re-planned), with how to update the branch', () => {
    const d = evaluateApplyRequirements(base({ behindBase: { baseRef: 'main', baseSha: BASE } }));
    expect(d).toEqual({
      ok: false,
      action: 'refuse',
      missing: [
        {
          code: 'behind-base',
          message:
            'the PR is behind `main`: update the branch (merge or rebase `main` into it), then the app re-plans and asks for approval again',
        },
      ],
    });
    // Even when the plan is also stale: a re-plan of a head behind its base would revert what the base gained.
    const stale = base({
      behindBase: { baseRef: 'main', baseSha: 'e'.repeat(40) },
      plan: { headSha: HEAD, baseSha: 'f'.repeat(40) },
    });
    expect(evaluateApplyRequirements(stale)).toMatchObject({ action: 'refuse', missing: [{ code: 'behind-base' }] });
    // Who approved still comes first: an unauthorised approval is told that, not how to update the branch.
    const eve = { login: 'eve', type: 'User', permission: 'read' as const, teams: [] };
    expect(codes(base({ behindBase: { baseRef: 'main', baseSha: BASE }, approver: eve }))).toEqual([
      'approver-unauthorised',
    ]);
    // A base ref is a git ref name: no backticks can break the message's code span.
    const odd = evaluateApplyRequirements(base({ behindBase: { baseRef: 'rel`ease x', baseSha: BASE } }));
    expect(odd.ok ? '' : odd.missing[0]?.message).toContain('`releasex`');
  });

  it('human commits since the plan are named in the re-plan', () => {
    const d = evaluateApplyRequirements(
      base({
        pr: { ...base().pr, headSha: 'e'.repeat(40) },
        humanCommits: [{ sha: 'e'.repeat(40), who: '@bob' }],
      }),
    );
    expect(d.ok).toBe(false);
    if (d.ok) return;
    expect(d.action).toBe('re-plan');
    expect(d.missing.map((m) => m.code)).toEqual(['stale-head', 'human-commits']);
    expect(d.missing[1]?.message).toContain('eeeeeee by @bob');
  });

  it('a force-pushed branch that lost the planned commit says so', () => {
    const d = evaluateApplyRequirements(
      base({ pr: { ...base().pr, headSha: 'e'.repeat(40) }, planHeadInBranch: false }),
    );
    expect(d.ok ? '' : d.missing[0]?.message).toContain('rewritten');
  });

  it('refuses when the PR never planned', () => {
    const { plan: _plan, ...rest } = base();
    expect(codes(rest)).toEqual(['no-plan']);
  });

  it('refuses an approval of an older commit when the plan matches the head', () => {
    const old = 'f'.repeat(40);
    const input = base({
      review: { id: 1, login: 'alice', state: 'APPROVED', commitId: old },
      reviews: [review('alice', 'APPROVED', old)],
    });
    expect(codes(input)).toEqual(['review-outdated', 'not-enough-approvals']);
  });

  it('refuses a blocked verdict (hard finding), naming the rule', () => {
    const d = evaluateApplyRequirements(
      base({ projects: [project({ verdict: verdict([finding('SEC-NET-001', 'hard')]) })] }),
    );
    expect(d.ok).toBe(false);
    if (d.ok) return;
    expect(d.missing).toEqual([
      {
        code: 'verdict-blocked',
        project: 'network',
        message: '`network`: the policy verdict is blocked (hard findings SEC-NET-001 must be fixed)',
      },
    ]);
  });

  it('refuses a blocked verdict from a scanner that did not run', () => {
    const scanners: ScannerRun[] = [
      { name: 'checkov', status: 'not-run', durationMs: 0, reason: 'not installed', findings: [] },
    ];
    const v = decideVerdict({ scanners, overrides: [], config: defaultRepoConfig().policy, planHash: HASH });
    expect(codes(base({ projects: [project({ verdict: v })] }))).toEqual(['verdict-blocked']);
  });

  it('soft finding not overridden → refused; overridden for THIS plan → applies; for an older plan → refused', () => {
    const soft = [finding('SEC-TAG-001', 'soft')];
    expect(codes(base({ projects: [project({ verdict: verdict(soft) })] }))).toEqual(['soft-not-overridden']);
    const d = evaluateApplyRequirements(base({ projects: [project({ verdict: verdict(soft) })] }));
    if (!d.ok) expect(d.missing[0]?.message).toContain('SEC-TAG-001 need `/infra override');

    const now: Override = {
      ruleId: 'SEC-TAG-001',
      by: 'olga',
      at: '2026-01-01T00:00:00Z',
      reason: 'tags later',
      planHash: HASH,
    };
    expect(codes(base({ projects: [project({ verdict: verdict(soft, [now]) })] }))).toEqual([]);

    const old: Override = { ...now, planHash: OTHER_HASH };
    expect(codes(base({ projects: [project({ verdict: verdict(soft, [old]) })] }))).toEqual(['soft-not-overridden']);
  });

  it('refuses while another PR holds the lock, naming it; its own lock is fine', () => {
    const lock = (pr: number) => ({
      repo: 'o/r',
      project: 'network',
      workspace: 'default',
      holder: { pr, runId: 'r1' },
      acquiredAt: new Date(),
    });
    const d = evaluateApplyRequirements(base({ projects: [project({ lock: lock(3) })] }));
    expect(d.ok).toBe(false);
    if (d.ok) return;
    expect(d.missing).toEqual([
      {
        code: 'lock-held',
        project: 'network',
        message: '`network` is locked by #3; it is applied after that pull request is merged, closed or unlocked',
      },
    ]);
    expect(codes(base({ projects: [project({ lock: lock(7) })] }))).toEqual([]);
  });

  it('refuses a plan already applied, interrupted, or failed before (a plan hash is applied once)', () => {
    expect(codes(base({ projects: [project({ applyRecord: { state: 'applied', runId: 'r1' } })] }))).toEqual([
      'already-applied',
    ]);
    expect(codes(base({ projects: [project({ applyRecord: { state: 'applying', runId: 'r1' } })] }))).toEqual([
      'apply-interrupted',
    ]);
    expect(codes(base({ projects: [project({ applyRecord: { state: 'failed', runId: 'r1' } })] }))).toEqual([
      'apply-failed-before',
    ]);
  });

  it('refuses a project without a plan, or whose saved plan is missing or bound to another head', () => {
    expect(codes(base({ projects: [project({ planHash: null, planError: 'init failed: @someone `x`' })] }))).toEqual([
      'no-plan',
    ]);
    const d = evaluateApplyRequirements(
      base({ projects: [project({ planHash: null, planError: 'init failed: @someone `x`' })] }),
    );
    // Untrusted diagnostic text cannot ping people or open code spans.
    if (!d.ok) expect(d.missing[0]?.message).toContain('init failed: \\@\u200bsomeone \\`x\\`');
    const { savedPlan: _s, ...noSaved } = project();
    expect(codes(base({ projects: [noSaved] }))).toEqual(['plan-missing']);
    expect(
      codes(base({ projects: [project({ savedPlan: { headSha: 'f'.repeat(40), baseSha: BASE, planHash: HASH } })] })),
    ).toEqual(['plan-missing']);
  });

  it('refuses when no gate result is recorded for the plan', () => {
    const { verdict: _v, ...noGate } = project();
    expect(codes(base({ projects: [noGate] }))).toEqual(['gate-missing']);
  });

  it('refuses a PR with conflicts, an unknown mergeability, or a draft; require_mergeable off skips the first two', () => {
    expect(codes(base({ pr: { ...base().pr, mergeable: false, mergeableState: 'dirty' } }))).toEqual(['not-mergeable']);
    expect(codes(base({ pr: { ...base().pr, mergeable: null, mergeableState: 'unknown' } }))).toEqual([
      'mergeability-unknown',
    ]);
    expect(codes(base({ pr: { ...base().pr, draft: true } }))).toEqual(['pr-draft']);
    const config = ApplyConfigSchema.parse({ require_mergeable: false });
    expect(codes(base({ config, pr: { ...base().pr, mergeable: false, mergeableState: 'dirty' } }))).toEqual([]);
  });

  it('names every missing requirement at once, per project', () => {
    const d = evaluateApplyRequirements(
      base({
        projects: [
          project({ verdict: verdict([finding('SEC-NET-001', 'hard')]) }),
          project({ name: 'app', verdict: verdict([finding('SEC-TAG-001', 'soft')]) }),
        ],
        pr: { ...base().pr, mergeable: false, mergeableState: 'dirty' },
      }),
    );
    expect(d.ok ? [] : d.missing.map((m) => [m.code, m.project])).toEqual([
      ['verdict-blocked', 'network'],
      ['soft-not-overridden', 'app'],
      ['not-mergeable', undefined],
    ]);
  });

  it('refuses a dependency cycle with the cycle spelled out', () => {
    expect(codes(base({ dependencyError: 'projects depend on each other in a cycle: a → b → a' }))).toEqual([
      'dependency-cycle',
    ]);
  });
});
