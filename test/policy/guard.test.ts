// The pre-plan guard's rules on small trees (issue #11 part B): every spelling of each attack the guard must catch,
// in HCL and JSON syntax, and the compliant twins it must let through.
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type PolicyConfig, PolicyConfigSchema } from '../../src/config/schema.js';
import type { Finding } from '../../src/core/types.js';
import { judgePath } from '../../src/policy/guard/files.js';
import { isSecretName } from '../../src/policy/guard/secrets.js';
import { checkModuleSource, emptyBaseline, providerAllowed } from '../../src/policy/guard/sources.js';
import { runGuard } from '../../src/policy/scanners/pregate.js';
import { decideVerdict } from '../../src/policy/verdict.js';

const defaults = PolicyConfigSchema.parse({});
const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

async function tree(files: Record<string, string>): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'guard-'));
  dirs.push(root);
  for (const [name, text] of Object.entries(files)) {
    await mkdir(dirname(join(root, name)), { recursive: true });
    await writeFile(join(root, name), text);
  }
  return root;
}

async function guard(
  files: Record<string, string>,
  config: PolicyConfig = defaults,
): Promise<{ findings: Finding[]; secrets: string[] }> {
  const root = await tree(files);
  const r = await runGuard(root, root, config);
  expect(r.run.status, r.run.reason).toBe('ok');
  return { findings: r.run.findings, secrets: r.secrets };
}

const ids = (fs: Finding[]) => fs.map((f) => `${f.ruleId}@${f.file}:${f.line}`).sort();

