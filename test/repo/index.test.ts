import {
  cpSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  rmSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IndexCache, indexRepo, summarizeIndex } from '../../src/repo/index.js';
import { projectRoot } from '../../src/toolchain/tools.js';

const FIXTURE = resolve(projectRoot(), 'test', 'fixtures', 'tf', 'multi-root');
const EMPTY = resolve(projectRoot(), 'test', 'fixtures', 'tf', 'no-terraform');

describe('indexRepo on a multi-root repository', () => {
  it('lists files, root modules and every kind of block with file and line', async () => {
    const index = await indexRepo(FIXTURE);
    expect(index.files.map((f) => f.path)).toEqual([
      'envs/prod/main.tf',
      'envs/prod/variables.tf',
      'envs/staging/broken.tf',
      'envs/staging/main.tf',
      'global/iam.tf.json',
      'modules/network/main.tf',
      'modules/network/outputs.tf',
    ]);
    for (const f of index.files) {
      expect(f.sha256).toMatch(/^[0-9a-f]{64}$/);
      expect(f.bytes).toBeGreaterThan(0);
    }
    // modules/network declares required_providers but is only called as a module: not a root
    expect(index.rootModules).toEqual(['envs/prod', 'envs/staging', 'global']);

    expect(index.backends).toEqual([
      { dir: 'envs/prod', file: 'envs/prod/main.tf', line: 4, type: 's3' },
      { dir: 'envs/staging', file: 'envs/staging/main.tf', line: 2, type: 'local' },
      { dir: 'global', file: 'global/iam.tf.json', line: 2, type: 's3' },
    ]);
    expect(index.resources).toEqual([
      { dir: 'envs/prod', file: 'envs/prod/main.tf', line: 44, type: 'aws_s3_bucket', name: 'artifacts' },
      { dir: 'envs/prod', file: 'envs/prod/main.tf', line: 51, type: 'random_id', name: 'suffix' },
      { dir: 'envs/staging', file: 'envs/staging/main.tf', line: 15, type: 'aws_s3_bucket', name: 'artifacts' },
      { dir: 'global', file: 'global/iam.tf.json', line: 12, type: 'aws_iam_role', name: 'ci' },
      { dir: 'modules/network', file: 'modules/network/main.tf', line: 19, type: 'aws_vpc', name: 'this' },
      { dir: 'modules/network', file: 'modules/network/main.tf', line: 24, type: 'aws_subnet', name: 'private' },
    ]);
    expect(index.dataSources).toEqual([
      { dir: 'envs/prod', file: 'envs/prod/main.tf', line: 42, type: 'aws_caller_identity', name: 'current' },
      {
        dir: 'modules/network',
        file: 'modules/network/main.tf',
        line: 30,
        type: 'aws_availability_zones',
        name: 'available',
      },
    ]);
    expect(index.modules).toEqual([
      { dir: 'envs/prod', file: 'envs/prod/main.tf', line: 30, name: 'network', source: '../../modules/network' },
      {
        dir: 'envs/prod',
        file: 'envs/prod/main.tf',
        line: 36,
        name: 'logs_bucket',
        source: 'terraform-aws-modules/s3-bucket/aws',
        version: '4.1.2',
      },
      { dir: 'envs/staging', file: 'envs/staging/main.tf', line: 10, name: 'network', source: '../../modules/network' },
    ]);
    expect(index.variables).toEqual([
      {
        dir: 'envs/prod',
        file: 'envs/prod/variables.tf',
        line: 1,
        name: 'region',
        hasDefault: true,
        sensitive: false,
        type: 'string',
        description: 'AWS region for prod',
      },
      {
        dir: 'envs/prod',
        file: 'envs/prod/variables.tf',
        line: 7,
        name: 'db_password',
        hasDefault: false,
        sensitive: true,
        type: 'string',
      },
      {
        dir: 'envs/prod',
        file: 'envs/prod/variables.tf',
        line: 12,
        name: 'tags',
        hasDefault: true,
        sensitive: false,
        type: 'map(string)',
      },
      {
        dir: 'modules/network',
        file: 'modules/network/main.tf',
        line: 10,
        name: 'name',
        hasDefault: false,
        sensitive: false,
        type: 'string',
      },
      {
        dir: 'modules/network',
        file: 'modules/network/main.tf',
        line: 14,
        name: 'cidr_block',
        hasDefault: true,
        sensitive: false,
        type: 'string',
      },
    ]);
    expect(index.outputs).toEqual([
      { dir: 'global', file: 'global/iam.tf.json', line: 16, name: 'ci_role_arn', sensitive: true },
      {
        dir: 'modules/network',
        file: 'modules/network/outputs.tf',
        line: 1,
        name: 'vpc_id',
        sensitive: false,
        description: 'The VPC id',
      },
      { dir: 'modules/network', file: 'modules/network/outputs.tf', line: 6, name: 'subnet_ids', sensitive: false },
    ]);
    expect(index.providers).toEqual([
      {
        dir: 'envs/prod',
        file: 'envs/prod/main.tf',
        line: 11,
        name: 'aws',
        kind: 'required',
        source: 'hashicorp/aws',
        version: '~> 5.40',
      },
      {
        dir: 'envs/prod',
        file: 'envs/prod/main.tf',
        line: 15,
        name: 'random',
        kind: 'required',
        source: 'hashicorp/random',
      },
      { dir: 'envs/prod', file: 'envs/prod/main.tf', line: 21, name: 'aws', kind: 'config' },
      { dir: 'envs/prod', file: 'envs/prod/main.tf', line: 25, name: 'aws', kind: 'config', alias: 'us' },
      { dir: 'envs/staging', file: 'envs/staging/main.tf', line: 6, name: 'aws', kind: 'required', version: '~> 5.0' },
      {
        dir: 'global',
        file: 'global/iam.tf.json',
        line: 2,
        name: 'aws',
        kind: 'required',
        source: 'hashicorp/aws',
        version: '~> 5.40',
      },
      {
        dir: 'modules/network',
        file: 'modules/network/main.tf',
        line: 3,
        name: 'aws',
        kind: 'required',
        source: 'hashicorp/aws',
        version: '>= 5.0',
      },
    ]);
  });

  it('reports a syntax error as file:line and still indexes the rest', async () => {
    const index = await indexRepo(FIXTURE);
    expect(index.errors).toEqual([
      {
        file: 'envs/staging/broken.tf',
        line: 4,
        message: expect.stringMatching(/^Invalid expression; Expected the start of an expression/),
      },
    ]);
    expect(index.resources.some((r) => r.dir === 'envs/staging')).toBe(true);
  });

  it('adds declared projects to the root modules', async () => {
    const index = await indexRepo(FIXTURE, { declaredProjects: ['modules/network/', './extra'] });
    expect(index.rootModules).toEqual(['envs/prod', 'envs/staging', 'extra', 'global', 'modules/network']);
  });

  it('finds nothing in a directory without Terraform', async () => {
    const index = await indexRepo(EMPTY);
    expect(index.files).toEqual([]);
    expect(index.rootModules).toEqual([]);
    expect(summarizeIndex(index)).toBe('No Terraform files (.tf / .tf.json) in this repository.');
  });
});

