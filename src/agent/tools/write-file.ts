// write_file: create or replace a whole file, inside the writable paths only (the sandbox decides).
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { z } from 'zod';
import { defineTool } from './types.js';

export const writeFileTool = defineTool({
  name: 'write_file',
  description:
    "Create or overwrite a file with the full content given. Only paths matching the repository's writable " +
    'globs may be written; .github/, state, lock and backend files never. Write complete, formatted Terraform.',
  input: z
    .object({
      path: z.string().min(1).describe('path relative to the repository root'),
      content: z.string().max(200_000),
    })
    .strict(),
  async run(input, ctx) {
    const abs = await ctx.sandbox.resolveWrite(input.path, input.content);
    const rel = await ctx.sandbox.relative(abs);
    const before = await readFile(abs, 'utf8').catch(() => null);
    ctx.session.remember(rel, before);
    await mkdir(dirname(abs), { recursive: true });
    await writeFile(abs, input.content, 'utf8');
    const lines = input.content.split('\n').length;
    return `${before === null ? 'created' : 'replaced'} ${rel} (${lines} lines). Run run_checks when the change is complete.`;
  },
});
