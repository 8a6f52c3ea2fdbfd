// A store that fails chosen statements: wraps the SQL driver (both PGlite and PostgreSQL, inside transactions too),
// and throws where a rule's pattern matches the statement text, as a dropped connection or a full disk would. The
// error surfaces exactly where the real one would: in the webhook handler (a 500 to GitHub), in a worker's job.
import type { Row, SqlDriver, SqlExecutor } from '../../src/store/sql.js';

export interface StoreFaultRule {
  /** Matched against the SQL text, e.g. /INSERT INTO jobs/ or /pgboss.*job/. */
  sql: RegExp;
  /** How many matching statements fail (default 1). */
  times?: number;
  /** Let this many matching statements through first (e.g. 1: the webhook's intake job, then fail the run's). */
  skip?: number;
  /** Stall this long before failing, as a database that hangs and then drops the connection. */
  delayMs?: number;
}

export interface StoreFaults {
  wrap(driver: SqlDriver): SqlDriver;
  add(rule: StoreFaultRule): void;
  clear(): void;
  /** The statements that were failed, in order. */
  readonly failed: string[];
}

export class InjectedStoreFault extends Error {
  override readonly name = 'InjectedStoreFault';
}

export function storeFaults(): StoreFaults {
  const rules: Array<StoreFaultRule & { fired: number; seen: number }> = [];
  const failed: string[] = [];
  /** The rule that fails this statement, if any (counted as fired). */
  const match = (sql: string) => {
    for (const rule of rules) {
      if ((rule.times === undefined ? 1 : rule.times) <= rule.fired || !rule.sql.test(sql)) continue;
      rule.seen += 1;
      if (rule.seen <= (rule.skip ?? 0)) continue;
      rule.fired += 1;
      return rule;
    }
    return undefined;
  };
  const fail = async (sql: string, rule: StoreFaultRule) => {
    if (rule.delayMs) await new Promise((r) => setTimeout(r, rule.delayMs));
    failed.push(sql.replace(/\s+/g, ' ').slice(0, 120));
    throw new InjectedStoreFault(`injected store fault: ${sql.replace(/\s+/g, ' ').slice(0, 80)}`);
  };
  const exec = (inner: SqlExecutor): SqlExecutor => ({
    async query(sql: string, params?: readonly unknown[]): Promise<Row[]> {
      const rule = match(sql);
      if (rule) return fail(sql, rule);
      return inner.query(sql, params);
    },
  });
  return {
    wrap(driver) {
      return {
        name: driver.name,
        query: (sql, params) => exec(driver).query(sql, params),
        exec: (sql) => driver.exec(sql),
        transaction: (fn) => driver.transaction((tx) => fn(exec(tx))),
        close: () => driver.close(),
      };
    },
    add(rule) {
      rules.push({ ...rule, fired: 0, seen: 0 });
    },
    clear() {
      rules.splice(0);
      failed.splice(0);
    },
    failed,
  };
}
