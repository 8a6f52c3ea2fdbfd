// Benchmark: cost estimation of a 1,000-resource plan (goal: well under a second), beside the same run's baseline of
// parsing the plan JSON alone (JSON.parse + the PlanSummary every run already makes). The plan is generated in
// Terraform's plan JSON format: priced AWS/Azure/Google types in several regions, usage-based, not-priced and free
// types, creates/updates/deletes/no-ops, two provider configurations. `npx tsx bench/cost.ts`; writes
// bench/results/cost.json. `benchCost()` is exported for bench/run.ts.
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { estimatePlanCost } from '../src/cost/estimate.js';
import { summarizePlan } from '../src/terraform/plan-summary.js';

const HERE = dirname(fileURLToPath(import.meta.url));

export interface CostBenchResult {
  resources: number;
  planBytes: number;
  runs: number;
  /** JSON.parse + summarizePlan. */
  baselineMs: number[];
  /** JSON.parse + summarizePlan + estimatePlanCost. */
  withCostMs: number[];
  /** estimatePlanCost alone, on the parsed plan. */
  costOnlyMs: number[];
  medianBaselineMs: number;
  medianWithCostMs: number;
  medianCostOnlyMs: number;
  after: number;
  counts: Record<string, number>;
}

const KINDS: [string, (i: number) => Record<string, unknown>, string][] = [
  [
    'aws_instance',
    (i) => ({
      instance_type: ['t3.micro', 'm5.large', 'c5.xlarge'][i % 3],
      root_block_device: [{ volume_size: 20 + (i % 5), volume_type: 'gp3' }],
    }),
    'aws',
  ],
  [
    'aws_db_instance',
    (i) => ({
      engine: i % 2 ? 'postgres' : 'mysql',
      instance_class: 'db.t3.medium',
      allocated_storage: 100,
      multi_az: i % 4 === 0,
    }),
    'aws',
  ],
  [
    'aws_ebs_volume',
    (i) => ({ size: 50 + i, type: i % 2 ? 'gp3' : 'io1', iops: 3000 + i, availability_zone: 'eu-west-1a' }),
    'aws',
  ],
  ['aws_nat_gateway', () => ({ connectivity_type: 'public' }), 'aws'],
  ['aws_lb', () => ({ load_balancer_type: 'application' }), 'aws'],
  ['aws_elasticache_cluster', () => ({ node_type: 'cache.t3.small', num_cache_nodes: 2 }), 'aws'],
  ['aws_s3_bucket', (i) => ({ bucket: `b-${i}` }), 'aws'],
  ['aws_security_group', (i) => ({ name: `sg-${i}` }), 'aws'],
  ['aws_mq_broker', () => ({ host_instance_type: 'mq.t3.micro' }), 'aws'],
  [
    'azurerm_linux_virtual_machine',
    () => ({
      size: 'Standard_D2s_v5',
      location: 'westeurope',
      os_disk: [{ storage_account_type: 'Premium_LRS', disk_size_gb: 128 }],
    }),
    'azurerm',
  ],
  [
    'google_compute_instance',
    () => ({
      machine_type: 'e2-standard-2',
      zone: 'us-central1-b',
      boot_disk: [{ initialize_params: [{ size: 50, type: 'pd-ssd' }] }],
    }),
    'google',
  ],
  [
    'google_sql_database_instance',
    () => ({
      database_version: 'POSTGRES_16',
      settings: [{ tier: 'db-custom-2-7680', availability_type: 'REGIONAL', disk_size: 100 }],
    }),
    'google',
  ],
];

