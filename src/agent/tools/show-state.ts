// show_state: the redacted inventory of what the project's state holds (addresses, types, ids — no secret values),
// so the model changes existing resources instead of creating duplicates.
import { z } from 'zod';
import { defineTool } from './types.js';

export const showStateTool = defineTool({
  name: 'show_state',
  description:
    'Show the resources currently in the Terraform state of the project (redacted: no sensitive values). ' +
    'Use `filter` to narrow to addresses containing a text, e.g. "aws_s3_bucket".',
  input: z.object({ filter: z.string().max(200).optional() }).strict(),
  async run(input, ctx) {
    const text = await ctx.env.stateSummary(
      { maxChars: 12_000, ...(input.filter ? { filter: input.filter } : {}) },
      ctx.signal,
    );
    return ctx.redactor.redact(text);
  },
});
