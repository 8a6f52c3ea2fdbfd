// Cost end to end through the App: signed webhooks into the real server, the worker, the embedded store, GitHub served
// by the stand-in, a git remote on disk, the scripted model and real terraform and scanners. The repo's config (from
// the default branch) sets a budget of $50 a month, policy owner @olga, and prices terraform_data (the only resource
// terraform can plan here without a cloud provider) at $40 through cost.custom_prices.
//   issue → the agent writes two workers (+$80), asks estimate_cost, finishes with its cost choice → the PR shows the
//   Cost / month column, the agent's estimate and choice, and the soft COST-BUDGET-001 (needs override); the plan
//   check run carries the cost; an approval is refused until @olga overrides COST-BUDGET-001, then it applies.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { z } from 'zod';
import { type GitHubStandin, standinWebhooks } from '../../devtools/github-standin/index.js';
import { STATE_DIRS_ENV } from '../../src/sandbox/policy.js';
import type { AppServer } from '../../src/server/server.js';
import type { RunRecord } from '../../src/store/types.js';
import { type AppWorld, startAppWorld } from '../helpers/app-world.js';
import { lastToolResults, type MessagesRequest, type ScriptStep } from '../helpers/scripted-model.js';
import { describeWithTools } from '../helpers/tools.js';
import type { WebhookSender } from '../helpers/webhooks.js';

const OWNER = 'acme';
const REPO = 'infra';

// State must outlive each run's checkout, so it is a local backend at an absolute path (the sandbox allows it through
// INFRA_AGENT_SANDBOX_STATE_DIRS); the pre-plan guard's PRE-FILE-001 refuses such a path by default, so this repo's
// owners lower it — the only way a test without a remote backend service can share state between plan and apply.
const CONFIG = [
  'policy:',
  '  policy_owners: [olga]',
  '  levels:',
  '    PRE-FILE-001: advisory',
  'cost:',
  '  max_monthly_increase_usd: 50',
  '  custom_prices:',
  '    terraform_data: { monthly_usd: 40, note: "queue worker chargeback" }',
  '',
].join('\n');

const WORKERS = 'resource "terraform_data" "worker" {\n  count = 2\n  input = "worker-${count.index}"\n}\n';

const seen: string[] = [];
function step(id: string, name: string, input: unknown): ScriptStep {
  return (req: MessagesRequest) => {
    seen.push(lastToolResults(req)[0]?.text ?? '');
    return {
      kind: 'message',
      content: [{ type: 'tool_use', id, name, input }],
      stopReason: 'tool_use',
      usage: { input_tokens: 2_000, output_tokens: 150 },
    };
  };
}

const script: ScriptStep[] = [
  step('toolu_cost_0001', 'write_file', { path: 'workers.tf', content: WORKERS }),
  step('toolu_cost_0002', 'run_checks', {}),
  step('toolu_cost_0003', 'estimate_cost', {}),
  step('toolu_cost_0004', 'finish', {
    title: 'Add two queue workers',
    summary: 'Adds `terraform_data.worker` × 2.',
    notes_for_reviewer: '',
    cost_notes: 'Two workers, not the three first sketched: two carry the stated load and save $40 a month.',
  }),
];

const StateSchema = z.object({
  resources: z.array(z.object({ type: z.string(), name: z.string(), instances: z.array(z.unknown()) })),
});

