// estimate_cost: what the current change costs per month, before and after, per resource — from the plan of the
// working tree as it is now (the last run_checks when nothing changed since, else a fresh plan) — and whether it fits
// the budget the request stated. The agent sees the price while it writes, not after review.
import { z } from 'zod';
import { formatCostFeedback } from '../feedback.js';
import { defineTool, ToolError } from './types.js';

export const estimateCostTool = defineTool({
  name: 'estimate_cost',
  description:
    'Estimate the monthly cost (USD) of your current change from its Terraform plan: the project total before → ' +
    'after, the delta, the top cost lines with their components, resources that are not priced or usage-based, and ' +
    'whether it fits the budget stated in the request. Plans the working tree if files changed since the last ' +
    'run_checks. Use it to compare options (instance sizes, Multi-AZ, node counts) before you finish.',
  input: z.object({ top: z.number().int().min(1).max(20).default(5) }).strict(),
  async run(input, ctx) {
    const s = ctx.session;
    let checks = s.lastChecks;
    if (!checks || s.checkedAtSerial !== s.writeSerial) {
      checks = await ctx.env.runChecks(ctx.signal);
      s.lastChecks = checks;
      s.noteChecks(checks);
      s.checksRuns += 1;
      s.checkedAtSerial = s.writeSerial;
    }
    if (!checks.cost) {
      const failed = checks.stages.find((x) => x.status === 'failed');
      throw new ToolError(
        checks.plan
          ? 'the cost is not estimated for this repository (cost.enabled is false)'
          : `there is no plan to price: ${failed ? `${failed.name} failed (${failed.message ?? ''})` : 'the plan did not run'}. Run run_checks and fix it first.`,
      );
    }
    s.lastEstimate = checks.cost;
    s.estimates += 1;
    return ctx.redactor.redact(formatCostFeedback(checks.cost, s.budgetUsd, input.top));
  },
});
