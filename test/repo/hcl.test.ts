import { describe, expect, it } from 'vitest';
import {
  findBlock,
  findLine,
  findNestedLine,
  HclParseError,
  parseHcl2jsonError,
  parseHclFile,
  scanBlocks,
} from '../../src/repo/hcl.js';

const TRICKY = `# a comment with { braces } and "quotes"
// resource "fake" "commented" {
/* block comment
resource "fake" "in_block_comment" {
*/
terraform {
  required_providers {
    aws = { source = "hashicorp/aws", version = "~> 5.0" }
  }
  backend "s3" {
    bucket = "state"
  }
}

resource "aws_s3_bucket" "logs" {
  bucket = "logs-}-{"
  tags = {
    Name = "brace } in string"
    Expr = "\${lookup(var.m, "}", "{")}"
    Lit  = "$\${not_a_template}"
  }
}

variable "policy" {
  type    = string
  default = <<-EOT
    {
      "Statement": [ { "Effect": "Allow" }
    resource "x" "y" {
    EOT
}

resource "aws_security_group" "web" {
  name = "web"
  ingress {
    from_port   = 443
    cidr_blocks = ["0.0.0.0/0"]
  }
  dynamic "egress" {
    for_each = var.rules
    content {
      from_port = egress.value.port
    }
  }
  provisioner "local-exec" {
    command = "echo hi"
  }
}

locals { a = 1 }
locals {
  m = { for k, v in var.x : k => v if v != "}" }
}
module "vpc" {
  source  = "terraform-aws-modules/vpc/aws"
  version = "5.1.0"
}
data "aws_ami" "ubuntu" {}
`;

describe('scanBlocks', () => {
  it('finds top-level blocks with exact line spans despite braces in strings, heredocs and comments', () => {
    const blocks = scanBlocks(TRICKY).map((b) => ({ kind: b.kind, labels: b.labels, line: b.line, end: b.endLine }));
    expect(blocks).toEqual([
      { kind: 'terraform', labels: [], line: 6, end: 13 },
      { kind: 'resource', labels: ['aws_s3_bucket', 'logs'], line: 15, end: 22 },
      { kind: 'variable', labels: ['policy'], line: 24, end: 31 },
      { kind: 'resource', labels: ['aws_security_group', 'web'], line: 33, end: 48 },
      { kind: 'locals', labels: [], line: 50, end: 50 },
      { kind: 'locals', labels: [], line: 51, end: 53 },
      { kind: 'module', labels: ['vpc'], line: 54, end: 57 },
      { kind: 'data', labels: ['aws_ami', 'ubuntu'], line: 58, end: 58 },
    ]);
  });

  it('records nested blocks and attributes so findings can point at them', () => {
    const blocks = scanBlocks(TRICKY);
    const sg = findBlock(blocks, 'resource', ['aws_security_group', 'web']);
    expect(sg).toBeDefined();
    if (!sg) return;
    expect(sg.children.map((c) => [c.kind, c.labels, c.line, c.endLine])).toEqual([
      ['ingress', [], 35, 38],
      ['dynamic', ['egress'], 39, 44],
      ['provisioner', ['local-exec'], 45, 47],
    ]);
    expect(sg.attributes).toEqual([{ name: 'name', line: 34, endLine: 34 }]);
    expect(findNestedLine(sg, ['ingress'])).toBe(35);
    expect(findNestedLine(sg, ['ingress', 'cidr_blocks'])).toBe(37);
    expect(findNestedLine(sg, ['egress', 'content', 'from_port'])).toBe(42);
    expect(findNestedLine(sg, ['provisioner'])).toBe(45);
    expect(findNestedLine(sg, ['nope'])).toBeUndefined();
    const tf = findBlock(blocks, 'terraform', []);
    expect(tf?.children.map((c) => c.kind)).toEqual(['required_providers', 'backend']);
    expect(tf?.children[0]?.attributes).toEqual([{ name: 'aws', line: 8, endLine: 8 }]);
    const variable = findBlock(blocks, 'variable', ['policy']);
    expect(variable?.attributes.map((a) => [a.name, a.line, a.endLine])).toEqual([
      ['type', 25, 25],
      ['default', 26, 30],
    ]);
  });

  it('copes with CRLF line endings and an empty file', () => {
    expect(scanBlocks('')).toEqual([]);
    const crlf = 'resource "a" "b" {\r\n  x = 1\r\n}\r\n\r\noutput "o" {\r\n  value = 1\r\n}\r\n';
    expect(scanBlocks(crlf).map((b) => [b.kind, b.line, b.endLine])).toEqual([
      ['resource', 1, 3],
      ['output', 5, 7],
    ]);
  });
});

