// finish: the model says it is done. The harness then runs the final checks itself, whatever the model claims.
// A finish right after unchecked writes is refused once, with a reminder: a cheap nudge toward a verified change.
import { z } from 'zod';
import { defineTool, ToolError } from './types.js';

export const finishTool = defineTool({
  name: 'finish',
  description:
    'Call when the change is complete and run_checks passes (or you cannot make it pass: then explain why in ' +
    'notes_for_reviewer). title: a pull request title; summary: what changed and why, for the PR body; ' +
    'notes_for_reviewer: assumptions, anything a human must decide or verify; cost_notes: when a cheaper option ' +
    'was possible, what you chose and why (shown in the PR).',
  input: z
    .object({
      title: z.string().min(3).max(120),
      summary: z.string().min(1).max(6_000),
      notes_for_reviewer: z.string().max(6_000).default(''),
      cost_notes: z.string().max(2_000).default(''),
    })
    .strict(),
  async run(input, ctx) {
    const s = ctx.session;
    if (s.originals.size > 0 && s.checkedAtSerial !== s.writeSerial && s.finishRefusals === 0) {
      s.finishRefusals += 1;
      throw new ToolError(
        'you changed files after the last run_checks (or never ran it). Call run_checks and fix what it reports; ' +
          'if you really want to stop now, call finish again.',
      );
    }
    // A budget the request stated is checked on the last plan: over it, finish is refused once with the numbers.
    const cost = s.lastChecks?.cost;
    if (s.budgetUsd !== undefined && cost && cost.delta > s.budgetUsd && s.budgetRefusals === 0) {
      s.budgetRefusals += 1;
      throw new ToolError(
        `the change adds $${cost.delta.toFixed(2)} a month, over the $${s.budgetUsd.toFixed(2)} the request allows. ` +
          'Choose cheaper options and run run_checks again, or, if it cannot fit, call finish again and say why in cost_notes.',
      );
    }
    s.finished = {
      title: input.title.replace(/[\r\n]+/g, ' ').trim(),
      summary: input.summary,
      notes: input.notes_for_reviewer,
      costNotes: input.cost_notes,
    };
    return 'recorded; the harness now runs the final checks';
  },
});
