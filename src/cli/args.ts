// The prologue every directory command shares (`plan`, `drift`): parse the arguments, take one directory and a
// markdown|json format, find terraform. Each step prints why it stopped and gives exit 2, so commands say it alike.
import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { Terraform } from '../terraform/engine.js';
import { MissingToolError } from '../toolchain/tools.js';

interface Parsed<V> {
  values: V & { format?: string | undefined };
  positionals: string[];
}

/** The parsed arguments with the resolved directory, or 2 after printing why they cannot be used. */
export function readDirCommand<V>(
  command: string,
  usage: string,
  parse: () => Parsed<V>,
): { values: V; format: 'markdown' | 'json'; dir: string } | number {
  let parsed: Parsed<V>;
  try {
    parsed = parse();
  } catch (err) {
    process.stderr.write(`infra-agent ${command}: ${err instanceof Error ? err.message : String(err)}\n${usage}`);
    return 2;
  }
  const { values, positionals } = parsed;
  const format = values.format;
  if (positionals.length !== 1 || (format !== 'markdown' && format !== 'json')) {
    process.stderr.write(usage);
    return 2;
  }
  const dir = resolve(positionals[0] as string);
  try {
    if (!statSync(dir).isDirectory()) throw new Error('not a directory');
  } catch {
    process.stderr.write(`infra-agent ${command}: ${dir} is not a directory\n`);
    return 2;
  }
  return { values, format, dir };
}

/** The pinned (or configured) terraform, or 2 after naming the setup command. */
export function terraformFor(command: string): Terraform | number {
  try {
    return new Terraform();
  } catch (err) {
    if (err instanceof MissingToolError) {
      process.stderr.write(`infra-agent ${command}: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
}