describe('indexRepo walking and caching', () => {
  let work: string;
  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'infra-agent-index-'));
  });
  afterAll(() => {
    rmSync(work, { recursive: true, force: true });
  });

  it('skips hidden dirs, node_modules and symlinks that leave the root', async () => {
    const repo = join(work, 'walk');
    cpSync(FIXTURE, repo, { recursive: true });
    for (const dir of ['.terraform/modules/x', '.git', 'node_modules/pkg']) {
      mkdirSync(join(repo, dir), { recursive: true });
      writeFileSync(join(repo, dir, 'hidden.tf'), 'resource "aws_vpc" "hidden" {}\n');
    }
    const outside = join(work, 'outside.tf');
    writeFileSync(outside, 'resource "aws_vpc" "outside" {}\n');
    symlinkSync(outside, join(repo, 'leak.tf'));
    symlinkSync(join(repo, 'envs', 'prod', 'variables.tf'), join(repo, 'inside-link.tf'));
    symlinkSync(work, join(repo, 'linked-dir'));
    const index = await indexRepo(repo);
    expect(index.resources.map((r) => r.name)).not.toContain('hidden');
    expect(index.resources.map((r) => r.name)).not.toContain('outside');
    expect(index.files.map((f) => f.path)).toContain('inside-link.tf');
    expect(index.files.map((f) => f.path).some((p) => p.startsWith('linked-dir'))).toBe(false);
    expect(index.errors).toContainEqual({
      file: 'leak.tf',
      line: 1,
      message: 'symlink leaving the repository: not read',
    });
  });

  it('never parses an unchanged file twice, and re-parses a changed one', async () => {
    const repo = join(work, 'cache');
    cpSync(FIXTURE, repo, { recursive: true });
    const cache = new IndexCache();
    const cold = await indexRepo(repo, { cache });
    expect(cold.stats).toEqual({ parsed: 7, cached: 0, skipped: 0 });

    const warm = await indexRepo(repo, { cache });
    expect(warm.stats).toEqual({ parsed: 0, cached: 7, skipped: 0 });
    expect({ ...warm, stats: undefined }).toEqual({ ...cold, stats: undefined });

    writeFileSync(
      join(repo, 'envs', 'staging', 'main.tf'),
      'terraform {\n  backend "local" {}\n}\nresource "aws_sqs_queue" "added" {}\n',
    );
    const changed = await indexRepo(repo, { cache });
    expect(changed.stats).toEqual({ parsed: 1, cached: 6, skipped: 0 });
    expect(changed.resources.filter((r) => r.dir === 'envs/staging').map((r) => r.name)).toEqual(['added']);

    // the same content in a new place is still the same facts: no parse
    cpSync(join(repo, 'modules', 'network'), join(repo, 'modules', 'network-copy'), { recursive: true });
    const copied = await indexRepo(repo, { cache });
    expect(copied.stats).toEqual({ parsed: 0, cached: 9, skipped: 0 });
    expect(copied.resources.filter((r) => r.dir === 'modules/network-copy').map((r) => r.line)).toEqual([19, 24]);
  });

  it('persists the cache to a file and trusts it on the next run', async () => {
    const repo = join(work, 'persist');
    cpSync(FIXTURE, repo, { recursive: true });
    const path = join(work, 'cache-dir', 'index-cache.json');
    const first = IndexCache.load(path);
    expect(first.size).toBe(0);
    await indexRepo(repo, { cache: first });
    first.save();
    const second = IndexCache.load(path);
    expect(second.size).toBe(7);
    expect((await indexRepo(repo, { cache: second })).stats.parsed).toBe(0);

    writeFileSync(path, '{"version": 999, "entries": {}}');
    expect(IndexCache.load(path).size).toBe(0);
    writeFileSync(path, 'not json');
    expect(IndexCache.load(path).size).toBe(0);
  });

  it('skips reading a file whose size, mtime, ctime and inode are unchanged, and re-reads one that changed in place', async () => {
    const repo = join(work, 'stamped');
    cpSync(FIXTURE, repo, { recursive: true });
    const past = new Date(Date.now() - 60_000);
    const main = join(repo, 'envs', 'staging', 'main.tf');
    for (const f of [main]) utimesSync(f, past, past);
    const path = join(work, 'stamp-cache', 'index.json');
    const first = IndexCache.load(path);
    await indexRepo(repo, { cache: first });
    first.save();
    // Corrupt the cached facts of main.tf: a stamp hit must still validate what it trusts (re-parsed, not crashed).
    const saved = JSON.parse(readFileSync(path, 'utf8'));
    const stamp = saved.stats[realpathSync(main)];
    expect(stamp).toHaveLength(5);
    saved.entries[`hcl:${stamp[4]}`] = { resources: 'nonsense' };
    writeFileSync(path, JSON.stringify(saved));
    const second = await indexRepo(repo, { cache: IndexCache.load(path) });
    expect(second.stats).toEqual({ parsed: 1, cached: 6, skipped: 0 });

    // Same size, mtime put back: the ctime still tells the file changed.
    const before = readFileSync(main, 'utf8');
    const changedText = before.replace(/backend "local"/, 'backend "lokal"');
    expect(changedText.length).toBe(before.length);
    const cache = IndexCache.load(path);
    await indexRepo(repo, { cache });
    cache.save();
    writeFileSync(main, changedText);
    utimesSync(main, past, past);
    const third = await indexRepo(repo, { cache: IndexCache.load(path) });
    expect(third.stats.parsed).toBe(1);
    expect(third.backends.find((b) => b.dir === 'envs/staging')?.type).toBe('lokal');
  });

  it('stops when aborted', async () => {
    const ac = new AbortController();
    ac.abort();
    await expect(indexRepo(FIXTURE, { signal: ac.signal })).rejects.toThrow();
  });
});

