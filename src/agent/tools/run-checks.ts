// run_checks: the real gate on the working tree (fmt, pre-plan guard, init, validate, plan, scanners, verdict),
// answered as short feedback: what failed and how to fix it, nothing else.
import { z } from 'zod';
import { formatChecksFeedback } from '../feedback.js';
import { defineTool } from './types.js';

export const runChecksTool = defineTool({
  name: 'run_checks',
  description:
    'Run the checks a human reviewer will see: terraform fmt (rewrites files), the pre-plan guard, init, validate, ' +
    'plan and the policy scanners. Returns errors (file:line) and findings with remediation. Run it after writing ' +
    'and fix everything it reports before calling finish.',
  input: z.object({}).strict(),
  async run(_input, ctx) {
    const result = await ctx.env.runChecks(ctx.signal);
    ctx.session.lastChecks = result;
    ctx.session.noteChecks(result);
    ctx.session.checksRuns += 1;
    ctx.session.checkedAtSerial = ctx.session.writeSerial;
    return ctx.redactor.redact(formatChecksFeedback(result, undefined, ctx.session.budgetUsd));
  },
});
