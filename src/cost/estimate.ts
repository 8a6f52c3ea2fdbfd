// Plan JSON → ProjectCost with the built-in price table: every managed resource's monthly cost before and after the
// change (each side priced from its own attributes and region), the delta, and the project's totals. A side that is
// not priced keeps its resource out of the totals and says why; usage-priced parts without usage are listed as not
// estimated. Only numbers, type names and the priced attributes' values (never sensitive ones) leave this module.
import { z } from 'zod';
import type { ResourceAction } from '../core/types.js';
import { type CostStatus, cents, type PricedSide, type ProjectCost, type ResourceCost } from '../core/types.js';
import { toAction } from '../terraform/plan-summary.js';
import { Attrs, NotPriced } from './attrs.js';
import { Meter, type Pricer } from './meter.js';
import { builtInPriceTable, type PriceTable } from './price-table.js';
import { AWS_PRICERS } from './pricers/aws.js';
import { AZURE_PRICERS } from './pricers/azure.js';
import { GOOGLE_PRICERS } from './pricers/google.js';
import { RegionResolver } from './region.js';
import type { UsageFile } from './usage-file.js';

const ChangeSchema = z.looseObject({
  actions: z.array(z.string()).min(1),
  before: z.unknown().optional(),
  after: z.unknown().optional(),
  after_unknown: z.unknown().optional(),
  before_sensitive: z.unknown().optional(),
  after_sensitive: z.unknown().optional(),
  importing: z.unknown().optional(),
});

const PlanSchema = z.looseObject({
  format_version: z.string(),
  resource_changes: z
    .array(
      z.looseObject({
        address: z.string().min(1),
        mode: z.string(),
        type: z.string(),
        provider_name: z.string().default(''),
        deposed: z.string().optional(),
        change: ChangeSchema,
      }),
    )
    .default([]),
});

export class CostPlanError extends Error {
  override readonly name = 'CostPlanError';
}

/** A flat monthly price per resource of a type, from the repo config (types the table lacks, internal chargeback). */
export interface CustomPrice {
  monthly_usd: number;
  note?: string | undefined;
}

export interface EstimateOptions {
  table?: PriceTable;
  usage?: UsageFile;
  customPrices?: Record<string, CustomPrice>;
}

type Cloud = 'aws' | 'azure' | 'google';

function cloudOf(type: string): Cloud | undefined {
  if (type.startsWith('aws_')) return 'aws';
  if (type.startsWith('azurerm_')) return 'azure';
  if (type.startsWith('google_')) return 'google';
  return undefined;
}

function pricerFor(type: string, cloud: Cloud | undefined): Pricer | undefined {
  if (cloud === 'aws') return AWS_PRICERS[type];
  if (cloud === 'azure') return AZURE_PRICERS[type];
  if (cloud === 'google') return GOOGLE_PRICERS[type];
  return undefined;
}

function side(status: CostStatus, extra: Partial<PricedSide> = {}): PricedSide {
  return { status, monthlyUsd: 0, components: [], notEstimated: [], assumptions: [], ...extra };
}

interface SideInput {
  address: string;
  type: string;
  providerName: string;
  values: unknown;
  unknown: unknown;
  sensitive: unknown;
}

class Estimator {
  private readonly table: PriceTable;
  private readonly regions: RegionResolver;
  constructor(
    plan: unknown,
    private readonly opts: EstimateOptions,
  ) {
    this.table = opts.table ?? builtInPriceTable();
    this.regions = new RegionResolver(plan);
  }

  price(input: SideInput): PricedSide {
    const { type } = input;
    const custom = this.opts.customPrices?.[type];
    if (custom) {
      const name = `Custom price${custom.note ? ` (${custom.note})` : ''}`;
      return side('priced', {
        monthlyUsd: custom.monthly_usd,
        components: [
          { name, quantity: 1, unit: 'month', unitPrice: custom.monthly_usd, monthlyUsd: custom.monthly_usd },
        ],
        assumptions: ['price from cost.custom_prices in .github/infra-agent.yml'],
      });
    }
    if (this.table.isFree(type)) return side('free');
    const cloud = cloudOf(type);
    const pricer = pricerFor(type, cloud);
    if (!cloud || !pricer) {
      return side('not-priced', {
        reason: cloud
          ? `${type} is not in the built-in price table`
          : `the provider of ${type} is not covered by the built-in price table (AWS, Azure and Google Cloud are)`,
      });
    }
    const region = this.regions.resolve(cloud, input.address, input.providerName, input.values);
    const attrs = new Attrs(input.values, input.unknown, input.sensitive);
    const usage = this.opts.usage?.lookup(input.address, type);
    const meter = new Meter(
      this.table,
      region,
      attrs,
      usage && this.opts.usage ? { ...usage, file: this.opts.usage.file } : undefined,
    );
    try {
      pricer(meter, attrs);
    } catch (err) {
      if (err instanceof NotPriced) return side('not-priced', { reason: err.message, ...(region ? { region } : {}) });
      throw err;
    }
    const monthlyUsd = meter.components.reduce((a, c) => a + c.monthlyUsd, 0);
    const allUsage = meter.usageParts > 0 && meter.usageGiven === 0 && meter.components.length === 0;
    return {
      status: allUsage ? 'usage-based' : 'priced',
      monthlyUsd,
      components: meter.components,
      notEstimated: meter.notEstimated,
      assumptions: meter.assumptions,
      ...(allUsage ? { reason: 'usage-based, not estimated: no usage for it in the usage file' } : {}),
      ...(region ? { region } : {}),
    };
  }
}