describe('findLine', () => {
  it('finds the first matching line inside a range', () => {
    expect(findLine(TRICKY, (t) => /^\s*provisioner\b/.test(t))).toBe(45);
    expect(findLine(TRICKY, (t) => t.includes('cidr_blocks'), { from: 33, to: 48 })).toBe(37);
    expect(findLine(TRICKY, (t) => t.includes('cidr_blocks'), { from: 39 })).toBeUndefined();
  });
});

describe('parseHclFile', () => {
  it('returns the hcl2json body and the top-level blocks', async () => {
    const parsed = await parseHclFile('modules/x/main.tf', TRICKY);
    expect(parsed.file).toBe('modules/x/main.tf');
    expect(parsed.source).toBe(TRICKY);
    expect(parsed.blocks).toHaveLength(8);
    expect(parsed.blocks[1]).toEqual({ kind: 'resource', labels: ['aws_s3_bucket', 'logs'], line: 15, endLine: 22 });
    const resource = parsed.body['resource'] as Record<string, Record<string, Array<Record<string, unknown>>>>;
    expect(resource['aws_s3_bucket']?.['logs']?.[0]?.['bucket']).toBe('logs-}-{');
    expect(parsed.body['module']).toEqual({
      vpc: [{ source: 'terraform-aws-modules/vpc/aws', version: '5.1.0' }],
    });
  });

  it('maps an invalid expression to the real file and line', async () => {
    const err = await parseHclFile('envs/prod/bad file.tf', 'resource "x" "y" {\n  a = \n}\n').catch((e) => e);
    expect(err).toBeInstanceOf(HclParseError);
    expect(err.file).toBe('envs/prod/bad file.tf');
    expect(err.line).toBe(2);
    expect(err.column).toBe(7);
    expect(err.message).toMatch(/^envs\/prod\/bad file\.tf:2: Invalid expression; Expected the start of an expression/);
  });

  it('reports an unclosed block and every error of a multi-error file', async () => {
    const unclosed = await parseHclFile('a.tf', 'locals {\n  a = 1\n\nresource "x" "y" {\n').catch((e) => e);
    expect(unclosed).toBeInstanceOf(HclParseError);
    expect(unclosed.message).toMatch(/^a\.tf:\d+: Unclosed configuration block/);
    const multi = await parseHclFile('m.tf', 'resource "x" "y" {\n  a = "open\n}\n').catch((e) => e);
    expect(multi).toBeInstanceOf(HclParseError);
    expect(multi.errors.length).toBeGreaterThan(1);
    expect(multi.errors[0]).toMatchObject({ line: 2, message: expect.stringMatching(/^Invalid multi-line string/) });
    expect(multi.errors.every((e: { message: string }) => !e.message.includes('__infra_agent__'))).toBe(true);
  });
});

describe('parseHcl2jsonError', () => {
  it('splits joined errors and strips the brackets', () => {
    const text =
      'parse config: [f.tf:2,7-3,1: Invalid expression; Expected x. f.tf:9,1-2: Argument or block definition required; An argument…]';
    expect(parseHcl2jsonError(text, 'f.tf')).toEqual([
      { line: 2, column: 7, message: 'Invalid expression; Expected x.' },
      { line: 9, column: 1, message: 'Argument or block definition required; An argument…' },
    ]);
  });

  it('falls back to line 1 when the text has no position', () => {
    expect(parseHcl2jsonError('parse config: [something odd]', 'f.tf')).toEqual([
      { line: 1, message: 'something odd' },
    ]);
  });
});
