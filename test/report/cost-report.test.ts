// The cost as reviewers see it: the PR's "Cost / month" column and cost section (top lines, not priced with reasons,
// usage-based marked, the request's budget, the agent's estimate and cost choice), the override rewrite keeping the
// cost column, and untrusted addresses kept inside their code spans.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ChecksResult, ProjectCost, Verdict } from '../../src/core/types.js';
import { estimatePlanCost } from '../../src/cost/estimate.js';
import { renderPrBody } from '../../src/github/pr-body.js';
import { rewritePolicySection } from '../../src/intake/override-report.js';
import { costCell, renderCostMarkdown, signedUsd, usd } from '../../src/report/cost-markdown.js';
import { ONE_ADD_SUMMARY } from '../helpers/plan-summary.js';

const plan = (name: string): unknown =>
  JSON.parse(readFileSync(join(import.meta.dirname, '..', 'fixtures', 'cost', 'plans', name), 'utf8'));
const verdict = (status: Verdict['status']): Verdict => ({
  status,
  findings: [],
  scanners: [],
  overrides: [],
  reasons: [],
});

function checks(cost: ProjectCost | undefined, status: Verdict['status'] = 'pass'): ChecksResult {
  return {
    project: { name: 'web', dir: 'envs/web', workspace: 'default', dependsOn: [] },
    ok: true,
    stages: [],
    formatted: [],
    diagnostics: [],
    plan: { file: '/tmp/x', hash: 'a'.repeat(64), summary: ONE_ADD_SUMMARY, text: '' },
    ...(cost ? { cost } : {}),
    verdict: verdict(status),
    durationMs: 1,
  };
}

const base = {
  issueNumber: 4,
  runId: 'run-1',
  headSha: 'b'.repeat(40),
  title: 't',
  summary: 'Resizes the web server.',
};

describe('cost in the PR', () => {
  it('money formats', () => {
    expect([usd(1234.5), usd(-32.85), signedUsd(20.294), signedUsd(-32.85), signedUsd(0.001)]).toEqual([
      '$1,234.50',
      '−$32.85',
      '+$20.29',
      '−$32.85',
      '±$0.00',
    ]);
    expect(costCell(undefined)).toBe('—');
    expect(costCell(estimatePlanCost(plan('aws-create.json')))).toBe(
      '$0.00 → $73.91 (+$73.91) · 1 not priced, 1 usage-based',
    );
  });

  it('the project table has a Cost / month column and the body a cost section with the budget and the agent choice', () => {
    const cost = { ...estimatePlanCost(plan('aws-resize-and-destroy.json')), project: 'web' };
    const { body } = renderPrBody({
      ...base,
      projects: [{ checks: checks(cost), policyMarkdown: 'policy' }],
      budgetUsd: 15,
      costNotes: 'Kept t3.large: the service needs 8 GB of memory; a t3.medium would swap.',
      agentEstimate: { calls: 2, before: 57.48, after: 77.78, delta: 20.29 },
    });
    expect(body).toContain('| Project | Add | Change | Destroy | Replace | Import | Cost / month | Policy |');
    expect(body).toContain('| web (envs/web) | 1 | 0 | 0 | 0 | 0 | $57.48 → $77.78 (+$20.29) | ✅ pass |');
    expect(body).toContain('## Cost');
    expect(body).toContain(
      '⛔ **Budget from the request: $15.00 a month** — this change: +$20.29 a month (over budget)',
    );
    expect(body).toContain(
      'The agent priced its change with `estimate_cost` (2×) before finishing: $57.48 → $77.78 (+$20.29) a month.',
    );
    // The agent's words sit in its own block below the App's facts, quoted as plain text (issue #12).
    expect(body).toContain("**The agent's cost choice:**\n\n> Kept t3.large: the service needs 8 GB of memory");
    expect(body.indexOf("**The agent's cost choice:**")).toBeGreaterThan(body.indexOf('## Policy report'));
    expect(body).toContain('| `aws_instance.web` | update | $9.19 | $62.34 | +$53.14 |');
    // the cost section comes before the policy report, above the fold
    expect(body.indexOf('## Cost')).toBeLessThan(body.indexOf('## Policy report'));
  });

  it('not priced and usage-based resources are listed, never as zero', () => {
    const md = renderCostMarkdown(estimatePlanCost(plan('aws-create.json')));
    expect(md).toContain('**Not priced (1)** — not counted in the totals:');
    expect(md).toContain('- `aws_mq_broker.events` (create): aws\\_mq\\_broker is not in the built-in price table');
    expect(md).toContain('**Usage-based, not estimated (1)**');
    expect(md).toContain('- `aws_s3_bucket.assets` (create)');
    expect(md).toContain('$32.85 + usage (Data processed)');
    expect(md).toContain('public on-demand list prices as of 2025-06');
  });

  it('an address crafted to break out of its code span stays inside it', () => {
    const cost = estimatePlanCost(plan('aws-create.json'));
    const evil = '`](https://evil.example) | <img src=x> @everyone\n# pwned';
    const forged: ProjectCost = {
      ...cost,
      resources: cost.resources.map((r) =>
        r.address === 'aws_instance.web' ? { ...r, address: `aws_instance.web["${evil}"]` } : r,
      ),
    };
    const md = renderCostMarkdown(forged);
    const row = md.split('\n').find((l) => l.includes('aws_instance.web['));
    expect(row).toBeDefined();
    expect(row).not.toContain('<img');
    expect(row).not.toMatch(/`\]\(/);
    expect(row?.split(' | ')).toHaveLength(5);
    expect(md).not.toContain('\n# pwned');
  });

  it('an override rewrites the policy column and keeps the cost column', () => {
    const cost = estimatePlanCost(plan('aws-resize-and-destroy.json'));
    const { body } = renderPrBody({
      ...base,
      projects: [{ checks: checks(cost, 'needs-override'), policyMarkdown: 'old' }],
    });
    expect(body).toContain('| $57.48 → $77.78 (+$20.29) | ⚠️ needs override |');
    const next = rewritePolicySection(body, [{ project: 'web', verdict: verdict('pass') }]);
    expect(next).toContain('| web (envs/web) | 1 | 0 | 0 | 0 | 0 | $57.48 → $77.78 (+$20.29) | ✅ pass |');
  });
});
