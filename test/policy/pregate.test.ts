// The pre-plan guard on small HCL trees: each rule fires on its construct and not on the compliant twin.
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type PolicyConfig, PolicyConfigSchema } from '../../src/config/schema.js';
import type { Finding } from '../../src/core/types.js';
import { checkModuleSource, extractComments, runPregateOn } from '../../src/policy/scanners/pregate.js';

const defaults = PolicyConfigSchema.parse({});

async function tree(files: Record<string, string>): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'pregate-'));
  for (const [name, text] of Object.entries(files)) {
    await mkdir(dirname(join(root, name)), { recursive: true });
    await writeFile(join(root, name), text);
  }
  return root;
}

async function scan(files: Record<string, string>, config: PolicyConfig = defaults, sub = '.'): Promise<Finding[]> {
  const root = await tree(files);
  const r = await runPregateOn(join(root, sub), root, config);
  expect(r.status, r.reason).toBe('ok');
  return r.findings;
}

describe('PRE-EXEC-001', () => {
  it('fires on data "external" and not on other data sources', async () => {
    const bad = await scan({ 'main.tf': 'data "external" "x" {\n  program = ["sh"]\n}\n' });
    expect(bad).toEqual([
      expect.objectContaining({
        ruleId: 'PRE-EXEC-001',
        address: 'data.external.x',
        file: 'main.tf',
        line: 1,
        level: 'hard',
      }),
    ]);
    expect(await scan({ 'main.tf': 'data "aws_caller_identity" "x" {}\n' })).toEqual([]);
  });

  it('fires on local-exec / remote-exec in any resource, at the provisioner line', async () => {
    const bad = await scan({
      'main.tf':
        'resource "terraform_data" "a" {\n  input = 1\n  provisioner "local-exec" {\n    command = "id"\n  }\n}\nresource "null_resource" "b" {\n  provisioner "remote-exec" {\n    inline = ["id"]\n  }\n}\n',
    });
    expect(bad.map((f) => `${f.address}:${f.line}`).sort()).toEqual(['null_resource.b:8', 'terraform_data.a:3']);
    expect(await scan({ 'main.tf': 'resource "terraform_data" "a" {\n  input = 1\n}\n' })).toEqual([]);
  });

  it('follows local modules and reports with their address and file', async () => {
    const bad = await scan(
      {
        'root/main.tf': 'module "app" {\n  source = "../modules/app"\n}\n',
        'modules/app/main.tf':
          'resource "terraform_data" "h" {\n  provisioner "local-exec" {\n    command = "id"\n  }\n}\n',
      },
      defaults,
      'root',
    );
    expect(bad).toEqual([
      expect.objectContaining({ address: 'module.app.terraform_data.h', file: 'modules/app/main.tf', line: 2 }),
    ]);
  });

  it('reports a local module source that escapes the repository root', async () => {
    const bad = await scan({ 'main.tf': 'module "x" {\n  source = "../../../../etc"\n}\n' });
    expect(bad).toEqual([
      expect.objectContaining({
        ruleId: 'PRE-EXEC-001',
        address: 'module.x',
        message: expect.stringContaining('outside the repository'),
      }),
    ]);
  });

  it('judges module sources against the allow-list and pins', () => {
    const allowing = { ...defaults, allowed_module_sources: ['terraform-aws-modules/', 'registry.terraform.io/'] };
    expect(checkModuleSource('./modules/x', undefined, defaults)).toBeUndefined();
    expect(checkModuleSource('terraform-aws-modules/vpc/aws', '5.8.1', allowing)).toBeUndefined();
    expect(checkModuleSource('terraform-aws-modules/vpc/aws', '~> 5.0', allowing)).toMatch(/not pinned/);
    expect(checkModuleSource('terraform-aws-modules/vpc/aws', undefined, allowing)).toMatch(/not pinned/);
    for (const s of [
      'git::https://x/y.git',
      'https://example.com/m.zip',
      's3::https://b/m.zip',
      'gcs::https://b/m',
      'github.com/org/repo',
      'bitbucket.org/org/repo',
      'acme/vpc/aws',
    ])
      expect(checkModuleSource(s, '1.0.0', allowing), s).toBeDefined();
  });

  it('checks provider sources against allowed_providers (default hashicorp/*): a soft PRE-SOURCE-001', async () => {
    const files = {
      'main.tf': 'terraform {\n  required_providers {\n    evil = {\n      source = "someone/evil"\n    }\n  }\n}\n',
    };
    expect(await scan(files, { ...defaults, allowed_providers: ['someone/*'] })).toEqual([]);
    const bad = await scan(files);
    expect(bad).toEqual([
      expect.objectContaining({ ruleId: 'PRE-SOURCE-001', level: 'soft', address: 'provider.evil', line: 4 }),
    ]);
  });
});

