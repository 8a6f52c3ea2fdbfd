// The built-in estimate on plan JSON documents: hand-written ones in Terraform's real plan format (no cloud provider
// can be installed here, so no real AWS/Azure/Google plan can be made), the repo's own policy fixture plans, with
// every expected figure worked out by hand from the table (730 hours a month).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ProjectCost, ResourceCost } from '../../src/core/types.js';
import { estimatePlanCost } from '../../src/cost/estimate.js';
import { builtInPriceTable, PriceTableError, parsePriceTable } from '../../src/cost/price-table.js';
import { parseUsageFile, UsageFileError } from '../../src/cost/usage-file.js';

const dir = join(import.meta.dirname, '..', 'fixtures', 'cost', 'plans');
const plan = (name: string): unknown => JSON.parse(readFileSync(join(dir, name), 'utf8'));
const policyPlan = (name: string): unknown =>
  JSON.parse(readFileSync(join(import.meta.dirname, '..', 'fixtures', 'policy', 'plans', name), 'utf8'));

function res(cost: ProjectCost, address: string): ResourceCost {
  const r = cost.resources.find((x) => x.address === address);
  if (!r) throw new Error(`${address} not in ${cost.resources.map((x) => x.address).join(', ')}`);
  return r;
}

describe('built-in estimate', () => {
  it('prices a new instance, database, NAT gateway and load balancer (region from var.region)', () => {
    const cost = estimatePlanCost(plan('aws-create.json'));
    // t3.micro 0.0104 × 730 = 7.592; 20 GB gp3 × 0.08 = 1.60
    expect(res(cost, 'aws_instance.web')).toMatchObject({
      action: 'create',
      after: 9.19,
      delta: 9.19,
      status: 'priced',
      region: 'us-east-1',
    });
    expect(res(cost, 'aws_instance.web').before).toBeUndefined();
    // db.t3.micro postgres 0.018 × 730 = 13.14; 20 GB gp2 × 0.115 = 2.30
    expect(res(cost, 'aws_db_instance.db')).toMatchObject({ after: 15.44, delta: 15.44, status: 'priced' });
    // 0.045 × 730 = 32.85; data processed is usage: listed, not zero-priced silently
    const nat = res(cost, 'aws_nat_gateway.nat');
    expect(nat).toMatchObject({ after: 32.85, status: 'priced' });
    expect(nat.notEstimated).toEqual(['Data processed']);
    // ALB 0.0225 × 730 = 16.425
    expect(res(cost, 'aws_lb.web')).toMatchObject({ after: 16.43, status: 'priced' });
    expect(res(cost, 'aws_lb.web').notEstimated[0]).toMatch(/LCU/);
    // usage-based, marked, no amount
    const s3 = res(cost, 'aws_s3_bucket.assets');
    expect(s3.status).toBe('usage-based');
    expect(s3.reason).toMatch(/usage-based, not estimated/);
    expect(s3.after).toBe(0);
    // an unknown type: not priced with the reason, never a silent zero
    const mq = res(cost, 'aws_mq_broker.events');
    expect(mq.status).toBe('not-priced');
    expect(mq.reason).toBe('aws_mq_broker is not in the built-in price table');
    expect(mq.after).toBeUndefined();
    expect(cost.resources.find((r) => r.address === 'aws_vpc.main')?.status).toBe('free');
    // 7.592 + 1.60 + 13.14 + 2.30 + 32.85 + 16.425 = 73.907
    expect(cost).toMatchObject({ before: 0, after: 73.91, delta: 73.91, source: 'built-in', asOf: '2025-06' });
    expect(cost.counts).toEqual({ priced: 4, 'usage-based': 1, 'not-priced': 1, free: 1 });
  });

  it('a changed instance type shows the right delta, a destroy shows a saving, unchanged resources stay in the totals', () => {
    const cost = estimatePlanCost(plan('aws-resize-and-destroy.json'));
    // t3.micro → t3.large: 9.192 → 0.0832 × 730 + 1.60 = 62.336
    expect(res(cost, 'aws_instance.web')).toMatchObject({ action: 'update', before: 9.19, after: 62.34, delta: 53.14 });
    expect(res(cost, 'aws_nat_gateway.nat')).toMatchObject({ action: 'delete', before: 32.85, delta: -32.85 });
    expect(res(cost, 'aws_nat_gateway.nat').after).toBeUndefined();
    expect(res(cost, 'aws_db_instance.db')).toMatchObject({ action: 'no-op', before: 15.44, after: 15.44, delta: 0 });
    // before 9.192 + 32.85 + 15.44 = 57.482; after 62.336 + 15.44 = 77.776
    expect(cost).toMatchObject({ before: 57.48, after: 77.78, delta: 20.29 });
  });

  it('replace, provider aliases, a region the table lacks and a value known only after apply', () => {
    const cost = estimatePlanCost(plan('aws-replace-regions.json'));
    // Multi-AZ db.t3.micro → db.t3.small in eu-west-1: 2 × 730 × (0.019 → 0.038) + 2 × 20 × 0.127
    expect(res(cost, 'aws_db_instance.main')).toMatchObject({
      action: 'replace',
      before: 32.82,
      after: 60.56,
      delta: 27.74,
      region: 'eu-west-1',
    });
    const syd = res(cost, 'aws_instance.sydney');
    expect(syd.status).toBe('not-priced');
    expect(syd.reason).toMatch(/^region ap-southeast-2 is not in the built-in price table/);
    expect(res(cost, 'aws_instance.later')).toMatchObject({
      status: 'not-priced',
      reason: 'instance_type is known only after apply',
    });
    // 2 × cache.t3.small 0.036 × 730 = 52.56; EKS 0.10 × 730 = 73
    expect(res(cost, 'aws_elasticache_cluster.cache').after).toBe(52.56);
    expect(res(cost, 'aws_eks_cluster.main').after).toBe(73);
    expect(cost).toMatchObject({ before: 32.82, after: 186.12, delta: 153.3 });
  });

  it('Azure and Google Cloud: VMs and disks, AKS, Cloud SQL HA, GKE, Memorystore; storage usage-based', () => {
    const cost = estimatePlanCost(plan('azure-google-create.json'));
    // "East US" → eastus: B2s 0.0416 × 730 = 30.368 + P6 10.21
    expect(res(cost, 'azurerm_linux_virtual_machine.app')).toMatchObject({ after: 40.58, region: 'eastus' });
    // Standard tier 73 + 2 × D2s_v5 westeurope 0.115 × 730 = 167.9 + 2 × P10 21.68
    expect(res(cost, 'azurerm_kubernetes_cluster.aks').after).toBe(284.26);
    // e2-medium 0.033503 × 730 = 24.457 + 20 GB pd-balanced 2.00; zone us-central1-a → us-central1
    expect(res(cost, 'google_compute_instance.vm')).toMatchObject({ after: 26.46, region: 'us-central1' });
    // REGIONAL: 2 × (2 vCPU × 730 × 0.0413 + 7.5 GB × 730 × 0.007 + 50 GB × 0.17)
    expect(res(cost, 'google_sql_database_instance.db').after).toBe(214.25);
    expect(res(cost, 'google_container_cluster.gke').after).toBe(73);
    // STANDARD_HA 5 GB in europe-west1: 5 × 730 × 0.059
    expect(res(cost, 'google_redis_instance.cache')).toMatchObject({ after: 215.35, region: 'europe-west1' });
    expect(res(cost, 'azurerm_storage_account.logs').status).toBe('usage-based');
    expect(res(cost, 'google_storage_bucket.data').status).toBe('usage-based');
    expect(cost.after).toBe(853.89);
  });

  it("the repo's own policy fixture plans: Multi-AZ RDS in eu-west-1, and a database whose class is not set", () => {
    const compliant = estimatePlanCost(policyPlan('compliant.json'));
    // db.t3.micro postgres Multi-AZ eu-west-1: 2 × 0.019 × 730 = 27.74; 2 × 20 GB gp2 × 0.127 = 5.08
    expect(res(compliant, 'aws_db_instance.db')).toMatchObject({ after: 32.82, region: 'eu-west-1' });
    expect(res(compliant, 'aws_db_instance.db').assumptions).toContain('storage type: gp2 (the RDS default)');
    expect(res(compliant, 'aws_kms_key.db').after).toBe(1);
    expect(compliant.after).toBe(33.82);
    const vulnerable = estimatePlanCost(policyPlan('vulnerable.json'));
    expect(res(vulnerable, 'aws_db_instance.db')).toMatchObject({
      status: 'not-priced',
      reason: 'instance_class is not set',
    });
    // t3.micro 7.592 + an 8 GB gp3 root volume assumed (its size comes from the image) 0.64
    const web = res(vulnerable, 'aws_instance.web');
    expect(web.after).toBe(8.23);
    expect(web.assumptions.join(' ')).toMatch(/8 GB/);
    // 10 GB in us-east-1a, type unset → gp3 0.08
    expect(res(vulnerable, 'aws_ebs_volume.data')).toMatchObject({ after: 0.8, region: 'us-east-1' });
  });

  it('usage-priced resources are priced from an Infracost usage file (exact address, [*] and type defaults)', () => {
    const usage = parseUsageFile(
      [
        'version: 0.1',
        'resource_type_default_usage:',
        '  aws_nat_gateway:',
        '    monthly_data_processed_gb: 100',
        'resource_usage:',
        '  aws_s3_bucket.assets:',
        '    standard:',
        '      storage_gb: 1000',
        '      monthly_tier_1_requests: 200000',
        '      monthly_tier_2_requests: 5000000',
      ].join('\n'),
      'infracost-usage.yml',
    );
    const cost = estimatePlanCost(plan('aws-create.json'), { usage });
    // 1000 × 0.023 + 200 × 0.005 + 5000 × 0.0004 = 23 + 1 + 2
    const s3 = res(cost, 'aws_s3_bucket.assets');
    expect(s3).toMatchObject({ status: 'priced', after: 26 });
    expect(s3.assumptions.join(' ')).toContain('infracost-usage.yml');
    // 32.85 + 100 GB × 0.045
    expect(res(cost, 'aws_nat_gateway.nat')).toMatchObject({ after: 37.35, notEstimated: [] });
    expect(cost.after).toBe(104.41);
  });

  it('custom prices from the config price a type the table lacks', () => {
    const cost = estimatePlanCost(plan('aws-create.json'), {
      customPrices: { aws_mq_broker: { monthly_usd: 27.5, note: 'mq.t3.micro list price' } },
    });
    expect(res(cost, 'aws_mq_broker.events')).toMatchObject({ status: 'priced', after: 27.5 });
  });

  it('a sensitive priced attribute is priced but never named', () => {
    const p = plan('aws-create.json') as { resource_changes: { address: string; change: Record<string, unknown> }[] };
    const web = p.resource_changes.find((r) => r.address === 'aws_instance.web');
    if (!web) throw new Error('fixture changed');
    web.change['after_sensitive'] = { instance_type: true };
    const cost = estimatePlanCost(p);
    const r = res(cost, 'aws_instance.web');
    expect(r.after).toBe(9.19);
    expect(JSON.stringify(r)).not.toContain('t3.micro');
  });
});

