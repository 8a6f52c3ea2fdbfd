import { mkdir, readdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { declaresBackend, globToRegExp, PathSandbox, SandboxError } from '../../src/repo/sandbox.js';
import { tempDir } from '../agent/helpers.js';

let base: string;
let repo: string;
let outside: string;
let cleanup: () => Promise<void>;
let sb: PathSandbox;

beforeEach(async () => {
  ({ dir: base, cleanup } = await tempDir());
  repo = join(base, 'repo');
  outside = join(base, 'outside');
  await mkdir(join(repo, 'modules', 'net'), { recursive: true });
  await mkdir(join(repo, '.github', 'workflows'), { recursive: true });
  await mkdir(join(repo, '.git'), { recursive: true });
  await mkdir(outside, { recursive: true });
  await writeFile(join(repo, 'main.tf'), 'resource "random_pet" "a" {}\n');
  await writeFile(join(repo, 'backend.tf'), 'terraform {\n  backend "s3" {\n    bucket = "b"\n  }\n}\n');
  await writeFile(join(repo, '.github', 'workflows', 'ci.yml'), 'on: push\n');
  await writeFile(join(repo, '.git', 'config'), '[core]\n');
  await writeFile(join(outside, 'secret.txt'), 'top secret\n');
  sb = new PathSandbox(repo, { writable: ['**/*.tf', '**/*.tfvars', '**/*.md'] });
});
afterEach(() => cleanup());

async function refused(p: Promise<unknown>): Promise<string> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(SandboxError);
  return (err as SandboxError).message;
}