/** A plan JSON document with `n` managed resources (as text, the way `terraform show -json` prints it). */
export function generatePlan(n: number): string {
  const changes: unknown[] = [];
  const configResources: unknown[] = [];
  for (let i = 0; i < n; i++) {
    const kind = KINDS[i % KINDS.length];
    if (!kind) throw new Error('no kinds');
    const [type, attrs, provider] = kind;
    const name = `r${i}`;
    const address = `${type}.${name}`;
    const after = { ...attrs(i), tags: { Name: name } };
    const mode = i % 10;
    const actions = mode < 5 ? ['create'] : mode < 7 ? ['update'] : mode < 8 ? ['delete'] : ['no-op'];
    const before = actions[0] === 'create' ? null : { ...after, id: `id-${i}` };
    const afterValue = actions[0] === 'delete' ? null : after;
    changes.push({
      address,
      mode: 'managed',
      type,
      name,
      provider_name: `registry.terraform.io/hashicorp/${provider}`,
      change: {
        actions,
        before,
        after: afterValue,
        after_unknown: afterValue ? { id: true } : {},
        before_sensitive: {},
        after_sensitive: {},
      },
    });
    const key = provider === 'aws' ? (i % 2 ? 'aws.ireland' : 'aws') : provider;
    configResources.push({ address, mode: 'managed', type, name, provider_config_key: key });
  }
  return JSON.stringify({
    format_version: '1.2',
    terraform_version: '1.11.4',
    variables: { region: { value: 'us-east-1' } },
    resource_changes: changes,
    configuration: {
      provider_config: {
        aws: {
          name: 'aws',
          full_name: 'registry.terraform.io/hashicorp/aws',
          expressions: { region: { references: ['var.region'] } },
        },
        'aws.ireland': { name: 'aws', alias: 'ireland', expressions: { region: { constant_value: 'eu-west-1' } } },
        google: { name: 'google', expressions: { region: { constant_value: 'us-central1' } } },
        azurerm: { name: 'azurerm', expressions: {} },
      },
      root_module: { resources: configResources },
    },
  });
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] ?? 0) : ((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2;
}

const r2 = (n: number) => Math.round(n * 100) / 100;

export async function benchCost(
  opts: { resources?: number; runs?: number; out?: string } = {},
): Promise<CostBenchResult> {
  const n = opts.resources ?? 1000;
  const runs = opts.runs ?? 15;
  const text = generatePlan(n);
  const baselineMs: number[] = [];
  const withCostMs: number[] = [];
  const costOnlyMs: number[] = [];
  let last: ReturnType<typeof estimatePlanCost> | undefined;
  // Warm-up: the price table is validated once per process, and the JIT settles.
  for (let i = 0; i < 3; i++) estimatePlanCost(JSON.parse(text));
  for (let i = 0; i < runs; i++) {
    // Alternate the order so neither side always runs on a warmer heap.
    const measureBaseline = () => {
      const t = performance.now();
      summarizePlan(JSON.parse(text));
      baselineMs.push(performance.now() - t);
    };
    const measureWithCost = () => {
      const t = performance.now();
      const plan: unknown = JSON.parse(text);
      summarizePlan(plan);
      const t1 = performance.now();
      last = estimatePlanCost(plan);
      const t2 = performance.now();
      withCostMs.push(t2 - t);
      costOnlyMs.push(t2 - t1);
    };
    if (i % 2) {
      measureBaseline();
      measureWithCost();
    } else {
      measureWithCost();
      measureBaseline();
    }
  }
  const result: CostBenchResult = {
    resources: n,
    planBytes: text.length,
    runs,
    baselineMs: baselineMs.map(r2),
    withCostMs: withCostMs.map(r2),
    costOnlyMs: costOnlyMs.map(r2),
    medianBaselineMs: r2(median(baselineMs)),
    medianWithCostMs: r2(median(withCostMs)),
    medianCostOnlyMs: r2(median(costOnlyMs)),
    after: last?.after ?? 0,
    counts: last?.counts ?? {},
  };
  const out = opts.out ?? join(HERE, 'results', 'cost.json');
  await mkdir(dirname(out), { recursive: true });
  await writeFile(out, `${JSON.stringify(result, null, 2)}\n`);
  return result;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  benchCost().then(
    (r) => {
      process.stdout.write(
        `cost estimate of a ${r.resources}-resource plan (${(r.planBytes / 1024).toFixed(0)} KiB): ${r.medianCostOnlyMs} ms ` +
          `(parse + summary + cost ${r.medianWithCostMs} ms vs parse + summary ${r.medianBaselineMs} ms, median of ${r.runs}); ` +
          `counts ${JSON.stringify(r.counts)}\n`,
      );
    },
    (err: unknown) => {
      process.stderr.write(`bench/cost: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
