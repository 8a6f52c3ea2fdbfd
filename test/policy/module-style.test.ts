// Public-module-style code through the gate without a plan: count = 0 toggles, create flags from variable defaults
// and module arguments, for_each over empty defaults, flags that cannot be resolved, check {} blocks, an exactly
// pinned registry module (init cannot reach a registry here), and a tree whose checkov report is over 4 MiB.
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { PolicyConfigSchema } from '../../src/config/schema.js';
import type { Verdict } from '../../src/core/types.js';
import { blockExistence, evaluate, existenceOf, resolveExistence, UNKNOWN } from '../../src/policy/existence.js';
import { readdress, runGate } from '../../src/policy/gate.js';
import { loadModuleTree } from '../../src/policy/module-tree.js';
import { checkovScanner } from '../../src/policy/scanners/checkov.js';
import { run } from '../../src/sandbox/exec.js';
import { findTool } from '../../src/toolchain/tools.js';
import { describeWithTools } from '../helpers/tools.js';

const config = PolicyConfigSchema.parse({});

const SSH_SG = (name: string, meta: string) => `
resource "aws_security_group" "${name}" {
  ${meta}
  name        = "${name}"
  description = "ssh"
  vpc_id      = "vpc-1"
  ingress {
    description = "ssh"
    from_port   = 22
    to_port     = 22
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }
}
`;

async function moduleStyleTree(): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'module-style-'));
  await mkdir(join(root, 'modules', 'sg'), { recursive: true });
  await writeFile(
    join(root, 'modules', 'sg', 'main.tf'),
    `variable "create" {
  type    = bool
  default = true
}
${SSH_SG('this', 'count = var.create ? 1 : 0')}
data "aws_iam_policy_document" "admin" {
  count = var.create ? 1 : 0
  statement {
    actions   = ["*"]
    resources = ["*"]
  }
}
`,
  );
  await writeFile(
    join(root, 'main.tf'),
    `provider "aws" {
  region = "eu-west-1"
}

variable "create_bastion" {
  type    = bool
  default = false
}

variable "enable_debug" {
  type = bool
}

variable "rules" {
  type    = map(string)
  default = {}
}

locals {
  bastion = var.create_bastion && true
}

${SSH_SG('disabled', 'count = 0')}
${SSH_SG('flagged', 'count = local.bastion ? 1 : 0')}
${SSH_SG('by_map', 'for_each = var.rules')}
${SSH_SG('unknown', 'count = var.enable_debug ? 1 : 0')}

module "off" {
  source = "./modules/sg"
  create = false
}

module "never" {
  source = "./modules/sg"
  count  = 0
}

module "vpc" {
  source  = "terraform-aws-modules/vpc/aws"
  version = "5.1.2"
  name    = "main"
}

check "site_up" {
  assert {
    condition     = var.create_bastion == false
    error_message = "no bastion in this example"
  }
}
`,
  );
  return root;
}

describe('resolving count / for_each without a plan', () => {
  const scope = { vars: { create: false, n: 2, names: ['a'], m: {} }, locals: { on: true } };

  it('evaluates the expressions create flags use', () => {
    expect(evaluate('${var.create ? 1 : 0}', scope)).toBe(0);
    expect(evaluate('${!var.create && local.on ? 1 : 0}', scope)).toBe(1);
    expect(evaluate('${var.n > 1 ? var.n - 1 : 0}', scope)).toBe(1);
    expect(evaluate('${length(var.names)}', scope)).toBe(1);
    expect(evaluate('${var.missing ? 1 : 0}', scope)).toBe(UNKNOWN);
    expect(evaluate('${aws_vpc.x.id != "" ? 1 : 0}', scope)).toBe(UNKNOWN);
    // false && anything is false, whatever the other side is.
    expect(evaluate('${var.create && var.missing ? 1 : 0}', scope)).toBe(0);
  });

  it('says no, maybe or yes, with the expression that decided', () => {
    expect(blockExistence({ count: 0 }, scope)).toEqual({
      status: 'no',
      why: 'count = 0 is 0 with the default values',
    });
    expect(blockExistence({ for_each: '${var.m}' }, scope).status).toBe('no');
    expect(blockExistence({ count: '${var.missing ? 1 : 0}' }, scope)).toEqual({
      status: 'maybe',
      why: 'count = var.missing ? 1 : 0 cannot be resolved without a plan',
    });
    expect(blockExistence({}, scope).status).toBe('yes');
  });

  it('follows module arguments, module count and tfvars', async () => {
    const root = await moduleStyleTree();
    const tree = await loadModuleTree(root, root);
    const ex = resolveExistence(tree);
    expect(ex.get('aws_security_group.disabled')?.status).toBe('no');
    expect(ex.get('aws_security_group.flagged')?.status).toBe('no');
    expect(ex.get('aws_security_group.by_map')?.status).toBe('no');
    expect(ex.get('aws_security_group.unknown')?.status).toBe('maybe');
    expect(ex.get('module.off.aws_security_group.this')?.status).toBe('no');
    expect(ex.get('module.off.data.aws_iam_policy_document.admin')?.status).toBe('no');
    // Both calls share ./modules/sg; the second's resources are found through its call.
    expect(existenceOf(ex, 'module.never.aws_security_group.this')?.status).toBe('no');
    // tfvars turn the bastion on.
    const on = resolveExistence(tree, { create_bastion: true, enable_debug: false });
    expect(on.get('aws_security_group.flagged')?.status).toBe('yes');
    expect(on.get('aws_security_group.unknown')?.status).toBe('no');
  });
});

