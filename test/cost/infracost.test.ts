// The Infracost adapter. Infracost cannot be installed here and cannot reach its pricing API (no network), so its
// output is a document written to Infracost's published JSON schema (version 0.2: projects[].pastBreakdown /
// breakdown / diff, resources[] with monthlyCost and costComponents, subresources, decimal strings, null for
// usage-based) for the fixture plan aws-resize-and-destroy.json, not a recording of a real run. Where a process is
// needed, a small script stands in for the binary to check the argv and environment we give it.
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CostConfigSchema } from '../../src/config/schema.js';
import { InfracostError, infracostToProjectCost } from '../../src/cost/infracost.js';
import { estimateProjectCost } from '../../src/cost/project-cost.js';
import { UsageFileError } from '../../src/cost/usage-file.js';

const fixtures = join(import.meta.dirname, '..', 'fixtures', 'cost');
const read = async (p: string): Promise<unknown> => JSON.parse(await readFile(join(fixtures, p), 'utf8'));

describe('Infracost JSON → the cost model', () => {
  it('maps past/current breakdowns onto before/after per resource, with the plan actions and the totals', async () => {
    const cost = infracostToProjectCost(
      await read('infracost/aws-resize-and-destroy.breakdown.json'),
      await read('plans/aws-resize-and-destroy.json'),
    );
    expect(cost).toMatchObject({ source: 'infracost', before: 57.48, after: 77.78, delta: 20.29, asOf: '2026-12-01' });
    const by = (a: string) => cost.resources.find((r) => r.address === a);
    expect(by('aws_instance.web')).toMatchObject({
      action: 'update',
      before: 9.19,
      after: 62.34,
      delta: 53.14,
      status: 'priced',
    });
    // the root volume is a subresource: its component is kept, named after it
    expect(by('aws_instance.web')?.components.map((c) => c.name)).toContain(
      'root_block_device: Storage (general purpose SSD, gp3)',
    );
    expect(by('aws_nat_gateway.nat')).toMatchObject({ action: 'delete', before: 32.85, delta: -32.85 });
    expect(by('aws_nat_gateway.nat')?.after).toBeUndefined();
    expect(by('aws_db_instance.db')).toMatchObject({ action: 'no-op', before: 15.44, after: 15.44, delta: 0 });
  });

  it('unsupported types are "not priced", usage-based ones marked; a document that is not Infracost output is refused', async () => {
    const plan = {
      format_version: '1.2',
      resource_changes: [
        { address: 'aws_x.a', mode: 'managed', type: 'aws_x', change: { actions: ['create'] } },
        { address: 'aws_s3_bucket.b', mode: 'managed', type: 'aws_s3_bucket', change: { actions: ['create'] } },
        { address: 'aws_vpc.v', mode: 'managed', type: 'aws_vpc', change: { actions: ['create'] } },
      ],
    };
    const output = {
      version: '0.2',
      currency: 'USD',
      projects: [
        {
          name: 'p',
          breakdown: {
            resources: [
              {
                name: 'aws_s3_bucket.b',
                resourceType: 'aws_s3_bucket',
                monthlyCost: null,
                costComponents: [{ name: 'Storage', unit: 'GB', price: '0.023', monthlyCost: null, usageBased: true }],
              },
            ],
            totalMonthlyCost: '0',
          },
        },
      ],
      totalMonthlyCost: '0',
      pastTotalMonthlyCost: '0',
      diffTotalMonthlyCost: '0',
      summary: { unsupportedResourceCounts: { aws_x: 1 } },
    };
    const cost = infracostToProjectCost(output, plan);
    expect(cost.resources.find((r) => r.address === 'aws_x.a')).toMatchObject({
      status: 'not-priced',
      reason: 'Infracost does not support aws_x',
    });
    expect(cost.resources.find((r) => r.address === 'aws_s3_bucket.b')?.status).toBe('usage-based');
    expect(cost.resources.find((r) => r.address === 'aws_vpc.v')?.status).toBe('free');
    expect(() =>
      infracostToProjectCost({ version: '0.2', projects: [{ breakdown: { totalMonthlyCost: 'lots' } }] }, plan),
    ).toThrow(
      new InfracostError(
        'Infracost output is not in its JSON format: projects.0.breakdown.totalMonthlyCost: a decimal amount',
      ),
    );
  });
});

