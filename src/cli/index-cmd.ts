// `infra-agent index <dir> [--format text|json]`: the Terraform inventory of a repository. Parse errors are printed
// as `file:line: message` (and make the exit code 1, like a linter); a directory without Terraform says so.
// The facts of every file persist between runs (one cache file per repository under the user's cache dir, or
// --cache-dir), so indexing an unchanged tree again neither parses nor reads its files; --no-cache skips it.
import { createHash } from 'node:crypto';
import { realpathSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { IndexCache, indexRepo, summarizeIndex } from '../repo/index.js';
import { appCacheDir } from '../sandbox/cache-dir.js';

const USAGE = 'usage: infra-agent index <dir> [--format text|json] [--cache-dir DIR | --no-cache]\n';

/** $INFRA_AGENT_CACHE_DIR, else $XDG_CACHE_HOME/infra-agent, else ~/.cache/infra-agent: the App's one cache dir. */
export const defaultCacheDir = appCacheDir;

/** One cache file per repository (by its real path), so two trees never evict each other's facts. */
export function indexCacheFile(cacheDir: string, dir: string): string {
  let real = dir;
  try {
    real = realpathSync(dir);
  } catch {
    // indexRepo reports the missing dir
  }
  return join(cacheDir, 'index', `${createHash('sha256').update(real).digest('hex').slice(0, 24)}.json`);
}

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
  const cacheFile = values['no-cache'] ? undefined : indexCacheFile(values['cache-dir'] ?? defaultCacheDir(), dir);
  const cache = cacheFile ? IndexCache.load(cacheFile) : new IndexCache();
  let index: Awaited<ReturnType<typeof indexRepo>>;
  try {
    index = await indexRepo(dir, { cache });
  } catch (err) {
    process.stderr.write(
      `infra-agent index: cannot read ${dir}: ${err instanceof Error ? err.message : String(err)}\n`,
    );
    return 2;
  }
  if (cacheFile && index.files.length > 0) {
    try {
      cache.save(cacheFile);
    } catch (err) {
      // Only a cache: the next run parses again. Said once, so a read-only home is not a mystery.
      process.stderr.write(
        `infra-agent index: cache not saved (${err instanceof Error ? err.message : String(err)}); use --cache-dir or --no-cache\n`,
      );
    }
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
    options: {
      format: { type: 'string', short: 'f', default: 'text' },
      'cache-dir': { type: 'string' },
      'no-cache': { type: 'boolean', default: false },
    },
    allowPositionals: true,
    strict: true,
  });
}
