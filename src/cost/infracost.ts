// Infracost, when the team has it: `infracost breakdown --path plan.json --format json` (its published JSON output
// schema: projects[].breakdown / pastBreakdown / diff with resources[] {name, resourceType, monthlyCost,
// costComponents[], subresources[]}, totalMonthlyCost, pastTotalMonthlyCost, diffTotalMonthlyCost, summary) mapped
// onto the same ProjectCost the built-in table produces, so the report and the policy do not care which priced it.
// Money is a decimal string (or null when usage-based with no usage). Actions come from the plan itself.
import { delimiter, join, resolve } from 'node:path';
import { z } from 'zod';
import type { ResourceAction } from '../core/types.js';
import { type CostComponent, type CostStatus, cents, type ProjectCost, type ResourceCost } from '../core/types.js';
import { ExecError, run } from '../sandbox/exec.js';
import { toAction } from '../terraform/plan-summary.js';
import { isExecutable, toolsDir } from '../toolchain/tools.js';

const Money = z.union(
  [
    z.number().finite(),
    z
      .string()
      .regex(/^-?\d+(\.\d+)?$/, 'a decimal amount')
      .transform(Number),
  ],
  { message: 'a decimal amount' },
);

const ComponentSchema = z.looseObject({
  name: z.string(),
  unit: z.string().default(''),
  monthlyQuantity: Money.nullable().optional(),
  price: Money.nullable().optional(),
  monthlyCost: Money.nullable().optional(),
  usageBased: z.boolean().optional(),
});

interface InfracostResource {
  name: string;
  resourceType?: string | undefined;
  monthlyCost?: number | null | undefined;
  costComponents?: z.infer<typeof ComponentSchema>[] | null | undefined;
  subresources?: InfracostResource[] | null | undefined;
}

const ResourceSchema: z.ZodType<InfracostResource, unknown> = z.lazy(() =>
  z.looseObject({
    name: z.string(),
    resourceType: z.string().optional(),
    monthlyCost: Money.nullable().optional(),
    costComponents: z.array(ComponentSchema).nullable().optional(),
    subresources: z.array(ResourceSchema).nullable().optional(),
  }),
);

const BreakdownSchema = z.looseObject({
  resources: z.array(ResourceSchema).nullable().default([]),
  totalMonthlyCost: Money.nullable().optional(),
});

export const InfracostOutputSchema = z.looseObject({
  version: z.string(),
  currency: z.string().default('USD'),
  projects: z.array(
    z.looseObject({
      name: z.string().default(''),
      breakdown: BreakdownSchema.nullable().optional(),
      pastBreakdown: BreakdownSchema.nullable().optional(),
      diff: BreakdownSchema.nullable().optional(),
    }),
  ),
  totalMonthlyCost: Money.nullable().optional(),
  pastTotalMonthlyCost: Money.nullable().optional(),
  diffTotalMonthlyCost: Money.nullable().optional(),
  timeGenerated: z.string().optional(),
  summary: z
    .looseObject({
      unsupportedResourceCounts: z.record(z.string(), z.number()).nullable().optional(),
      noPriceResourceCounts: z.record(z.string(), z.number()).nullable().optional(),
    })
    .optional(),
});

export class InfracostError extends Error {
  override readonly name = 'InfracostError';
}

const PlanActions = z.looseObject({
  resource_changes: z
    .array(
      z.looseObject({
        address: z.string(),
        mode: z.string(),
        type: z.string(),
        change: z.looseObject({ actions: z.array(z.string()).min(1) }),
      }),
    )
    .default([]),
});

interface Side {
  monthly: number | null;
  components: CostComponent[];
  usageBased: boolean;
}

function flatten(r: InfracostResource, prefix = ''): Side {
  const components: CostComponent[] = [];
  let usageBased = false;
  for (const c of r.costComponents ?? []) {
    const monthly = c.monthlyCost ?? null;
    if (c.usageBased && monthly === null) usageBased = true;
    if (monthly === null) continue;
    components.push({
      name: `${prefix}${c.name}`,
      quantity: c.monthlyQuantity ?? 0,
      unit: c.unit,
      unitPrice: c.price ?? 0,
      monthlyUsd: cents(monthly),
    });
  }
  for (const sub of r.subresources ?? []) {
    const s = flatten(sub, `${prefix}${sub.name}: `);
    components.push(...s.components);
    usageBased ||= s.usageBased;
  }
  return { monthly: r.monthlyCost ?? null, components, usageBased };
}

function sum(values: (number | null | undefined)[]): number {
  return values.reduce<number>((a, v) => a + (v ?? 0), 0);
}

