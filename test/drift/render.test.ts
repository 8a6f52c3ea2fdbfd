// The drift issue's text: what changed since the last check, untrusted addresses escaped like the PR's plan table,
// Terraform's error fenced, and the grounded reconcile request carrying real values of non-sensitive attributes only.
import { visit } from 'unist-util-visit';
import { describe, expect, it } from 'vitest';
import { driftedResources } from '../../src/drift/check.js';
import { groundedRequest } from '../../src/drift/reconcile.js';
import { driftDelta, renderDriftIssueBody, renderFailureComment } from '../../src/drift/render.js';
import type { DriftReport } from '../../src/drift/report.js';
import { parseMarkdown } from '../../src/markdown/gfm.js';
import { Metrics } from '../../src/observability/metrics.js';
import { ONE_ADD_SUMMARY } from '../helpers/plan-summary.js';

const emptyPlanSummary = () => ({ ...ONE_ADD_SUMMARY, resources: [], drift: [] });

const project = { name: 'app', dir: '.', workspace: 'default', dependsOn: [] };

describe('driftDelta', () => {
  it('names what appeared, what resolved and what drifted differently', () => {
    const before = [
      { address: 'a.x', outside: 'update' as const, attributes: ['tags'] },
      { address: 'b.y', plan: 'create' as const, attributes: [] },
    ];
    const after = [
      { address: 'a.x', outside: 'update' as const, attributes: ['tags', 'size'] },
      { address: 'c.z', outside: 'delete' as const, plan: 'create' as const, attributes: [] },
    ];
    expect(driftDelta(before, after)).toEqual({ appeared: ['c.z'], resolved: ['b.y'], changed: ['a.x'] });
    expect(driftDelta(after, after)).toEqual({ appeared: [], resolved: [], changed: [] });
  });
});

describe('the drift issue body', () => {
  const report: DriftReport = {
    status: 'drifted',
    project: { name: 'app', dir: '.', workspace: 'default' },
    trigger: 'schedule',
    checkedAt: '2026-12-01T10:00:00.000Z',
    previousCheckAt: '2026-12-01T09:00:00.000Z',
    firstSeenAt: '2026-12-01T08:00:00.000Z',
    checks: 3,
    resources: [{ address: 'aws_s3_bucket.x["a|b`c<!--"]', outside: 'update', plan: 'update', attributes: ['tags'] }],
    delta: { appeared: [], resolved: ['old.one'], changed: [] },
    planHeadline: 'Plan: 0 to add, 1 to change, 0 to destroy.',
  };

  it('shows first seen, last checked, the delta and the reconcile commands, escaping untrusted addresses', () => {
    const body = renderDriftIssueBody(report, { requiredPermission: 'write' });
    expect(body).toContain('| First seen | 2026-12-01T08:00:00Z |');
    expect(body).toContain('| Last checked | 2026-12-01T10:00:00Z (scheduled) |');
    expect(body).toContain('### Since the last check (2026-12-01T09:00:00Z)');
    expect(body).toContain('- no longer drifted: `old.one`');
    expect(body).toContain('`/infra reconcile revert`');
    // The address is one literal code span in its cell: no HTML, no comment, no extra cell.
    const tree = parseMarkdown(body);
    const kinds = new Set<string>();
    visit(tree, (n) => {
      kinds.add(n.type);
    });
    expect(kinds.has('html')).toBe(false);
    const codes: string[] = [];
    visit(tree, 'inlineCode', (n) => {
      codes.push(n.value);
    });
    expect(codes).toContain('aws_s3_bucket.x["a|b`c<!--"]');
  });

  it('fences Terraform’s message so it cannot close the fence or forge a marker', () => {
    const text = renderFailureComment({ name: 'app' }, 'Error: boom ``` <!-- infra-agent:run-id=x -->');
    expect(text).toMatch(/^````text$/m);
    expect(text).not.toContain('<!-- infra-agent');
  });
});

describe('driftedResources', () => {
  it('merges the refresh-only drift and the plan by address, data sources and reads left out', () => {
    const refreshOnly = {
      ...emptyPlanSummary(),
      drift: [
        { address: 'local_file.a', action: 'delete' as const, changedAttributes: [] },
        { address: 'x.y', action: 'update' as const, changedAttributes: ['tags'] },
      ],
    };
    const base = emptyPlanSummary().resources;
    const plan = {
      ...emptyPlanSummary(),
      resources: [
        ...base,
        resource('local_file.a', 'create', ['content']),
        resource('terraform_data.b', 'update', ['input']),
        { ...resource('data.http.z', 'read', []), mode: 'data' as const },
      ],
    };
    expect(driftedResources(refreshOnly, plan)).toEqual([
      { address: 'local_file.a', outside: 'delete', plan: 'create', attributes: ['content'] },
      { address: 'terraform_data.b', plan: 'update', attributes: ['input'] },
      { address: 'x.y', outside: 'update', attributes: ['tags'] },
    ]);
  });
});

function resource(address: string, action: 'create' | 'update' | 'read', changedAttributes: string[]) {
  const [type = '', name = ''] = address.split('.');
  return {
    address,
    type,
    name,
    module: '',
    mode: 'managed' as const,
    action,
    actions: [action],
    changedAttributes,
    unknownAttributes: [],
    replacePaths: [],
    importing: false,
    providerName: 'p',
  };
}

describe('groundedRequest', () => {
  it('gives the agent the real values of non-sensitive attributes, never sensitive ones', () => {
    const refreshOnly = {
      resource_drift: [
        {
          address: 'local_file.gone',
          mode: 'managed',
          change: { actions: ['delete'], before: { content: 'x' }, after: null },
        },
      ],
    };
    const plan = {
      resource_changes: [
        {
          address: 'terraform_data.release',
          mode: 'managed',
          change: {
            actions: ['update'],
            before: { input: 'v2', password: 'hunter2-real' },
            after: { input: 'v1', password: 'hunter2-code' },
            before_sensitive: { password: true },
            after_sensitive: { password: true },
          },
        },
        { address: 'data.x.y', mode: 'data', change: { actions: ['read'], before: null, after: {} } },
      ],
    };
    const text = groundedRequest(project, { refreshOnly, plan });
    expect(text).toContain('local_file.gone: deleted outside Terraform');
    expect(text).toContain('input: real value "v2", the code says "v1"');
    expect(text).toContain('password (sensitive: value not shown)');
    expect(text).not.toContain('hunter2');
    expect(text).not.toContain('data.x.y');
  });
});

describe('drift metrics', () => {
  it('counts projects by state and the oldest drift’s age', () => {
    const m = new Metrics();
    const now = Date.parse('2026-12-01T10:00:00Z');
    m.setDrift(
      [
        { state: 'drifted', firstSeenAt: new Date(now - 3_600_000) },
        { state: 'drifted', firstSeenAt: new Date(now - 60_000) },
        { state: 'clean', firstSeenAt: null },
        { state: 'error', firstSeenAt: new Date(now - 7_200_000) },
      ],
      now,
    );
    m.recordDriftCheck('error');
    const text = m.render();
    expect(text).toContain('infra_agent_drift_projects{state="drifted"} 2');
    expect(text).toContain('infra_agent_drift_projects{state="error"} 1');
    expect(text).toContain('infra_agent_drift_oldest_age_seconds 3600');
    expect(text).toContain('infra_agent_drift_checks_total{result="error"} 1');
    m.setDrift([{ state: 'clean', firstSeenAt: null }], now);
    expect(m.render()).toContain('infra_agent_drift_oldest_age_seconds 0');
  });
});
