// GitHub's faults around approve → apply, through the App: the real server, the stand-in behind the fault proxy, real
// git and real terraform (state in a local backend at an absolute path, so the plan's checkout and the apply's share
// it). An outage while an approved apply waits to start (it has touched nothing) does not strand it for a human: it is
// retried and applies once GitHub is back. A merge whose answer is lost (a 502 after GitHub merged) is read back from
// the PR: reported merged, the issue closed, the locks released.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { type GitHubStandin, standinWebhooks } from '../../devtools/github-standin/index.js';
import { STATE_DIRS_ENV } from '../../src/sandbox/policy.js';
import type { AppServer } from '../../src/server/server.js';
import type { RunRecord } from '../../src/store/types.js';
import { type AppWorld, startAppWorld } from '../helpers/app-world.js';
import type { FaultProxy } from '../helpers/fault-proxy.js';
import { stubAgent, terraformOnly, waitFor } from '../helpers/fault-world.js';
import { describeWithTools } from '../helpers/tools.js';
import type { WebhookSender } from '../helpers/webhooks.js';

const OWNER = 'acme';
const REPO = 'infra';
const FINAL = new Set(['succeeded', 'failed', 'cancelled', 'needs-human']);

describeWithTools(['terraform', 'git'], 'GitHub faults around an apply', () => {
  let world: AppWorld | undefined;
  let standin: GitHubStandin;
  let proxy: FaultProxy;
  let server: AppServer;
  let sender: WebhookSender;
  let stateDir: string;
  let statePath: string;

  beforeAll(async () => {
    stateDir = await mkdtemp(join(tmpdir(), 'infra-agent-apply-faults-'));
    statePath = join(stateDir, 'terraform.tfstate');
    // The operator lets terraform (in the sandbox) use this state dir, as for any local backend outside the checkout.
    process.env[STATE_DIRS_ENV] = stateDir;
    world = await startAppWorld({
      files: {
        'main.tf': 'resource "terraform_data" "base" {\n  input = "base"\n}\n',
        'backend.tf': `terraform {\n  backend "local" {\n    path = "${statePath}"\n  }\n}\n`,
      },
      permissions: { mona: 'write', octo: 'write' },
      owner: OWNER,
      repo: REPO,
      server: {
        agent: stubAgent,
        checks: terraformOnly,
        githubFaults: { secondaryWaitMs: 300, serverErrorDelayMs: 50 },
        repair: { intervalMs: 1_000 },
      },
      faults: { proxy: true, queue: { retryDelaySeconds: 1, maxAttempts: 6, pollIntervalSeconds: 0.2 } },
    });
    standin = world.standin;
    server = world.server;
    sender = world.sender;
    if (!world.proxy) throw new Error('no proxy');
    proxy = world.proxy;
  }, 600_000);

  afterAll(async () => {
    await world?.close();
    if (stateDir) await rm(stateDir, { recursive: true, force: true });
  });

  afterEach(() => proxy.clear());

  const runsOf = (n: number) => server.runtime.store.listRuns({ key: `${OWNER}/${REPO}#${n}` });

  async function finalRun(n: number, kind: RunRecord['kind'], ms = 240_000): Promise<RunRecord> {
    return waitFor(
      `${kind} run of #${n}`,
      async () => (await runsOf(n)).find((r) => r.kind === kind && FINAL.has(r.status)),
      ms,
    );
  }

  /** An issue → its PR with a saved plan. */
  async function planned(title: string): Promise<{ issue: number; pr: number }> {
    const issue = standin.addIssue({ owner: OWNER, repo: REPO, title, body: 'please', user: 'mona' });
    const hook = standinWebhooks(standin).issuesLabeled(OWNER, REPO, issue.number, 'infra-request', 'mona');
    expect((await sender.send(hook.event, hook.payload)).status).toBeLessThan(300);
    const run = await finalRun(issue.number, 'generate');
    expect(run.status, run.error ?? '').toBe('succeeded');
    const pr = standin.pulls(OWNER, REPO).find((p) => p.body?.includes(`Closes #${issue.number}`));
    if (!pr) throw new Error('no PR');
    return { issue: issue.number, pr: pr.number };
  }

  async function approve(pr: number) {
    const review = await standin.addReview({
      owner: OWNER,
      repo: REPO,
      pullNumber: pr,
      user: 'octo',
      state: 'APPROVED',
    });
    const hook = await standinWebhooks(standin).pullRequestReviewSubmitted(OWNER, REPO, review.id);
    expect((await sender.send(hook.event, hook.payload)).status).toBeLessThan(300);
  }

  const bot = (n: number) => standin.comments(OWNER, REPO, n).filter((c) => c.user === standin.app.botLogin);

  it('an outage while the approved apply waits to start: retried, applied once GitHub is back — not sent to a human', {
    timeout: 300_000,
  }, async () => {
    const { issue, pr } = await planned('Apply through an outage');
    const outage = proxy.add({ when: 'before', fault: '502' });
    await approve(pr);
    // The apply cannot even get a token: it goes back to the queue (it has touched nothing).
    await waitFor('the apply to hit the outage', async () => {
      const runs = await runsOf(issue);
      const apply = runs.find((r) => r.kind === 'apply');
      return apply && proxy.faults().length >= 2 ? apply : undefined;
    });
    await new Promise((r) => setTimeout(r, 3_000));
    const during = (await runsOf(issue)).find((r) => r.kind === 'apply');
    expect(during?.status).not.toBe('needs-human');
    outage();
    const run = await finalRun(issue, 'apply');
    expect(run.status, run.error ?? '').toBe('succeeded');
    expect(standin.pull(OWNER, REPO, pr)?.merged).toBe(true);
    expect(standin.pull(OWNER, REPO, pr)?.labels).not.toContain('infra-agent:needs-human');
    const state = await readFile(statePath, 'utf8');
    expect(state).toContain('terraform_data');
    const applyChecks = standin.state.checkRuns.filter((c) => c.name === 'infra-agent/apply');
    expect(applyChecks.at(-1)).toMatchObject({ status: 'completed', conclusion: 'success' });
  });

  it('a merge whose answer is lost is read back from the PR: reported merged, issue closed, locks released', {
    timeout: 300_000,
  }, async () => {
    const { issue, pr } = await planned('Lost merge answer');
    proxy.add({ method: 'PUT', path: /\/pulls\/\d+\/merge$/, when: 'after', fault: '502', times: 1 });
    await approve(pr);
    const run = await finalRun(issue, 'apply');
    expect(proxy.faults()).toHaveLength(1);
    expect(run.status, run.error ?? '').toBe('succeeded');
    expect(standin.pull(OWNER, REPO, pr)?.merged).toBe(true);
    const report = bot(pr).find((c) => c.body.includes('Applied the reviewed plan'));
    expect(report?.body).toBeDefined();
    expect(report?.body).not.toContain('Not merged');
    expect(standin.issue(OWNER, REPO, issue)?.state).toBe('closed');
    expect(await server.runtime.store.listLocks({ repo: `${OWNER}/${REPO}`, pr })).toEqual([]);
  });
});