describeWithTools(['tfsec', 'checkov', 'opa'], 'module-style code through the gate (real scanners, no plan)', () => {
  let verdict: Verdict;
  beforeAll(async () => {
    const root = await moduleStyleTree();
    verdict = await runGate({ dir: root, repoRoot: root, config });
  }, 600_000);

  it('no scanner fails; tfsec says it scanned around the check {} block', () => {
    for (const s of verdict.scanners)
      if (s.name !== 'trivy') expect(s.status, `${s.name}: ${s.reason ?? ''}`).toBe('ok');
    const tfsec = verdict.scanners.find((s) => s.name === 'tfsec');
    expect(tfsec?.notes?.join(' ')).toMatch(/check \{\} blocks.*main\.tf:\d+/);
  });

  it('no hard finding for resources the defaults do not create', () => {
    const hard = verdict.findings.filter((f) => f.level === 'hard');
    expect(hard.map((f) => `${f.ruleId} ${f.address} ${f.message}`)).toEqual([]);
    const off = verdict.findings.filter((f) => /disabled|flagged|by_map|module\.(off|never)\./.test(f.address ?? ''));
    for (const f of off) expect(f.level, `${f.ruleId} ${f.address}`).toBe('advisory');
  });

  it('a resource behind an unresolved flag is at most soft and says "may not be created"', () => {
    const f = verdict.findings.find((x) => x.address === 'aws_security_group.unknown' && x.ruleId === 'SEC-NET-001');
    expect(f?.level).toBe('soft');
    expect(f?.message).toContain('may not be created: count = var.enable_debug ? 1 : 0');
  });
});

describeWithTools(['checkov'], 'checkov on a tree whose JSON report is over 4 MiB', () => {
  it('reads the report from its file: no failure, every finding kept', async () => {
    const root = await mkdtemp(join(tmpdir(), 'big-checkov-'));
    const buckets = Array.from(
      { length: 600 },
      (_, i) => `resource "aws_s3_bucket" "b${i}" {\n  bucket = "acme-${i}"\n}\n`,
    ).join('\n');
    await writeFile(join(root, 'main.tf'), buckets);
    // checkov itself, run as the scanner runs it, writes a report over 4 MiB (what stdout's cap cut before).
    const out = await mkdtemp(join(tmpdir(), 'big-checkov-report-'));
    await run(
      findTool('checkov') ?? 'checkov',
      ['-d', root, '--framework', 'terraform', 'secrets', '--quiet', '--compact', '-o', 'json', '--soft-fail'].concat([
        '--skip-download',
        '--output-file-path',
        out,
      ]),
      { timeoutMs: 600_000, env: { HOME: root } },
    );
    const report = await readFile(join(out, 'results_json.json'), 'utf8');
    expect(report.length).toBeGreaterThan(4 * 1024 * 1024);
    const direct = ([] as { results: { failed_checks: unknown[] } }[])
      .concat(JSON.parse(report) as never)
      .reduce((n, r) => n + r.results.failed_checks.length, 0);
    const r = await checkovScanner.run({ dir: root, repoRoot: root, config });
    expect(r.status, r.reason).toBe('ok');
    expect(r.findings.length).toBe(direct);
    expect(new Set(r.findings.map((f) => f.address)).size).toBe(600);
  }, 600_000);
});

describe('scanner addresses made the module tree’s', () => {
  it('tfsec’s "module.x" and checkov’s unprefixed address become the block at their file:line', async () => {
    const root = await moduleStyleTree();
    const tree = await loadModuleTree(root, root);
    const base = {
      source: 'tfsec' as const,
      sources: ['tfsec' as const],
      sourceIds: ['x'],
      ruleId: 'x',
      severity: 'high' as const,
      level: 'advisory' as const,
      message: 'm',
    };
    const at = (address: string | undefined, line: number) =>
      readdress({ ...base, ...(address ? { address } : {}), file: 'modules/sg/main.tf', line }, tree).address;
    expect(at('module.off', 9)).toBe('module.off.aws_security_group.this');
    // checkov does not say which call; the dir is both module.off and module.never, and the tree holds it once.
    const prefix = tree.modules.find((m) => m.rel === 'modules/sg')?.prefix;
    expect(at('aws_security_group.this[0]', 9)).toBe(`${prefix}aws_security_group.this[0]`);
    expect(at(undefined, 22)).toBe(`${prefix}data.aws_iam_policy_document.admin`);
    // An address that already names another block is left alone.
    expect(at('module.off.aws_security_group.other', 9)).toBe('module.off.aws_security_group.other');
  });
});
