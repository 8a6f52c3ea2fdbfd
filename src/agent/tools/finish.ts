// finish: the model says it is done. The harness then runs the final checks itself, whatever the model claims.
// A finish right after unchecked writes is refused once, with a reminder: a cheap nudge toward a verified change.
import { z } from 'zod';
import { defineTool, ToolError } from './types.js';

export const finishTool = defineTool({
  name: 'finish',
  description:
    'Call when the change is complete and run_checks passes (or you cannot make it pass: then explain why in ' +
    'notes_for_reviewer). title: a pull request title; summary: what changed and why, for the PR body; ' +
    'notes_for_reviewer: assumptions, anything a human must decide or verify.',
  input: z
    .object({
      title: z.string().min(3).max(120),
      summary: z.string().min(1).max(6_000),
      notes_for_reviewer: z.string().max(6_000).default(''),
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
    s.finished = {
      title: input.title.replace(/[\r\n]+/g, ' ').trim(),
      summary: input.summary,
      notes: input.notes_for_reviewer,
    };
    return 'recorded; the harness now runs the final checks';
  },
});