describe('PRE-EXEC-001: code that runs on the host, wherever it is written', () => {
  it('reads *.tf.json: data "external" and provisioners in JSON syntax', async () => {
    const { findings } = await guard({
      'main.tf.json': JSON.stringify(
        {
          data: { external: { x: { program: ['sh'] } } },
          resource: {
            terraform_data: { y: { provisioner: [{ 'local-exec': { command: 'id' } }] } },
          },
        },
        null,
        2,
      ),
    });
    expect(findings.map((f) => [f.ruleId, f.address, f.level])).toEqual([
      ['PRE-EXEC-001', 'data.external.x', 'hard'],
      ['PRE-EXEC-001', 'terraform_data.y', 'hard'],
    ]);
    expect(findings.every((f) => f.file === 'main.tf.json' && (f.line ?? 0) > 1)).toBe(true);
  });

  it('reads override files, .tf and .tf.json alike', async () => {
    const { findings } = await guard({
      'main.tf': 'resource "terraform_data" "a" {\n  input = 1\n}\n',
      'main_override.tf': 'resource "terraform_data" "a" {\n  provisioner "local-exec" {\n    command = "id"\n  }\n}\n',
      'override.tf.json': '{"resource": {"terraform_data": {"a": {"provisioner": {"local-exec": {"command": "id"}}}}}}',
    });
    expect(ids(findings)).toEqual(['PRE-EXEC-001@main_override.tf:2', 'PRE-EXEC-001@override.tf.json:1']);
  });

  it('finds provisioners in removed blocks, dynamic blocks and file provisioners', async () => {
    const { findings } = await guard({
      'main.tf': `removed {
  from = terraform_data.old
  lifecycle {
    destroy = true
  }
  provisioner "local-exec" {
    when    = destroy
    command = "env > /tmp/x"
  }
}

resource "terraform_data" "d" {
  dynamic "provisioner" {
    for_each = ["x"]
    content {
      command = "id"
    }
  }
}

resource "terraform_data" "f" {
  provisioner "file" {
    source      = "/proc/self/environ"
    destination = "/tmp/e"
  }
}
`,
    });
    expect(findings.map((f) => [f.ruleId, f.address, f.line, f.message])).toEqual(
      expect.arrayContaining([
        ['PRE-EXEC-001', 'terraform_data.old', 6, expect.stringContaining('`removed` block')],
        ['PRE-EXEC-001', 'terraform_data.d', 13, expect.stringContaining('dynamic "provisioner"')],
        ['PRE-EXEC-001', 'terraform_data.f', 22, expect.stringContaining('provisioner "file"')],
      ]),
    );
  });

  it('finds data "external" scoped inside a check block', async () => {
    const { findings } = await guard({
      'check.tf':
        'check "health" {\n  data "external" "probe" {\n    program = ["sh", "-c", "env"]\n  }\n  assert {\n    condition     = true\n    error_message = "x"\n  }\n}\n',
    });
    expect(findings).toEqual([
      expect.objectContaining({ ruleId: 'PRE-EXEC-001', address: 'data.external.probe', line: 2 }),
    ]);
  });

  it('blocks command-running providers even when only the lock file or a state names them', async () => {
    const { findings } = await guard({
      'main.tf':
        'terraform {\n  required_providers {\n    shell = {\n      source = "scottwinkler/shell"\n    }\n  }\n}\n',
      '.terraform.lock.hcl': 'provider "registry.terraform.io/hashicorp/external" {\n  version = "2.3.4"\n}\n',
    });
    expect(findings.filter((f) => f.ruleId === 'PRE-EXEC-001').map((f) => f.file)).toEqual([
      'main.tf',
      '.terraform.lock.hcl',
    ]);
  });

  it('no config level can lower it: levels PRE-EXEC-001: off still blocks', async () => {
    const config = { ...defaults, levels: { 'PRE-EXEC-001': 'off' as const } };
    const { findings } = await guard({ 'main.tf': 'data "external" "x" {\n  program = ["sh"]\n}\n' }, config);
    const run = { name: 'pregate' as const, status: 'ok' as const, durationMs: 1, findings };
    const v = decideVerdict({ scanners: [run], overrides: [], config });
    expect(v.status).toBe('blocked');
    expect(v.findings).toEqual([expect.objectContaining({ ruleId: 'PRE-EXEC-001', level: 'hard' })]);
  });

  it('finds provisioners in modules called from JSON syntax and nested local modules', async () => {
    const { findings } = await guard({
      'main.tf.json': '{"module": {"app": {"source": "./modules/app"}}}',
      'modules/app/main.tf': 'module "deep" {\n  source = "../deep"\n}\n',
      'modules/deep/main.tf.json':
        '{"resource": {"null_resource": {"x": {"provisioner": [{"remote-exec": {"inline": ["id"]}}]}}}}',
    });
    expect(findings).toEqual([
      expect.objectContaining({
        ruleId: 'PRE-EXEC-001',
        address: 'module.app.module.deep.null_resource.x',
        file: 'modules/deep/main.tf.json',
      }),
    ]);
  });

  it('reports a module in JSON syntax that leaves the repository, and a .tf symlink to outside', async () => {
    const outside = await tree({ 'evil.tf': 'data "external" "x" {\n  program = ["sh"]\n}\n' });
    const root = await tree({ 'main.tf.json': '{"module": {"m": {"source": "../../../../../../../tmp/x"}}}' });
    await symlink(join(outside, 'evil.tf'), join(root, 'linked.tf'));
    const r = await runGuard(root, root, defaults);
    expect(r.run.findings.map((f) => [f.ruleId, f.file, f.message])).toEqual(
      expect.arrayContaining([
        ['PRE-EXEC-001', 'main.tf.json', expect.stringContaining('outside the repository')],
        ['PRE-EXEC-001', 'linked.tf', expect.stringContaining('symbolic link to a file outside')],
      ]),
    );
  });
});

it('after init, a module the guard cannot find installed fails closed (code it did not read is never planned)', async () => {
  const root = await tree({
    'main.tf': 'module "vpc" {\n  source  = "terraform-aws-modules/vpc/aws"\n  version = "5.8.1"\n}\n',
    '.data/modules/modules.json': '{"Modules": [{"Key": "", "Source": "", "Dir": "."}]}',
  });
  const r = await runGuard(root, root, defaults, { dataDir: join(root, '.data'), requireInstalled: true });
  expect(r.run.status).toBe('failed');
  expect(r.run.reason).toContain('main.tf:1: module.vpc (source "terraform-aws-modules/vpc/aws")');
  // Before init the same call is simply not followed yet.
  expect((await runGuard(root, root, defaults)).run.status).toBe('ok');
});