describe('PathSandbox', () => {
  it('resolves ordinary paths inside the checkout', async () => {
    expect(await sb.resolveRead('main.tf')).toBe(join(repo, 'main.tf'));
    expect(await sb.resolveRead('./modules/../main.tf')).toBe(join(repo, 'main.tf'));
    expect(await sb.resolveWrite('modules/net/new/sg.tf', 'resource "x" "y" {}')).toBe(
      join(repo, 'modules', 'net', 'new', 'sg.tf'),
    );
  });

  it('refuses ../ escapes, absolute paths and NUL bytes', async () => {
    expect(await refused(sb.resolveRead('../outside/secret.txt'))).toMatch(/leaves the repository/);
    expect(await refused(sb.resolveWrite('../../x.tf', ''))).toMatch(/leaves the repository/);
    expect(await refused(sb.resolveWrite('modules/../../x.tf', ''))).toMatch(/leaves the repository/);
    expect(await refused(sb.resolveRead(join(outside, 'secret.txt')))).toMatch(/absolute paths are not allowed/);
    expect(await refused(sb.resolveWrite('/etc/passwd.tf', ''))).toMatch(/absolute/);
    expect(await refused(sb.resolveRead('~/.ssh/id_rsa'))).toMatch(/absolute/);
    expect(await refused(sb.resolveRead('main.tf\0.md'))).toMatch(/NUL/);
  });

  it('refuses a symlink (file or folder) that points out of the checkout, for reads and writes', async () => {
    await symlink(join(outside, 'secret.txt'), join(repo, 'leak.tf'));
    await symlink(outside, join(repo, 'modules', 'escape'));
    expect(await refused(sb.resolveRead('leak.tf'))).toMatch(/outside the repository/);
    expect(await refused(sb.resolveWrite('leak.tf', 'x'))).toMatch(/outside the repository/);
    expect(await refused(sb.resolveWrite('modules/escape/evil.tf', 'x'))).toMatch(/outside the repository/);
    expect(await refused(sb.resolveRead('modules/escape/secret.txt'))).toMatch(/outside the repository/);
  });

  it('refuses a dangling symlink: writing through it would create its target', async () => {
    await symlink(join(outside, 'not-yet.tf'), join(repo, 'dangling.tf'));
    expect(await refused(sb.resolveWrite('dangling.tf', 'x'))).toMatch(/does not exist/);
  });

  it('refuses a symlink inside the checkout that leads into a protected folder', async () => {
    await symlink(join(repo, '.github', 'workflows'), join(repo, 'wf'));
    await writeFile(join(repo, 'wf-note.md'), 'x');
    expect(await refused(sb.resolveWrite('wf/deploy.md', 'x'))).toMatch(/\.github/);
  });

  it('never writes .github/** (reads are fine), never reads or writes .git, .terraform, state or lock files', async () => {
    expect(await refused(sb.resolveWrite('.github/workflows/x.yml', 'on: push'))).toMatch(/\.github/);
    expect(await refused(sb.resolveWrite('.github/infra-agent.md', 'x'))).toMatch(/\.github/);
    expect(await sb.resolveRead('.github/workflows/ci.yml')).toBe(join(repo, '.github', 'workflows', 'ci.yml'));
    expect(await refused(sb.resolveRead('.git/config'))).toMatch(/\.git\//);
    expect(await refused(sb.resolveWrite('.terraform/x.tf', ''))).toMatch(/\.terraform/);
    expect(await refused(sb.resolveRead('terraform.tfstate'))).toMatch(/state/);
    expect(await refused(sb.resolveRead('env/terraform.tfstate.backup'))).toMatch(/state/);
    expect(await refused(sb.resolveWrite('.terraform.lock.hcl', ''))).toMatch(/lock/);
    expect(await refused(sb.resolveWrite('prod.tfbackend', ''))).toMatch(/backend/);
    expect(await refused(sb.resolveRead('.env'))).toMatch(/secret/);
  });

  it('writes only paths matching the writable globs, and says which they are', async () => {
    const msg = await refused(sb.resolveWrite('scripts/run.sh', 'rm -rf /'));
    expect(msg).toContain('**/*.tf, **/*.tfvars, **/*.md');
    expect(await refused(sb.resolveWrite('Makefile', ''))).toMatch(/not a writable path/);
    const narrow = new PathSandbox(repo, { writable: ['modules/**/*.tf'] });
    expect(await refused(narrow.resolveWrite('main.tf', ''))).toMatch(/not a writable path/);
    expect(await narrow.resolveWrite('modules/net/a.tf', '')).toBe(join(repo, 'modules', 'net', 'a.tf'));
  });

  it('refuses to add, change or remove a backend or cloud block', async () => {
    expect(await refused(sb.resolveWrite('main.tf', 'terraform {\n  backend "local" {}\n}\n'))).toMatch(/backend/);
    expect(await refused(sb.resolveWrite('cloud.tf', 'terraform {\n  cloud {\n organization = "x"\n }\n}\n'))).toMatch(
      /backend/,
    );
    expect(await refused(sb.resolveWrite('backend.tf', 'terraform {}\n'))).toMatch(/holds the backend/);
    expect(await refused(sb.resolveWrite('backend.tf'))).toMatch(/delete/);
    // A comment that mentions a backend is not one.
    expect(await sb.resolveWrite('notes.tf', '# backend "s3" { is configured elsewhere\n')).toBe(
      join(repo, 'notes.tf'),
    );
  });

  it('never lets anything be created outside the checkout', async () => {
    for (const p of ['../x.tf', '/tmp/x.tf', 'modules/../../x.tf']) await refused(sb.resolveWrite(p, ''));
    expect(await readdir(base)).toEqual(['outside', 'repo']);
    expect(await readdir(outside)).toEqual(['secret.txt']);
  });
});

describe('globs and backend detection', () => {
  it('matches like a shell glob with ** for any depth', () => {
    const re = globToRegExp('**/*.tf');
    expect(re.test('main.tf')).toBe(true);
    expect(re.test('a/b/c.tf')).toBe(true);
    expect(re.test('a/b/c.tf.json')).toBe(false);
    expect(globToRegExp('envs/*/terraform.tfvars').test('envs/prod/terraform.tfvars')).toBe(true);
    expect(globToRegExp('envs/*/terraform.tfvars').test('envs/a/b/terraform.tfvars')).toBe(false);
    expect(globToRegExp('**/*.{tf,tfvars}').test('x/y.tfvars')).toBe(true);
  });

  it('finds backend and cloud blocks in HCL and JSON, not in comments', () => {
    expect(declaresBackend('terraform {\n  backend "s3" {}\n}')).toBe(true);
    expect(declaresBackend('terraform { cloud { organization = "o" } }')).toBe(true);
    expect(declaresBackend('{"terraform": {"backend": {"s3": {}}}}')).toBe(true);
    expect(declaresBackend('// backend "s3" {}\n/* cloud { */\nresource "x" "y" {}')).toBe(false);
    expect(declaresBackend('resource "aws_s3_bucket" "backend" {}')).toBe(false);
  });
});
