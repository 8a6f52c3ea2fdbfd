import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Octokit } from '@octokit/rest';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CONFIG_PATH, loadRepoConfig, parseRepoConfig } from '../../src/config/load.js';
import { defaultRepoConfig } from '../../src/config/schema.js';
import type { GitHubClient } from '../../src/core/github.js';
import { projectRoot } from '../../src/toolchain/tools.js';
import { nock } from '../github/support/nock.js';

describe('parseRepoConfig', () => {
  it('names the bad key path and the allowed values', () => {
    const r = parseRepoConfig('apply:\n  merge_method: fast-forward\n');
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.message).toBe('`.github/infra-agent.yml`: apply.merge_method: expected one of merge|squash|rebase|off');
  });

  it('lists every problem, with array indexes and unknown keys', () => {
    const r = parseRepoConfig(
      ['projects:', '  - dir: ../outside', '    workspace: 3', 'agent:', '    max_turns: many', 'aply: {}'].join('\n'),
    );
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.problems).toEqual([
      'projects[0].dir: must be a path inside the repository (no leading "/" and no "..")',
      'projects[0].workspace: expected string',
      'agent.max_turns: expected number',
      'aply: unknown key',
    ]);
    expect(r.message.startsWith('`.github/infra-agent.yml` is invalid:\n- projects[0].dir')).toBe(true);
  });

  it('reports YAML syntax errors without a stack', () => {
    const r = parseRepoConfig('projects: [\n');
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.problems[0]).toMatch(/^not valid YAML: /);
  });

  it('gives the defaults for an empty file', () => {
    const r = parseRepoConfig('# nothing yet\n');
    expect(r).toEqual({ ok: true, config: defaultRepoConfig(), source: 'file' });
  });

  it('refuses alias bombs', () => {
    const bomb = ['a: &a [x, x, x, x, x, x, x, x, x]'];
    for (let i = 0; i < 12; i++)
      bomb.push(
        `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [${Array(9)
          .fill(`*${String.fromCharCode(97 + i)}`)
          .join(', ')}]`,
      );
    const r = parseRepoConfig(bomb.join('\n'));
    expect(r.ok).toBe(false);
  });

  it('accepts the bundled example config', () => {
    const text = readFileSync(join(projectRoot(), 'examples', 'infra-agent.yml'), 'utf8');
    const r = parseRepoConfig(text);
    if (!r.ok) throw new Error(r.message);
    expect(r.config.projects.map((p) => p.name)).toEqual(['network', 'app']);
    expect(r.config.apply.merge_method).toBe('squash');
  });
});

describe('loadRepoConfig', () => {
  const repo = { owner: 'octo', repo: 'infra' };
  let octokit: GitHubClient;
  beforeAll(() => {
    nock.disableNetConnect();
    // The REST client is the same class Probot extends; a plain one keeps this test free of app auth.
    octokit = new Octokit({ auth: 'test-token', request: { retries: 0 } }) as unknown as GitHubClient;
  });
  afterEach(() => {
    expect(nock.pendingMocks()).toEqual([]);
    nock.cleanAll();
  });

  it('reads the file from the ref it is given (the default branch)', async () => {
    const content = Buffer.from('trigger:\n  label: terraform\n').toString('base64');
    nock('https://api.github.com')
      .get('/repos/octo/infra/contents/.github%2Finfra-agent.yml')
      .query({ ref: 'main' })
      .reply(200, { type: 'file', encoding: 'base64', content, path: CONFIG_PATH });
    const r = await loadRepoConfig(octokit, repo, 'main');
    expect(r.ok && r.config.trigger.label).toBe('terraform');
    expect(r.ok && r.source).toBe('file');
  });

  it('falls back to the defaults when there is no file', async () => {
    nock('https://api.github.com')
      .get('/repos/octo/infra/contents/.github%2Finfra-agent.yml')
      .query({ ref: 'main' })
      .reply(404, { message: 'Not Found' });
    expect(await loadRepoConfig(octokit, repo, 'main')).toEqual({
      ok: true,
      config: defaultRepoConfig(),
      source: 'default',
    });
  });

  it('never turns a server error into the defaults', async () => {
    nock('https://api.github.com')
      .get('/repos/octo/infra/contents/.github%2Finfra-agent.yml')
      .query({ ref: 'main' })
      .reply(502, { message: 'Bad gateway' });
    await expect(loadRepoConfig(octokit, repo, 'main')).rejects.toThrow();
  });
});
