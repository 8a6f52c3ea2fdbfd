// `infra-agent index <dir> [--format text|json]`: the Terraform inventory of a repository. Parse errors are printed
// as `file:line: message` (and make the exit code 1, like a linter); a directory without Terraform says so.
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { indexRepo, summarizeIndex } from '../repo/index.js';

const USAGE = 'usage: infra-agent index <dir> [--format text|json]\n';

export async function main(args: string[]): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(args);
  } catch (err) {
    process.stderr.write(`infra-agent index: ${err instanceof Error ? err.message : String(err)}\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  const format = values.format;
  if (positionals.length !== 1 || (format !== 'text' && format !== 'json')) {
    process.stderr.write(USAGE);
    return 2;
  }
  const dir = resolve(positionals[0] as string);
  let index: Awaited<ReturnType<typeof indexRepo>>;
  try {
    index = await indexRepo(dir);
  } catch (err) {
    process.stderr.write(
      `infra-agent index: cannot read ${dir}: ${err instanceof Error ? err.message : String(err)}\n`,
    );
    return 2;
  }
  if (format === 'json') {
    process.stdout.write(`${JSON.stringify(index, null, 2)}\n`);
  } else if (index.files.length > 0) {
    process.stdout.write(`${summarizeIndex(index, { maxChars: 20_000, maxItems: 200 })}\n`);
  }
  if (index.files.length === 0) {
    process.stderr.write(`infra-agent index: no Terraform files (.tf / .tf.json) under ${dir}\n`);
    return 1;
  }
  for (const e of index.errors) process.stderr.write(`${e.file}:${e.line}: ${e.message}\n`);
  return index.errors.length > 0 ? 1 : 0;
}

function parse(args: string[]) {
  return parseArgs({
    args,
    options: { format: { type: 'string', short: 'f', default: 'text' } },
    allowPositionals: true,
    strict: true,
  });
}