describe('PRE-SOURCE-001: sources outside the allow-list are soft, not an unfixable block', () => {
  it('a ~>-pinned registry module is a soft finding that a policy owner can override', async () => {
    const config = { ...defaults, allowed_module_sources: ['terraform-aws-modules/'] };
    const { findings } = await guard(
      { 'main.tf': 'module "vpc" {\n  source  = "terraform-aws-modules/vpc/aws"\n  version = "~> 5.0"\n}\n' },
      config,
    );
    expect(findings).toEqual([
      expect.objectContaining({
        ruleId: 'PRE-SOURCE-001',
        level: 'soft',
        line: 2,
        message: expect.stringContaining('not pinned'),
      }),
    ]);
    const run = { name: 'pregate' as const, status: 'ok' as const, durationMs: 1, findings };
    expect(decideVerdict({ scanners: [run], overrides: [], config }).status).toBe('needs-override');
    const overridden = decideVerdict({
      scanners: [run],
      overrides: [{ ruleId: 'PRE-SOURCE-001', by: 'owner', reason: 'vetted', at: new Date().toISOString() }],
      config,
    });
    expect(overridden.status).toBe('pass');
  });

  it('defaults: local modules and hashicorp providers pass; other sources and providers are findings', async () => {
    expect(checkModuleSource('./modules/x', undefined, defaults)).toBeUndefined();
    expect(checkModuleSource('terraform-aws-modules/vpc/aws', '5.8.1', defaults)).toMatch(/not used on the default/);
    expect(providerAllowed('registry.terraform.io/hashicorp/aws', defaults.allowed_providers)).toBe(true);
    expect(providerAllowed('someone/evil', defaults.allowed_providers)).toBe(false);
  });

  it('what the default branch already uses is allowed as it is used there', () => {
    const baseline = emptyBaseline();
    baseline.modules.set('terraform-aws-modules/vpc/aws', new Set(['~> 5.0']));
    expect(checkModuleSource('terraform-aws-modules/vpc/aws', '~> 5.0', defaults, baseline)).toBeUndefined();
    // The same source with a new loose constraint still has to be pinned; an exact pin passes.
    expect(checkModuleSource('terraform-aws-modules/vpc/aws', '~> 6.0', defaults, baseline)).toMatch(/not pinned/);
    expect(checkModuleSource('terraform-aws-modules/vpc/aws', '6.0.1', defaults, baseline)).toBeUndefined();
  });

  it('git sources must be allowed and pinned to a tag or commit', () => {
    const config = { ...defaults, allowed_module_sources: ['git::https://git.example.com/'] };
    expect(checkModuleSource('git::https://git.example.com/m.git?ref=main', undefined, config)).toMatch(/not pinned/);
    expect(checkModuleSource('git::https://git.example.com/m.git?ref=v1.2.3', undefined, config)).toBeUndefined();
    expect(checkModuleSource('git::https://elsewhere.example/m.git?ref=v1.2.3', undefined, config)).toMatch(
      /outside the allow-list/,
    );
  });

  it('a provider named only in a committed state file does not pass allowed_providers', async () => {
    const state = {
      version: 4,
      resources: [
        { mode: 'managed', type: 'evil_x', name: 'y', provider: 'provider["registry.terraform.io/evilcorp/evil"]' },
      ],
    };
    const { findings } = await guard({
      'main.tf': 'resource "terraform_data" "a" {\n  input = 1\n}\n',
      'terraform.tfstate': JSON.stringify(state, null, 2),
    });
    expect(findings).toEqual([
      expect.objectContaining({
        ruleId: 'PRE-SOURCE-001',
        file: 'terraform.tfstate',
        line: 8,
        message: expect.stringContaining('evilcorp/evil'),
      }),
    ]);
  });
});

