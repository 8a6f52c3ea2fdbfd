// The run checkout: the installation token only ever sits in git's argv for clone/push; it is not left in the
// checkout's config and never appears in an error message.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { GitError, remoteUrl, Workspace } from '../../src/stages/workspace.js';
import { createGitRemote, type GitRemote } from '../helpers/git-remote.js';
import { describeWithTools } from '../helpers/tools.js';

const TOKEN = 'ghs_0123456789abcdefghijklmnopqrstuvwxyzAB';
const author = { name: 'infra-agent[bot]', email: 'bot@example.com' };

describeWithTools(['git'], 'Workspace', () => {
  let remote: GitRemote;
  beforeAll(async () => {
    remote = await createGitRemote({ files: { 'main.tf': '# hi\n' }, owner: 'acme', repo: 'infra' });
  });
  afterAll(async () => {
    await remote?.close();
  });

  it('fills the URL template, encoding each part', () => {
    expect(
      remoteUrl('https://x-access-token:{token}@github.com/{owner}/{repo}.git', {
        owner: 'a b',
        repo: 'r',
        token: 't/k',
      }),
    ).toBe('https://x-access-token:t%2Fk@github.com/a%20b/r.git');
  });

  it('clones, commits as the app, pushes with a lease, and keeps no token in .git/config', async () => {
    const ws = await Workspace.clone({
      owner: 'acme',
      repo: 'infra',
      token: TOKEN,
      urlTemplate: remote.urlTemplate,
      author,
    });
    try {
      expect(await readFile(join(ws.dir, '.git', 'config'), 'utf8')).not.toContain(TOKEN);
      await ws.checkoutNew('infra/issue-1-x', 'origin/main');
      await writeFile(join(ws.dir, 'b.tf'), '# b\n');
      await mkdir(join(ws.dir, '.terraform'), { recursive: true });
      await writeFile(join(ws.dir, '.terraform', 'junk'), 'x');
      const sha = await ws.commitAll('add b');
      expect(sha).toMatch(/^[0-9a-f]{40}$/);
      await ws.push('infra/issue-1-x', undefined);
      expect(await remote.headSha('infra/issue-1-x')).toBe(sha);
      expect(await remote.readFile('infra/issue-1-x', '.terraform/junk')).toBeUndefined();
      expect(await ws.authorsBetween('origin/main', 'HEAD')).toEqual(['bot@example.com']);
      // A push whose lease is stale (it expects the branch not to exist) is refused: nobody's commits get overwritten.
      await writeFile(join(ws.dir, 'c.tf'), '# c\n');
      const next = await ws.commitAll('add c');
      await expect(ws.push('infra/issue-1-x', undefined)).rejects.toThrow(GitError);
      expect(await remote.headSha('infra/issue-1-x')).toBe(sha);
      await ws.push('infra/issue-1-x', sha);
      expect(await remote.headSha('infra/issue-1-x')).toBe(next);
    } finally {
      await ws.remove();
    }
  });

  it('contains: whether a head has its base tip in its history (the behind-base check of apply)', async () => {
    const ws = await Workspace.clone({
      owner: 'acme',
      repo: 'infra',
      token: TOKEN,
      urlTemplate: remote.urlTemplate,
      author,
    });
    try {
      const baseTip = await ws.headSha('origin/main');
      await ws.checkoutNew('feature', 'origin/main');
      await writeFile(join(ws.dir, 'f.tf'), '# f\n');
      const head = await ws.commitAll('feature');
      expect(head).toBeDefined();
      expect(await ws.contains(String(head), baseTip)).toBe(true);
      // The base gains a commit the head does not have: the head is behind.
      await ws.checkoutNew('main-next', baseTip);
      await writeFile(join(ws.dir, 'g.tf'), '# g\n');
      const newBase = String(await ws.commitAll('base moves'));
      expect(await ws.contains(String(head), newBase)).toBe(false);
      // Merging the base in fixes it.
      await ws.exec(['checkout', '--quiet', 'feature']);
      await ws.exec(['merge', '--quiet', '--no-edit', 'main-next']);
      expect(await ws.contains(await ws.headSha(), newBase)).toBe(true);
      await expect(ws.contains(String(head), 'f'.repeat(40))).rejects.toThrow(GitError);
    } finally {
      await ws.remove();
    }
  });

  it('never shows the token in an error', async () => {
    const err = await Workspace.clone({
      owner: 'acme',
      repo: 'missing',
      token: TOKEN,
      urlTemplate: `${remote.urlTemplate.replace('{repo}', '{repo}-{token}')}`,
      author,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GitError);
    const message = err instanceof Error ? err.message : '';
    expect(message).not.toContain(TOKEN);
    expect(message).toContain('[REDACTED]');
  });
});
