// `/infra override` on the real store: owners only (users or teams), soft findings only, a reason required and
// sanitised, recorded with who/when/why/plan hash in the store and the audit log, and never carried to a new plan.
import { randomBytes } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handleOverrideCommand } from '../../src/apply/handlers.js';
import { isPolicyOwner, recordOverride, sanitizeReason, validateOverrideRequest } from '../../src/apply/overrides.js';
import { loadGate, recordReviewedPlans, sha256 } from '../../src/apply/plan-record.js';
import { defaultRepoConfig, RepoConfigSchema } from '../../src/config/schema.js';
import type { ChecksResult, Finding } from '../../src/core/types.js';
import { decideVerdict } from '../../src/policy/verdict.js';
import { createStore } from '../../src/store/create-store.js';
import type { SqlStore } from '../../src/store/sql-store.js';
import { ONE_ADD_SUMMARY } from '../helpers/plan-summary.js';
import { FakePort } from './fake-port.js';

const PLAN_KEY = randomBytes(32).toString('base64');
let store: SqlStore;
let dir: string;
let n = 0;
const repo = () => `acme/overrides-${++n}`;

beforeAll(async () => {
  store = await createStore({ dataDir: 'memory://', planKey: PLAN_KEY });
  dir = await mkdtemp(join(tmpdir(), 'apply-overrides-'));
});
afterAll(async () => {
  await store.close();
});

const config = RepoConfigSchema.parse({ policy: { policy_owners: ['olga', 'acme/security'] } });
const summary = ONE_ADD_SUMMARY;

function finding(ruleId: string, level: Finding['level']): Finding {
  return {
    ruleId,
    source: 'opa',
    sources: ['opa'],
    sourceIds: [],
    severity: 'high',
    level,
    message: `${ruleId} found`,
  };
}

/** Record a plan for a PR whose gate reported these findings; returns its plan hash. */
async function plan(r: string, pr: number, findings: Finding[]): Promise<string> {
  const bytes = randomBytes(256);
  const file = join(dir, `plan-${r.replace('/', '-')}-${pr}-${randomBytes(4).toString('hex')}`);
  await writeFile(file, bytes);
  const scanners = [{ name: 'opa' as const, status: 'ok' as const, durationMs: 1, findings }];
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
  await recordReviewedPlans(store, {
    repo: r,
    pr,
    headSha: 'a'.repeat(40),
    baseSha: 'b'.repeat(40),
    runId: 'run',
    results: [result],
  });
  return sha256(bytes);
}

