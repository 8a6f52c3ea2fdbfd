// Reading a resource's planned attributes for pricing: a value known only after apply, or marked sensitive, is
// handled explicitly (not priced / not named), so no price is guessed from a missing value and no sensitive value is
// written into a report.

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function marked(v: unknown): boolean {
  if (v === true) return true;
  if (Array.isArray(v)) return v.some(marked);
  if (isRecord(v)) return Object.values(v).some(marked);
  return false;
}

/** The pricer cannot price this side; `reason` is shown to the user. */
export class NotPriced extends Error {
  override readonly name = 'NotPriced';
}

export class Attrs {
  private readonly values: Record<string, unknown>;
  private readonly unknown: Record<string, unknown>;
  private readonly sensitive: Record<string, unknown>;

  constructor(values: unknown, unknown: unknown, sensitive: unknown) {
    this.values = isRecord(values) ? values : {};
    this.unknown = isRecord(unknown) ? unknown : {};
    this.sensitive = isRecord(sensitive) ? sensitive : {};
  }

  static of(values: Record<string, unknown>): Attrs {
    return new Attrs(values, {}, {});
  }

  raw(name: string): unknown {
    return this.values[name];
  }

  isUnknown(name: string): boolean {
    return marked(this.unknown[name]);
  }

  isSensitive(name: string): boolean {
    return marked(this.sensitive[name]);
  }

  /** A string attribute, or undefined when null/absent; NotPriced when it is known only after apply. */
  str(name: string): string | undefined {
    if (this.isUnknown(name)) throw new NotPriced(`${name} is known only after apply`);
    const v = this.values[name];
    return typeof v === 'string' && v.length > 0 ? v : undefined;
  }

  /** A string the price depends on: NotPriced when absent. */
  need(name: string): string {
    const v = this.str(name);
    if (v === undefined) throw new NotPriced(`${name} is not set`);
    return v;
  }

  num(name: string): number | undefined {
    if (this.isUnknown(name)) return undefined;
    const v = this.values[name];
    return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
  }

  bool(name: string): boolean | undefined {
    const v = this.values[name];
    return typeof v === 'boolean' ? v : undefined;
  }

  strings(name: string): string[] {
    const v = this.values[name];
    return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
  }

  /** The first element of a nested block list (`root_block_device[0]`), as Attrs. */
  block(name: string, index = 0): Attrs | undefined {
    const v = this.values[name];
    const u = this.unknown[name];
    const s = this.sensitive[name];
    if (!Array.isArray(v)) return undefined;
    const item = v[index];
    if (!isRecord(item)) return undefined;
    return new Attrs(item, Array.isArray(u) ? u[index] : u, Array.isArray(s) ? s[index] : s);
  }

  blocks(name: string): Attrs[] {
    const v = this.values[name];
    if (!Array.isArray(v)) return [];
    return v.flatMap((_, i) => {
      const b = this.block(name, i);
      return b ? [b] : [];
    });
  }

  /** A value as it may be shown in a report: sensitive values are not. */
  label(name: string): string {
    if (this.isSensitive(name)) return '(sensitive)';
    const v = this.values[name];
    return typeof v === 'string' || typeof v === 'number' ? String(v) : '?';
  }
}
