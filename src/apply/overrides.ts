// `/infra override <RULE-ID> <reason>`: a policy owner lifts a SOFT finding for the plan the PR shows now, and only
// that plan: the override is stored with the plan hash, so a new plan (any push, any re-plan) needs a new one. Hard
// findings are never overridable. The reason is required, bounded and sanitised (it is shown in reports). Every
// override is recorded in the store and the audit log: who, when, why, for which plan.
import type { RepoConfig } from '../config/schema.js';
import type { Finding, Override } from '../core/types.js';
import { applyLevels, mergeFindings } from '../policy/findings.js';
import type { Store } from '../store/types.js';
import { loadGate, loadPlanSet } from './plan-record.js';

export const OVERRIDE_REASON_MIN = 10;
export const OVERRIDE_REASON_MAX = 500;
const RULE_ID = /^[A-Za-z0-9_.-]{1,64}$/;

export type OverrideRequestCheck =
  | { ok: true; ruleId: string; reason: string }
  | { ok: false; code: 'bad-rule-id' | 'reason-missing' | 'reason-too-short'; message: string };

/**
 * Clean a reason for storage and display: no markup, no mentions that would ping people, no control characters,
 * one line, bounded.
 */
export function sanitizeReason(text: string): string {
  return (
    text
      // HTML comments and tags could hide text or forge the app's own markers.
      .replace(/<!--[\s\S]*?-->/g, ' ')
      .replace(/<[^>]*>/g, ' ')
      .replace(/[<>`]/g, "'")
      // Zero-width and bidi controls hide or reorder what a reader sees.
      .replace(/[\u200B-\u200F\u202A-\u202E\u2060-\u2069\uFEFF]/g, '')
      .replace(/\p{Cc}/gu, ' ')
      .replace(/@(?=[A-Za-z0-9-])/g, '@\u200b')
      .replace(/\s+/g, ' ')
      .trim()
      .slice(0, OVERRIDE_REASON_MAX)
  );
}

export function validateOverrideRequest(ruleId: string, reasonText: string): OverrideRequestCheck {
  const rule = ruleId.trim();
  if (!RULE_ID.test(rule)) {
    return { ok: false, code: 'bad-rule-id', message: 'the rule id must look like `SEC-NET-001` or `CKV_AWS_24`' };
  }
  const reason = sanitizeReason(reasonText);
  if (reason.length === 0) {
    return {
      ok: false,
      code: 'reason-missing',
      message: 'an override needs a reason: `/infra override <RULE-ID> <reason>`',
    };
  }
  if (reason.length < OVERRIDE_REASON_MIN) {
    return {
      ok: false,
      code: 'reason-too-short',
      message: `the reason must say why (at least ${OVERRIDE_REASON_MIN} characters)`,
    };
  }
  return { ok: true, ruleId: rule, reason };
}

/** Policy owners are logins or `org/team` slugs; `teams` are the `org/team` slugs the login belongs to. */
export function isPolicyOwner(owners: string[], login: string, teams: string[]): boolean {
  const lower = (s: string) => s.toLowerCase().replace(/^@/, '');
  return owners.some((o) => (o.includes('/') ? teams.some((t) => lower(t) === lower(o)) : lower(o) === lower(login)));
}

/** The configured owners that are teams (`org/team`): the caller checks membership of these only. */
export function ownerTeams(owners: string[]): { org: string; team: string }[] {
  return owners
    .map((o) => o.replace(/^@/, '').split('/'))
    .filter((parts): parts is [string, string] => parts.length === 2 && parts.every((p) => p.length > 0))
    .map(([org, team]) => ({ org, team }));
}

export type OverrideOutcome =
  | { ok: true; overrides: (Override & { project: string; workspace: string })[] }
  | {
      ok: false;
      code:
        | 'bad-request'
        | 'not-policy-owner'
        | 'no-plan'
        | 'hard-rule'
        | 'no-such-finding'
        | 'not-soft'
        | 'already-overridden';
      message: string;
    };

export interface RecordOverrideInput {
  store: Store;
  config: RepoConfig;
  repo: string;
  pr: number;
  login: string;
  /** `org/team` slugs of the configured owner teams the login is a member of. */
  teams: string[];
  ruleId: string;
  reason: string;
  now?: Date;
}

/**
 * Record an override for the PR's current plans: every project whose current plan has a soft finding of the rule
 * gets one, bound to that project's plan hash. Refused (nothing recorded) for a non-owner, a hard rule, a rule the
 * current plans do not report, or a bad request.
 */
export async function recordOverride(input: RecordOverrideInput): Promise<OverrideOutcome> {
  const { store, config, repo, pr, login } = input;
  const checked = validateOverrideRequest(input.ruleId, input.reason);
  if (!checked.ok) return { ok: false, code: 'bad-request', message: checked.message };
  const owners = config.policy.policy_owners;
  if (!isPolicyOwner(owners, login, input.teams)) {
    await store.audit({
      actor: login,
      action: 'policy.override-refused',
      repo,
      target: `#${pr}`,
      details: { ruleId: checked.ruleId, why: 'not a policy owner' },
    });
    return {
      ok: false,
      code: 'not-policy-owner',
      message:
        owners.length === 0
          ? 'no policy owners are configured (`policy.policy_owners`), so nobody can override a finding'
          : `@${login} is not a policy owner (${owners.map((o) => `@${o.replace(/^@/, '')}`).join(', ')})`,
    };
  }

  const set = await loadPlanSet(store, repo, pr);
  const planned = set?.projects.filter((p) => p.planHash !== null) ?? [];
  if (!set || planned.length === 0) {
    return { ok: false, code: 'no-plan', message: 'this pull request has no current plan to override a finding of' };
  }

  const matches: { project: string; workspace: string; planHash: string; findings: Finding[] }[] = [];
  for (const p of planned) {
    if (p.planHash === null) continue;
    const scanners = await loadGate(store, { repo, pr, project: p.name, workspace: p.workspace, planHash: p.planHash });
    if (!scanners) continue;
    const findings = mergeFindings(
      applyLevels(
        scanners.flatMap((s) => s.findings),
        config.policy.levels,
      ),
    ).filter((f) => f.ruleId.toLowerCase() === checked.ruleId.toLowerCase());
    if (findings.length > 0) matches.push({ project: p.name, workspace: p.workspace, planHash: p.planHash, findings });
  }
  const hard = matches.filter((m) => m.findings.some((f) => f.level === 'hard'));
  if (hard.length > 0) {
    await store.audit({
      actor: login,
      action: 'policy.override-refused',
      repo,
      target: `#${pr}`,
      details: { ruleId: checked.ruleId, why: 'hard rule', projects: hard.map((m) => m.project) },
    });
    return {
      ok: false,
      code: 'hard-rule',
      message: `${checked.ruleId} is a hard finding (in ${hard.map((m) => `\`${m.project}\``).join(', ')}) and cannot be overridden: the code must change`,
    };
  }
  const soft = matches.filter((m) => m.findings.some((f) => f.level === 'soft'));
  if (soft.length === 0) {
    return matches.length > 0
      ? {
          ok: false,
          code: 'not-soft',
          message: `${checked.ruleId} is only advisory in the current plan: it does not block, nothing to override`,
        }
      : {
          ok: false,
          code: 'no-such-finding',
          message: `the current plan has no finding ${checked.ruleId}; check the rule id in the policy report`,
        };
  }

  const at = (input.now ?? new Date()).toISOString();
  const recorded: (Override & { project: string; workspace: string })[] = [];
  for (const m of soft) {
    const existing = await store.listOverrides({ repo, pr, planHash: m.planHash });
    const ruleId = m.findings[0]?.ruleId ?? checked.ruleId;
    if (existing.some((o) => o.ruleId === ruleId)) continue;
    const override: Override = { ruleId, by: login, at, reason: checked.reason, planHash: m.planHash };
    await store.addOverride({ repo, pr }, override);
    await store.audit({
      actor: login,
      action: 'policy.overridden',
      repo,
      target: `#${pr}`,
      details: { ruleId, reason: checked.reason, planHash: m.planHash, project: m.project, workspace: m.workspace },
    });
    recorded.push({ ...override, project: m.project, workspace: m.workspace });
  }
  if (recorded.length === 0) {
    return {
      ok: false,
      code: 'already-overridden',
      message: `${checked.ruleId} is already overridden for the current plan`,
    };
  }
  return { ok: true, overrides: recorded };
}