describe('PRE-FILE-001: files outside the module', () => {
  it('judges paths: absolute, ~, .., /proc and built paths are findings; path.module paths are not', () => {
    for (const bad of [
      '"/proc/self/environ"',
      '"/proc/${1}/environ"',
      '"${path.module}/../../x"',
      '"~/.ssh/id_rsa"',
      '"/"',
      'format("%s/environ", "/proc/self")',
      'join("", ["/pr", "oc/self/environ"])',
      'local.p',
      'var.key_path',
      'base64decode("L3Byb2Mvc2VsZi9lbnZpcm9u")',
      'strrev("norivne/fles/corp/")',
      '"${path.module}/${"."}${"."}/${"."}${"."}/etc/passwd"',
      '"${path.module}/${base64decode("Li4vLi4v")}x"',
    ])
      expect(judgePath(bad), bad).toBeDefined();
    for (const ok of [
      '"${path.module}/files/a.txt"',
      'path.module',
      '"templates/x.tpl"',
      '"${path.root}/cfg/${var.env}.json"',
    ])
      expect(judgePath(ok), ok).toBeUndefined();
  });

  it('fires on file(), fileset(), templatefile() and friends with file:line, anywhere in the code', async () => {
    const { findings } = await guard({
      'main.tf': `locals {
  env   = file("/proc/self/environ")
  up    = filebase64("\${path.module}/../../secrets.json")
  all   = fileset("/", "**")
  tpl   = templatefile(format("/%s", "etc/passwd"), {})
  ok    = file("\${path.module}/files/ok.txt")
  there = fileexists("~/.aws/credentials")
}

resource "terraform_data" "x" {
  input = filesha256("/dev/urandom")
}

output "h" {
  value = <<EOT
\${file("/sys/class/net/eth0/address")}
EOT
}
`,
    });
    expect(ids(findings)).toEqual([
      'PRE-FILE-001@main.tf:11',
      'PRE-FILE-001@main.tf:16',
      'PRE-FILE-001@main.tf:2',
      'PRE-FILE-001@main.tf:3',
      'PRE-FILE-001@main.tf:4',
      'PRE-FILE-001@main.tf:5',
      'PRE-FILE-001@main.tf:7',
    ]);
    expect(findings.every((f) => f.level === 'hard' && f.remediation?.includes('path.module'))).toBe(true);
  });

  it('fires in provider blocks and module arguments too (credentials read from the worker)', async () => {
    const { findings } = await guard({
      'main.tf':
        'provider "google" {\n  credentials = file("~/.config/gcloud/application_default_credentials.json")\n}\n\nmodule "app" {\n  source = "./app"\n  key    = filebase64("/etc/ssl/private/app.key")\n}\n',
      'app/main.tf': 'variable "key" {\n  type = string\n}\n',
    });
    expect(ids(findings)).toEqual(['PRE-FILE-001@main.tf:2', 'PRE-FILE-001@main.tf:7']);
  });

  it('an anchored path that takes a variable or local whose value climbs out is a finding too', async () => {
    const { findings } = await guard({
      'main.tf': `variable "name" {
  default = "../../../../proc/self/environ"
}

variable "tpl" {
  default = "app.tpl"
}

locals {
  where = "/etc"
}

output "a" {
  value = file("\${path.module}/\${var.name}")
}

output "b" {
  value = templatefile("\${path.module}/templates/\${var.tpl}", {})
}

output "c" {
  value = fileset("\${path.module}/\${local.where}", "*")
}

output "d" {
  value = file("\${path.module}/files/\${var.env}.json")
}
`,
      'terraform.tfvars': 'env = "../../../../root/.ssh/id_rsa"\n',
    });
    expect(ids(findings)).toEqual(['PRE-FILE-001@main.tf:14', 'PRE-FILE-001@main.tf:22', 'PRE-FILE-001@main.tf:26']);
    expect(findings.find((f) => f.line === 14)?.message).toContain('takes `var.name`');
  });

  it('fires in JSON syntax too', async () => {
    const { findings } = await guard({
      'main.tf.json':
        '{\n  "output": {\n    "e": {\n      "value": "${file(\\"/proc/self/environ\\")}"\n    }\n  }\n}\n',
    });
    expect(ids(findings)).toEqual(['PRE-FILE-001@main.tf.json:4']);
  });

  it('fires on terraform_remote_state with the local backend and local_file reads, not on a backend path', async () => {
    const { findings } = await guard({
      'main.tf': `terraform {
  backend "local" {
    path = "/var/lib/infra-agent/this-project/terraform.tfstate"
  }
}

data "terraform_remote_state" "other" {
  backend = "local"
  config = {
    path = "../other/terraform.tfstate"
  }
}

data "terraform_remote_state" "net" {
  backend = "s3"
  config = {
    bucket = "state"
    key    = "net.tfstate"
    region = "eu-west-1"
  }
}

data "local_file" "key" {
  filename = "/home/app/.ssh/id_rsa"
}

resource "local_file" "copy" {
  source   = "/proc/self/environ"
  filename = "\${path.module}/env.txt"
}

resource "local_file" "out" {
  filename = "/var/lib/infra-agent/out/settings.json"
  content  = "{}"
}
`,
    });
    expect(ids(findings)).toEqual(['PRE-FILE-001@main.tf:24', 'PRE-FILE-001@main.tf:28', 'PRE-FILE-001@main.tf:8']);
  });
});

