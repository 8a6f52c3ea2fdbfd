// Usage estimates for usage-priced resources, in Infracost's usage-file format (infracost-usage.yml, version 0.1):
//   version: 0.1
//   resource_type_default_usage: { aws_lambda_function: { monthly_requests: 1000000 } }
//   resource_usage: { aws_s3_bucket.assets: { standard: { storage_gb: 500 } }, "aws_lambda_function.fn[*]": {...} }
// A key is an exact address, an address with `[*]` for any instance key, or a type default. Values are numbers or
// nested maps of numbers (Infracost nests per storage class). A malformed file is an error naming the file and key.
import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';

export type UsageValue = number | { [k: string]: UsageValue };
export type UsageEntry = Record<string, UsageValue>;

/** Numbers (≥ 0) or maps of them, checked by hand so the error names the exact key. */
const UsageValueSchema = z
  .unknown()
  .superRefine((value, ctx) => {
    const walk = (v: unknown, path: (string | number)[]): void => {
      if (typeof v === 'number' && Number.isFinite(v) && v >= 0) return;
      if (typeof v === 'object' && v !== null && !Array.isArray(v)) {
        for (const [k, x] of Object.entries(v)) walk(x, [...path, k]);
        return;
      }
      ctx.addIssue({ code: 'custom', path, message: 'expected a number (≥ 0) or a map of numbers' });
    };
    walk(value, []);
  })
  .transform(toUsageValue);

/** The checked value, rebuilt with its type (anything else was refused above). */
function toUsageValue(v: unknown): UsageValue {
  if (typeof v === 'number') return v;
  if (typeof v !== 'object' || v === null) return 0;
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, toUsageValue(x)]));
}
const EntrySchema = z.record(z.string().min(1), UsageValueSchema);

const UsageFileSchema = z
  .object({
    version: z.union([z.literal(0.1), z.literal('0.1')], { message: 'must be 0.1 (the Infracost usage-file version)' }),
    resource_type_default_usage: z.record(z.string().min(1), EntrySchema.nullable()).nullable().optional(),
    resource_usage: z.record(z.string().min(1), EntrySchema.nullable()).nullable().optional(),
  })
  .strict();

export class UsageFileError extends Error {
  override readonly name = 'UsageFileError';
}

export class UsageFile {
  constructor(
    readonly file: string,
    private readonly byAddress: Record<string, UsageEntry>,
    private readonly byType: Record<string, UsageEntry>,
  ) {}

  /** The usage for a resource: its exact address, else the address with `[*]` instance keys, else its type's default. */
  lookup(address: string, type: string): { entry: UsageEntry; key: string } | undefined {
    const exact = this.byAddress[address];
    if (exact) return { entry: exact, key: address };
    const wildcard = address.replace(/\[[^\]]*\]/g, '[*]');
    const wild = this.byAddress[wildcard];
    if (wild) return { entry: wild, key: wildcard };
    const byType = this.byType[type];
    if (byType) return { entry: byType, key: `resource_type_default_usage.${type}` };
    return undefined;
  }
}

export function parseUsageFile(text: string, file: string): UsageFile {
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (err) {
    throw new UsageFileError(`malformed usage file ${file}: ${err instanceof Error ? err.message : String(err)}`);
  }
  const parsed = UsageFileSchema.safeParse(raw ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const key = issue && issue.path.length > 0 ? issue.path.join('.') : '(root)';
    const message = issue?.message ?? 'invalid';
    throw new UsageFileError(`malformed usage file ${file}: ${key}: ${message}`);
  }
  const clean = (r: Record<string, UsageEntry | null> | null | undefined): Record<string, UsageEntry> =>
    Object.fromEntries(Object.entries(r ?? {}).flatMap(([k, v]) => (v ? [[k, v]] : [])));
  return new UsageFile(file, clean(parsed.data.resource_usage), clean(parsed.data.resource_type_default_usage));
}

/** Reads the usage file when it exists; undefined when it does not (usage-priced resources are then not estimated). */
export async function readUsageFile(path: string, shownAs = path): Promise<UsageFile | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if (typeof err === 'object' && err !== null && 'code' in err && err.code === 'ENOENT') return undefined;
    throw new UsageFileError(`cannot read usage file ${shownAs}: ${err instanceof Error ? err.message : String(err)}`);
  }
  return parseUsageFile(text, shownAs);
}

/** A number at a path of a usage entry (`standard.storage_gb`), or undefined. */
export function usageNumber(entry: UsageEntry | undefined, path: string): number | undefined {
  let v: UsageValue | undefined = entry;
  for (const part of path.split('.')) {
    if (v === undefined || typeof v === 'number') return undefined;
    v = v[part];
  }
  return typeof v === 'number' ? v : undefined;
}
