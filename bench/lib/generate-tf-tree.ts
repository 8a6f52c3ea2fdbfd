// A realistic, deterministic Terraform tree for benchmarks: `modules` reusable modules of `filesPerModule` files each
// (resources with nested blocks, variables with types and validation, outputs, data sources, locals, heredocs), plus
// a few root modules (envs) with backends and module calls. Every file's content is unique, so a cold index parses
// every one of them.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface GeneratedTree {
  files: number;
  bytes: number;
}

const RESOURCE_KINDS = [
  (m: string, i: number) => `resource "aws_s3_bucket" "b${i}" {
  bucket = "\${var.name}-${m}-${i}"
  tags   = merge(local.tags, { Index = "${i}" })
}

resource "aws_s3_bucket_versioning" "b${i}" {
  bucket = aws_s3_bucket.b${i}.id
  versioning_configuration {
    status = "Enabled"
  }
}
`,
  (m: string, i: number) => `resource "aws_security_group" "sg${i}" {
  name        = "${m}-sg-${i}"
  description = "managed by terraform { braces in strings }"
  vpc_id      = var.vpc_id

  ingress {
    from_port   = ${400 + i}
    to_port     = ${400 + i}
    protocol    = "tcp"
    cidr_blocks = [var.cidr_block]
  }

  dynamic "egress" {
    for_each = var.egress_ports
    content {
      from_port   = egress.value
      to_port     = egress.value
      protocol    = "tcp"
      cidr_blocks = ["10.0.0.0/8"]
    }
  }
}
`,
  (m: string, i: number) => `resource "aws_iam_policy" "p${i}" {
  name   = "${m}-policy-${i}"
  policy = <<-EOT
    {
      "Version": "2012-10-17",
      "Statement": [{ "Effect": "Allow", "Action": ["s3:GetObject"], "Resource": "*" }]
    }
  EOT
}
`,
  (m: string, i: number) => `resource "aws_instance" "vm${i}" {
  count         = var.instance_count
  ami           = data.aws_ami.base.id
  instance_type = var.instance_type
  subnet_id     = element(var.subnet_ids, count.index)

  root_block_device {
    encrypted   = true
    volume_size = ${20 + i}
  }

  metadata_options {
    http_tokens = "required"
  }

  tags = { Name = "${m}-vm-${i}-\${count.index}" }
}
`,
];

function moduleFiles(m: string, n: number, filesPerModule: number): Record<string, string> {
  const files: Record<string, string> = {
    'versions.tf': `terraform {
  required_version = ">= 1.5"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.${n % 40}"
    }
  }
}
`,
    'variables.tf': `variable "name" {
  type        = string
  description = "Name prefix for ${m}"
}

variable "vpc_id" {
  type = string
}

variable "cidr_block" {
  type    = string
  default = "10.${n % 250}.0.0/16"
  validation {
    condition     = can(cidrhost(var.cidr_block, 0))
    error_message = "cidr_block must be a valid CIDR."
  }
}

variable "subnet_ids" {
  type    = list(string)
  default = []
}

variable "egress_ports" {
  type    = list(number)
  default = [443, 5432]
}

variable "instance_count" {
  type    = number
  default = ${1 + (n % 3)}
}

variable "instance_type" {
  type    = string
  default = "t3.micro"
}

variable "db_password" {
  type      = string
  sensitive = true
  default   = null
}
`,
    'outputs.tf': `output "bucket_ids" {
  value = [${[0, 1, 2].map((i) => `aws_s3_bucket.b${i * 4}.id`).join(', ')}]
}

output "security_group_id" {
  description = "Security group of ${m}"
  value       = aws_security_group.sg1.id
}

output "policy_arn" {
  value     = aws_iam_policy.p2.arn
  sensitive = false
}
`,
  };
  const main: string[] = [
    `locals {
  tags = {
    Module = "${m}"
    Owner  = "platform"
  }
}

data "aws_ami" "base" {
  most_recent = true
  owners      = ["amazon"]
  filter {
    name   = "name"
    values = ["al2023-ami-*-x86_64"]
  }
}
`,
  ];
  for (let i = 0; i < 12; i++)
    main.push((RESOURCE_KINDS[i % RESOURCE_KINDS.length] as (m: string, i: number) => string)(m, i));
  files['main.tf'] = main.join('\n');
  // Further files, if asked for, hold more resources so that every module has `filesPerModule` files.
  for (let f = 4; f < filesPerModule; f++) {
    const extra: string[] = [];
    for (let i = 0; i < 6; i++) {
      extra.push((RESOURCE_KINDS[(i + f) % RESOURCE_KINDS.length] as (m: string, i: number) => string)(m, 100 * f + i));
    }
    files[`extra-${f}.tf`] = extra.join('\n');
  }
  return files;
}

export async function generateTfTree(
  root: string,
  opts: { modules?: number; filesPerModule?: number; envs?: number } = {},
): Promise<GeneratedTree> {
  const modules = opts.modules ?? 200;
  const filesPerModule = opts.filesPerModule ?? 5;
  const envs = opts.envs ?? 4;
  let files = 0;
  let bytes = 0;
  const put = async (path: string, text: string) => {
    await writeFile(path, text);
    files++;
    bytes += Buffer.byteLength(text);
  };
  for (let n = 0; n < modules; n++) {
    const name = `svc-${String(n).padStart(4, '0')}`;
    const dir = join(root, 'modules', name);
    await mkdir(dir, { recursive: true });
    for (const [file, text] of Object.entries(moduleFiles(name, n, filesPerModule))) {
      // The header makes every file unique, so that "cold" means every file is parsed.
      await put(join(dir, file), `# ${name}/${file}: generated for the indexing benchmark\n${text}`);
    }
  }
  for (let e = 0; e < envs; e++) {
    const env = `env-${e}`;
    const dir = join(root, 'envs', env);
    await mkdir(dir, { recursive: true });
    const calls = Array.from({ length: Math.min(modules, 25) }, (_, i) => {
      const n = (i * 7 + e) % modules;
      const name = `svc-${String(n).padStart(4, '0')}`;
      return `module "${name.replace(/-/g, '_')}" {
  source = "../../modules/${name}"
  name   = "${env}-${name}"
  vpc_id = var.vpc_id
}
`;
    });
    await put(
      join(dir, 'main.tf'),
      `terraform {
  backend "s3" {
    bucket = "acme-state"
    key    = "${env}/terraform.tfstate"
    region = "eu-west-1"
  }
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.40"
    }
  }
}

provider "aws" {
  region = "eu-west-1"
}

variable "vpc_id" {
  type = string
}

${calls.join('\n')}`,
    );
  }
  return { files, bytes };
}
