// A worker that dies mid-apply: at the next start the App finds the apply run still `running`, marks it needs-human
// (never re-runs it: terraform may have changed infrastructure), keeps its lock, and tells the PR what to check. The
// real server twice on the same on-disk embedded store, GitHub served by the stand-in.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type GitHubStandin, startGitHubStandin } from '../../devtools/github-standin/index.js';
import { takeProjectLocks } from '../../src/apply/locks.js';
import { OctokitApplyPort } from '../../src/github/apply-port.js';
import { createLogger } from '../../src/observability/logger.js';
import { type AppServerOptions, startAppServer } from '../../src/server/server.js';
import { createGitRemote, type GitRemote } from '../helpers/git-remote.js';
import { describeWithTools } from '../helpers/tools.js';

const OWNER = 'acme';
const REPO = 'infra';

describeWithTools(['git'], 'an apply interrupted by a crash', () => {
  let standin: GitHubStandin;
  let remote: GitRemote;
  let dataDir: string;
  let options: AppServerOptions;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'apply-recovery-'));
    standin = await startGitHubStandin();
    remote = await createGitRemote({ files: { 'main.tf': '# empty\n' }, owner: OWNER, repo: REPO });
    standin.addInstallation({ id: 7, account: OWNER, accountType: 'Organization' });
    standin.addRepo({
      owner: OWNER,
      name: REPO,
      remotePath: remote.path,
      defaultBranch: remote.defaultBranch,
      installationId: 7,
    });
    options = {
      appId: String(standin.app.id),
      privateKey: standin.app.privateKey ?? '',
      webhookSecret: 'recovery-secret',
      githubApiUrl: standin.url,
      role: 'all',
      githubThrottle: false,
      port: 0,
      host: '127.0.0.1',
      dataDir: join(dataDir, 'db'),
      planKey: randomBytes(32).toString('hex'),
      gitUrlTemplate: remote.urlTemplate,
      log: createLogger({ level: process.env['T_LOG'] ?? 'fatal' }),
    };
  });

  afterAll(async () => {
    await standin?.close();
    await remote?.close();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('is marked needs-human at the next start, keeps its lock, and the PR is told; nothing is re-run', async () => {
    const thread = standin.addIssue({ owner: OWNER, repo: REPO, title: 'the PR thread', user: 'mona' });
    const first = await startAppServer(options);
    const store = first.runtime.store;
    const run = await store.createRun({
      kind: 'apply',
      repo: `${OWNER}/${REPO}`,
      number: 1,
      triggeredBy: 'octo',
      input: { installationId: 7, owner: OWNER, repo: REPO, defaultBranch: 'main', prNumber: thread.number },
      status: 'running',
      stage: 'applying:network',
    });
    await store.updateRun(run.id, { heartbeatAt: new Date(), startedAt: new Date() });
    const lock = await takeProjectLocks(store, {
      repo: `${OWNER}/${REPO}`,
      pr: thread.number,
      runId: run.id,
      projects: [{ name: 'network', workspace: 'default' }],
    });
    expect(lock.ok).toBe(true);
    // The apply had reported its check as in progress on the PR head.
    const head = await remote.headSha();
    const port = new OctokitApplyPort(await first.probot.auth(7), { owner: OWNER, repo: REPO }, store, run.id);
    await port.reportApplyCheck({ headSha: head, status: 'in_progress', title: 'Applying', summary: 'applying' });
    // The process dies here (closing without finishing the run is what a crash leaves in the store).
    await first.close();

    const second = await startAppServer(options);
    try {
      const after = await second.runtime.store.getRun(run.id);
      expect(after?.status).toBe('needs-human');
      expect(await second.runtime.store.listLocks({ repo: `${OWNER}/${REPO}`, pr: thread.number })).toHaveLength(1);
      const told = standin.comments(OWNER, REPO, thread.number).filter((c) => c.user === standin.app.botLogin);
      expect(told).toHaveLength(1);
      expect(told[0]?.body).toContain(
        `⚠️ The apply of #${thread.number} (run \`${run.id}\`) was interrupted at \`applying:network\` and is **not** re-run automatically`,
      );
      expect(standin.issue(OWNER, REPO, thread.number)?.labels).toContain('infra-agent:needs-human');
      // Its check run does not spin forever: concluded, with the reason.
      const checks = standin.state.checkRuns.filter((c) => c.name === 'infra-agent/apply' && c.headSha === head);
      expect(checks).toHaveLength(1);
      expect(checks[0]).toMatchObject({ status: 'completed', conclusion: 'action_required' });
      expect(checks[0]?.output.summary).toMatch(
        /interrupted at `applying:network` and is \*\*not\*\* re-run automatically/,
      );
      expect(await second.runtime.queue.depth()).toMatchObject({ queued: 0, active: 0 });
      expect(standin.violations).toEqual([]);
    } finally {
      await second.close();
    }
  });
});
