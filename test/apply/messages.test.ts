// Replies and the apply report: the refusal names each requirement; terraform output is redacted, collapsed and split
// so no comment reaches GitHub's 65,536-character limit and no chunk breaks its code fence; dependency order.
import { describe, expect, it } from 'vitest';
import {
  MAX_OUTPUT_COMMENTS,
  renderApplyCheckSummary,
  renderApplyReport,
  renderRefusal,
} from '../../src/apply/messages.js';
import { DependencyCycleError, orderByDependencies } from '../../src/apply/order.js';

const HASH = 'c'.repeat(64);

describe('renderRefusal', () => {
  it('names every missing requirement by code and sentence', () => {
    expect(
      renderRefusal('alice', [
        { code: 'self-approval', message: '@alice requested this change' },
        { code: 'lock-held', message: '`network` is locked by #3', project: 'network' },
      ]),
    ).toMatchInlineSnapshot(`
      "@alice thanks for the review — **nothing was applied**, because these 2 requirements are not met:

      - **self-approval**: @alice requested this change
      - **lock-held**: \`network\` is locked by #3

      Approve again once they are met."
    `);
  });
});

describe('renderApplyReport', () => {
  it('splits 1 MB of output into fenced, collapsed comments under the limit, redacting secrets', () => {
    const secret = 'ghp_abcdefghijklmnopqrstuvwxyz0123456789';
    const line = (i: number) =>
      `random_pet.p[${i}]: Creation complete after 0s [id=pet-${i}] token=${i === 5 ? secret : 'x'}`;
    const output = Array.from({ length: 14_000 }, (_, i) => line(i)).join('\n');
    const { summary, outputs } = renderApplyReport({
      approver: 'alice',
      runId: 'run-1',
      headSha: 'a'.repeat(40),
      ok: true,
      after: ['Merged (squash).'],
      projects: [
        {
          project: 'network',
          workspace: 'default',
          planHash: HASH,
          status: 'applied',
          counts: { add: 1, change: 0, destroy: 0, replace: 0 },
          output,
        },
      ],
    });
    expect(summary).toContain('| `network` | `cccccccccccc` | ✅ applied | 1 | 0 | 0 | 0 |');
    expect(outputs.length).toBeGreaterThan(1);
    expect(outputs.length).toBeLessThanOrEqual(MAX_OUTPUT_COMMENTS);
    for (const [i, body] of outputs.entries()) {
      expect(body.length).toBeLessThan(65_536);
      expect(body.startsWith('<details>')).toBe(true);
      expect(body).toContain(`(part ${i + 1} of `);
      // Every chunk's fences are balanced.
      expect(body.match(/^```/gm)?.length ?? 0).toBe(2);
    }
    const all = outputs.join('\n');
    expect(all).not.toContain(secret);
    expect(all).toContain('random_pet.p[0]: Creation complete');
  });

  it('caps the number of output comments and says the rest was cut', () => {
    const output = 'y'.repeat(100).concat('\n').repeat(40_000);
    const { outputs } = renderApplyReport({
      approver: 'alice',
      runId: 'run-1',
      headSha: 'a'.repeat(40),
      ok: true,
      after: [],
      projects: [{ project: 'p', workspace: 'default', planHash: HASH, status: 'applied', output }],
    });
    expect(outputs.length).toBe(MAX_OUTPUT_COMMENTS);
    expect(outputs.at(-1)).toContain(`Output cut after ${MAX_OUTPUT_COMMENTS} comments`);
  });

  it('a failure report carries the error, what to do next, and a bounded check summary', () => {
    const input = {
      approver: 'alice',
      runId: 'run-1',
      headSha: 'a'.repeat(40),
      ok: false,
      after: ['Nothing was merged.'],
      nextSteps: ['comment `/infra plan`'],
      projects: [
        {
          project: 'network',
          workspace: 'default',
          planHash: HASH,
          status: 'failed' as const,
          error: 'Error: creating bucket: AccessDenied',
        },
        { project: 'app', workspace: 'prod', planHash: HASH, status: 'skipped' as const },
      ],
    };
    const { summary } = renderApplyReport(input);
    expect(summary).toContain('### ❌ Apply failed (approved by @alice)');
    expect(summary).toContain('| `app` (prod) | `cccccccccccc` | ⏭️ not run |');
    expect(summary).toContain('Error: creating bucket: AccessDenied');
    expect(summary).toContain('**What to do next:**\n\n- comment `/infra plan`');
    expect(renderApplyCheckSummary(input).length).toBeLessThan(65_535);
  });
});

describe('orderByDependencies', () => {
  const p = (name: string, dependsOn: string[] = []) => ({ name, dependsOn });

  it('puts dependencies first, keeps the plan order otherwise, ignores projects outside the PR', () => {
    const order = orderByDependencies([p('app', ['network', 'dns']), p('dns'), p('network', ['outside']), p('solo')]);
    expect(order.map((x) => x.name)).toEqual(['dns', 'network', 'app', 'solo']);
  });

  it('a dependency on a name with several workspaces waits for all of them', () => {
    const order = orderByDependencies([
      { name: 'app', dependsOn: ['net'], ws: 'a' },
      { name: 'net', dependsOn: [], ws: 'x' },
      { name: 'net', dependsOn: [], ws: 'y' },
    ]);
    expect(order.map((x) => `${x.name}:${x.ws}`)).toEqual(['net:x', 'net:y', 'app:a']);
  });

  it('refuses a cycle, spelling it out', () => {
    expect(() => orderByDependencies([p('a', ['b']), p('b', ['c']), p('c', ['a'])])).toThrow(DependencyCycleError);
    expect(() => orderByDependencies([p('a', ['b']), p('b', ['c']), p('c', ['a'])])).toThrow(
      'projects depend on each other in a cycle: a → b → c → a',
    );
    expect(() => orderByDependencies([p('a', ['a'])])).toThrow('a → a');
  });
});
