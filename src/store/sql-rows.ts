// Shared pieces of the SQL store's row parsing: the column coercions every table uses (PGlite and node-postgres
// return dates, numbers and JSON in different shapes) and two small helpers.
import { z } from 'zod';
import type { Row } from './sql.js';

export const date = z.coerce.date();
export const nullableDate = date.nullable();
export const int = z.coerce.number().int();
export const json = z.record(z.string(), z.unknown());

export function iso(d: Date): string {
  return d.toISOString();
}

export function first(rows: Row[]): Row | undefined {
  return rows[0];
}
