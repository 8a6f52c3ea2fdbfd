// The embedded store is sized for one process, not a server (src/store/sql.ts): small shared memory, in a fresh data
// dir and in one reopened (PGlite rewrites postgresql.conf at every open, so an older data dir gets the new sizes).
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect, it } from 'vitest';
import { openPglite } from '../../src/store/sql.js';

async function sizes(dataDir: string) {
  const driver = await openPglite(dataDir);
  try {
    const show = async (name: string) => (await driver.query(`show ${name}`))[0]?.[name];
    return {
      shared_buffers: await show('shared_buffers'),
      max_connections: await show('max_connections'),
      shared_memory_size: await show('shared_memory_size'),
    };
  } finally {
    await driver.close();
  }
}

const SMALL = { shared_buffers: '8MB', max_connections: '5', shared_memory_size: '12MB' };

it('the embedded store runs with small shared memory (one connection, not a server), also reopened', {
  timeout: 120_000,
}, async () => {
  expect(await sizes('memory://')).toEqual(SMALL);
  const dir = await mkdtemp(path.join(tmpdir(), 'infra-agent-pglite-conf-'));
  try {
    expect(await sizes(dir)).toEqual(SMALL);
    // A data dir from an older release, with a server-sized postgresql.conf: reopened, it runs small.
    await writeFile(path.join(dir, 'pglite', 'postgresql.conf'), 'shared_buffers=128MB\nmax_connections=100\n');
    expect(await sizes(dir)).toEqual(SMALL);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
