// list_files: what is in the checkout, with sizes, so the model reads only what it needs.
import { stat } from 'node:fs/promises';
import { z } from 'zod';
import { globToRegExp } from '../../repo/sandbox.js';
import { cap, defineTool, ToolError } from './types.js';
import { walkFiles } from './walk.js';

const MAX_ENTRIES = 500;

export const listFilesTool = defineTool({
  name: 'list_files',
  description:
    'List files in the repository checkout (recursively), with sizes. Paths are relative to the repository root. ' +
    'Use `dir` to look inside one folder and `pattern` (a glob such as "**/*.tf") to filter.',
  input: z
    .object({
      dir: z.string().default('.').describe('folder relative to the repository root; "." for the root'),
      pattern: z.string().max(200).optional().describe('glob relative to the repository root, e.g. "modules/**/*.tf"'),
      max_entries: z.number().int().min(1).max(MAX_ENTRIES).default(200),
    })
    .strict(),
  async run(input, ctx) {
    const abs = await ctx.sandbox.resolveRead(input.dir);
    const st = await stat(abs).catch(() => undefined);
    if (!st?.isDirectory()) throw new ToolError(`${input.dir} is not a folder in the repository`);
    const rel = await ctx.sandbox.relative(abs);
    const re = input.pattern ? globToRegExp(input.pattern.replace(/^\.\//, '')) : undefined;
    // Walk more than we show when filtering, so a pattern still finds files deep in a big repo.
    const { files, more } = await walkFiles(abs, rel, re ? 20_000 : input.max_entries, ctx.signal);
    const matching = re ? files.filter((f) => re.test(f.rel)) : files;
    const shown = matching.slice(0, input.max_entries);
    if (shown.length === 0) return `no files${input.pattern ? ` matching ${input.pattern}` : ''} under ${rel}`;
    const lines: string[] = [];
    for (const f of shown) {
      const size = await stat(f.abs).then(
        (s) => `${s.size} B`,
        () => 'unreadable',
      );
      lines.push(`${f.rel}  (${f.isSymlink ? 'symlink, ' : ''}${size})`);
    }
    const hidden = matching.length - shown.length;
    if (hidden > 0 || more) {
      lines.push(`[… more files not shown; narrow with dir or pattern]`);
    }
    return cap(lines.join('\n'), 16_000, 'narrow with dir or pattern');
  },
});
