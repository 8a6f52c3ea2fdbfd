// What a pricer writes into: one Meter per resource side. Every component names what it is, its quantity, unit and
// unit price; a missing price throws NotPriced with the table's reason; a usage-priced part without usage is listed
// as not estimated instead of counting as zero.

import type { CostComponent } from '../core/types.js';
import { type Attrs, NotPriced } from './attrs.js';
import type { PriceTable, TableName } from './price-table.js';
import { type UsageEntry, usageNumber } from './usage-file.js';

export class Meter {
  readonly components: CostComponent[] = [];
  readonly notEstimated: string[] = [];
  readonly assumptions: string[] = [];
  /** Parts priced from usage (given or not): all-usage resources without usage are "usage-based". */
  usageParts = 0;
  usageGiven = 0;

  constructor(
    readonly table: PriceTable,
    private readonly regionName: string | undefined,
    readonly attrs: Attrs,
    private readonly usageEntry: { entry: UsageEntry; key: string; file: string } | undefined,
  ) {}

  region(): string {
    if (!this.regionName) {
      throw new NotPriced('the region is unknown: set `region` in the provider block (a constant or a root variable)');
    }
    return this.regionName;
  }

  price(table: TableName, key: string): number {
    const found = this.table.lookup(table, this.region(), key);
    if (!found.ok) throw new NotPriced(found.reason);
    return found.price;
  }

  add(name: string, quantity: number, unit: string, unitPrice: number): void {
    if (quantity <= 0) return;
    this.components.push({ name, quantity, unit, unitPrice, monthlyUsd: quantity * unitPrice });
  }

  /** An always-on resource priced per hour, `count` of them. */
  hourly(name: string, table: TableName, key: string, count = 1): void {
    this.add(name, this.table.hoursPerMonth * count, 'hours', this.price(table, key));
  }

  monthly(name: string, quantity: number, unit: string, table: TableName, key: string): void {
    this.add(name, quantity, unit, this.price(table, key));
  }

  usage(path: string): number | undefined {
    return usageNumber(this.usageEntry?.entry, path);
  }

  /**
   * A usage-priced part: priced from the usage file when it states `path` (× `scale` into the table's unit), else
   * listed as not estimated.
   */
  usagePart(name: string, path: string, unit: string, table: TableName, key: string, scale = 1): void {
    this.usageParts += 1;
    const q = this.usage(path);
    if (q === undefined) {
      this.notEstimated.push(name);
      return;
    }
    this.usageGiven += 1;
    this.add(name, q * scale, unit, this.price(table, key));
    this.assume(`${name}: ${q} ${path} from ${this.usageEntry?.file ?? 'the usage file'} (${this.usageEntry?.key})`);
  }

  assume(text: string): void {
    if (!this.assumptions.includes(text)) this.assumptions.push(text);
  }
}

export type Pricer = (m: Meter, a: Attrs) => void;
