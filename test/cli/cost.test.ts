// `infra-agent cost`: on the fixture plans, on bad input, and on plans made by real terraform (terraform_data, the
// only resources terraform can plan here without a cloud provider, priced through `cost.custom_prices`).
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main as cost } from '../../src/cli/cost.js';
import { Terraform } from '../../src/terraform/engine.js';
import { captureOutput } from '../helpers/capture-output.js';
import { describeWithTools } from '../helpers/tools.js';

const PLANS = join(import.meta.dirname, '..', 'fixtures', 'cost', 'plans');

const capture = captureOutput;

describe('infra-agent cost --plan', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cost-cli-'));
  });
  afterAll(async () => rm(dir, { recursive: true, force: true }));

  it('prints the estimate as markdown and as JSON', async () => {
    const md = await capture(() => cost([dir, '--plan', join(PLANS, 'aws-resize-and-destroy.json')]));
    expect(md.code).toBe(0);
    expect(md.out).toContain('$57.48 → $77.78 (+$20.29)');
    expect(md.out).toContain('| `aws_instance.web` | update | $9.19 | $62.34 | +$53.14 |');
    expect(md.out).toContain('| `aws_nat_gateway.nat` | delete | $32.85 | — | −$32.85 |');
    const json = await capture(() => cost([dir, '--plan', join(PLANS, 'aws-create.json'), '--format', 'json']));
    expect(json.code).toBe(0);
    const parsed = JSON.parse(json.out) as {
      after: number;
      source: string;
      resources: { address: string; status: string; reason?: string }[];
    };
    expect(parsed.after).toBe(73.91);
    expect(parsed.source).toBe('built-in');
    expect(parsed.resources.find((r) => r.address === 'aws_mq_broker.events')).toMatchObject({
      status: 'not-priced',
      reason: 'aws_mq_broker is not in the built-in price table',
    });
  });

  it('bad input: a malformed usage file, plan or config is an error naming the file and key (exit 2)', async () => {
    await writeFile(
      join(dir, 'infracost-usage.yml'),
      'version: 0.1\nresource_usage:\n  aws_s3_bucket.assets:\n    standard: { storage_gb: "many" }\n',
    );
    const usage = await capture(() => cost([dir, '--plan', join(PLANS, 'aws-create.json')]));
    expect(usage.code).toBe(2);
    expect(usage.err).toContain(`malformed usage file`);
    expect(usage.err).toContain('infracost-usage.yml: resource_usage.aws_s3_bucket.assets.standard.storage_gb');
    await rm(join(dir, 'infracost-usage.yml'));
    await writeFile(join(dir, 'bad.json'), '{"resource_changes": []}');
    const plan = await capture(() => cost([dir, '--plan', join(dir, 'bad.json')]));
    expect(plan.code).toBe(2);
    expect(plan.err).toMatch(/bad\.json is not a plan from `terraform show -json`: format_version/);
    await writeFile(join(dir, 'cfg.yml'), 'cost:\n  custom_prices:\n    aws_mq_broker: { monthly_usd: -1 }\n');
    const cfg = await capture(() =>
      cost([dir, '--plan', join(PLANS, 'aws-create.json'), '--config', join(dir, 'cfg.yml')]),
    );
    expect(cfg.code).toBe(2);
    expect(cfg.err).toContain('cost.custom_prices.aws_mq_broker.monthly_usd');
    expect((await capture(() => cost([dir, '--format', 'sarif']))).code).toBe(2);
  });
});

describeWithTools(['terraform'], 'infra-agent cost on plans made by real terraform', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cost-cli-tf-'));
    await writeFile(
      join(dir, 'infra-agent.yml'),
      'cost:\n  custom_prices:\n    terraform_data: { monthly_usd: 40, note: "internal chargeback per worker" }\n',
    );
  });
  afterAll(async () => rm(dir, { recursive: true, force: true }));

  it('plans the directory itself; after an apply, a smaller count shows the saving', async () => {
    const cfg = join(dir, 'infra-agent.yml');
    await writeFile(
      join(dir, 'main.tf'),
      'resource "terraform_data" "worker" {\n  count = 3\n  input = count.index\n}\n',
    );
    const first = await capture(() => cost([dir, '--config', cfg, '--format', 'json']));
    expect(first.code, first.err).toBe(0);
    const created = JSON.parse(first.out) as {
      before: number;
      after: number;
      delta: number;
      resources: { action: string }[];
    };
    // 3 × $40
    expect(created).toMatchObject({ before: 0, after: 120, delta: 120 });
    expect(created.resources.map((r) => r.action)).toEqual(['create', 'create', 'create']);

    const tf = new Terraform();
    const planFile = join(dir, 'tfplan');
    await tf.plan(dir, { out: planFile });
    await tf.apply(dir, planFile);
    await writeFile(
      join(dir, 'main.tf'),
      'resource "terraform_data" "worker" {\n  count = 1\n  input = count.index\n}\n',
    );
    const second = await capture(() => cost([dir, '--config', cfg]));
    expect(second.code, second.err).toBe(0);
    expect(second.out).toContain('$120.00 → $40.00 (−$80.00)');
    expect(second.out).toContain('| `terraform_data.worker[2]` | delete | $40.00 | — | −$40.00 |');
  }, 120_000);
});
