// The cost policy: `cost.max_monthly_increase_usd` (per project and per PR) becomes the soft finding COST-BUDGET-001
// — it blocks apply until a policy owner overrides it with a reason, like any soft finding — reported by a "cost"
// run beside the scanners so the verdict, the overrides and the approval treat it like every other finding. When the
// increase is within the budget but part of the change is not priced, an advisory "not verified" finding says the
// real increase may be larger. `cost.require_tags` joins `policy.required_tags` (rule OPS-TAG-001).
import type { CostConfig, PolicyConfig } from '../config/schema.js';
import type { Finding, ProjectCost, ScannerRun } from '../core/types.js';
import { makeFinding } from '../policy/findings.js';
import { signedUsd, usd } from '../report/cost-markdown.js';

export const COST_RULE_ID = 'COST-BUDGET-001';

export interface CostLimits {
  perProject?: number;
  perPr?: number;
}

export function costLimits(config: CostConfig): CostLimits {
  const m = config.max_monthly_increase_usd;
  if (m === undefined) return {};
  if (typeof m === 'number') return { perProject: m, perPr: m };
  return {
    ...(m.per_project !== undefined ? { perProject: m.per_project } : {}),
    ...(m.per_pr !== undefined ? { perPr: m.per_pr } : {}),
  };
}

export function hasBudget(config: CostConfig): boolean {
  const l = costLimits(config);
  return l.perProject !== undefined || l.perPr !== undefined;
}

export interface ProjectCostInput {
  name: string;
  cost: ProjectCost;
}

function unpriced(cost: ProjectCost): number {
  return cost.resources.filter((r) => r.action !== 'no-op' && (r.status === 'not-priced' || r.status === 'usage-based'))
    .length;
}

/**
 * The cost findings of a PR: one per project over its budget (or over the PR's, for the project that carries the
 * PR over it), or an advisory one when the budget holds only as far as the change is priced.
 */
export function costFindings(projects: ProjectCostInput[], config: CostConfig): Finding[] {
  const limits = costLimits(config);
  if (limits.perProject === undefined && limits.perPr === undefined) return [];
  const prDelta = projects.reduce((a, p) => a + p.cost.delta, 0);
  const overPr = limits.perPr !== undefined && prDelta > limits.perPr;
  const findings: Finding[] = [];
  for (const { name, cost } of projects) {
    const reasons: string[] = [];
    if (limits.perProject !== undefined && cost.delta > limits.perProject)
      reasons.push(`the budget of ${usd(limits.perProject)} a month per project`);
    if (overPr && cost.delta > 0 && limits.perPr !== undefined)
      reasons.push(
        `the budget of ${usd(limits.perPr)} a month per pull request${projects.length > 1 ? ` (the PR adds ${signedUsd(prDelta)} in all)` : ''}`,
      );
    const change = `${signedUsd(cost.delta)} a month (${usd(cost.before)} → ${usd(cost.after)})`;
    const missing = unpriced(cost);
    const gap = missing > 0 ? `; ${missing} changed resource(s) are not priced, so it may be more` : '';
    if (reasons.length > 0) {
      findings.push(
        makeFinding({
          ruleId: COST_RULE_ID,
          source: 'cost',
          message: `Project ${name} raises the monthly cost by ${change}, over ${reasons.join(' and ')}${gap}`,
        }),
      );
    } else if (missing > 0 && cost.delta >= 0) {
      findings.push(
        makeFinding({
          ruleId: COST_RULE_ID,
          source: 'cost',
          notVerified: true,
          message: `Project ${name} raises the monthly cost by ${change} as far as it is priced: ${missing} changed resource(s) are not priced, so the budget is not verified`,
        }),
      );
    }
  }
  return findings;
}

/** The cost policy as a run beside the scanners (only when a budget is configured). */
export function costPolicyRun(projects: ProjectCostInput[], config: CostConfig, durationMs = 0): ScannerRun {
  const source = projects[0]?.cost;
  return {
    name: 'cost',
    status: 'ok',
    durationMs,
    ...(source ? { version: source.source === 'infracost' ? 'Infracost' : `built-in prices ${source.asOf}` } : {}),
    findings: costFindings(projects, config),
  };
}

/** The policy config the scanners see: cost-allocation tags are required tags too. */
export function policyWithCostTags(policy: PolicyConfig, cost: CostConfig): PolicyConfig {
  if (cost.require_tags.length === 0) return policy;
  return { ...policy, required_tags: [...new Set([...policy.required_tags, ...cost.require_tags])] };
}
