import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PlanJsonError, renderPlanSummaryMarkdown, summarizePlan, toAction } from '../../src/terraform/plan-summary.js';

const PLANS = resolve(import.meta.dirname, '../fixtures/plans');
const load = (name: string): unknown => JSON.parse(readFileSync(join(PLANS, name), 'utf8'));

type Counts = {
  add: number;
  change: number;
  destroy: number;
  replace: number;
  import: number;
  read: number;
  noop: number;
};
const creates = (add: number, noop = 0): Counts => ({
  add,
  change: 0,
  destroy: 0,
  replace: 0,
  import: 0,
  read: 0,
  noop,
});

// The truth for each real-world fixture (test/fixtures/plans), read off the files: [terraform version, counts, address → action].
const EXPECTED: Record<string, { version: string; counts: Counts; actions: Record<string, string> }> = {
  'aws_chime_voice_connector.json': {
    version: '1.5.7',
    counts: creates(1),
    actions: { 'aws_chime_voice_connector.test': 'create' },
  },
  'aws_iam_policy.json': { version: '1.5.7', counts: creates(1), actions: { 'aws_iam_policy.policy': 'create' } },
  'aws_iam_role.json': { version: '1.5.7', counts: creates(1), actions: { 'aws_iam_role.test_role': 'create' } },
  'aws_iam_user.json': { version: '1.5.7', counts: creates(1), actions: { 'aws_iam_user.example': 'create' } },
  'aws_neptune_cluster.json': {
    version: '1.6.6',
    counts: creates(6),
    actions: {
      'aws_neptune_cluster.default': 'create',
      'aws_neptune_cluster_parameter_group.example_cluster_parameter_group': 'create',
      'aws_neptune_subnet_group.example_subnet_group': 'create',
      'aws_subnet.subnet1': 'create',
      'aws_subnet.subnet2': 'create',
      'aws_vpc.example_vpc': 'create',
    },
  },
  'aws_redshift_cluster--sns-event.json': {
    version: '1.6.6',
    counts: creates(4),
    actions: {
      'aws_redshift_cluster.example': 'create',
      'aws_redshift_event_subscription.default': 'create',
      'aws_redshift_parameter_group.bar': 'create',
      'aws_sns_topic.default': 'create',
    },
  },
  'aws_redshift_cluster--subnet-group.json': {
    version: '1.6.6',
    counts: creates(6),
    actions: {
      'aws_redshift_cluster.example': 'create',
      'aws_redshift_endpoint_access.example': 'create',
      'aws_redshift_subnet_group.foobar': 'create',
      'aws_subnet.bar': 'create',
      'aws_subnet.foo': 'create',
      'aws_vpc.foo': 'create',
    },
  },
  'aws_s3_bucket.json': { version: '1.5.7', counts: creates(1), actions: { 'aws_s3_bucket.example': 'create' } },
  // aws_vpc.main already exists (prior_state) and is left alone: a no-op, not listed among resources.
  'aws_subnet.json': { version: '1.5.7', counts: creates(1, 1), actions: { 'aws_subnet.main': 'create' } },
  'aws_vpc--basic.json': { version: '1.5.7', counts: creates(1), actions: { 'aws_vpc.main': 'create' } },
  'aws_vpc--ipv4_ipam.json': {
    version: '1.5.7',
    counts: creates(4),
    actions: {
      'aws_vpc.main': 'create',
      'aws_vpc_ipam.test': 'create',
      'aws_vpc_ipam_pool.test': 'create',
      'aws_vpc_ipam_pool_cidr.test': 'create',
    },
  },
};