describe('summarizeIndex', () => {
  it('summarises the inventory for a prompt', async () => {
    const text = summarizeIndex(await indexRepo(FIXTURE));
    expect(text).toContain('7 Terraform files, 3 root modules.');
    expect(text).toContain('Root modules (3): envs/prod, envs/staging, global');
    expect(text).toContain('Backends (3): envs/prod: s3, envs/staging: local, global: s3');
    expect(text).toContain('Providers (2): hashicorp/aws (~> 5.40; ~> 5.0; >= 5.0), hashicorp/random');
    expect(text).toContain('envs/prod/logs_bucket ← terraform-aws-modules/s3-bucket/aws@4.1.2');
    expect(text).toContain('Resources by type (6 in 5 types): aws_s3_bucket×2, aws_iam_role×1');
    expect(text).toContain('envs/prod:db_password (sensitive)');
    expect(text).toContain('Parse errors (1): envs/staging/broken.tf:4: Invalid expression');
  });

  it('stays within its bound on a huge repo', async () => {
    const repo = mkdtempSync(join(tmpdir(), 'infra-agent-big-'));
    try {
      for (let i = 0; i < 120; i++) {
        const dir = join(repo, `svc${i}`);
        mkdirSync(dir);
        writeFileSync(
          join(dir, 'main.tf'),
          `terraform {\n  backend "s3" {}\n}\nresource "aws_type_${i}" "x" {}\nvariable "v${i}" {}\n`,
        );
      }
      const index = await indexRepo(repo);
      const text = summarizeIndex(index, { maxChars: 1500 });
      expect(text.length).toBeLessThanOrEqual(1500);
      expect(text).toContain('Root modules (120): svc0, svc1');
      expect(text).toContain('… 100 more');
      const tiny = summarizeIndex(index, { maxChars: 200 });
      expect(tiny.length).toBeLessThanOrEqual(200);
      expect(tiny).toMatch(/… \(summary cut\)$/);
    } finally {
      rmSync(repo, { recursive: true, force: true });
    }
  });
});

describe('root modules without provider or backend blocks', () => {
  it('treats a plain resources-only directory as a root module, but not a module it calls', async () => {
    const root = mkdtempSync(join(tmpdir(), 'index-plain-'));
    try {
      mkdirSync(join(root, 'modules', 'thing'), { recursive: true });
      writeFileSync(
        join(root, 'main.tf'),
        'resource "terraform_data" "x" {}\nmodule "t" {\n  source = "./modules/thing"\n}\n',
      );
      writeFileSync(join(root, 'modules', 'thing', 'main.tf'), 'resource "terraform_data" "y" {}\n');
      const index = await indexRepo(root);
      expect(index.rootModules).toEqual(['.']);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
