// `infra-agent check` end to end with the real scanners: exit codes, the JSON contract, and clear errors.
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/check.js';
import { describeWithTools } from '../helpers/tools.js';

const FIXTURES = resolve(import.meta.dirname, '../fixtures/policy');

async function check(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const out = vi.spyOn(process.stdout, 'write').mockImplementation((c: string | Uint8Array) => {
    stdout += String(c);
    return true;
  });
  const err = vi.spyOn(process.stderr, 'write').mockImplementation((c: string | Uint8Array) => {
    stderr += String(c);
    return true;
  });
  try {
    const code = await main(args);
    return { code, stdout, stderr };
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
}

afterEach(() => vi.restoreAllMocks());

it('malformed plan JSON is a clear error, exit 2', async () => {
  const r = await check([join(FIXTURES, 'compliant'), '--plan', join(FIXTURES, 'plans/malformed.json')]);
  expect(r.code).toBe(2);
  expect(r.stderr).toMatch(/malformed plan JSON in .*malformed\.json/);
});

it('JSON that is not a plan is a clear error, exit 2', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'check-'));
  await writeFile(join(dir, 'x.json'), '{"hello": 1}');
  const r = await check([join(FIXTURES, 'compliant'), '--plan', join(dir, 'x.json')]);
  expect(r.code).toBe(2);
  expect(r.stderr).toMatch(/not a plan from `terraform show -json`: format_version/);
});

it('invalid config is reported with the key path, exit 2', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'check-'));
  await writeFile(join(dir, 'infra-agent.yml'), 'policy:\n  levels:\n    SEC-NET-001: maybe\n');
  const r = await check([join(FIXTURES, 'compliant'), '--config', join(dir, 'infra-agent.yml')]);
  expect(r.code).toBe(2);
  expect(r.stderr).toContain('policy.levels.SEC-NET-001');
});

it('a directory without Terraform is an error, exit 2, naming what was looked for', async () => {
  const empty = await mkdtemp(join(tmpdir(), 'check-empty-'));
  let r = await check([empty]);
  expect(r.code).toBe(2);
  expect(r.stderr).toMatch(
    /no Terraform in .*check-empty-.*: looked for \*\.tf and \*\.tf\.json files directly in that directory/,
  );
  // Terraform in a subfolder only, or only tfvars: still nothing to check here.
  await mkdir(join(empty, 'sub'));
  await writeFile(join(empty, 'sub', 'main.tf'), 'resource "terraform_data" "x" {}\n');
  await writeFile(join(empty, 'terraform.tfvars'), 'a = 1\n');
  r = await check([empty]);
  expect(r.code).toBe(2);
  expect(r.stderr).toMatch(/no Terraform in/);
  expect(r.stdout).toBe('');
});

it('a file instead of a directory is a usage error, exit 2', async () => {
  const r = await check([join(FIXTURES, 'compliant', 'main.tf')]);
  expect(r.code).toBe(2);
  expect(r.stderr).toMatch(/main\.tf is a file: check takes the directory of a Terraform root module/);
  expect(r.stderr).toContain('usage: infra-agent check <dir>');
  expect(r.stderr).not.toMatch(/printed no JSON/);
});

it('bad arguments exit 2', async () => {
  expect((await check([])).code).toBe(2);
  expect((await check([join(FIXTURES, 'compliant'), '--format', 'xml'])).code).toBe(2);
});

describeWithTools(['tfsec', 'checkov', 'opa'], 'check with the real scanners', () => {
  it('compliant module + its plan → pass, exit 0, JSON contract', async () => {
    const r = await check([
      join(FIXTURES, 'compliant'),
      '--plan',
      join(FIXTURES, 'plans/compliant.json'),
      '--format',
      'json',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const json = JSON.parse(r.stdout) as {
      verdict: string;
      findings: { level: string }[];
      scanners: { name: string; status: string; version: string; durationMs: number }[];
    };
    expect(json.verdict).toBe('pass');
    expect(json.findings.every((f) => f.level === 'advisory')).toBe(true);
    expect(json.scanners.map((s) => s.name)).toEqual(['pregate', 'tfsec', 'checkov', 'opa']);
    for (const s of json.scanners)
      expect(s).toMatchObject({ status: 'ok', version: expect.any(String), durationMs: expect.any(Number) });
  });

  it('invalid HCL → blocked, and every message says file:line and the parser’s words', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'check-bad-hcl-'));
    await writeFile(join(dir, 'main.tf'), 'resource "aws_s3_bucket" "b" {\n  bucket = "x"\n  acl =\n}\n');
    const r = await check([dir, '--repo-root', dir]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('Policy gate: blocked');
    expect(r.stdout).toMatch(/main\.tf:3: Invalid expression/);
    // No message ends at a colon with its cause dropped, and tfsec says its own error, not "printed no JSON".
    expect(r.stdout).not.toMatch(/invalid HCL:\s*$/m);
    expect(r.stdout).not.toMatch(/printed no JSON/);
    const opaRow = r.stdout.split('\n').find((l) => l.startsWith('| opa |'));
    expect(opaRow).toMatch(/failed.*main\.tf:3/);
  });

  it('vulnerable tree without a plan → says it could not plan, blocked, exit 1, SARIF', async () => {
    const r = await check([
      join(FIXTURES, 'vulnerable'),
      '--format',
      'sarif',
      '--repo-root',
      join(FIXTURES, 'vulnerable'),
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/not planned: the pre-plan guard blocks this code/);
    const sarif = JSON.parse(r.stdout) as { version: string; runs: { results: { ruleId: string }[] }[] };
    expect(sarif.version).toBe('2.1.0');
    expect(sarif.runs[0]?.results.map((x) => x.ruleId)).toEqual(
      expect.arrayContaining(['PRE-EXEC-001', 'SEC-NET-001']),
    );
    expect(r.stdout).not.toContain('AKIAIOSFODNN7EXAMPLE');
  });
});
