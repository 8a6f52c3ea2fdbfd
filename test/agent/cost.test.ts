// The agent knows the price: the scripted model writes a change that real terraform plans, reads its cost in the
// run_checks feedback and from estimate_cost, is held to the budget the request states, and says what it chose.
// terraform_data is what terraform can plan here without a cloud provider: the repo config prices it
// (cost.custom_prices), exactly as a team prices a type the built-in table lacks.
import { afterEach, expect, it } from 'vitest';
import { runAgent } from '../../src/agent/loop.js';
import { createAgentEnvironment } from '../../src/agent/real-environment.js';
import { RepoConfigSchema } from '../../src/config/schema.js';
import { runChecks } from '../../src/stages/checks.js';
import { finish, requestText, type ScriptedModel, startScriptedModel, toolUse } from '../helpers/scripted-model.js';
import { describeWithTools } from '../helpers/tools.js';
import { captureResult, copyFixture, ROOT_PROJECT, scriptedClient } from './helpers.js';

let server: ScriptedModel | undefined;
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  await server?.close();
  server = undefined;
  for (const c of cleanups.splice(0)) await c();
});

const capture = captureResult;

const workers = (n: number) =>
  `resource "terraform_data" "worker" {\n  count = ${n}\n  input = "worker-\${count.index}"\n}\n`;

describeWithTools(['terraform', 'tfsec', 'checkov', 'opa'], 'agent × cost', () => {
  it('sees the price in run_checks and estimate_cost, is held to the request budget, and explains its choice', async () => {
    const fx = await copyFixture('small-repo');
    cleanups.push(fx.cleanup);
    const config = RepoConfigSchema.parse({
      cost: { custom_prices: { terraform_data: { monthly_usd: 40, note: 'worker chargeback' } } },
    });
    const env = createAgentEnvironment({
      repoRoot: fx.repo,
      project: ROOT_PROJECT,
      config,
      checks: (signal) =>
        runChecks({ repoRoot: fx.repo, project: ROOT_PROJECT, config, ...(signal ? { signal } : {}) }),
    });
    const seen: string[] = [];
    let firstPrompt = '';
    server = await startScriptedModel([
      async (req) => {
        firstPrompt = requestText(req);
        return toolUse('write_file', { path: 'workers.tf', content: workers(3) });
      },
      toolUse('run_checks', {}),
      capture(seen, toolUse('estimate_cost', {})),
      capture(seen, finish({ title: 'Three workers', summary: 'Adds three workers.' })),
      capture(seen, toolUse('write_file', { path: 'workers.tf', content: workers(2) })),
      toolUse('run_checks', {}),
      capture(seen, toolUse('estimate_cost', { top: 3 })),
      capture(
        seen,
        finish({
          title: 'Two workers',
          summary: 'Adds two workers.',
          cost_notes: 'Two workers instead of three keep the change at $80 a month, under the $100 budget.',
        }),
      ),
    ]);
    const result = await runAgent({
      repoRoot: fx.repo,
      request: 'Add worker markers for the queue. Keep it under $100 a month.',
      env,
      client: scriptedClient(server.url),
    });

    // the budget is in the prompt
    expect(firstPrompt).toContain('Budget: the request allows at most $100.00 a month for this change');
    // run_checks feedback carries the cost and the budget verdict
    expect(seen[0]).toContain('Cost / month: $0.00 → $120.00 (+$120.00)');
    expect(seen[0]).toContain('budget: OVER BUDGET');
    // estimate_cost: the lines and their components
    expect(seen[1]).toContain('create terraform_data.worker[0]: $40.00 (+$40.00)');
    expect(seen[1]).toContain('Custom price (worker chargeback) $40.00');
    // finish over budget is refused once, with the numbers
    expect(seen[2]).toContain('the change adds $120.00 a month, over the $100.00 the request allows');
    expect(seen[3]).toContain('Cost / month: $0.00 → $80.00 (+$80.00)');
    expect(seen[3]).toContain('within budget');
    expect(seen[4]).toContain('budget: the request allows $100.00 a month; this change adds +$80.00: within budget');

    expect(result.status).toBe('finished');
    expect(result.budgetUsd).toBe(100);
    expect(result.costEstimates).toBe(2);
    expect(result.costEstimate).toMatchObject({ before: 0, after: 80, delta: 80 });
    expect(result.costNotes).toContain('Two workers instead of three');
    expect(result.finalChecks?.cost).toMatchObject({ after: 80, delta: 80, source: 'built-in' });
  }, 300_000);
});
