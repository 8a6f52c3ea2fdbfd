// The two SQL drivers behind the store: PGlite (PostgreSQL compiled to WASM, in-process, in a data directory) and
// node-postgres. Both speak the same SQL, so the store has one code path; this module only hides how a query, a
// multi-statement script and a transaction are run on each.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';

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

export async function openPglite(dataDir: string | undefined): Promise<SqlDriver> {
  // PostgreSQL's default 128MB of shared buffers is sized for a server; one app process's store needs far less
  // (measured: RSS of a reopened store 324 MB → 175 MB).
  const db = await PGlite.create(resolvePgliteDir(dataDir), { postgresqlconf: ['shared_buffers=16MB'] });
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