describe('SEC-SECRET-001: literal secrets', () => {
  it('names like a secret, whatever the resource: administrator_login_password, client_secret, apiKey…', () => {
    for (const n of [
      'password',
      'administrator_login_password',
      'admin_password',
      'master_password',
      'client_secret',
      'api_key',
      'apiKey',
      'access_key',
      'secret_key',
      'private_key',
      'token',
      'DB_PASSWORD',
      'secret_string',
      'slack_webhook_url',
    ])
      expect(isSecretName(n), n).toBe(true);
    for (const n of ['password_length', 'secret_name', 'kms_key_id', 'token_url', 'description', 'secret_arn'])
      expect(isSecretName(n), n).toBe(false);
  });

  it('in tfvars, locals, variable defaults, provider blocks and any resource, at the right line and block', async () => {
    const { findings, secrets } = await guard({
      'terraform.tfvars': 'region = "eu-west-1"\ndb_password = "Pr0d-DB-Passw0rd!"\n',
      'secrets.auto.tfvars.json': '{\n  "api": {\n    "token": "tok-abcdefgh-12345"\n  }\n}\n',
      'main.tf': `locals {
  stripe = "sk_live_51Habcdefghijklmnopqrstuvwx"
  name   = "shop"
}

variable "hook" {
  default = "https://hooks.slack.com/services/T0AAAAAAA/B0BBBBBBB/abcdefghijklmnopqrstuvwx"
}

provider "aws" {
  region = "eu-west-1"
}

provider "aws" {
  alias      = "b"
  access_key = "AKIAIOSFODNN7EXAMPLE"
}

resource "azurerm_windows_virtual_machine" "vm" {
  admin_password = "W1ndows-Adm1n!"
}

resource "aws_db_instance" "db" {
  password = var.db_password
}

resource "random_password" "p" {
  length = 20
}

resource "aws_instance" "i" {
  user_data = <<EOT
#!/bin/sh
cat > /etc/key.pem <<KEY
-----BEGIN RSA PRIVATE KEY-----
MIIBOgIBAAJBAKj34GkxFhD90vcNLYLInFEX6Ppy1tPf9Cnzj4p4WGeKLs1Pt8Qu
-----END RSA PRIVATE KEY-----
KEY
EOT
}
`,
    });
    expect(findings.map((f) => `${f.address}@${f.file}:${f.line}`).sort()).toEqual([
      'aws_instance.i@main.tf:35',
      'azurerm_windows_virtual_machine.vm@main.tf:20',
      'local.stripe@main.tf:2',
      'provider.aws.b@main.tf:16',
      'var.api@secrets.auto.tfvars.json:3',
      'var.db_password@terraform.tfvars:2',
      'var.hook@main.tf:7',
    ]);
    expect(findings.every((f) => f.ruleId === 'SEC-SECRET-001' && f.level === 'hard')).toBe(true);
    // Messages name the secret, never its value.
    for (const f of findings) for (const s of secrets) expect(f.message).not.toContain(s);
    expect(secrets).toEqual(
      expect.arrayContaining(['Pr0d-DB-Passw0rd!', 'sk_live_51Habcdefghijklmnopqrstuvwx', 'W1ndows-Adm1n!']),
    );
  });

  it('a literal hidden in an interpolation of a string literal is still literal', async () => {
    const { findings } = await guard({
      'main.tf': 'resource "aws_db_instance" "db" {\n  password = "${"hunter2hunter2"}"\n}\n',
    });
    expect(ids(findings)).toEqual(['SEC-SECRET-001@main.tf:2']);
  });

  it('references, generated and managed passwords are not literal secrets', async () => {
    const { findings } = await guard({
      'main.tf': `variable "db_password" {
  type      = string
  sensitive = true
}

resource "random_password" "p" {
  length = 24
}

resource "aws_db_instance" "a" {
  password = var.db_password
}

resource "aws_db_instance" "b" {
  password = random_password.p.result
}

resource "aws_rds_cluster" "c" {
  manage_master_user_password = true
}

resource "aws_secretsmanager_secret" "s" {
  name = "prod/db"
}
`,
    });
    expect(findings).toEqual([]);
  });
});
