// The cost policy: a budget becomes the soft COST-BUDGET-001 (blocks until a policy owner overrides it), per
// project and per PR; a budget that holds only as far as the change is priced is "not verified" (advisory);
// cost.require_tags joins the tag rule's required tags.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CostConfigSchema, PolicyConfigSchema } from '../../src/config/schema.js';
import { estimatePlanCost } from '../../src/cost/estimate.js';
import { COST_RULE_ID, costFindings, costPolicyRun, policyWithCostTags } from '../../src/cost/policy.js';
import { decideVerdict } from '../../src/policy/verdict.js';
import { renderJson } from '../../src/report/policy-json.js';
import { renderSarif } from '../../src/report/sarif.js';

const plan = (name: string): unknown =>
  JSON.parse(readFileSync(join(import.meta.dirname, '..', 'fixtures', 'cost', 'plans', name), 'utf8'));
// +$20.29: t3.micro → t3.large (+53.14), NAT destroyed (−32.85); every changed resource priced
const resize = estimatePlanCost(plan('aws-resize-and-destroy.json'));
// +$73.91 with one type not priced and one usage-based
const create = estimatePlanCost(plan('aws-create.json'));

describe('cost budget', () => {
  it('over the per-project budget: one soft finding with the numbers', () => {
    const findings = costFindings(
      [{ name: 'web', cost: resize }],
      CostConfigSchema.parse({ max_monthly_increase_usd: 20 }),
    );
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({ ruleId: COST_RULE_ID, level: 'soft', source: 'cost' });
    expect(findings[0]?.message).toBe(
      'Project web raises the monthly cost by +$20.29 a month ($57.48 → $77.78), over the budget of $20.00 a month per project and the budget of $20.00 a month per pull request',
    );
    expect(findings[0]?.remediation).toContain('/infra override COST-BUDGET-001');
  });

  it('within budget: nothing; over only the PR budget across projects: a finding naming the PR total', () => {
    expect(
      costFindings([{ name: 'web', cost: resize }], CostConfigSchema.parse({ max_monthly_increase_usd: 25 })),
    ).toEqual([]);
    const cfg = CostConfigSchema.parse({ max_monthly_increase_usd: { per_project: 100, per_pr: 30 } });
    const two = costFindings(
      [
        { name: 'web', cost: resize },
        { name: 'net', cost: resize },
      ],
      cfg,
    );
    expect(two.map((f) => f.message)).toEqual([
      'Project web raises the monthly cost by +$20.29 a month ($57.48 → $77.78), over the budget of $30.00 a month per pull request (the PR adds +$40.58 in all)',
      'Project net raises the monthly cost by +$20.29 a month ($57.48 → $77.78), over the budget of $30.00 a month per pull request (the PR adds +$40.58 in all)',
    ]);
  });

  it('within budget only as far as priced: advisory, not verified; over budget says it may be more', () => {
    const under = costFindings(
      [{ name: 'app', cost: create }],
      CostConfigSchema.parse({ max_monthly_increase_usd: 100 }),
    );
    expect(under).toHaveLength(1);
    expect(under[0]).toMatchObject({ level: 'advisory', notVerified: true });
    expect(under[0]?.message).toContain('2 changed resource(s) are not priced, so the budget is not verified');
    const over = costFindings(
      [{ name: 'app', cost: create }],
      CostConfigSchema.parse({ max_monthly_increase_usd: 50 }),
    );
    expect(over[0]?.level).toBe('soft');
    expect(over[0]?.message).toContain('so it may be more');
  });

  it('in the verdict: needs-override until a policy owner overrides COST-BUDGET-001 for this plan', () => {
    const config = PolicyConfigSchema.parse({});
    const run = costPolicyRun(
      [{ name: 'web', cost: resize }],
      CostConfigSchema.parse({ max_monthly_increase_usd: 10 }),
    );
    const blocked = decideVerdict({ scanners: [run], overrides: [], config, planHash: 'a'.repeat(64) });
    expect(blocked.status).toBe('needs-override');
    expect(blocked.reasons).toEqual(['1 soft finding (COST-BUDGET-001) need an override by a policy owner']);
    const override = {
      ruleId: COST_RULE_ID,
      by: 'olga',
      at: '2026-12-01T00:00:00Z',
      reason: 'capacity for the launch',
      planHash: 'a'.repeat(64),
    };
    expect(decideVerdict({ scanners: [run], overrides: [override], config, planHash: 'a'.repeat(64) }).status).toBe(
      'pass',
    );
    // an override given for another plan does not carry over
    expect(
      decideVerdict({
        scanners: [run],
        overrides: [{ ...override, planHash: 'b'.repeat(64) }],
        config,
        planHash: 'a'.repeat(64),
      }).status,
    ).toBe('needs-override');
    // the JSON and SARIF outputs carry the finding and the cost
    const json = renderJson(blocked, { cost: resize });
    expect(json.findings[0]?.ruleId).toBe(COST_RULE_ID);
    expect(json.cost).toMatchObject({ before: 57.48, after: 77.78, delta: 20.29 });
    const sarif = renderSarif(blocked, { cost: resize }) as {
      runs: {
        properties: { cost: { delta: number; resources: unknown[] } };
        results: { ruleId: string; level: string }[];
      }[];
    };
    expect(sarif.runs[0]?.results[0]).toMatchObject({ ruleId: COST_RULE_ID, level: 'warning' });
    expect(sarif.runs[0]?.properties.cost.delta).toBe(20.29);
    expect(sarif.runs[0]?.properties.cost.resources).toHaveLength(3);
  });

  it('cost.require_tags are required tags for the tag rule', () => {
    const policy = PolicyConfigSchema.parse({ required_tags: ['owner'] });
    expect(
      policyWithCostTags(policy, CostConfigSchema.parse({ require_tags: ['cost-center', 'owner'] })).required_tags,
    ).toEqual(['owner', 'cost-center']);
  });
});
