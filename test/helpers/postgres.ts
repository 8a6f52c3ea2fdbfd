// A throwaway PostgreSQL cluster for tests: initdb into a temp dir, pg_ctl start on a free 127.0.0.1 port, one
// database, stopped and deleted at the end. initdb refuses to run as root, so as root (CI containers) the cluster
// belongs to the `postgres` OS user and is driven through `runuser`. Missing binaries skip loudly on a developer
// machine and FAIL in CI, where scripts/setup-tools.sh installs Debian's postgresql package.
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { describe, it } from 'vitest';
import { ExecError, run } from '../../src/sandbox/exec.js';

/** The directory holding initdb and pg_ctl, or undefined. */
export function findPostgresBin(): string | undefined {
  const candidates: string[] = [];
  const root = '/usr/lib/postgresql';
  if (existsSync(root)) {
    const versions = readdirSync(root)
      .filter((v) => /^\d+$/.test(v))
      .sort((a, b) => Number(b) - Number(a));
    for (const v of versions) candidates.push(path.join(root, v, 'bin'));
  }
  for (const dir of (process.env['PATH'] ?? '').split(path.delimiter)) if (dir) candidates.push(dir);
  return candidates.find((d) => existsSync(path.join(d, 'initdb')) && existsSync(path.join(d, 'pg_ctl')));
}

export interface TestPostgres {
  /** postgres://…@127.0.0.1:port/db */
  url: string;
  /** Another empty database on the same cluster. */
  createDatabase(name: string): Promise<string>;
  stop(): Promise<void>;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** uid/gid of a user from /etc/passwd. */
function lookupUser(name: string): { uid: number; gid: number } | undefined {
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${name}:`));
  const parts = line?.split(':');
  if (!parts || parts.length < 4) return undefined;
  return { uid: Number(parts[2]), gid: Number(parts[3]) };
}

export async function startPostgres(): Promise<TestPostgres> {
  const bin = findPostgresBin();
  if (!bin) throw new Error('PostgreSQL server binaries (initdb, pg_ctl) not found: run `npm run bootstrap`');
  const dir = mkdtempSync(path.join(tmpdir(), 'infra-agent-pg-'));
  const data = path.join(dir, 'data');
  const asRoot = process.getuid?.() === 0;
  // As root: run the server as `postgres`, which must own the cluster directory.
  const wrap = (cmd: string, args: string[]): [string, string[]] =>
    asRoot ? ['runuser', ['-u', 'postgres', '--', cmd, ...args]] : [cmd, args];
  if (asRoot) {
    const user = lookupUser('postgres');
    if (!user) throw new Error('running as root but there is no `postgres` OS user to own the test cluster');
    chownSync(dir, user.uid, user.gid);
  }
  const exec = async (cmd: string, args: string[]) => {
    const [c, a] = wrap(path.join(bin, cmd), args);
    try {
      await run(c, a, { cwd: dir, timeoutMs: 120_000, env: { LC_ALL: 'C.UTF-8', LANG: 'C.UTF-8' } });
    } catch (err) {
      const log = existsSync(path.join(dir, 'log')) ? readFileSync(path.join(dir, 'log'), 'utf8').slice(-2000) : '';
      const detail = err instanceof ExecError ? err.tail() : String(err);
      throw new Error(`${cmd} failed: ${detail}\n${log}`);
    }
  };

  await exec('initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync']);
  const port = await freePort();
  const serverOptions = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200`;
  await exec('pg_ctl', ['-D', data, '-l', path.join(dir, 'log'), '-o', serverOptions, '-w', '-t', '60', 'start']);

  const base = `postgres://postgres@127.0.0.1:${port}`;
  const createDatabase = async (name: string) => {
    if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`bad database name ${name}`);
    const client = new pg.Client({ connectionString: `${base}/postgres` });
    await client.connect();
    try {
      await client.query(`CREATE DATABASE ${name}`);
    } finally {
      await client.end();
    }
    return `${base}/${name}`;
  };
  const url = await createDatabase('infra_agent_test');
  let stopped = false;
  return {
    url,
    createDatabase,
    async stop() {
      if (stopped) return;
      stopped = true;
      try {
        await exec('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

/** Why PostgreSQL tests cannot run here, or undefined when they can. */
export function postgresMissing(): string | undefined {
  return findPostgresBin() ? undefined : 'needs PostgreSQL server binaries (initdb, pg_ctl): run `npm run bootstrap`';
}

/**
 * For suites that need PostgreSQL: skipped loudly without it on a developer machine, a failing test in CI.
 * Returns true when the caller should define its PostgreSQL tests.
 */
export function requirePostgres(title: string): boolean {
  const why = postgresMissing();
  if (!why) return true;
  if (process.env['CI']) {
    describe(title, () => {
      it(`has PostgreSQL: ${why}`, () => {
        throw new Error(`${title}: ${why}; in CI nothing may be skipped`);
      });
    });
  } else {
    console.warn(`\n*** SKIPPED "${title}": ${why} ***\n`);
    describe.skip(`${title} [SKIPPED: ${why}]`, () => {
      it('needs PostgreSQL', () => {});
    });
  }
  return false;
}
