// Each tool called the way the loop calls it (raw model input → execute), on a real checkout.
import { existsSync } from 'node:fs';
import { readFile, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AgentEnvironment } from '../../src/agent/environment.js';
import { formatChecksFeedback } from '../../src/agent/feedback.js';
import { createAgentEnvironment, requiredProvidersHcl } from '../../src/agent/real-environment.js';
import { formatStateInventory } from '../../src/agent/state-text.js';
import { findTool } from '../../src/agent/tools/index.js';
import { AgentSession, type ToolContext, type ToolOutput } from '../../src/agent/tools/types.js';
import { defaultRepoConfig } from '../../src/config/schema.js';
import type { Finding } from '../../src/core/types.js';
import { indexRepo } from '../../src/repo/index.js';
import { PathSandbox } from '../../src/repo/sandbox.js';
import { Redactor } from '../../src/util/redact.js';
import { describeWithTools } from '../helpers/tools.js';
import { checksResult, copyFixture, ROOT_PROJECT, standInEnv } from './helpers.js';

let repo: string;
let base: string;
let cleanup: () => Promise<void>;
let session: AgentSession;

beforeEach(async () => {
  ({ repo, base, cleanup } = await copyFixture('small-repo'));
  session = new AgentSession();
});
afterEach(() => cleanup());

function ctx(env: AgentEnvironment = standInEnv()): ToolContext {
  return {
    sandbox: new PathSandbox(repo, { writable: ['**/*.tf', '**/*.md'] }),
    env,
    session,
    signal: new AbortController().signal,
    redactor: new Redactor(),
  };
}

async function call(name: string, input: unknown, c: ToolContext = ctx()): Promise<ToolOutput> {
  const tool = findTool(name);
  if (!tool) throw new Error(`no tool ${name}`);
  return tool.execute(input, c);
}

describe('file tools', () => {
  it('list_files lists with sizes, filters by glob, and hides .git and state', async () => {
    await writeFile(join(repo, 'terraform.tfstate'), '{}');
    const all = await call('list_files', {});
    expect(all.isError).toBe(false);
    expect(all.content).toMatch(/^README\.md {2}\(\d+ B\)/);
    expect(all.content).toContain('versions.tf');
    expect(all.content).not.toContain('tfstate');
    const tf = await call('list_files', { pattern: '**/*.md' });
    expect(tf.content.trim().split('\n')).toHaveLength(1);
    expect((await call('list_files', { dir: 'nope' })).content).toContain('not a folder');
  });

  it('read_file numbers lines, reads ranges and says how to read more', async () => {
    await writeFile(join(repo, 'long.tf'), Array.from({ length: 1000 }, (_, i) => `# line ${i + 1}`).join('\n'));
    const head = await call('read_file', { path: 'long.tf' });
    expect(head.content).toContain('long.tf (lines 1-400 of 1000)');
    expect(head.content).toContain('\n400  # line 400');
    expect(head.content).toContain('read_file with start_line=401');
    const mid = await call('read_file', { path: 'long.tf', start_line: 998, end_line: 2000 });
    expect(mid.content).toContain('(lines 998-1000 of 1000)');
    expect(mid.content).toContain('1000  # line 1000');
    expect((await call('read_file', { path: 'long.tf', start_line: 5000 })).isError).toBe(true);
  });

  it('search greps literally by default, supports regex, and refuses catastrophic patterns', async () => {
    const lit = await call('search', { pattern: 'random_pet.service' });
    expect(lit.content).toBe('outputs.tf:3: value       = random_pet.service.id');
    const re = await call('search', { pattern: '^variable\\s+"\\w+"', regex: true });
    expect(re.content).toBe('variables.tf:1: variable "team" {');
    const bad = await call('search', { pattern: '(a+)+$', regex: true });
    expect(bad.isError).toBe(true);
    expect(bad.content).toContain('nested quantifiers');
    expect((await call('search', { pattern: 'nothing-like-this' })).content).toContain('no match');
  });

  it('search does not follow a symlink out of the checkout', async () => {
    await writeFile(join(base, 'secret.tf'), 'needle outside\n');
    await symlink(join(base, 'secret.tf'), join(repo, 'link.tf'));
    expect((await call('search', { pattern: 'needle' })).content).toContain('no match');
  });

  it('search refuses the files read_file refuses: .env, *.pem, *.key, CLI config, and links to them', async () => {
    const { mkdir } = await import('node:fs/promises');
    await writeFile(join(repo, '.env'), 'DB_URL=postgres://app:needle-db@db/app\n');
    await writeFile(join(repo, '.env.production'), 'STRIPE=needle-stripe\n');
    await writeFile(join(repo, 'deploy.pem'), '-----BEGIN CERTIFICATE-----\nneedle-pem\n');
    await mkdir(join(repo, 'keys'));
    await writeFile(join(repo, 'keys', 'app.key'), 'needle-key\n');
    await writeFile(join(repo, 'terraform.rc'), 'credentials "app.terraform.io" { token = needle-rc }\n');
    await symlink(join(repo, '.env'), join(repo, 'notes.tf'));
    await writeFile(join(repo, 'ok.tf'), '# needle in a normal file\n');
    for (const path of ['.env', 'deploy.pem', 'keys/app.key'])
      expect((await call('read_file', { path })).isError, path).toBe(true);
    const r = await call('search', { pattern: 'needle' });
    expect(r.isError).toBe(false);
    expect(r.content).toContain('ok.tf:1: # needle in a normal file');
    expect(r.content).not.toMatch(/needle-(db|stripe|pem|key|rc)/);
    expect(r.content).toContain('5 file(s) not searched');
    const only = await call('search', { pattern: 'needle', glob: '**/*.pem' });
    expect(only.content).toMatch(/^no match/);
  });

  it('write_file and delete_file record what changed; delete refuses what is not there', async () => {
    const c = ctx();
    expect((await call('write_file', { path: 'new/dir/x.tf', content: 'locals {}\n' }, c)).content).toContain(
      'created new/dir/x.tf',
    );
    expect(await readFile(join(repo, 'new/dir/x.tf'), 'utf8')).toBe('locals {}\n');
    expect((await call('delete_file', { path: 'outputs.tf' }, c)).content).toBe('deleted outputs.tf');
    expect(existsSync(join(repo, 'outputs.tf'))).toBe(false);
    expect([...session.originals.entries()]).toEqual([
      ['new/dir/x.tf', null],
      ['outputs.tf', expect.stringContaining('output "service_name"')],
    ]);
    expect((await call('delete_file', { path: 'outputs.tf' }, c)).isError).toBe(true);
    expect((await call('write_file', { path: 'script.sh', content: 'x' }, c)).content).toContain('not a writable path');
  });
});

