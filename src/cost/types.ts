// The cost model every part speaks: what a plan costs per month, per resource, before and after, from the built-in
// price table or from Infracost. Amounts are USD per month (730 hours). A resource the estimate cannot price is never
// a silent zero: it carries a status and the reason.
import type { ResourceAction } from '../core/types.js';

/**
 * - `priced`: every part has a price (usage-priced parts from the usage file when it gives them).
 * - `usage-based`: the whole cost depends on usage nobody stated (object storage, functions…): not estimated.
 * - `not-priced`: the type, region, size or an attribute is not in the table, or only known after apply.
 * - `free`: the provider charges nothing for this type (networks, IAM, security groups…).
 */
export type CostStatus = 'priced' | 'usage-based' | 'not-priced' | 'free';

export interface CostComponent {
  /** e.g. "Instance (t3.micro)", "Storage (gp3)". */
  name: string;
  quantity: number;
  /** e.g. "hours", "GB-month". */
  unit: string;
  unitPrice: number;
  monthlyUsd: number;
}

/** One side (before or after) of one resource, priced. */
export interface PricedSide {
  status: CostStatus;
  monthlyUsd: number;
  components: CostComponent[];
  /** Why it is not priced / usage-based. */
  reason?: string;
  /** Usage-priced parts that were not estimated (no usage given), e.g. "data processed (per GB)". */
  notEstimated: string[];
  /** What the estimate assumed (defaults for values known only after apply, usage from the usage file…). */
  assumptions: string[];
  region?: string;
}

export interface ResourceCost {
  address: string;
  type: string;
  action: ResourceAction;
  /** Monthly cost before the change; undefined when the resource does not exist before (create). */
  before?: number;
  /** Monthly cost after the change; undefined when the resource is gone after (delete). */
  after?: number;
  /** after − before (0 for a side that is not priced). */
  delta: number;
  /** The status of the side that matters: after, or before for a delete. */
  status: CostStatus;
  reason?: string;
  components: CostComponent[];
  notEstimated: string[];
  assumptions: string[];
  region?: string;
}

export type CostSource = 'built-in' | 'infracost';

export interface ProjectCost {
  /** The project name (set by the caller). */
  project?: string;
  source: CostSource;
  currency: 'USD';
  /** Where the prices come from and as of when. */
  priceSource: string;
  asOf: string;
  /** Totals over every resource of the plan (unchanged ones too) whose side is priced. */
  before: number;
  after: number;
  delta: number;
  /** Every resource that changes (any status), and every unchanged resource that costs something. */
  resources: ResourceCost[];
  counts: Record<CostStatus, number>;
  /** Lines a human must see (Infracost configured but missing, a usage file that could not be read…). */
  warnings: string[];
}

/** Round to cents (the model keeps cents; the report decides how to show them). */
export function cents(n: number): number {
  return Math.round(n * 100) / 100;
}
