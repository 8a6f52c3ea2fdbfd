// `infra-agent drift <dir> [--format markdown|json] [--workspace NAME]`: the App's drift check on a local root
// module — `plan -refresh-only` plus a normal plan, both read-only — and its summary. Exit 0: no drift; 1: drift;
// 2: the check could not run (bad arguments, missing terraform, Terraform's error on stderr). Nothing is applied.
import { statSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { defaultRepoConfig } from '../config/schema.js';
import { runDriftCheck } from '../drift/check.js';
import { renderDriftMarkdown } from '../drift/render.js';
import { Terraform } from '../terraform/engine.js';
import { MissingToolError } from '../toolchain/tools.js';

const USAGE = 'usage: infra-agent drift <dir> [--format markdown|json] [--workspace NAME]\n';

function parse(args: string[]) {
  return parseArgs({
    args,
    options: {
      format: { type: 'string', short: 'f', default: 'markdown' },
      workspace: { type: 'string', short: 'w', default: 'default' },
    },
    allowPositionals: true,
    strict: true,
  });
}

export async function main(args: string[]): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(args);
  } catch (err) {
    process.stderr.write(`infra-agent drift: ${err instanceof Error ? err.message : String(err)}\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  const format = values.format;
  if (positionals.length !== 1 || (format !== 'markdown' && format !== 'json')) {
    process.stderr.write(USAGE);
    return 2;
  }
  const dir = resolve(positionals[0] as string);
  try {
    if (!statSync(dir).isDirectory()) throw new Error('not a directory');
  } catch {
    process.stderr.write(`infra-agent drift: ${dir} is not a directory\n`);
    return 2;
  }
  let tf: Terraform;
  try {
    // The same terraform and environment handling as `infra-agent plan`.
    tf = new Terraform();
  } catch (err) {
    if (err instanceof MissingToolError) {
      process.stderr.write(`infra-agent drift: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  const result = await runDriftCheck({
    repoRoot: dir,
    project: { name: basename(dir), dir: '.', workspace: values.workspace, dependsOn: [] },
    config: defaultRepoConfig(),
    terraform: tf,
    untrusted: false,
  });
  if (format === 'json') {
    const { planJson: _values, ...shown } = result;
    process.stdout.write(`${JSON.stringify(shown, null, 2)}\n`);
  } else {
    process.stdout.write(renderDriftMarkdown(result));
  }
  if (result.status === 'error') {
    process.stderr.write(`infra-agent drift: the check failed\n${result.error ?? ''}\n`);
    return 2;
  }
  return result.status === 'drifted' ? 1 : 0;
}