describe('show_state and run_checks', () => {
  it('show_state renders the redacted inventory, filtered and bounded', async () => {
    const inv = {
      resources: Array.from({ length: 300 }, (_, i) => ({
        address: `random_pet.p${i}`,
        type: 'random_pet',
        name: `p${i}`,
        module: '',
        mode: 'managed' as const,
        attributes: { id: `pet-${i}`, length: 2, keepers: { a: 1 } },
      })),
      outputs: [{ name: 'db_password', sensitive: true }],
    };
    const text = formatStateInventory(inv, { maxChars: 2000 });
    expect(text.length).toBeLessThanOrEqual(2000);
    expect(text).toContain('- random_pet.p0  (id=pet-0, length=2)');
    expect(text).toMatch(/\[… \d+ more; use show_state with a filter\]/);
    expect(text).toContain('db_password (sensitive)');
    expect(formatStateInventory(inv, { maxChars: 2000, filter: 'p299' })).toContain('1 resources in state matching');
    const env = standInEnv({ stateSummary: 'aws_s3_bucket.logs (id=logs-bucket)' });
    expect((await call('show_state', {}, ctx(env))).content).toBe('aws_s3_bucket.logs (id=logs-bucket)');
  });

  it('run_checks answers with errors and findings only, short, with remediation', async () => {
    const finding = (over: Partial<Finding>): Finding => ({
      ruleId: 'SEC-NET-001',
      source: 'opa',
      sources: ['opa', 'tfsec'],
      sourceIds: [],
      severity: 'critical',
      level: 'hard',
      message: 'security group allows SSH from 0.0.0.0/0',
      remediation: 'restrict cidr_blocks to a known range (a variable)',
      file: 'sg.tf',
      line: 7,
      address: 'aws_security_group.web',
      ...over,
    });
    const result = checksResult(false, {
      formatted: ['sg.tf'],
      diagnostics: [
        {
          severity: 'error',
          summary: 'Unsupported argument',
          detail: 'An argument named "foo" is not expected here.',
          file: 'main.tf',
          line: 3,
        },
      ],
      verdict: {
        status: 'blocked',
        findings: [finding({}), finding({ ruleId: 'TAG-001', level: 'advisory', message: 'missing tags' })],
        scanners: [
          { name: 'checkov', status: 'not-run', durationMs: 0, reason: 'checkov is not installed', findings: [] },
        ],
        overrides: [],
        reasons: ['1 hard finding'],
      },
    });
    const env = standInEnv({ checks: () => result });
    const out = await call('run_checks', {}, ctx(env));
    expect(out.content).toBe(formatChecksFeedback(result));
    expect(out.content).toContain('CHECKS FAILED (verdict: blocked)');
    expect(out.content).toContain('terraform fmt rewrote: sg.tf');
    expect(out.content).toContain('- main.tf:3: Unsupported argument — An argument named "foo" is not expected here.');
    expect(out.content).toContain(
      '- [hard] SEC-NET-001 sg.tf:7 aws_security_group.web: security group allows SSH from 0.0.0.0/0. Fix: restrict cidr_blocks',
    );
    expect(out.content).not.toContain('missing tags');
    expect(out.content).toContain('advisory findings: 1');
    expect(out.content).toContain('scanner checkov not-run: checkov is not installed');
    expect(session.lastChecks).toBe(result);
    // Capped whatever the number of findings.
    const many = checksResult(false, {
      verdict: { ...result.verdict, findings: Array.from({ length: 500 }, () => finding({})) },
    });
    expect(formatChecksFeedback(many).length).toBeLessThanOrEqual(6_100);
  });
});