function counted(s: PricedSide | undefined): boolean {
  return s === undefined || s.status === 'priced' || s.status === 'free' || s.status === 'usage-based';
}

/** The cost of a plan (`terraform show -json`) with the built-in table, the usage file and the config's prices. */
export function estimatePlanCost(planJson: unknown, opts: EstimateOptions = {}): ProjectCost {
  const parsed = PlanSchema.safeParse(planJson);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new CostPlanError(
      `not a Terraform plan JSON: ${issue?.path.join('.') || 'plan'}: ${issue?.message ?? 'invalid'}`,
    );
  }
  const table = opts.table ?? builtInPriceTable();
  const est = new Estimator(planJson, { ...opts, table });
  const resources: ResourceCost[] = [];
  const counts: Record<CostStatus, number> = { priced: 0, 'usage-based': 0, 'not-priced': 0, free: 0 };
  let before = 0;
  let after = 0;

  for (const rc of parsed.data.resource_changes) {
    if (rc.mode !== 'managed') continue;
    const action: ResourceAction = toAction(rc.change.actions, rc.change.importing != null);
    if (action === 'read') continue;
    const base = { type: rc.type, providerName: rc.provider_name };
    const address = rc.deposed ? `${rc.address} (deposed ${rc.deposed})` : rc.address;
    const hasBefore = rc.change.before != null && action !== 'create' && action !== 'import';
    const hasAfter = rc.change.after != null && action !== 'delete' && action !== 'forget';
    const beforeSide = hasBefore
      ? est.price({
          ...base,
          address: rc.address,
          values: rc.change.before,
          unknown: {},
          sensitive: rc.change.before_sensitive,
        })
      : undefined;
    // An unchanged resource costs the same after: priced once.
    const afterSide =
      hasAfter && action === 'no-op' && beforeSide
        ? beforeSide
        : hasAfter
          ? est.price({
              ...base,
              address: rc.address,
              values: rc.change.after,
              unknown: rc.change.after_unknown,
              sensitive: rc.change.after_sensitive,
            })
          : undefined;
    const main = afterSide ?? beforeSide;
    if (!main) continue;
    const ok = counted(beforeSide) && counted(afterSide);
    const b = beforeSide?.monthlyUsd ?? 0;
    const a = afterSide?.monthlyUsd ?? 0;
    const notOk = [afterSide, beforeSide].find((s) => s && !counted(s));
    const status: CostStatus = notOk ? 'not-priced' : main.status;
    counts[status] += 1;
    if (ok) {
      before += b;
      after += a;
    }
    if (action === 'no-op' && (status === 'free' || (status === 'priced' && a === 0))) continue;
    const reason = notOk
      ? `${notOk === beforeSide && afterSide ? 'before the change: ' : ''}${notOk.reason ?? 'not priced'}`
      : main.reason;
    resources.push({
      address,
      type: rc.type,
      action,
      ...(beforeSide && counted(beforeSide) ? { before: cents(b) } : {}),
      ...(afterSide && counted(afterSide) ? { after: cents(a) } : {}),
      delta: ok ? cents(a - b) : 0,
      status,
      ...(reason ? { reason } : {}),
      components: main.components.map((c) => ({ ...c, monthlyUsd: cents(c.monthlyUsd) })),
      notEstimated: main.notEstimated,
      assumptions: main.assumptions,
      ...(main.region ? { region: main.region } : {}),
    });
  }
  return {
    source: 'built-in',
    currency: 'USD',
    priceSource: table.data.source,
    asOf: table.data.as_of,
    before: cents(before),
    after: cents(after),
    delta: cents(after - before),
    resources,
    counts,
    warnings: [],
  };
}