describe('PRE-SUPPRESS-001', () => {
  it('fires on #, // and /* */ comments of checkov, tfsec and trivy', async () => {
    const bad = await scan({
      'main.tf':
        '# checkov:skip=CKV_AWS_20:because\nresource "terraform_data" "a" {\n  input = 1 // tfsec:ignore:aws-x\n  /*\n    trivy:ignore:AVD-AWS-0001\n  */\n}\n',
    });
    expect(bad.map((f) => [f.ruleId, f.line])).toEqual([
      ['PRE-SUPPRESS-001', 1],
      ['PRE-SUPPRESS-001', 3],
      ['PRE-SUPPRESS-001', 5],
    ]);
  });

  it('ignores the words inside strings and heredocs', async () => {
    const ok = await scan({
      'main.tf':
        'resource "terraform_data" "a" {\n  input = "#checkov:skip=X"\n  output = <<EOT\n# tfsec:ignore:x\nEOT\n}\n',
    });
    expect(ok).toEqual([]);
    expect(extractComments('x = "a # b" # real\n').map((c) => c.text)).toEqual(['# real']);
  });
});

describe('SEC-SECRET-001 (literal half)', () => {
  it('fires on literal passwords and not on references or managed passwords', async () => {
    const bad = await scan({
      'db.tf': 'resource "aws_db_instance" "db" {\n  username = "app"\n  password = "hunter2hunter2"\n}\n',
    });
    expect(bad).toEqual([
      expect.objectContaining({ ruleId: 'SEC-SECRET-001', address: 'aws_db_instance.db', line: 3 }),
    ]);
    expect(bad[0]?.remediation).toContain('manage_master_user_password');
    expect(
      await scan({
        'db.tf':
          'variable "db_password" {\n  type      = string\n  sensitive = true\n}\nresource "aws_db_instance" "db" {\n  password = var.db_password\n}\n',
      }),
    ).toEqual([]);
    expect(
      await scan({
        'db.tf':
          'resource "aws_rds_cluster" "c" {\n  manage_master_user_password = true\n  master_password = "${var.x}"\n}\n',
      }),
    ).toEqual([]);
  });

  it('fires on defaults of *password*/*secret*/*token* variables only', async () => {
    const bad = await scan({
      'v.tf': 'variable "api_token" {\n  default = "tok_123456"\n}\nvariable "region" {\n  default = "eu-west-1"\n}\n',
    });
    expect(bad).toEqual([expect.objectContaining({ address: 'var.api_token', line: 2 })]);
  });

  it('fires on provider keys, user_data keys and Lambda env secrets', async () => {
    const bad = await scan({
      'p.tf': 'provider "aws" {\n  region     = "eu-west-1"\n  access_key = "AKIAIOSFODNN7EXAMPLE"\n}\n',
      'i.tf': 'resource "aws_instance" "i" {\n  user_data = "export AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE"\n}\n',
      'l.tf':
        'resource "aws_lambda_function" "f" {\n  environment {\n    variables = {\n      DB_PASSWORD = "hunter2hunter2"\n      LOG_LEVEL   = "info"\n    }\n  }\n}\n',
    });
    expect(bad.map((f) => `${f.address}@${f.file}:${f.line}`).sort()).toEqual([
      'aws_instance.i@i.tf:2',
      'aws_lambda_function.f@l.tf:4',
      'provider.aws@p.tf:3',
    ]);
  });

  it('does not fire on the compliant twins', async () => {
    const ok = await scan({
      'p.tf': 'provider "aws" {\n  region = "eu-west-1"\n}\n',
      'i.tf': 'resource "aws_instance" "i" {\n  user_data = "#!/bin/sh\\nyum install -y nginx"\n}\n',
      'l.tf':
        'resource "aws_lambda_function" "f" {\n  environment {\n    variables = {\n      DB_PASSWORD = aws_secretsmanager_secret.db.arn\n      LOG_LEVEL   = "info"\n    }\n  }\n}\n',
    });
    expect(ok).toEqual([]);
  });
});

it('fails (never passes) on HCL it cannot parse, naming file:line', async () => {
  const root = await tree({ 'main.tf': 'resource "x" "y" {\n  a = \n' });
  const r = await runPregateOn(root, root, defaults);
  expect(r.status).toBe('failed');
  expect(r.reason).toMatch(/main\.tf:\d+/);
});
