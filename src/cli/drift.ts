// `infra-agent drift <dir> [--format markdown|json] [--workspace NAME]`: the App's drift check on a local root
// module — `plan -refresh-only` plus a normal plan, both read-only — and its summary. Exit 0: no drift; 1: drift;
// 2: the check could not run (bad arguments, missing terraform, Terraform's error on stderr). Nothing is applied.
import { basename } from 'node:path';
import { parseArgs } from 'node:util';
import { defaultRepoConfig } from '../config/schema.js';
import { runDriftCheck } from '../drift/check.js';
import { renderDriftMarkdown } from '../drift/render.js';
import { readDirCommand, terraformFor } from './args.js';

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
  const read = readDirCommand('drift', USAGE, () => parse(args));
  if (typeof read === 'number') return read;
  const { values, format, dir } = read;
  // The same terraform and environment handling as `infra-agent plan`.
  const tf = terraformFor('drift');
  if (typeof tf === 'number') return tf;
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