describe('choosing the engine', () => {
  let work: string;
  let planJson: unknown;
  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'cost-engine-'));
    planJson = await read('plans/aws-resize-and-destroy.json');
  });
  afterAll(async () => rm(work, { recursive: true, force: true }));

  it('Infracost configured but its binary missing: the built-in table and a warning line, not a failure', async () => {
    const config = CostConfigSchema.parse({ engine: 'infracost' });
    const cost = await estimateProjectCost({
      planJson,
      projectDir: work,
      config,
      env: { INFRACOST_API_KEY: 'ico-test', INFRA_AGENT_INFRACOST_BIN: join(work, 'no-such-infracost'), PATH: '' },
    });
    expect(cost.source).toBe('built-in');
    expect(cost.delta).toBe(20.29);
    expect(cost.warnings).toEqual([
      'Infracost is configured but its binary was not found (INFRA_AGENT_INFRACOST_BIN, .tools/bin, PATH): built-in prices used',
    ]);
    const noKey = await estimateProjectCost({ planJson, projectDir: work, config, env: { PATH: '' } });
    expect(noKey.warnings[0]).toMatch(/INFRACOST_API_KEY is not set/);
    // auto without a key: the built-in table, silently
    const auto = await estimateProjectCost({ planJson, projectDir: work, config: CostConfigSchema.parse({}), env: {} });
    expect(auto.warnings).toEqual([]);
  });

  it('with a key and a binary: runs `infracost breakdown --path <plan> --format json --usage-file` and uses its output', async () => {
    const recorded = join(fixtures, 'infracost', 'aws-resize-and-destroy.breakdown.json');
    const argsFile = join(work, 'args.txt');
    const bin = join(work, 'infracost');
    // stands in for the real binary (not installable here): records argv and the key it got, prints the document
    await writeFile(
      bin,
      `#!/bin/sh\nprintf '%s\\n' "$@" > '${argsFile}'\necho "key=$INFRACOST_API_KEY" >> '${argsFile}'\ncat '${recorded}'\n`,
    );
    await chmod(bin, 0o755);
    await writeFile(join(work, 'infracost-usage.yml'), 'version: 0.1\nresource_usage: {}\n');
    const cost = await estimateProjectCost({
      planJson,
      projectDir: work,
      config: CostConfigSchema.parse({}),
      env: { INFRACOST_API_KEY: 'ico-test-key', INFRA_AGENT_INFRACOST_BIN: bin },
    });
    expect(cost.source).toBe('infracost');
    expect(cost.delta).toBe(20.29);
    const args = (await readFile(argsFile, 'utf8')).trim().split('\n');
    expect(args.slice(0, 5)).toEqual(['breakdown', '--path', args[2], '--format', 'json']);
    expect(args).toContain('--usage-file');
    expect(args.at(-1)).toBe('key=ico-test-key');
    // the plan file it was given is gone afterwards (the plan JSON holds secrets in clear)
    await expect(readFile(args[2] ?? '', 'utf8')).rejects.toThrow();

    // Infracost failing: the built-in table and the reason
    await writeFile(bin, '#!/bin/sh\necho "Error: Invalid API key" >&2\nexit 1\n');
    const failed = await estimateProjectCost({
      planJson,
      projectDir: work,
      config: CostConfigSchema.parse({}),
      env: { INFRACOST_API_KEY: 'ico-test-key', INFRA_AGENT_INFRACOST_BIN: bin },
    });
    expect(failed.source).toBe('built-in');
    expect(failed.warnings).toEqual([
      'Infracost could not price this plan (Infracost failed: Error: Invalid API key): built-in prices used',
    ]);
  });

  it('a malformed usage file is a warning naming the file and key (an error with strict)', async () => {
    const dir = join(work, 'envs', 'prod');
    await import('node:fs/promises').then((fs) => fs.mkdir(dir, { recursive: true }));
    await writeFile(
      join(dir, 'infracost-usage.yml'),
      'version: 0.1\nresource_usage:\n  aws_nat_gateway.nat:\n    monthly_data_processed_gb: -5\n',
    );
    const opts = { planJson, projectDir: dir, projectPath: 'envs/prod', config: CostConfigSchema.parse({}), env: {} };
    const cost = await estimateProjectCost(opts);
    expect(cost.warnings).toEqual([
      'malformed usage file envs/prod/infracost-usage.yml: resource_usage.aws_nat_gateway.nat.monthly_data_processed_gb: expected a number (≥ 0) or a map of numbers; usage-priced resources are not estimated',
    ]);
    await expect(estimateProjectCost({ ...opts, strict: true })).rejects.toThrow(UsageFileError);
  });
});
