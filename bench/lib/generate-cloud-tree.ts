// A deterministic multi-cloud Terraform tree for the gate benchmark: one root module calling `modules` local modules
// of `filesPerModule` files each, with AWS, Azure and Google Cloud resources in turn (network rules, storage, IAM,
// databases, clusters), some open to the internet, some behind `count = var.create ? 1 : 0` flags.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

const KINDS = [
  (i: number) => `resource "aws_security_group" "sg${i}" {
  count       = var.create ? 1 : 0
  name        = "sg-${i}"
  description = "generated"
  vpc_id      = var.vpc_id
  ingress {
    description = "app"
    from_port   = ${i % 2 === 0 ? 22 : 443}
    to_port     = ${i % 2 === 0 ? 22 : 443}
    protocol    = "tcp"
    cidr_blocks = ["${i % 3 === 0 ? '0.0.0.0/0' : '10.0.0.0/8'}"]
  }
}
`,
  (i: number) => `resource "aws_s3_bucket" "b${i}" {
  bucket = "\${var.name}-${i}"
  tags   = { Index = "${i}" }
}
`,
  (i: number) => `resource "azurerm_network_security_rule" "r${i}" {
  name                        = "r${i}"
  priority                    = ${100 + i}
  direction                   = "Inbound"
  access                      = "Allow"
  protocol                    = "Tcp"
  source_port_range           = "*"
  destination_port_range      = "${i % 2 === 0 ? '3389' : '443'}"
  source_address_prefix       = "${i % 3 === 0 ? '*' : '10.0.0.0/8'}"
  destination_address_prefix  = "*"
  resource_group_name         = var.resource_group
  network_security_group_name = "nsg"
}
`,
  (i: number) => `resource "azurerm_storage_container" "c${i}" {
  name                  = "c${i}"
  storage_account_name  = var.storage_account
  container_access_type = "${i % 4 === 0 ? 'blob' : 'private'}"
}
`,
  (i: number) => `resource "google_compute_firewall" "fw${i}" {
  name          = "fw-${i}"
  network       = var.network
  source_ranges = ["${i % 3 === 0 ? '0.0.0.0/0' : '10.0.0.0/8'}"]
  allow {
    protocol = "tcp"
    ports    = ["${i % 2 === 0 ? '22' : '8443'}"]
  }
}
`,
  (i: number) => `resource "google_storage_bucket_iam_member" "m${i}" {
  bucket = var.bucket
  role   = "roles/storage.objectViewer"
  member = "${i % 5 === 0 ? 'allUsers' : 'group:readers@example.com'}"
}
`,
  (i: number) => `resource "aws_db_instance" "db${i}" {
  count               = var.create ? 1 : 0
  identifier          = "db-${i}"
  engine              = "postgres"
  instance_class      = "db.t3.micro"
  allocated_storage   = 20
  username            = "app"
  password            = var.db_password
  publicly_accessible = ${i % 2 === 0}
  storage_encrypted   = true
}
`,
];

const VARIABLES = `variable "create" {
  type    = bool
  default = true
}
variable "name" {
  type    = string
  default = "gen"
}
variable "vpc_id" {
  type    = string
  default = "vpc-1"
}
variable "resource_group" {
  type    = string
  default = "rg"
}
variable "storage_account" {
  type    = string
  default = "sa"
}
variable "network" {
  type    = string
  default = "default"
}
variable "bucket" {
  type    = string
  default = "bucket"
}
variable "db_password" {
  type      = string
  sensitive = true
  default   = null
}
`;

export async function generateCloudTree(
  root: string,
  opts: { modules?: number; filesPerModule?: number } = {},
): Promise<{ files: number; resources: number }> {
  const modules = opts.modules ?? 50;
  const perModule = opts.filesPerModule ?? 20;
  let files = 0;
  let resources = 0;
  const calls: string[] = [];
  for (let m = 0; m < modules; m++) {
    const dir = join(root, 'modules', `m${m}`);
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'variables.tf'), VARIABLES);
    files++;
    for (let f = 1; f < perModule; f++) {
      const i = m * perModule + f;
      const a = KINDS[i % KINDS.length];
      const b = KINDS[(i + 3) % KINDS.length];
      await writeFile(join(dir, `r${f}.tf`), `${a ? a(i) : ''}\n${b ? b(i + 100_000) : ''}`);
      files++;
      resources += 2;
    }
    calls.push(`module "m${m}" {\n  source = "./modules/m${m}"\n  create = ${m % 4 !== 0}\n}\n`);
  }
  await writeFile(join(root, 'main.tf'), `${calls.join('\n')}`);
  files++;
  return { files, resources };
}