describe('summarizePlan on the real-world plans', () => {
  const files = readdirSync(PLANS).filter((f) => f.endsWith('.json'));

  it('has an expectation for every fixture file', () => {
    expect(files.length).toBeGreaterThanOrEqual(11);
    expect(files.sort()).toEqual(Object.keys(EXPECTED).sort());
  });

  for (const [file, want] of Object.entries(EXPECTED)) {
    it(`reads ${file}`, () => {
      const s = summarizePlan(load(file));
      expect(s.terraformVersion).toBe(want.version);
      expect(s.formatVersion).toBe('1.2');
      expect(s.counts).toEqual(want.counts);
      expect(Object.fromEntries(s.resources.map((r) => [r.address, r.action]))).toEqual(want.actions);
      expect(s.drift).toEqual([]);
      expect(s.outputs).toEqual([]);
      expect(s.empty).toBe(false);
      expect(s.errored).toBe(false);
      for (const r of s.resources) {
        expect(r.mode).toBe('managed');
        expect(r.module).toBe('');
        expect(r.providerName).toBe('registry.terraform.io/hashicorp/aws');
        expect(r.importing).toBe(false);
        expect(r.replacePaths).toEqual([]);
        expect(`${r.type}.${r.name}`).toBe(r.address);
      }
    });
  }

  it('lists set attributes and known-after-apply attributes by name', () => {
    const s = summarizePlan(load('aws_subnet.json'));
    const subnet = s.resources.find((r) => r.address === 'aws_subnet.main');
    expect(subnet?.changedAttributes).toEqual(
      expect.arrayContaining(['availability_zone', 'cidr_block', 'tags', 'tags_all', 'vpc_id']),
    );
    // null config values are not "set"
    expect(subnet?.changedAttributes).not.toContain('ipv6_cidr_block');
    expect(subnet?.unknownAttributes).toEqual([
      'arn',
      'availability_zone_id',
      'id',
      'ipv6_cidr_block_association_id',
      'owner_id',
      'private_dns_hostname_type_on_launch',
    ]);
  });

  it('never carries a sensitive value, only attribute names', () => {
    for (const file of ['aws_redshift_cluster--sns-event.json', 'aws_redshift_cluster--subnet-group.json']) {
      const raw = readFileSync(join(PLANS, file), 'utf8');
      expect(raw).toContain('Mustbe8characters');
      const s = summarizePlan(JSON.parse(raw));
      const cluster = s.resources.find((r) => r.address === 'aws_redshift_cluster.example');
      expect(cluster?.changedAttributes).toContain('master_password');
      expect(JSON.stringify(s)).not.toContain('Mustbe8characters');
      expect(renderPlanSummaryMarkdown(s)).not.toContain('Mustbe8characters');
    }
  });
});

