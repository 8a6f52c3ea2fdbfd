// The committed-checkout attacks of issue #11 against the App, end to end (the /proc, key-file and state attacks run
// against a real `serve` process in sandbox-serve-attacks.test.ts): a repository carries a committed `.terraform/`
// (a provider binary matching the lock file, a modules.json redirect, a workspace switch) and a symlink out of the
// checkout. The App runs with fake secrets in its environment and a key file on disk; no byte of any secret — raw,
// base64 or hex — may reach GitHub (any request body the stand-in received) or the App's logs.
import { createHash, randomBytes } from 'node:crypto';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { standinWebhooks } from '../../devtools/github-standin/index.js';
import { createLogger } from '../../src/observability/logger.js';
import { run } from '../../src/sandbox/exec.js';
import { requireTool } from '../../src/toolchain/tools.js';
import { encodedForms } from '../../src/util/redact.js';
import { type AppWorld, startAppWorld } from '../helpers/app-world.js';
import { describeWithTools } from '../helpers/tools.js';

const OWNER = 'acme';
const REPO = 'infra';

const SECRETS = {
  WEBHOOK_SECRET: `whsec-e2e-${randomBytes(12).toString('hex')}`,
  ANTHROPIC_API_KEY: `sk-ant-api03-e2e${randomBytes(16).toString('hex')}`,
  INFRA_AGENT_PLAN_KEY: randomBytes(32).toString('hex'),
  DATABASE_URL: `postgres://infra:dbpass${randomBytes(8).toString('hex')}@127.0.0.1:9/infra`,
  AWS_SECRET_ACCESS_KEY: `awsSecretE2e${randomBytes(14).toString('hex')}`,
};
const KEY_BODY = randomBytes(48).toString('base64');
const STATE_SECRET = `state-secret-${randomBytes(10).toString('hex')}`;

let ids = 0;
function call(name: string, input: unknown) {
  ids += 1;
  return {
    kind: 'message' as const,
    content: [{ type: 'tool_use' as const, id: `toolu_attack_${String(ids).padStart(4, '0')}`, name, input }],
    stopReason: 'tool_use' as const,
    usage: { input_tokens: 100, output_tokens: 50 },
  };
}
const attackRun = (file: string, content: string) => [
  call('write_file', { path: file, content }),
  call('run_checks', {}),
  call('finish', { title: `Add ${file}`, summary: 'As requested.', notes_for_reviewer: 'none' }),
];

/** Go's dirhash "h1:" of a provider package dir, what `.terraform.lock.hcl` records. */
function h1(files: Record<string, Buffer>): string {
  const summary = Object.keys(files)
    .sort()
    .map(
      (name) =>
        `${createHash('sha256')
          .update(files[name] ?? '')
          .digest('hex')}  ${name}\n`,
    )
    .join('');
  return `h1:${createHash('sha256').update(summary).digest('base64')}`;
}

