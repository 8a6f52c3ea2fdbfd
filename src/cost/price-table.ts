// The built-in price table: data (prices.json) with its source and date, validated on load like any outside input,
// so a malformed table fails loudly naming the file and the key instead of pricing anything at zero. Lookups return
// the price or the exact reason there is none (which table, which region, which key), never a default.
import { z } from 'zod';
import builtIn from './prices.json' with { type: 'json' };

export const BUILT_IN_PRICES_FILE = 'src/cost/prices.json';

const Price = z.number().nonnegative().finite();

const TableSchema = z
  .object({
    unit: z.string().min(1),
    description: z.string().min(1),
    prices: z.record(z.string().min(1), z.record(z.string().min(1), Price)),
  })
  .strict();

export const PriceTableSchema = z
  .object({
    version: z.literal(1),
    currency: z.literal('USD'),
    as_of: z.string().regex(/^\d{4}-\d{2}(-\d{2})?$/, 'a date like 2025-06 or 2025-06-30'),
    source: z.string().min(20, 'say where the prices come from'),
    hours_per_month: z.number().positive(),
    regions: z.record(z.enum(['aws', 'azure', 'google']), z.array(z.string().min(1))),
    free_types: z
      .object({
        prefixes: z.array(z.string().min(1)),
        aws: z.array(z.string().min(1)),
        azure: z.array(z.string().min(1)),
        google: z.array(z.string().min(1)),
      })
      .strict(),
    tables: z.record(z.string().regex(/^[a-z0-9_]+$/), TableSchema),
  })
  .strict();

export type PriceTableData = z.infer<typeof PriceTableSchema>;

/** A price table that is not usable; the message names the file and the key. */
export class PriceTableError extends Error {
  override readonly name = 'PriceTableError';
}

/** Tables the pricers read: a table file without one of them is refused at load, not at the first lookup. */
export const REQUIRED_TABLES = [
  'aws_ec2_hourly',
  'aws_ebs_gb_month',
  'aws_ebs_extra',
  'aws_rds_postgres_hourly',
  'aws_rds_mysql_hourly',
  'aws_rds_storage_gb_month',
  'aws_elasticache_hourly',
  'aws_network_hourly',
  'aws_usage',
  'azure_vm_hourly',
  'azure_disk_month',
  'azure_hourly',
  'azure_postgres_flexible_hourly',
  'azure_redis_hourly',
  'azure_usage',
  'google_compute_hourly',
  'google_disk_gb_month',
  'google_sql',
  'google_hourly',
  'google_usage',
] as const;
export type TableName = (typeof REQUIRED_TABLES)[number];

/** Why a lookup found no price: said to the user as-is. */
export type Lookup = { ok: true; price: number } | { ok: false; reason: string };

export class PriceTable {
  private readonly free: Set<string>;
  constructor(
    readonly data: PriceTableData,
    readonly file: string,
  ) {
    this.free = new Set([...data.free_types.aws, ...data.free_types.azure, ...data.free_types.google]);
  }

  get hoursPerMonth(): number {
    return this.data.hours_per_month;
  }

  isFree(type: string): boolean {
    return this.free.has(type) || this.data.free_types.prefixes.some((p) => type === p || type.startsWith(p));
  }

  lookup(table: TableName, region: string, key: string): Lookup {
    const t = this.data.tables[table];
    if (!t) return { ok: false, reason: `the price table has no table ${table}` };
    const byRegion = t.prices[region];
    if (!byRegion) {
      return {
        ok: false,
        reason: `region ${region} is not in the built-in price table (it has ${Object.keys(t.prices).join(', ')} for ${t.description})`,
      };
    }
    const price = byRegion[key];
    if (price === undefined) return { ok: false, reason: `no price for ${key} in ${region} (${t.description})` };
    return { ok: true, price };
  }
}

/** Validate a price table document; the error names the file and the first bad key. */
export function parsePriceTable(value: unknown, file: string): PriceTable {
  const parsed = PriceTableSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const key = issue && issue.path.length > 0 ? issue.path.join('.') : '(root)';
    throw new PriceTableError(`malformed price table ${file}: ${key}: ${issue?.message ?? 'invalid'}`);
  }
  for (const name of REQUIRED_TABLES) {
    if (!parsed.data.tables[name]) throw new PriceTableError(`malformed price table ${file}: tables.${name}: missing`);
  }
  return new PriceTable(parsed.data, file);
}

let cached: PriceTable | undefined;

/** The table shipped with infra-agent (validated once). */
export function builtInPriceTable(): PriceTable {
  cached ??= parsePriceTable(builtIn, BUILT_IN_PRICES_FILE);
  return cached;
}
