// The infra-agent/config check run on a PR that changes `.github/infra-agent.yml`: GitHub is nock, the store is
// the real embedded one; the check carries the same key-path message an issue comment would.
import { Octokit } from '@octokit/rest';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { GitHubClient } from '../../src/core/github.js';
import type { ConfigCheckJob } from '../../src/core/jobs.js';
import { runConfigCheck } from '../../src/pipeline/config-check.js';
import type { WorkerDeps } from '../../src/stages/deps.js';
import { createStore } from '../../src/store/create-store.js';
import type { Store } from '../../src/store/types.js';
import { nock } from '../github/support/nock.js';

const API = 'https://api.github.com';
const SHA = 'c'.repeat(40);
const job: ConfigCheckJob = {
  type: 'config-check',
  installationId: 1,
  owner: 'acme',
  repo: 'infra',
  defaultBranch: 'main',
  prNumber: 5,
  headSha: SHA,
};

let store: Store;
let deps: WorkerDeps;

beforeEach(async () => {
  nock.disableNetConnect();
  store = await createStore({ dataDir: 'memory://' });
  const octokit = new Octokit({ auth: 'token', request: { retries: 0 } }) as unknown as GitHubClient;
  deps = {
    store,
    installation: async () => ({ octokit, token: 'token' }),
    agent: async () => {
      throw new Error('not used');
    },
    checks: async () => {
      throw new Error('not used');
    },
    renderers: { policyMarkdown: () => '' },
    gitUrlTemplate: '',
    author: { name: 'a', email: 'a@b' },
    log: pino({ level: 'silent' }),
  };
});

afterEach(async () => {
  await store.close();
  const pending = nock.pendingMocks();
  nock.cleanAll();
  expect(pending).toEqual([]);
});

describe('runConfigCheck', () => {
  it('fails the check with the key path when the PR’s config is invalid', async () => {
    const sent: unknown[] = [];
    nock(API)
      .get('/repos/acme/infra/pulls/5/files')
      .query(true)
      .reply(200, [{ filename: '.github/infra-agent.yml', status: 'modified' }])
      .get('/repos/acme/infra/contents/.github%2Finfra-agent.yml')
      .query({ ref: SHA })
      .reply(200, {
        type: 'file',
        encoding: 'base64',
        content: Buffer.from('apply:\n  merge_method: yolo\n').toString('base64'),
      })
      // Before creating, the App looks for a check run an earlier, interrupted attempt may have made (#19).
      .get(`/repos/acme/infra/commits/${SHA}/check-runs`)
      .query(true)
      .reply(200, { total_count: 0, check_runs: [] })
      .post('/repos/acme/infra/check-runs', (body: unknown) => {
        sent.push(body);
        return true;
      })
      .reply(201, { id: 99, html_url: 'https://github.com/acme/infra/runs/99' });
    await runConfigCheck(job, deps);
    expect(sent).toMatchObject([
      {
        name: 'infra-agent/config',
        head_sha: SHA,
        status: 'completed',
        conclusion: 'failure',
        output: {
          title: '.github/infra-agent.yml is invalid',
          summary: '`.github/infra-agent.yml`: apply.merge_method: expected one of merge|squash|rebase|off',
          annotations: [],
        },
      },
    ]);
  });

  it('passes a valid change and stays silent on PRs that do not touch the config', async () => {
    nock(API)
      .get('/repos/acme/infra/pulls/5/files')
      .query(true)
      .reply(200, [{ filename: 'main.tf', status: 'modified' }]);
    await runConfigCheck(job, deps);

    const sent: unknown[] = [];
    nock(API)
      .get('/repos/acme/infra/pulls/5/files')
      .query(true)
      .reply(200, [{ filename: '.github/infra-agent.yml', status: 'added' }])
      .get('/repos/acme/infra/contents/.github%2Finfra-agent.yml')
      .query({ ref: SHA })
      .reply(200, { type: 'file', encoding: 'base64', content: Buffer.from('version: 1\n').toString('base64') })
      // Before creating, the App looks for a check run an earlier, interrupted attempt may have made (#19).
      .get(`/repos/acme/infra/commits/${SHA}/check-runs`)
      .query(true)
      .reply(200, { total_count: 0, check_runs: [] })
      .post('/repos/acme/infra/check-runs', (body: unknown) => {
        sent.push(body);
        return true;
      })
      .reply(201, { id: 100, html_url: 'https://github.com/acme/infra/runs/100' });
    await runConfigCheck(job, deps);
    expect(sent).toMatchObject([{ name: 'infra-agent/config', conclusion: 'success' }]);
  });
});