// A synthetic plan with every kind of change, shaped like Terraform 1.6+ output.
const MIXED = {
  format_version: '1.2',
  terraform_version: '1.6.6',
  errored: false,
  resource_drift: [
    {
      address: 'aws_s3_bucket.logs',
      mode: 'managed',
      type: 'aws_s3_bucket',
      name: 'logs',
      provider_name: 'registry.terraform.io/hashicorp/aws',
      change: {
        actions: ['update'],
        before: { tags: { a: '1' }, acl: 'private' },
        after: { tags: { a: '2' }, acl: 'private' },
      },
    },
  ],
  resource_changes: [
    {
      address: 'module.net.aws_vpc.this[0]',
      module_address: 'module.net',
      mode: 'managed',
      type: 'aws_vpc',
      name: 'this',
      index: 0,
      provider_name: 'registry.terraform.io/hashicorp/aws',
      change: {
        actions: ['update'],
        before: { cidr_block: '10.0.0.0/16', tags: { Name: 'a' }, id: 'vpc-1', arn: 'arn:1' },
        after: { cidr_block: '10.0.0.0/16', tags: { Name: 'b' }, id: 'vpc-1' },
        after_unknown: { arn: true },
        before_sensitive: {},
        after_sensitive: {},
      },
    },
    {
      address: 'aws_db_instance.main',
      mode: 'managed',
      type: 'aws_db_instance',
      name: 'main',
      provider_name: 'registry.terraform.io/hashicorp/aws',
      change: {
        actions: ['delete', 'create'],
        before: { engine_version: '14', password: 'hunter2-old', identifier: 'db' },
        after: { engine_version: '15', password: 'hunter2-new', identifier: 'db' },
        after_unknown: { id: true },
        before_sensitive: { password: true },
        after_sensitive: { password: true },
        replace_paths: [['engine_version'], ['network', 0, 'subnet']],
      },
    },
    {
      address: 'aws_instance.cbd',
      mode: 'managed',
      type: 'aws_instance',
      name: 'cbd',
      provider_name: 'registry.terraform.io/hashicorp/aws',
      change: { actions: ['create', 'delete'], before: { ami: 'a' }, after: { ami: 'b' }, replace_paths: [['ami']] },
    },
    {
      address: 'aws_iam_user.old',
      mode: 'managed',
      type: 'aws_iam_user',
      name: 'old',
      provider_name: 'registry.terraform.io/hashicorp/aws',
      change: { actions: ['delete'], before: { name: 'old' }, after: null },
    },
    {
      address: 'aws_s3_bucket.imported',
      mode: 'managed',
      type: 'aws_s3_bucket',
      name: 'imported',
      provider_name: 'registry.terraform.io/hashicorp/aws',
      change: { actions: ['no-op'], before: { bucket: 'x' }, after: { bucket: 'x' }, importing: { id: 'x' } },
    },
    {
      address: 'aws_s3_bucket.imported_and_changed',
      mode: 'managed',
      type: 'aws_s3_bucket',
      name: 'imported_and_changed',
      provider_name: 'registry.terraform.io/hashicorp/aws',
      change: {
        actions: ['update'],
        before: { bucket: 'y', tags: null },
        after: { bucket: 'y', tags: { a: 'b' } },
        importing: { id: 'y' },
      },
    },
    {
      address: 'data.aws_caller_identity.me',
      mode: 'data',
      type: 'aws_caller_identity',
      name: 'me',
      provider_name: 'registry.terraform.io/hashicorp/aws',
      change: { actions: ['read'], before: null, after: {}, after_unknown: { account_id: true } },
    },
    {
      address: 'aws_s3_bucket.same',
      mode: 'managed',
      type: 'aws_s3_bucket',
      name: 'same',
      provider_name: 'registry.terraform.io/hashicorp/aws',
      change: { actions: ['no-op'], before: { bucket: 'z' }, after: { bucket: 'z' } },
    },
    {
      address: 'aws_s3_bucket.kept',
      mode: 'managed',
      type: 'aws_s3_bucket',
      name: 'kept',
      provider_name: 'registry.terraform.io/hashicorp/aws',
      change: { actions: ['forget'], before: { bucket: 'k' }, after: null },
    },
  ],
  output_changes: {
    db_password: { actions: ['update'], before: 'a', after: 'b', before_sensitive: true, after_sensitive: true },
    url: { actions: ['create'], before: null, after: 'https://x', after_sensitive: false },
    same: { actions: ['no-op'], before: 1, after: 1 },
  },
  some_future_field: { anything: true },
};

