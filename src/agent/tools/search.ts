// search: grep over the checkout, in TypeScript (model input never reaches a shell). Literal by default; a regex is
// allowed but bounded (length, no nested quantifiers, long lines cut) so a pattern cannot hang the run.
import { readFile, stat } from 'node:fs/promises';
import { z } from 'zod';
import { globToRegExp, readRefusal } from '../../repo/sandbox.js';
import { cap, defineTool, ToolError } from './types.js';
import { walkFiles } from './walk.js';

const MAX_FILE_BYTES = 1024 * 1024;
const MAX_FILES = 20_000;
const MAX_LINE = 1_000;

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Nested quantifiers such as (a+)+ or (\w*)* backtrack exponentially. */
function isDangerous(pattern: string): boolean {
  return /\([^)]*[+*}][^)]*\)\s*[+*{]/.test(pattern) || /(\.\*){3,}/.test(pattern);
}

export const searchTool = defineTool({
  name: 'search',
  description:
    'Search the repository for text (like grep). Returns file:line: text. Literal by default; set regex=true for a ' +
    'JavaScript regular expression. Narrow with `dir` and `glob` (e.g. "**/*.tf").',
  input: z
    .object({
      pattern: z.string().min(1).max(200),
      regex: z.boolean().default(false),
      ignore_case: z.boolean().default(false),
      dir: z.string().default('.'),
      glob: z.string().max(200).optional(),
      max_results: z.number().int().min(1).max(200).default(50),
    })
    .strict(),
  async run(input, ctx) {
    if (input.regex && isDangerous(input.pattern)) {
      throw new ToolError('refused: nested quantifiers like (a+)+ can take exponential time; simplify the regex');
    }
    let re: RegExp;
    try {
      re = new RegExp(input.regex ? input.pattern : escapeRegExp(input.pattern), input.ignore_case ? 'i' : '');
    } catch (err) {
      throw new ToolError(`invalid regular expression: ${err instanceof Error ? err.message : String(err)}`);
    }
    const abs = await ctx.sandbox.resolveRead(input.dir);
    const st = await stat(abs).catch(() => undefined);
    if (!st?.isDirectory()) throw new ToolError(`${input.dir} is not a folder in the repository`);
    const rel = await ctx.sandbox.relative(abs);
    const only = input.glob ? globToRegExp(input.glob.replace(/^\.\//, '')) : undefined;
    const { files } = await walkFiles(abs, rel, MAX_FILES, ctx.signal);
    const hits: string[] = [];
    let more = false;
    let refused = 0;
    for (const f of files) {
      if (ctx.signal.aborted) break;
      if (only && !only.test(f.rel)) continue;
      // What read_file refuses (.env, *.pem, *.key, state, CLI config) is never searched either.
      if (readRefusal(f.rel)) {
        refused++;
        continue;
      }
      // Symlinks are re-checked by the sandbox: one pointing outside (or at a secret file) is skipped, not followed.
      const real = f.isSymlink ? await ctx.sandbox.resolveRead(f.rel).catch(() => undefined) : f.abs;
      if (!real) continue;
      const fst = await stat(real).catch(() => undefined);
      if (!fst?.isFile() || fst.size > MAX_FILE_BYTES) continue;
      const text = await readFile(real, 'utf8').catch(() => '');
      if (text.includes('\0')) continue;
      const lines = text.split('\n');
      for (let i = 0; i < lines.length; i++) {
        const line = (lines[i] ?? '').slice(0, MAX_LINE);
        if (!re.test(line)) continue;
        if (hits.length >= input.max_results) {
          more = true;
          break;
        }
        hits.push(`${f.rel}:${i + 1}: ${line.trim()}`);
      }
      if (more) break;
    }
    const skipped =
      refused > 0 ? `\n[${refused} file(s) not searched: secrets, state and CLI config are off limits]` : '';
    if (hits.length === 0) return `no match for ${JSON.stringify(input.pattern)} under ${rel}${skipped}`;
    const out =
      hits.join('\n') + (more ? `\n[… more matches; narrow with dir/glob or raise max_results]` : '') + skipped;
    return cap(ctx.redactor.redact(out), 16_000);
  },
});