/** Infracost's JSON (already parsed) + the plan it priced → ProjectCost. */
export function infracostToProjectCost(output: unknown, planJson: unknown): ProjectCost {
  const parsed = InfracostOutputSchema.safeParse(output);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new InfracostError(
      `Infracost output is not in its JSON format: ${issue?.path.join('.') || '(root)'}: ${issue?.message ?? 'invalid'}`,
    );
  }
  const out = parsed.data;
  if (out.currency !== 'USD') throw new InfracostError(`Infracost priced in ${out.currency}; infra-agent reports USD`);
  const past = new Map<string, InfracostResource>();
  const now = new Map<string, InfracostResource>();
  for (const p of out.projects) {
    for (const r of p.pastBreakdown?.resources ?? []) past.set(r.name, r);
    for (const r of p.breakdown?.resources ?? []) now.set(r.name, r);
  }
  const plan = PlanActions.safeParse(planJson);
  const changes = plan.success ? plan.data.resource_changes.filter((rc) => rc.mode === 'managed') : [];
  const unsupported = out.summary?.unsupportedResourceCounts ?? {};
  const resources: ResourceCost[] = [];
  const counts: Record<CostStatus, number> = { priced: 0, 'usage-based': 0, 'not-priced': 0, free: 0 };
  const seen = new Set<string>();

  const entry = (address: string, type: string, action: ResourceAction) => {
    seen.add(address);
    const b = past.get(address);
    const a = now.get(address);
    const bs = b ? flatten(b) : undefined;
    const as = a ? flatten(a) : undefined;
    const main = as ?? bs;
    let status: CostStatus;
    let reason: string | undefined;
    if (!main) {
      if (unsupported[type] !== undefined) {
        status = 'not-priced';
        reason = `Infracost does not support ${type}`;
      } else status = 'free';
    } else if (main.monthly === null && main.usageBased) {
      status = 'usage-based';
      reason = 'usage-based, not estimated: no usage for it in the usage file';
    } else status = 'priced';
    counts[status] += 1;
    const before = bs?.monthly ?? (bs ? 0 : undefined);
    const after = as?.monthly ?? (as ? 0 : undefined);
    if (action === 'no-op' && (status === 'free' || !after)) return;
    if (status === 'free' && action !== 'no-op') {
      resources.push({ address, type, action, delta: 0, status, components: [], notEstimated: [], assumptions: [] });
      return;
    }
    const hasBefore = action !== 'create' && action !== 'import';
    const hasAfter = action !== 'delete' && action !== 'forget';
    const braw = hasBefore ? before : undefined;
    const araw = hasAfter ? after : undefined;
    const bv = braw !== undefined ? cents(braw) : undefined;
    const av = araw !== undefined ? cents(araw) : undefined;
    resources.push({
      address,
      type,
      action,
      ...(bv !== undefined && status !== 'not-priced' ? { before: bv } : {}),
      ...(av !== undefined && status !== 'not-priced' ? { after: av } : {}),
      delta: status === 'not-priced' ? 0 : cents((araw ?? 0) - (braw ?? 0)),
      status,
      ...(reason ? { reason } : {}),
      components: main?.components ?? [],
      notEstimated: main?.usageBased && status === 'priced' ? ['usage-priced parts without usage'] : [],
      assumptions: [],
    });
  };

  for (const rc of changes) {
    const action = toAction(rc.change.actions);
    if (action === 'read') continue;
    entry(rc.address, rc.type, action);
  }
  // Resources Infracost priced that the plan JSON did not list (older plans): unchanged.
  for (const [name, r] of now) if (!seen.has(name)) entry(name, r.resourceType ?? name.split('.')[0] ?? '', 'no-op');

  const before = out.pastTotalMonthlyCost ?? sum(out.projects.map((p) => p.pastBreakdown?.totalMonthlyCost));
  const after = out.totalMonthlyCost ?? sum(out.projects.map((p) => p.breakdown?.totalMonthlyCost));
  const delta = out.diffTotalMonthlyCost ?? after - before;
  return {
    source: 'infracost',
    currency: 'USD',
    priceSource: `Infracost Cloud Pricing API (output version ${out.version})`,
    asOf: out.timeGenerated?.slice(0, 10) ?? 'unknown',
    before: cents(before),
    after: cents(after),
    delta: cents(delta),
    resources,
    counts,
    warnings: [],
  };
}

/** The Infracost binary: INFRA_AGENT_INFRACOST_BIN, else .tools/bin/infracost, else PATH. */
export function findInfracost(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const override = env['INFRA_AGENT_INFRACOST_BIN'];
  if (override) {
    if (override.includes('/')) return isExecutable(resolve(override)) ? resolve(override) : undefined;
  }
  const name = override || 'infracost';
  const pinned = join(toolsDir(), 'bin', name);
  if (!override && isExecutable(pinned)) return pinned;
  for (const dir of (env['PATH'] ?? '').split(delimiter)) {
    if (dir && isExecutable(join(dir, name))) return join(dir, name);
  }
  return undefined;
}

export interface RunInfracostOptions {
  binary: string;
  apiKey: string;
  planJsonPath: string;
  usageFile?: string;
  signal?: AbortSignal;
  timeoutMs?: number;
}

/** Runs `infracost breakdown` on a plan JSON file and returns its parsed JSON output. */
export async function runInfracost(opts: RunInfracostOptions): Promise<unknown> {
  const args = ['breakdown', '--path', opts.planJsonPath, '--format', 'json', '--no-color', '--log-level', 'warn'];
  if (opts.usageFile) args.push('--usage-file', opts.usageFile);
  try {
    const res = await run(opts.binary, args, {
      env: { INFRACOST_API_KEY: opts.apiKey, INFRACOST_SKIP_UPDATE_CHECK: 'true', INFRACOST_NO_COLOR: 'true' },
      timeoutMs: opts.timeoutMs ?? 120_000,
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
    try {
      return JSON.parse(res.stdout);
    } catch {
      throw new InfracostError('Infracost did not print JSON');
    }
  } catch (err) {
    if (err instanceof ExecError) throw new InfracostError(`Infracost failed: ${err.tail(3)}`);
    throw err;
  }
}
