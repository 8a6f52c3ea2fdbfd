// The two SQL drivers behind the store: PGlite (PostgreSQL compiled to WASM, in-process, in a data directory) and
// node-postgres. Both speak the same SQL, so the store has one code path; this module only hides how a query, a
// multi-statement script and a transaction are run on each. Each driver is imported when it is opened: a process on
// PostgreSQL never loads PGlite, and the reverse.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';

export type Row = Record<string, unknown>;

export interface SqlExecutor {
  /** One statement with $1… parameters. */
  query(sql: string, params?: readonly unknown[]): Promise<Row[]>;
}

export interface SqlDriver extends SqlExecutor {
  readonly name: 'pglite' | 'postgres';
  /** Several statements, no parameters (migrations). */
  exec(sql: string): Promise<void>;
  /** Run fn in a transaction on one connection; rolled back when fn throws. */
  transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** Where the embedded database lives: `memory://` stays in memory, anything else is a directory. */
export function resolvePgliteDir(dataDir: string | undefined): string {
  const dir = dataDir ?? process.env['INFRA_AGENT_DATA_DIR'] ?? '.data';
  if (dir.startsWith('memory://')) return dir;
  const abs = path.resolve(dir, 'pglite');
  mkdirSync(abs, { recursive: true });
  return abs;
}

// PostgreSQL's defaults are sized for a server with 100 connections; one app process's store is one connection with a
// small working set. Shared memory 24 → 12 MB (measured: RSS of a reopened store 324 MB with the defaults, 175 MB with
// 16MB of shared buffers, 153 MB with these). PGlite writes them to the data dir's postgresql.conf at every open.
const PGLITE_CONF = [
  'shared_buffers=8MB',
  'max_connections=5',
  'max_wal_senders=0',
  'wal_buffers=256kB',
  'temp_buffers=1MB',
];

/**
 * PostgreSQL's WebAssembly is compiled with V8's baseline compiler only (Liftoff, no optimising tier-up): the
 * optimised code of a few thousand PostgreSQL functions was ~45 MB of the App's resident memory for no measured
 * gain — 3,000 single-row inserts took 985–1,409 ms Liftoff-only vs 1,457–1,580 ms with tier-up (the time goes to the
 * JS side of each query), and opening the store got faster (317 vs 482 ms). The flag is set for PGlite's compile
 * only and put back after, so other WebAssembly (hcl2json in the worker) still tiers up.
 */
let baselineCompiles = 0;
async function withBaselineWasm<T>(fn: () => Promise<T>): Promise<T> {
  const { setFlagsFromString } = await import('node:v8');
  // Counted: two stores opening at once (tests) must not put the flag back while the other still compiles.
  if (baselineCompiles++ === 0) setFlagsFromString('--liftoff-only');
  try {
    return await fn();
  } finally {
    if (--baselineCompiles === 0) setFlagsFromString('--no-liftoff-only');
  }
}

/** Creates the cluster in `dir` (initdb) and exits: run in a child process, see below. */
const INITDB_CHILD = `
const [moduleUrl, dir, conf] = process.argv.slice(1);
const { PGlite } = await import(moduleUrl);
const db = await PGlite.create(dir, { postgresqlconf: JSON.parse(conf) });
await db.close();
`;

/**
 * A new data directory's initdb runs in a short-lived child process: initdb is PostgreSQL's heaviest moment (its own
 * WebAssembly instance; measured ~700 MB resident) and memory a process has touched is not given back, so the App's
 * first start would stay that large for its whole life. The App then opens the initialised directory like a restart.
 */
async function initPgliteDir(dir: string): Promise<void> {
  if (dir.startsWith('memory://') || existsSync(path.join(dir, 'PG_VERSION'))) return;
  const moduleUrl = import.meta.resolve('@electric-sql/pglite');
  await new Promise<void>((resolve, reject) => {
    execFile(
      process.execPath,
      ['--liftoff-only', '--input-type=module', '-e', INITDB_CHILD, moduleUrl, dir, JSON.stringify(PGLITE_CONF)],
      { timeout: 10 * 60_000, maxBuffer: 1024 * 1024, env: { PATH: process.env['PATH'] ?? '' } },
      (err, _stdout, stderr) => {
        if (err) reject(new Error(`creating the embedded store in ${dir} failed: ${stderr.trim() || err.message}`));
        else resolve();
      },
    );
  });
}

export async function openPglite(dataDir: string | undefined): Promise<SqlDriver> {
  const dir = resolvePgliteDir(dataDir);
  const [{ PGlite }] = await Promise.all([import('@electric-sql/pglite'), initPgliteDir(dir)]);
  const db = await withBaselineWasm(() => PGlite.create(dir, { postgresqlconf: PGLITE_CONF }));
  return {
    name: 'pglite',
    async query(sql, params = []) {
      const res = await db.query<Row>(sql, [...params]);
      return res.rows;
    },
    async exec(sql) {
      await db.exec(sql);
    },
    transaction(fn) {
      return db.transaction((tx) =>
        fn({
          async query(sql, params = []) {
            return (await tx.query<Row>(sql, [...params])).rows;
          },
        }),
      );
    },
    async close() {
      if (!db.closed) await db.close();
    },
  };
}

export async function openPostgres(databaseUrl: string, maxConnections = 10): Promise<SqlDriver> {
  const { default: pg } = await import('pg');
  const pool = new pg.Pool({ connectionString: databaseUrl, max: maxConnections });
  // An idle client losing its server (restart, failover) must not crash the process; the next query reconnects.
  pool.on('error', () => {});
  // Fail fast with a clear message when the server is not there.
  const probe = await pool.connect().catch((err: unknown) => {
    void pool.end();
    throw new Error(`cannot connect to PostgreSQL: ${err instanceof Error ? err.message : String(err)}`);
  });
  probe.release();
  return {
    name: 'postgres',
    async query(sql, params = []) {
      const res = await pool.query<Row>(sql, [...params]);
      return res.rows;
    },
    async exec(sql) {
      await pool.query(sql);
    },
    async transaction(fn) {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        const out = await fn({
          async query(sql, params = []) {
            return (await client.query<Row>(sql, [...params])).rows;
          },
        });
        await client.query('COMMIT');
        return out;
      } catch (err) {
        await client.query('ROLLBACK').catch(() => {});
        throw err;
      } finally {
        client.release();
      }
    },
    async close() {
      await pool.end();
    },
  };
}