describeWithTools(['terraform', 'git', 'tfsec', 'checkov', 'opa'], 'sandbox attacks through the App', () => {
  let world: AppWorld | undefined;
  let base: string;
  let keyFile: string;
  let stateRoot: string;
  let statePath: string;
  let marker: string;
  let victim: string;
  let outsideModule: string;
  const logLines: string[] = [];
  const saved = { ...process.env };

  beforeAll(async () => {
    base = mkdtempSync(join(tmpdir(), 'sandbox-e2e-'));
    keyFile = join(base, 'app-private-key.pem');
    writeFileSync(keyFile, `-----BEGIN RSA PRIVATE KEY-----\n${KEY_BODY}\n-----END RSA PRIVATE KEY-----\n`);
    stateRoot = join(base, 'state');
    statePath = join(stateRoot, 'payments', 'terraform.tfstate');
    mkdirSync(join(stateRoot, 'payments'), { recursive: true });
    writeFileSync(
      statePath,
      JSON.stringify({
        version: 4,
        terraform_version: '1.11.4',
        serial: 1,
        lineage: 'e2e',
        outputs: { db_password: { value: STATE_SECRET, type: 'string' } },
        resources: [],
      }),
    );
    marker = join(base, 'provider-binary-ran');
    victim = join(base, 'outside', 'victim.tf');
    mkdirSync(join(base, 'outside'), { recursive: true });
    writeFileSync(victim, 'resource "terraform_data" "victim" {\ninput="unformatted"\n}\n');
    outsideModule = join(base, 'outside-module');
    mkdirSync(outsideModule, { recursive: true });
    writeFileSync(join(outsideModule, 'main.tf'), 'output "where" {\n  value = "outside-module-was-loaded"\n}\n');

    // The App's environment: its own secrets, the key file's path, a provider credential it passes through.
    Object.assign(process.env, SECRETS, { PRIVATE_KEY_PATH: keyFile });

    const sink = new Writable({
      write(chunk, _enc, done) {
        logLines.push(String(chunk));
        done();
      },
    });
    world = await startAppWorld({
      files: {
        'main.tf': 'resource "terraform_data" "base" {\n  input = "x"\n}\n',
        '.github/infra-agent.yml': 'terraform:\n  env_passthrough: [AWS_SECRET_ACCESS_KEY]\n',
      },
      permissions: { mona: 'write' },
      script: attackRun('benign.tf', 'resource "terraform_data" "benign" {\n  input = "y"\n}\n'),
      owner: OWNER,
      repo: REPO,
      secret: SECRETS.WEBHOOK_SECRET,
      log: createLogger({ level: 'debug', destination: sink }),
    });
  }, 120_000);

  afterAll(async () => {
    await world?.close();
    process.env = { ...saved };
    rmSync(base, { recursive: true, force: true });
  });

  async function generate(title: string): Promise<{ body: string; comments: string }> {
    const w = world;
    if (!w) throw new Error('no world');
    const before = (await w.server.runtime.store.listRuns({})).length;
    const issue = w.standin.addIssue({
      owner: OWNER,
      repo: REPO,
      title,
      body: title,
      user: 'mona',
      labels: ['infra-request'],
    });
    const hook = standinWebhooks(w.standin).issuesLabeled(OWNER, REPO, issue.number, 'infra-request', 'mona');
    expect((await w.sender.send(hook.event, hook.payload)).status).toBeLessThan(300);
    const until = Date.now() + 300_000;
    for (;;) {
      const runs = await w.server.runtime.store.listRuns({});
      const done = runs.filter((r) => ['succeeded', 'failed', 'cancelled', 'needs-human'].includes(r.status));
      if (runs.length > before && done.length === runs.length) break;
      if (Date.now() > until) throw new Error(`timed out waiting for the run of "${title}"`);
      await new Promise((r) => setTimeout(r, 250));
    }
    const pr = w.standin.pulls(OWNER, REPO).find((p) => p.body?.includes(`Closes #${issue.number}`));
    const comments = w.standin
      .comments(OWNER, REPO, issue.number)
      .map((c) => c.body)
      .join('\n');
    return { body: pr?.body ?? '', comments };
  }

  /** Every secret in every form an encoding attack produces (raw, hex, base64 at each alignment). */
  function forbidden(): string[] {
    const values = [...Object.values(SECRETS), KEY_BODY, STATE_SECRET, 'dbpass'];
    const dbPassword = new URL(SECRETS.DATABASE_URL).password;
    return [...values, dbPassword].flatMap((v) => encodedForms(v)).filter((f) => f.length >= 8);
  }

  function assertNothingLeaked(): void {
    const w = world;
    if (!w) throw new Error('no world');
    const bodies = w.standin.requests.map((r) => JSON.stringify(r.body ?? ''));
    // JSON escapes nothing in these alphabets, but "/" and "+" in base64 must match as they are.
    const haystacks = [...bodies, ...logLines];
    for (const needle of forbidden()) {
      const hit = haystacks.find((h) => h.includes(needle));
      expect(hit === undefined, `secret form ${needle.slice(0, 6)}… reached GitHub or the logs`).toBe(true);
    }
  }

  it('a committed .terraform/ and an outward symlink are removed, never used, and reported as PRE-WORKSPACE-001', async () => {
    const w = world;
    if (!w) throw new Error('no world');
    // Commit the hazards to the default branch, as a contributor would (git keeps links and modes).
    const git = requireTool('git');
    const work = join(base, 'contrib');
    const env = {
      GIT_CONFIG_GLOBAL: '/dev/null',
      GIT_CONFIG_NOSYSTEM: '1',
      GIT_AUTHOR_NAME: 'm',
      GIT_AUTHOR_EMAIL: 'm@example.com',
      GIT_COMMITTER_NAME: 'm',
      GIT_COMMITTER_EMAIL: 'm@example.com',
    };
    await run(git, ['clone', '--quiet', w.remote.path, work], { env });
    const pkgDir = join(
      work,
      '.terraform',
      'providers',
      'registry.terraform.io',
      'hashicorp',
      'random',
      '2026.8.24',
      'linux_amd64',
    );
    mkdirSync(pkgDir, { recursive: true });
    const binName = 'terraform-provider-random_v2026.8.24';
    const script = Buffer.from(`#!/bin/sh\ntouch '${marker}'\nexit 1\n`);
    writeFileSync(join(pkgDir, binName), script);
    chmodSync(join(pkgDir, binName), 0o755);
    writeFileSync(
      join(work, '.terraform.lock.hcl'),
      `provider "registry.terraform.io/hashicorp/random" {\n  version = "2026.8.24"\n  hashes = [\n    "${h1({ [binName]: script })}",\n  ]\n}\n`,
    );
    writeFileSync(
      join(work, 'random.tf'),
      'terraform {\n  required_providers {\n    random = { source = "hashicorp/random" }\n  }\n}\n\nresource "random_id" "x" {\n  byte_length = 4\n}\n\nmodule "m" {\n  source = "./modules/m"\n}\n\noutput "workspace" {\n  value = terraform.workspace\n}\n',
    );
    mkdirSync(join(work, 'modules', 'm'), { recursive: true });
    writeFileSync(join(work, 'modules', 'm', 'main.tf'), 'output "where" {\n  value = "inside"\n}\n');
    mkdirSync(join(work, '.terraform', 'modules'), { recursive: true });
    writeFileSync(
      join(work, '.terraform', 'modules', 'modules.json'),
      JSON.stringify({
        Modules: [
          { Key: '', Source: '', Dir: '.' },
          { Key: 'm', Source: './modules/m', Dir: outsideModule },
        ],
      }),
    );
    writeFileSync(join(work, '.terraform', 'environment'), 'prod');
    symlinkSync(victim, join(work, 'linked.tf'));
    await run(git, ['add', '--force', '--all'], { cwd: work, env });
    await run(git, ['commit', '--quiet', '-m', 'hazards'], { cwd: work, env });
    await run(git, ['push', '--quiet', 'origin', 'HEAD'], { cwd: work, env });

    const { body, comments } = await generate('Add a benign resource');
    const text = `${body}\n${comments}`;
    expect(text).toContain('PRE-WORKSPACE-001');
    for (const path of ['.terraform', 'linked.tf']) expect(text).toContain(path);
    // The committed provider never ran, the module was not loaded from outside, no `prod` workspace, and nothing
    // wrote through the link.
    expect(existsSync(marker)).toBe(false);
    expect(text).not.toContain('outside-module-was-loaded');
    expect(text).not.toMatch(/workspace\s*=\s*"prod"/);
    expect(readFileSync(victim, 'utf8')).toBe('resource "terraform_data" "victim" {\ninput="unformatted"\n}\n');
    assertNothingLeaked();
  }, 400_000);
});
