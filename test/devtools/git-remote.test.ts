// The on-disk git remote: laid out so one URL template serves every repository, cloneable and pushable with plain
// git over file://, with reads and a simulated human push that a test can check against.
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { run } from '../../src/sandbox/exec.js';
import { createGitRemote, type GitRemote, HUMAN_IDENTITY } from '../helpers/git-remote.js';
import { describeWithTools } from '../helpers/tools.js';

const gitEnv = {
  GIT_AUTHOR_NAME: 'infra-agent',
  GIT_AUTHOR_EMAIL: 'bot@example.com',
  GIT_COMMITTER_NAME: 'infra-agent',
  GIT_COMMITTER_EMAIL: 'bot@example.com',
  GIT_CONFIG_GLOBAL: '/dev/null',
};

describeWithTools(['git'], 'git remote on disk', () => {
  let remote: GitRemote;
  let work: string;

  beforeAll(async () => {
    remote = await createGitRemote({
      owner: 'acme',
      repo: 'infra',
      files: { 'main.tf': 'resource "terraform_data" "a" {}\n', 'envs/prod/main.tf': '# prod\n' },
    });
    work = await mkdtemp(join(tmpdir(), 'git-remote-test-'));
  });
  afterAll(async () => {
    await rm(work, { recursive: true, force: true });
    await remote?.close();
  });

  it('lays remotes out as <base>/<owner>/<repo>.git behind one file:// URL template', async () => {
    expect(remote.path).toBe(join(remote.baseDir, 'acme', 'infra.git'));
    expect(remote.urlTemplate).toBe(`file://${remote.baseDir}/{owner}/{repo}.git`);
    const url = remote.urlTemplate.replace('{owner}', 'acme').replace('{repo}', 'infra');
    expect(url).toBe(remote.url);
    const second = await createGitRemote({
      owner: 'acme',
      repo: 'network',
      baseDir: remote.baseDir,
      files: { 'a.tf': '\n' },
    });
    expect(second.url).toBe(remote.urlTemplate.replace('{owner}', 'acme').replace('{repo}', 'network'));
    await second.close();
    expect(existsSync(second.path)).toBe(false);
    expect(existsSync(remote.path)).toBe(true);
  });

  it('is cloned and pushed to with plain git, and reports what was pushed', async () => {
    const clone = join(work, 'clone');
    await run('git', ['clone', '--quiet', remote.url, clone], { env: gitEnv });
    expect(await readFile(join(clone, 'envs/prod/main.tf'), 'utf8')).toBe('# prod\n');
    await run('git', ['checkout', '--quiet', '-b', 'infra/issue-1-bucket'], { cwd: clone, env: gitEnv });
    await writeFile(join(clone, 'bucket.tf'), 'resource "terraform_data" "b" {}\n');
    await run('git', ['add', 'bucket.tf'], { cwd: clone, env: gitEnv });
    await run('git', ['commit', '--quiet', '-m', 'Add bucket'], { cwd: clone, env: gitEnv });
    await run('git', ['push', '--quiet', 'origin', 'infra/issue-1-bucket'], { cwd: clone, env: gitEnv });
    const local = (await run('git', ['rev-parse', 'HEAD'], { cwd: clone, env: gitEnv })).stdout.trim();
    expect(await remote.headSha('infra/issue-1-bucket')).toBe(local);
    expect([...(await remote.listBranches()).keys()].sort()).toEqual(['infra/issue-1-bucket', 'main']);
    expect(await remote.readFile('infra/issue-1-bucket', 'bucket.tf')).toBe('resource "terraform_data" "b" {}\n');
    expect(await remote.readFile('main', 'bucket.tf')).toBeUndefined();
    await expect(remote.headSha('nope')).rejects.toThrow(/does not exist/);
  });

  it('simulates a person pushing to a branch, which a clone then fetches', async () => {
    const before = await remote.headSha('infra/issue-1-bucket');
    const sha = await remote.commitFiles(
      'infra/issue-1-bucket',
      { 'bucket.tf': 'resource "terraform_data" "b2" {}\n', 'main.tf': null },
      'A person fixes the name',
    );
    const log = await run('git', ['log', '-1', '--format=%an <%ae>%n%P%n%s', sha], { cwd: remote.path, env: gitEnv });
    expect(log.stdout.trim().split('\n')).toEqual([
      `${HUMAN_IDENTITY.name} <${HUMAN_IDENTITY.email}>`,
      before,
      'A person fixes the name',
    ]);
    expect(await remote.readFile(sha, 'main.tf')).toBeUndefined();
    expect(await remote.readFile(before, 'main.tf')).toBe('resource "terraform_data" "a" {}\n');
    // Bytes the process runner would alter as text (terminal escapes, non-ASCII) come back exactly.
    const tricky = 'color = "\u001b[31mred\u001b[0m" # ünï 🙂\n';
    const t = await remote.commitFiles('infra/issue-1-bucket', { 'tricky.tf': tricky }, 'tricky bytes');
    expect(await remote.readFile(t, 'tricky.tf')).toBe(tricky);
    const clone = join(work, 'clone');
    await run('git', ['pull', '--quiet', '--ff-only', 'origin', 'infra/issue-1-bucket'], { cwd: clone, env: gitEnv });
    expect(await readFile(join(clone, 'bucket.tf'), 'utf8')).toBe('resource "terraform_data" "b2" {}\n');
  });
});
