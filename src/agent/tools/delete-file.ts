// delete_file: remove a file inside the writable paths (its original content is kept for the change record).
import { lstat, readFile, unlink } from 'node:fs/promises';
import { z } from 'zod';
import { defineTool, ToolError } from './types.js';

export const deleteFileTool = defineTool({
  name: 'delete_file',
  description: 'Delete a file of the repository (writable paths only). Folders are not deleted.',
  input: z.object({ path: z.string().min(1) }).strict(),
  async run(input, ctx) {
    const abs = await ctx.sandbox.resolveWrite(input.path);
    const st = await lstat(abs).catch(() => undefined);
    if (!st) throw new ToolError(`${input.path} does not exist`);
    if (!st.isFile()) throw new ToolError(`${input.path} is not a regular file`);
    const rel = await ctx.sandbox.relative(abs);
    ctx.session.remember(rel, await readFile(abs, 'utf8'));
    await unlink(abs);
    return `deleted ${rel}`;
  },
});