describe('describe_resource_schema', () => {
  it('says so when provider schemas are not available', async () => {
    const out = await call('describe_resource_schema', { type: 'random_pet' });
    expect(out.isError).toBe(true);
    expect(out.content).toContain('provider schemas are not available: providers are not installed');
  });

  it('builds required_providers for the schema scratch dir from the index, dropping unsafe values', async () => {
    await writeFile(
      join(repo, 'evil.tf'),
      'terraform {\n  required_providers {\n    evil = {\n      source = "x\\"}\\nresource"\n    }\n  }\n}\n',
    );
    const hcl = requiredProvidersHcl(await indexRepo(repo), '.');
    expect(hcl).toContain('random = {\n      source = "hashicorp/random"');
    expect(hcl).toContain('local = {\n      source = "hashicorp/local"');
    expect(hcl).not.toContain('evil');
  });
});

describeWithTools(['terraform'], 'describe_resource_schema on real provider schemas', () => {
  it('lists the real attributes of a resource, once per run, and suggests near names for a wrong type', async () => {
    let lookups = 0;
    const real = createAgentEnvironment({
      repoRoot: repo,
      project: ROOT_PROJECT,
      config: defaultRepoConfig(),
      checks: async () => checksResult(true),
    });
    const env: AgentEnvironment = {
      ...real,
      providersSchema: (s) => {
        lookups += 1;
        return real.providersSchema(s);
      },
    };
    const c = ctx(env);
    const pet = await call('describe_resource_schema', { type: 'random_pet' }, c);
    expect(pet.isError).toBe(false);
    expect(pet.content).toContain('resource "random_pet" (provider registry.terraform.io/hashicorp/random)');
    expect(pet.content).toMatch(/length {2}number {2}optional\+computed/);
    expect(pet.content).toMatch(/prefix {2}string {2}optional/);
    const file = await call('describe_resource_schema', { type: 'local_file' }, c);
    expect(file.content).toMatch(/filename {2}string {2}required/);
    const data = await call('describe_resource_schema', { type: 'local_file', kind: 'data' }, c);
    expect(data.content).toContain('data "local_file"');
    const wrong = await call('describe_resource_schema', { type: 'random_petz' }, c);
    expect(wrong.isError).toBe(true);
    expect(wrong.content).toContain('no resource type "random_petz"');
    expect(wrong.content).toContain('random_pet');
    expect(lookups).toBe(1);
    // The scratch init did not touch the checkout.
    expect(existsSync(join(repo, '.terraform'))).toBe(false);
  });
});
