// Picks the store for this process: PostgreSQL when a database URL is given (or DATABASE_URL is set), else the
// embedded PGlite database in the data directory. Migrations run on open, so a fresh directory or database is
// usable at once.
import { migrate } from './migrations.js';
import { openPglite, openPostgres, type SqlDriver } from './sql.js';
import { SqlStore } from './sql-store.js';
import type { StoreOptions } from './types.js';

/** An explicit option wins over the environment: a caller that names a data directory gets the embedded store. */
export function resolveDatabaseUrl(options: StoreOptions): string | undefined {
  if (options.databaseUrl) return options.databaseUrl;
  if (options.dataDir !== undefined) return undefined;
  return process.env['DATABASE_URL'] || undefined;
}

export async function createStore(options: StoreOptions = {}): Promise<SqlStore> {
  const databaseUrl = resolveDatabaseUrl(options);
  const driver: SqlDriver = databaseUrl ? await openPostgres(databaseUrl) : await openPglite(options.dataDir);
  try {
    await migrate(driver);
  } catch (err) {
    await driver.close();
    throw err;
  }
  const used = options.wrapDriver ? options.wrapDriver(driver) : driver;
  return new SqlStore(used, options.planKey ?? process.env['INFRA_AGENT_PLAN_KEY']);
}
