import { describe, expect, it } from 'vitest';
import type { ChecksResult, PlanSummary, Project, Verdict } from '../../src/core/types.js';
import {
  CHECK_OUTPUT_LIMIT,
  checkRunPlanText,
  checkRunSummary,
  type PlannedRow,
  projectCheckName,
  projectConclusion,
  renderPrPlanComment,
} from '../../src/github/pr-plan-report.js';
import { GITHUB_BODY_LIMIT } from '../../src/markdown/split-comment.js';

const pass: Verdict = { status: 'pass', findings: [], scanners: [], overrides: [], reasons: [] };

function summary(n: number): PlanSummary {
  return {
    terraformVersion: '1.11.4',
    formatVersion: '1.2',
    counts: { add: n, change: 0, destroy: 0, replace: 0, import: 0, read: 0, noop: 0 },
    resources: Array.from({ length: n }, (_, i) => ({
      address: `terraform_data.resource_with_a_rather_long_name_${i}`,
      type: 'terraform_data',
      name: `r${i}`,
      module: '',
      mode: 'managed' as const,
      action: 'create' as const,
      actions: ['create'],
      changedAttributes: [],
      unknownAttributes: [],
      replacePaths: [],
      importing: false,
      providerName: 'terraform.io/builtin/terraform',
    })),
    drift: [],
    outputs: [],
    empty: n === 0,
    errored: false,
  };
}

const project = (name: string): Project => ({ name, dir: `stacks/${name}`, workspace: 'default', dependsOn: [] });

function checks(p: Project, resources: number, text = 'plan output', verdict = pass): ChecksResult {
  return {
    project: p,
    ok: true,
    stages: [],
    formatted: [],
    diagnostics: [],
    plan: { file: '/tmp/x', hash: 'a'.repeat(64), summary: summary(resources), text },
    verdict,
    durationMs: 1,
  };
}

const view = (rows: PlannedRow[], finished = true) => ({
  headSha: 'b'.repeat(40),
  baseSha: 'c'.repeat(40),
  baseRef: 'main',
  rows,
  notices: [],
  finished,
});

describe('the PR plan comment', () => {
  it("60 projects with 200 resources each: one comment under GitHub's limit, every project in the table and linked", () => {
    const rows: PlannedRow[] = Array.from({ length: 60 }, (_, i) => {
      const p = project(`p${i}`);
      return {
        project: p,
        reason: '`x.tf` changed',
        state: {
          kind: 'done',
          checks: checks(p, 200),
          policyMarkdown: 'POLICY '.repeat(500),
          checkRunUrl: `https://github.test/runs/${i}`,
        },
      };
    });
    const body = renderPrPlanComment(view(rows));
    expect(body.length).toBeLessThan(GITHUB_BODY_LIMIT);
    expect(body).toContain('60 project(s) planned');
    for (let i = 0; i < 60; i++) {
      expect(body).toContain(
        `| \`p${i}\` | \`stacks/p${i}\` | +200 ~0 -0 · [details](https://github.test/runs/${i}) | ✅ pass |`,
      );
      expect(body).toContain(`### \`p${i}\``);
    }
  });

  it('progress while planning: queued, planning and done rows, and how many are done', () => {
    const [a, b, c] = [project('a'), project('b'), project('c')];
    const body = renderPrPlanComment(
      view(
        [
          { project: a, reason: 'r', state: { kind: 'done', checks: checks(a, 1), policyMarkdown: 'ok' } },
          { project: b, reason: 'r', state: { kind: 'planning' } },
          { project: c, reason: 'r', state: { kind: 'queued' } },
        ],
        false,
      ),
    );
    expect(body).toContain('planning 3 project(s), 1 done…');
    expect(body).toContain('| `b` | `stacks/b` | 🔄 planning |');
    expect(body).toContain('| `c` | `stacks/c` | ⏳ queued |');
  });

  it('a project name cannot break the table or ping anyone', () => {
    const p = { ...project('x'), name: 'a|b`@team' };
    const body = renderPrPlanComment(view([{ project: p, reason: 'r', state: { kind: 'queued' } }]));
    const row = body.split('\n').find((l) => l.includes('queued')) ?? '';
    expect(row.split(/(?<!\\)\|/).length).toBe(7);
    expect(body).not.toMatch(/(^|[^`])@team/);
  });
});

describe('a long plan in the project check run', () => {
  it('fits 65,535 characters and says how much was left out', () => {
    const long = 'x'.repeat(250_000);
    const text = checkRunPlanText(long);
    expect(text.length).toBeLessThanOrEqual(CHECK_OUTPUT_LIMIT);
    expect(text).toMatch(/… [\d,]+ more characters of plan output/);
    const summaryText = checkRunSummary(checks(project('big'), 5_000, long), 'POLICY');
    expect(summaryText.length).toBeLessThanOrEqual(CHECK_OUTPUT_LIMIT);
  });

  it('a short plan is whole, fenced', () => {
    expect(checkRunPlanText('+ terraform_data.x')).toBe('```\n+ terraform_data.x\n```');
  });

  it('names and conclusions', () => {
    expect(projectCheckName({ name: 'app', workspace: 'default' })).toBe('infra-agent/plan: app');
    expect(projectCheckName({ name: 'app', workspace: 'prod' })).toBe('infra-agent/plan: app (prod)');
    const p = project('a');
    expect(projectConclusion(checks(p, 1))).toBe('success');
    expect(projectConclusion(checks(p, 1, 't', { ...pass, status: 'needs-override' }))).toBe('action_required');
    expect(projectConclusion(checks(p, 1, 't', { ...pass, status: 'blocked' }))).toBe('failure');
    const { plan: _, ...noPlan } = checks(p, 1);
    expect(projectConclusion(noPlan)).toBe('failure');
  });
});
