// Plan-output comments against the GitHub stand-in (requests checked against GitHub's OpenAPI description): parts are
// edited in place, a shorter plan supersedes and minimises the parts it no longer needs, nothing piles up.
import pino from 'pino';
import { Probot, ProbotOctokit } from 'probot';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type GitHubStandin, startGitHubStandin } from '../../devtools/github-standin/index.js';
import type { GitHubClient } from '../../src/core/github.js';
import { postPlanOutput, SUPERSEDED_PART } from '../../src/github/plan-comments.js';
import { createStore } from '../../src/store/create-store.js';
import type { Store } from '../../src/store/types.js';
import { createGitRemote, type GitRemote } from '../helpers/git-remote.js';
import { describeWithTools } from '../helpers/tools.js';

function plan(lines: number, tag: string): string {
  return `\`\`\`diff\n${Array.from({ length: lines }, (_, i) => `+ ${tag} resource_${i} = "${'x'.repeat(40)}"`).join('\n')}\n\`\`\``;
}

describeWithTools(['git'], 'plan-output comments', () => {
  let standin: GitHubStandin;
  let remote: GitRemote;
  let store: Store;
  let octokit: GitHubClient;
  let prNumber: number;

  beforeAll(async () => {
    standin = await startGitHubStandin();
    remote = await createGitRemote({ files: { 'main.tf': '' }, owner: 'acme', repo: 'infra' });
    standin.addInstallation({ id: 9, account: 'acme', accountType: 'Organization' });
    standin.addRepo({
      owner: 'acme',
      name: 'infra',
      remotePath: remote.path,
      defaultBranch: remote.defaultBranch,
      installationId: 9,
    });
    await remote.commitFiles('infra/issue-1-x', { 'a.tf': '# a\n' }, 'change', { from: remote.defaultBranch });
    store = await createStore({ dataDir: 'memory://' });
    const probot = new Probot({
      appId: standin.app.id,
      privateKey: standin.app.privateKey ?? '',
      baseUrl: standin.url,
      log: pino({ level: 'silent' }),
      Octokit: ProbotOctokit.defaults({ retry: { enabled: false }, throttle: { enabled: false } }),
    });
    octokit = await probot.auth(9);
    const pr = await octokit.rest.pulls.create({
      owner: 'acme',
      repo: 'infra',
      head: 'infra/issue-1-x',
      base: remote.defaultBranch,
      title: 't',
      body: 'b',
    });
    prNumber = pr.data.number;
  });

  afterAll(async () => {
    await store?.close();
    await standin?.close();
    await remote?.close();
  });

  const target = () => ({ owner: 'acme', repo: 'infra', prNumber, headSha: 'a'.repeat(40) });
  const live = () => standin.comments('acme', 'infra', prNumber);

  it('splits into fenced parts, edits them in place, supersedes and minimises the extra ones', async () => {
    expect(await postPlanOutput(octokit, store, target(), plan(300, 'v1'), 5_000)).toBeGreaterThan(2);
    const first = live();
    expect(first.length).toBeGreaterThan(2);
    expect(first[0]?.body).toMatch(/^\*\*Plan output, part 1 of \d+\*\*/);
    for (const c of first) expect((c.body.match(/```/g) ?? []).length % 2).toBe(0);

    // The same plan again: no new comment, no edit.
    await postPlanOutput(octokit, store, target(), plan(300, 'v1'), 5_000);
    expect(live().map((c) => [c.id, c.bodyHistory.length])).toEqual(first.map((c) => [c.id, c.bodyHistory.length]));

    // A shorter plan: part 1 edited, the others superseded and minimised; still the same comments.
    expect(await postPlanOutput(octokit, store, target(), plan(10, 'v2'), 5_000)).toBe(1);
    const after = live();
    expect(after.map((c) => c.id)).toEqual(first.map((c) => c.id));
    expect(after[0]?.body).toContain('v2 resource_9');
    for (const c of after.slice(1)) {
      expect(c.body).toContain(SUPERSEDED_PART);
      expect(c.minimized).toBe(true);
    }

    // The plan fits in the body now: every part is superseded.
    expect(await postPlanOutput(octokit, store, target(), undefined, 5_000)).toBe(0);
    expect(live().every((c) => c.body.includes(SUPERSEDED_PART))).toBe(true);
    expect(live()).toHaveLength(first.length);
    expect(standin.violations).toEqual([]);
  });
});