describe('summarizePlan on every kind of change', () => {
  const s = summarizePlan(MIXED);

  it('counts like Terraform: replaces in add and destroy, imports separately', () => {
    expect(s.counts).toEqual({ add: 2, change: 2, destroy: 3, replace: 2, import: 2, read: 1, noop: 1 });
    expect(s.empty).toBe(false);
  });

  it('gives each resource its action, module and reasons', () => {
    const by = Object.fromEntries(s.resources.map((r) => [r.address, r]));
    expect(Object.keys(by)).toEqual([
      'module.net.aws_vpc.this[0]',
      'aws_db_instance.main',
      'aws_instance.cbd',
      'aws_iam_user.old',
      'aws_s3_bucket.imported',
      'aws_s3_bucket.imported_and_changed',
      'data.aws_caller_identity.me',
      'aws_s3_bucket.kept',
    ]);
    expect(by['module.net.aws_vpc.this[0]']).toMatchObject({
      action: 'update',
      module: 'module.net',
      changedAttributes: ['arn', 'tags'],
      unknownAttributes: ['arn'],
    });
    expect(by['aws_db_instance.main']).toMatchObject({
      action: 'replace',
      actions: ['delete', 'create'],
      changedAttributes: ['engine_version', 'password'],
      replacePaths: ['engine_version', 'network[0].subnet'],
    });
    expect(by['aws_instance.cbd']).toMatchObject({ action: 'replace', actions: ['create', 'delete'] });
    expect(by['aws_iam_user.old']).toMatchObject({ action: 'delete', changedAttributes: [] });
    expect(by['aws_s3_bucket.imported']).toMatchObject({ action: 'import', importing: true });
    expect(by['aws_s3_bucket.imported_and_changed']).toMatchObject({
      action: 'update',
      importing: true,
      changedAttributes: ['tags'],
    });
    expect(by['data.aws_caller_identity.me']).toMatchObject({ action: 'read', mode: 'data' });
    expect(by['aws_s3_bucket.kept']).toMatchObject({ action: 'forget' });
  });

  it('reports drift and changed outputs (sensitive ones flagged, values never kept)', () => {
    expect(s.drift).toEqual([{ address: 'aws_s3_bucket.logs', action: 'update', changedAttributes: ['tags'] }]);
    expect(s.outputs).toEqual([
      { name: 'db_password', action: 'update', sensitive: true },
      { name: 'url', action: 'create', sensitive: false },
    ]);
    expect(JSON.stringify(s)).not.toMatch(/hunter2|https:\/\/x/);
  });

  it('renders a markdown table with symbols and a destroy/replace warning', () => {
    const md = renderPlanSummaryMarkdown(s, { title: 'prod' });
    expect(md).toContain('### prod');
    expect(md).toContain('**Plan: 2 to import, 2 to add, 2 to change, 3 to destroy.**');
    expect(md).toContain(
      '⚠️ **This plan destroys 1 and replaces 2 resource(s):** `aws_iam_user.old`, `aws_db_instance.main`, `aws_instance.cbd`',
    );
    expect(md).toContain('| 2 | 2 | 3 | 2 | 2 | 1 | 1 |');
    expect(md).toContain(
      '| `±` | `aws_db_instance.main` | replace (forced by `engine_version`, `network[0].subnet`) | `engine_version`, `password` |',
    );
    expect(md).toContain('| `~` | `module.net.aws_vpc.this[0]` | update | `arn`, `tags` |');
    expect(md).toContain('| `-` | `aws_iam_user.old` | delete |  |');
    expect(md).toContain('| `~` | `aws_s3_bucket.imported_and_changed` | import + update | `tags` |');
    expect(md).toContain('Outputs: `db_password` (update, sensitive), `url` (create)');
    expect(md).toContain('Drift detected outside Terraform: `aws_s3_bucket.logs` (update)');
    expect(md).not.toContain('hunter2');
  });

  it('keeps hostile addresses inside their table cell and caps long lists', () => {
    const many = {
      format_version: '1.2',
      resource_changes: Array.from({ length: 60 }, (_, i) => ({
        address: `null_resource.x["a|b\`c${i}"]`,
        mode: 'managed',
        type: 'null_resource',
        name: 'x',
        change: { actions: ['create'], after: {} },
      })),
    };
    const md = renderPlanSummaryMarkdown(summarizePlan(many), { maxResources: 5 });
    expect(md).toContain('| `+` | `null_resource.x["a\\|b\'c0"]` | create |  |');
    expect(md).toContain('… 55 more');
    expect(md.split('\n').filter((l) => l.startsWith('| `+`'))).toHaveLength(5);
  });
});

describe('summarizePlan edge cases', () => {
  it('says "No changes" for an empty plan', () => {
    const s = summarizePlan({ format_version: '1.2', terraform_version: '1.11.4', resource_changes: [] });
    expect(s.empty).toBe(true);
    expect(s.counts).toEqual(creates(0));
    expect(renderPlanSummaryMarkdown(s)).toContain('No changes. Infrastructure matches the configuration.');
  });

  it('marks an errored plan', () => {
    const s = summarizePlan({ format_version: '1.2', errored: true, resource_changes: [] });
    expect(s.errored).toBe(true);
    expect(renderPlanSummaryMarkdown(s)).toContain('The plan errored');
  });

  it('rejects what is not a plan with a clear error naming the bad field', () => {
    expect(() => summarizePlan('nope')).toThrow(PlanJsonError);
    expect(() => summarizePlan({ resource_changes: [] })).toThrow(/format_version/);
    expect(() =>
      summarizePlan({
        format_version: '1.2',
        resource_changes: [{ address: 'a.b', mode: 'managed', type: 'a', name: 'b', change: { actions: ['explode'] } }],
      }),
    ).toThrow(/resource_changes\.0\.change\.actions\.0/);
  });

  it('maps raw action arrays', () => {
    expect(toAction(['delete', 'create'])).toBe('replace');
    expect(toAction(['create', 'delete'])).toBe('replace');
    expect(toAction(['no-op'], true)).toBe('import');
    expect(toAction(['no-op'])).toBe('no-op');
    expect(toAction(['read'])).toBe('read');
    expect(toAction(['forget'])).toBe('forget');
  });
});