describe('bad input', () => {
  it('a malformed usage file names the file and the key', () => {
    expect(() => parseUsageFile('version: 0.2\n', 'envs/prod/infracost-usage.yml')).toThrow(
      new UsageFileError(
        'malformed usage file envs/prod/infracost-usage.yml: version: must be 0.1 (the Infracost usage-file version)',
      ),
    );
    expect(() =>
      parseUsageFile(
        'version: 0.1\nresource_usage:\n  aws_s3_bucket.a:\n    standard:\n      storage_gb: lots\n',
        'u.yml',
      ),
    ).toThrow(/^malformed usage file u\.yml: resource_usage\.aws_s3_bucket\.a\.standard/);
    expect(() => parseUsageFile('version: 0.1\n  bad: [', 'u.yml')).toThrow(/^malformed usage file u\.yml:/);
  });

  it('a malformed price table names the file and the key', () => {
    const good = builtInPriceTable().data;
    const bad = structuredClone(good) as unknown as {
      tables: Record<string, { prices: Record<string, Record<string, unknown>> }>;
    };
    const ec2 = bad.tables['aws_ec2_hourly']?.prices['us-east-1'];
    if (!ec2) throw new Error('table changed');
    ec2['t3.micro'] = '0.0104';
    expect(() => parsePriceTable(bad, 'prices.json')).toThrow(
      new PriceTableError(
        'malformed price table prices.json: tables.aws_ec2_hourly.prices.us-east-1.t3.micro: Invalid input: expected number, received string',
      ),
    );
    const missing = structuredClone(good) as unknown as { tables: Record<string, unknown> };
    delete missing.tables['aws_usage'];
    expect(() => parsePriceTable(missing, 'prices.json')).toThrow(
      'malformed price table prices.json: tables.aws_usage: missing',
    );
    const undated = { ...structuredClone(good), as_of: 'recently' };
    expect(() => parsePriceTable(undated, 'prices.json')).toThrow(/as_of: a date like 2025-06/);
  });

  it('the built-in table states its source and date and only lists regions it has prices for', () => {
    const t = builtInPriceTable().data;
    expect(t.source).toMatch(/on-demand list prices/);
    expect(t.as_of).toMatch(/^\d{4}-\d{2}/);
    for (const table of Object.values(t.tables)) {
      for (const region of Object.keys(table.prices)) {
        expect(Object.values(t.regions).flat()).toContain(region);
      }
    }
  });
});
