// Provider schemas cached per provider version (#17 item 3). `terraform providers schema -json` starts every provider
// of a module to ask for its schema — seconds and megabytes for the big cloud providers — and the answer depends only
// on which providers, at which exact versions, for which platform, as read by which terraform. So once a module's
// lock file pins every provider, the document is kept in the App's cache dir under that key and read back instead of
// asking again. Written by the App (outside any sandbox), atomically, 0600; a module without pins is never cached.
import { createHash } from 'node:crypto';
import { renameSync, statSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CacheDirError, ownCacheSubdir } from '../sandbox/cache-dir.js';
import { lockedProviders, terraformPlatform } from './provider-cache.js';

/** The cache file for `dir`'s providers as read by `bin`, or undefined (no lock file, nothing pinned, no cache dir). */
export async function schemaCacheFile(bin: string, dir: string): Promise<string | undefined> {
  const pins = await lockedProviders(dir);
  if (!pins || pins.length === 0) return undefined;
  let cliId: string;
  try {
    const st = statSync(bin);
    cliId = `${bin}\0${st.size}\0${st.mtimeMs}`;
  } catch {
    return undefined;
  }
  const key = createHash('sha256')
    .update(cliId)
    .update(terraformPlatform())
    .update(
      pins
        .map((p) => `${p.source}@${p.version}`)
        .sort()
        .join('\n'),
    )
    .digest('hex')
    .slice(0, 32);
  try {
    return join(ownCacheSubdir('provider-schemas'), `${key}.json`);
  } catch (err) {
    if (err instanceof CacheDirError) return undefined;
    throw err;
  }
}

/** The cached document, or undefined when there is none (or it is unreadable: then it is asked for again). */
export async function readCachedSchema(file: string): Promise<unknown> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as unknown;
  } catch {
    return undefined;
  }
}

export function writeCachedSchema(file: string, schema: unknown): void {
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    writeFileSync(tmp, JSON.stringify(schema), { mode: 0o600 });
    renameSync(tmp, file);
  } catch {
    // A full disk or a vanished cache dir costs the next run a schema call, nothing more.
  }
}