describe('override requests', () => {
  it('requires a reason of some substance, and a sane rule id', () => {
    expect(validateOverrideRequest('SEC-TAG-001', '')).toMatchObject({ ok: false, code: 'reason-missing' });
    expect(validateOverrideRequest('SEC-TAG-001', 'ok')).toMatchObject({ ok: false, code: 'reason-too-short' });
    expect(validateOverrideRequest('SEC TAG', 'a real reason here')).toMatchObject({ ok: false, code: 'bad-rule-id' });
    expect(validateOverrideRequest('SEC-TAG-001', 'tags come from the account baseline')).toEqual({
      ok: true,
      ruleId: 'SEC-TAG-001',
      reason: 'tags come from the account baseline',
    });
  });

  it('sanitises the reason: no markup, hidden text, mentions, control characters; bounded', () => {
    const raw = 'ok <!-- infra-agent:plan-hash=x --> by <b>@security</b>\u202E `rm`\u0007 \n\n next'.padEnd(900, 'x');
    const clean = sanitizeReason(raw);
    expect(clean).not.toMatch(/[<>`\u202E\u0007\n]/);
    expect(clean).not.toContain('infra-agent:');
    expect(clean).toContain('@\u200bsecurity');
    expect(clean.length).toBe(500);
  });

  it('knows owners as logins or org/team slugs, case-insensitively', () => {
    expect(isPolicyOwner(['Olga'], 'olga', [])).toBe(true);
    expect(isPolicyOwner(['acme/security'], 'zed', ['ACME/Security'])).toBe(true);
    expect(isPolicyOwner(['acme/security'], 'acme', [])).toBe(false);
    expect(isPolicyOwner([], 'olga', [])).toBe(false);
  });
});

describe('recordOverride', () => {
  it('a non-owner is refused, nothing recorded, the refusal audited', async () => {
    const r = repo();
    const hash = await plan(r, 1, [finding('SEC-TAG-001', 'soft')]);
    const out = await recordOverride({
      store,
      config,
      repo: r,
      pr: 1,
      login: 'mallory',
      teams: [],
      ruleId: 'SEC-TAG-001',
      reason: 'trust me, it is fine',
    });
    expect(out).toEqual({
      ok: false,
      code: 'not-policy-owner',
      message: '@mallory is not a policy owner (@olga, @acme/security)',
    });
    expect(await store.listOverrides({ repo: r, pr: 1, planHash: hash })).toEqual([]);
    expect((await store.listAudit({ repo: r, action: 'policy.override-refused' }))[0]?.actor).toBe('mallory');
  });

  it('a hard rule is refused with the reason, even for an owner', async () => {
    const r = repo();
    const hash = await plan(r, 1, [finding('SEC-NET-001', 'hard')]);
    const out = await recordOverride({
      store,
      config,
      repo: r,
      pr: 1,
      login: 'olga',
      teams: [],
      ruleId: 'SEC-NET-001',
      reason: 'it is only a test vpc',
    });
    expect(out).toEqual({
      ok: false,
      code: 'hard-rule',
      message: 'SEC-NET-001 is a hard finding (in `network`) and cannot be overridden: the code must change',
    });
    expect(await store.listOverrides({ repo: r, pr: 1, planHash: hash })).toEqual([]);
  });

  it('a rule the plan does not report, or only as advisory, is refused', async () => {
    const r = repo();
    await plan(r, 1, [finding('SEC-LOG-001', 'advisory')]);
    const none = await recordOverride({
      store,
      config,
      repo: r,
      pr: 1,
      login: 'olga',
      teams: [],
      ruleId: 'SEC-XXX-999',
      reason: 'no such thing here',
    });
    expect(none).toMatchObject({ ok: false, code: 'no-such-finding' });
    const adv = await recordOverride({
      store,
      config,
      repo: r,
      pr: 1,
      login: 'olga',
      teams: [],
      ruleId: 'SEC-LOG-001',
      reason: 'logging comes later',
    });
    expect(adv).toMatchObject({ ok: false, code: 'not-soft' });
  });

  it('an owner (by team) overriding a soft finding is recorded for THIS plan, audited, and lifts the verdict', async () => {
    const r = repo();
    const hash = await plan(r, 1, [finding('SEC-TAG-001', 'soft')]);
    const at = new Date('2026-03-01T12:00:00Z');
    const out = await recordOverride({
      store,
      config,
      repo: r,
      pr: 1,
      login: 'zed',
      teams: ['acme/security'],
      ruleId: 'SEC-TAG-001',
      reason: 'tags are added by the account baseline',
      now: at,
    });
    expect(out.ok).toBe(true);
    const stored = await store.listOverrides({ repo: r, pr: 1, planHash: hash });
    expect(stored).toEqual([
      {
        ruleId: 'SEC-TAG-001',
        by: 'zed',
        at: at.toISOString(),
        reason: 'tags are added by the account baseline',
        planHash: hash,
      },
    ]);
    const audit = await store.listAudit({ repo: r, action: 'policy.overridden' });
    expect(audit[0]).toMatchObject({
      actor: 'zed',
      target: '#1',
      details: { ruleId: 'SEC-TAG-001', planHash: hash, project: 'network' },
    });
    const scanners = await loadGate(store, {
      repo: r,
      pr: 1,
      project: 'network',
      workspace: 'default',
      planHash: hash,
    });
    expect(scanners).toBeDefined();
    expect(
      decideVerdict({ scanners: scanners ?? [], overrides: stored, config: config.policy, planHash: hash }).status,
    ).toBe('pass');
    // A second identical override adds nothing.
    const again = await recordOverride({
      store,
      config,
      repo: r,
      pr: 1,
      login: 'olga',
      teams: [],
      ruleId: 'SEC-TAG-001',
      reason: 'tags are added by the account baseline',
    });
    expect(again).toMatchObject({ ok: false, code: 'already-overridden' });
  });

  it('an override never carries to the next plan of the same PR', async () => {
    const r = repo();
    const first = await plan(r, 1, [finding('SEC-TAG-001', 'soft')]);
    await recordOverride({
      store,
      config,
      repo: r,
      pr: 1,
      login: 'olga',
      teams: [],
      ruleId: 'SEC-TAG-001',
      reason: 'tags are added by the account baseline',
    });
    const second = await plan(r, 1, [finding('SEC-TAG-001', 'soft')]);
    expect(second).not.toBe(first);
    expect(await store.listOverrides({ repo: r, pr: 1, planHash: second })).toEqual([]);
    const scanners = await loadGate(store, {
      repo: r,
      pr: 1,
      project: 'network',
      workspace: 'default',
      planHash: second,
    });
    const all = await store.listOverrides({ repo: r, pr: 1, planHash: first });
    // Even handed the old override, the verdict of the new plan ignores it.
    expect(
      decideVerdict({ scanners: scanners ?? [], overrides: all, config: config.policy, planHash: second }).status,
    ).toBe('needs-override');
  });

  it('the command glue checks team membership through the port and answers in the PR', async () => {
    const port = new FakePort(repo());
    port.teams.set('acme/security', ['zed']);
    await plan(port.repo, 4, [finding('SEC-TAG-001', 'soft')]);
    const out = await handleOverrideCommand(
      { store, port },
      { pr: 4, login: 'zed', ruleId: 'SEC-TAG-001', reason: 'tags are added by the account baseline', config },
    );
    expect(out.ok).toBe(true);
    expect(port.bodies(4)[0]).toContain('Override of **SEC-TAG-001** recorded by @zed for this plan only');
    const refused = await handleOverrideCommand(
      { store, port },
      {
        pr: 4,
        login: 'nobody',
        ruleId: 'SEC-TAG-001',
        reason: 'tags are added by the account baseline',
        config: defaultRepoConfig(),
      },
    );
    expect(refused.ok).toBe(false);
    expect(port.bodies(4)[1]).toBe(
      '@nobody the override was not recorded: no policy owners are configured (`policy.policy_owners`), so nobody can override a finding.',
    );
  });
});