describeWithTools(['terraform', 'git', 'tfsec', 'checkov', 'opa'], 'cost through the App', () => {
  let world: AppWorld | undefined;
  let standin: GitHubStandin;
  let server: AppServer;
  let sender: WebhookSender;
  let stateDir: string;
  let statePath: string;

  beforeAll(async () => {
    stateDir = await mkdtemp(join(tmpdir(), 'infra-agent-e2e-cost-'));
    statePath = join(stateDir, 'terraform.tfstate');
    // The operator's setting for a local backend outside the checkout (as the demo and the apply e2e do).
    process.env[STATE_DIRS_ENV] = stateDir;
    world = await startAppWorld({
      files: {
        'main.tf': 'resource "random_pet" "queue" {\n  length = 2\n}\n',
        'versions.tf': 'terraform {\n  required_providers {\n    random = { source = "hashicorp/random" }\n  }\n}\n',
        'backend.tf': `terraform {\n  backend "local" {\n    path = "${statePath}"\n  }\n}\n`,
        '.github/infra-agent.yml': CONFIG,
      },
      permissions: { mona: 'write', octo: 'write', olga: 'write' },
      script,
      owner: OWNER,
      repo: REPO,
    });
    ({ standin, server, sender } = world);
  });

  afterAll(async () => {
    await world?.close();
    if (stateDir) await rm(stateDir, { recursive: true, force: true });
  });

  const settled = async (n: number): Promise<RunRecord[]> => {
    const until = Date.now() + 600_000;
    for (;;) {
      const runs = await server.runtime.store.listRuns({});
      const done = runs.filter((r) => ['succeeded', 'failed', 'cancelled', 'needs-human'].includes(r.status));
      if (runs.length >= n && done.length === runs.length && (await server.runtime.queue.depth()).queued === 0)
        return runs;
      if (Date.now() > until)
        throw new Error(`runs did not settle: ${JSON.stringify(runs.map((r) => [r.kind, r.status]))}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  };
  const botReplies = (pr: number) =>
    standin
      .comments(OWNER, REPO, pr)
      .filter((c) => c.user === standin.app.botLogin)
      .map((c) => c.body);
  const approve = async (pr: number, user: string, n: number) => {
    const review = await standin.addReview({ owner: OWNER, repo: REPO, pullNumber: pr, user, state: 'APPROVED' });
    const hook = await standinWebhooks(standin).pullRequestReviewSubmitted(OWNER, REPO, review.id);
    expect((await sender.send(hook.event, hook.payload)).status).toBeLessThan(300);
    return settled(n);
  };
  /** A command comment; done when the App has answered it in the thread. */
  const comment = async (pr: number, user: string, body: string, n: number) => {
    const before = botReplies(pr).length;
    const c = standin.addComment({ owner: OWNER, repo: REPO, issueNumber: pr, user, body });
    const hook = standinWebhooks(standin).issueCommentCreated(OWNER, REPO, c.id);
    expect((await sender.send(hook.event, hook.payload)).status).toBeLessThan(300);
    const until = Date.now() + 300_000;
    while (botReplies(pr).length === before) {
      if (Date.now() > until) throw new Error(`no answer to ${body}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    return settled(n);
  };

  it('the agent prices its change, the PR shows it, and the soft cost finding blocks apply until overridden', async () => {
    const issue = standin.addIssue({
      owner: OWNER,
      repo: REPO,
      title: 'Queue workers',
      body: 'Add workers for the queue.',
      user: 'mona',
      labels: ['infra-request'],
    });
    const labeled = standinWebhooks(standin).issuesLabeled(OWNER, REPO, issue.number, 'infra-request', 'mona');
    expect((await sender.send(labeled.event, labeled.payload)).status).toBeLessThan(300);
    let runs = await settled(1);
    expect(runs[0]?.status, runs[0]?.error ?? '').toBe('succeeded');

    // The agent saw the price: run_checks feedback and its estimate_cost answer.
    expect(seen[2]).toContain('Cost / month: $0.00 → $80.00 (+$80.00)');
    expect(seen[3]).toContain('create terraform_data.worker[0]: $40.00 (+$40.00)');

    const pr = standin.pulls(OWNER, REPO)[0];
    if (!pr) throw new Error('no PR');
    const body = standin.pull(OWNER, REPO, pr.number)?.body ?? '';
    expect(body).toContain('| Project | Add | Change | Destroy | Replace | Import | Cost / month | Policy |');
    expect(body).toMatch(/\| 3 \| 0 \| 0 \| 0 \| 0 \| \$0\.00 → \$80\.00 \(\+\$80\.00\) \| ⚠️ needs override \|/);
    expect(body).toContain(
      'The agent priced its change with `estimate_cost` (1×) before finishing: $0.00 → $80.00 (+$80.00) a month.',
    );
    expect(body).toContain("**The agent's cost choice:**\n\n> Two workers, not the three first sketched");
    expect(body).toContain('| `terraform_data.worker[0]` | create | — | $40.00 | +$40.00 |');
    expect(body).toContain('**COST-BUDGET-001** Monthly cost increase over the budget');
    expect(body).toMatch(/over the budget of \\?\$50\.00 a month per project/);
    expect(standin.pull(OWNER, REPO, pr.number)?.labels).toContain('infra-agent:needs-override');
    const planRun = standin.state.checkRuns.find((c) => c.name === 'infra-agent/plan');
    expect(planRun?.conclusion).toBe('success');
    expect(planRun?.output?.summary).toContain(
      'Cost / month: $0.00 → $80.00 (+$80.00), built-in prices as of 2025-06.',
    );
    const policyRun = standin.state.checkRuns.find((c) => c.name === 'infra-agent/policy');
    expect(policyRun?.conclusion).toBe('action_required');

    // An authorised approval is refused while COST-BUDGET-001 is open; nothing is applied.
    runs = await approve(pr.number, 'octo', 2);
    expect(botReplies(pr.number).at(-1)).toContain('- **soft-not-overridden**:');
    expect(botReplies(pr.number).at(-1)).toContain('COST-BUDGET-001');
    await expect(readFile(statePath, 'utf8')).rejects.toThrow();
    expect(standin.pull(OWNER, REPO, pr.number)?.merged).toBe(false);

    // Only a policy owner can override it, with a reason; then the approval applies the reviewed plan.
    runs = await comment(
      pr.number,
      'octo',
      '/infra override COST-BUDGET-001 launch capacity for the sale',
      runs.length,
    );
    expect(botReplies(pr.number).at(-1)).toContain('is not a policy owner');
    runs = await comment(
      pr.number,
      'olga',
      '/infra override COST-BUDGET-001 launch capacity for the sale',
      runs.length,
    );
    expect(botReplies(pr.number).at(-1)).toContain(
      'Override of **COST-BUDGET-001** recorded by @olga for this plan only',
    );
    // The reply comes first; the PR's policy report is rewritten right after it.
    const until = Date.now() + 120_000;
    while (!(standin.pull(OWNER, REPO, pr.number)?.body ?? '').includes('COST-BUDGET-001 overridden by @olga')) {
      if (Date.now() > until) throw new Error('the policy report was not refreshed after the override');
      await new Promise((r) => setTimeout(r, 200));
    }
    const overridden = standin.pull(OWNER, REPO, pr.number)?.body ?? '';
    expect(overridden).toMatch(/\| \$0\.00 → \$80\.00 \(\+\$80\.00\) \| ✅ pass \|/);
    expect(overridden).toContain('COST-BUDGET-001 overridden by @olga');

    runs = await approve(pr.number, 'octo', runs.length + 1);
    const apply = runs.filter((r) => r.kind === 'apply');
    expect(apply.map((r) => r.status).sort(), JSON.stringify(apply.map((r) => r.error))).toEqual([
      'failed',
      'succeeded',
    ]);
    expect(apply.find((r) => r.status === 'failed')?.error).toContain('soft-not-overridden');
    const state = StateSchema.parse(JSON.parse(await readFile(statePath, 'utf8')));
    const workers = state.resources.find((r) => r.type === 'terraform_data' && r.name === 'worker');
    expect(workers?.instances).toHaveLength(2);
    expect(standin.pull(OWNER, REPO, pr.number)?.merged).toBe(true);
    expect(standin.violations).toEqual([]);
    expect(standin.responseViolations).toEqual([]);
  }, 1_200_000);
});
