// GitHub's faults and the store's, end to end through the App: the real server (Probot middleware, embedded store and
// queue, the worker), the GitHub stand-in behind a fault-injecting proxy (real HTTP: 500, 502, 403 secondary rate
// limit, 429 — before the request reaches GitHub, or after GitHub did it and the answer is lost), a store whose
// chosen statements fail, real git and real terraform. The agent is a stub that writes one resource (the model is not
// what is under test here) and the scanners are left out (their cost is not either): what is measured is what reaches
// GitHub — exactly one PR, one progress comment, one check run per name per SHA, the run succeeds or says clearly
// why not, and nothing is lost. Budgets and clocks are shortened (queue retries in 1 s, rate-limit waits of 1 s)
// instead of sleeping through real minutes.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type GitHubStandin, standinWebhooks } from '../../devtools/github-standin/index.js';
import { deliver } from '../../devtools/webhooks.js';
import type { AppServer } from '../../src/server/server.js';
import type { RunRecord } from '../../src/store/types.js';
import { type AppWorld, startAppWorld } from '../helpers/app-world.js';
import type { FaultProxy } from '../helpers/fault-proxy.js';
import { stubAgent, terraformOnly, waitFor } from '../helpers/fault-world.js';
import { type StoreFaults, storeFaults } from '../helpers/faulty-store.js';
import { describeWithTools } from '../helpers/tools.js';
import type { WebhookSender } from '../helpers/webhooks.js';

const OWNER = 'acme';
const REPO = 'infra';
const TF = 'terraform {\n  required_version = ">= 1.5"\n}\n\nresource "terraform_data" "base" {\n  input = "base"\n}\n';

const FINAL = new Set(['succeeded', 'failed', 'cancelled', 'needs-human']);

describeWithTools(['terraform', 'git'], 'GitHub and store faults through the App', () => {
  let world: AppWorld | undefined;
  let standin: GitHubStandin;
  let proxy: FaultProxy;
  let server: AppServer;
  let sender: WebhookSender;
  const faults: StoreFaults = storeFaults();

  beforeAll(async () => {
    world = await startAppWorld({
      files: { 'main.tf': TF },
      permissions: { mona: 'write' },
      owner: OWNER,
      repo: REPO,
      server: {
        agent: stubAgent,
        checks: terraformOnly,
        githubFaults: { secondaryWaitMs: 300, serverErrorDelayMs: 50, rateLimitBudgetMs: 60_000 },
        repair: { intervalMs: 500, queuedStaleMs: 1_500 },
      },
      faults: { proxy: true, store: faults, queue: { retryDelaySeconds: 1, maxAttempts: 3, pollIntervalSeconds: 0.2 } },
    });
    standin = world.standin;
    server = world.server;
    sender = world.sender;
    if (!world.proxy) throw new Error('no proxy');
    proxy = world.proxy;
  }, 600_000);

  afterAll(async () => {
    await world?.close();
  });

  afterEach(() => {
    proxy.clear();
    faults.clear();
  });

  const bot = () => standin.app.botLogin;
  const botComments = (n: number) => standin.comments(OWNER, REPO, n).filter((c) => c.user === bot());

  async function openIssue(title: string, body = 'please'): Promise<number> {
    const issue = standin.addIssue({ owner: OWNER, repo: REPO, title, body, user: 'mona', labels: ['infra-request'] });
    return issue.number;
  }

  async function label(n: number) {
    const hook = standinWebhooks(standin).issuesLabeled(OWNER, REPO, n, 'infra-request', 'mona');
    return sender.send(hook.event, hook.payload);
  }

  /** The runs of an issue once all are final (and at least `count`). */
  async function settled(n: number, count = 1, ms?: number): Promise<RunRecord[]> {
    return waitFor(
      `runs of #${n}`,
      async () => {
        const runs = await server.runtime.store.listRuns({ key: `${OWNER}/${REPO}#${n}` });
        return runs.length >= count && runs.every((r) => FINAL.has(r.status)) ? runs : undefined;
      },
      ms,
    );
  }

  /** The PR's check runs (they link to it), after asserting no name appears twice on one SHA anywhere. */
  function checkRunsOf(pr: number) {
    const perNameAndSha = new Map<string, number>();
    for (const c of standin.state.checkRuns) {
      const k = `${c.name}@${c.headSha}`;
      perNameAndSha.set(k, (perNameAndSha.get(k) ?? 0) + 1);
    }
    expect([...perNameAndSha.entries()].filter(([, count]) => count > 1)).toEqual([]);
    return standin.state.checkRuns.filter((c) => c.detailsUrl?.endsWith(`/pull/${pr}`));
  }

  function expectOneOfEach(n: number) {
    const pulls = standin.pulls(OWNER, REPO, { state: 'all' }).filter((p) => p.body?.includes(`Closes #${n}`));
    expect(pulls).toHaveLength(1);
    expect(botComments(n)).toHaveLength(1);
    const pr = pulls[0]?.number ?? 0;
    const names = checkRunsOf(pr).map((c) => c.name);
    expect(names.filter((x) => x === 'infra-agent/plan')).toHaveLength(1);
    expect(names.filter((x) => x === 'infra-agent/policy')).toHaveLength(1);
    return pr;
  }

  it('a failed enqueue after the delivery record loses nothing: the webhook gets a 5xx and the redelivery runs once', {
    timeout: 300_000,
  }, async () => {
    const n = await openIssue('Lost webhook');
    faults.add({ sql: /INSERT INTO jobs/, times: 1 });
    const first = await label(n);
    expect(first.status).toBeGreaterThanOrEqual(500);
    expect(faults.failed).toHaveLength(1);
    // GitHub redelivers the same delivery (same id, same bytes).
    const again = await deliver(world?.webhookUrl ?? '', first.delivery);
    expect(again.status).toBeLessThan(300);
    const [run] = await settled(n);
    expect(run?.status).toBe('succeeded');
    expectOneOfEach(n);
  });

  it('a crash between the run record and its job leaves neither: the intake retries and makes exactly one run', {
    timeout: 300_000,
  }, async () => {
    const n = await openIssue('Run without a job');
    // The webhook's own insert (the intake job) goes through; the run job's insert, in the worker's intake, fails:
    // run and job are one transaction, so no run is left `queued` without a job, and the intake's retry makes one.
    faults.add({ sql: /INSERT INTO jobs/, skip: 1, times: 1 });
    expect((await label(n)).status).toBeLessThan(300);
    const runs = await settled(n);
    expect(faults.failed).toHaveLength(1);
    expect(runs).toHaveLength(1);
    expect(runs[0]?.status).toBe('succeeded');
    expectOneOfEach(n);
  });

  it('an ambiguous 502 on creating the PR: the PR is adopted, exactly one, and the run succeeds', {
    timeout: 300_000,
  }, async () => {
    const n = await openIssue('Ambiguous PR create');
    proxy.add({ method: 'POST', path: /\/repos\/acme\/infra\/pulls$/, when: 'after', fault: '502', times: 1 });
    expect((await label(n)).status).toBeLessThan(300);
    const [run] = await settled(n);
    expect(proxy.faults()).toHaveLength(1);
    expect(run?.status).toBe('succeeded');
    expectOneOfEach(n);
  });

  it('an ambiguous 502 on creating the progress comment: still one progress comment', {
    timeout: 300_000,
  }, async () => {
    const n = await openIssue('Ambiguous comment create');
    proxy.add({
      method: 'POST',
      path: new RegExp(`/repos/acme/infra/issues/${n}/comments$`),
      when: 'after',
      fault: '502',
      times: 1,
    });
    expect((await label(n)).status).toBeLessThan(300);
    const [run] = await settled(n);
    expect(proxy.faults()).toHaveLength(1);
    expect(run?.status).toBe('succeeded');
    expectOneOfEach(n);
  });

  it('an ambiguous 502 on creating a check run: one infra-agent/plan check run per SHA', {
    timeout: 300_000,
  }, async () => {
    const n = await openIssue('Ambiguous check run create');
    proxy.add({ method: 'POST', path: /\/check-runs$/, when: 'after', fault: '502', times: 2 });
    expect((await label(n)).status).toBeLessThan(300);
    const [run] = await settled(n);
    expect(proxy.faults()).toHaveLength(2);
    expect(run?.status).toBe('succeeded');
    expectOneOfEach(n);
  });

  it('secondary rate limits on 30% of writes: the writes wait and the run succeeds, nothing duplicated', {
    timeout: 300_000,
  }, async () => {
    const n = await openIssue('Rate limited');
    for (const method of ['POST', 'PATCH', 'PUT', 'DELETE']) {
      proxy.add({ method, when: 'before', fault: 'secondary-403', probability: 0.3, retryAfterSeconds: 1 });
    }
    expect((await label(n)).status).toBeLessThan(300);
    const [run] = await settled(n);
    expect(proxy.faults().length).toBeGreaterThan(0);
    expect(run?.status).toBe('succeeded');
    expectOneOfEach(n);
  });

  it('a primary rate limit (x-ratelimit-reset) and a 429 are waited out too', { timeout: 300_000 }, async () => {
    const n = await openIssue('Primary limit');
    proxy.add({ method: 'POST', when: 'before', fault: 'primary-403', times: 2, retryAfterSeconds: 1 });
    proxy.add({ method: 'PATCH', when: 'before', fault: '429', times: 2, retryAfterSeconds: 1 });
    expect((await label(n)).status).toBeLessThan(300);
    const [run] = await settled(n);
    expect(proxy.faults().length).toBe(4);
    expect(run?.status).toBe('succeeded');
    expectOneOfEach(n);
  });

  it('a 10 MB issue body: the run stops with a clear message, never a TypeError', { timeout: 300_000 }, async () => {
    const n = await openIssue('Huge request', 'x'.repeat(10 * 1024 * 1024));
    expect((await label(n)).status).toBeLessThan(300);
    const [run] = await settled(n);
    expect(run?.status, run?.error ?? '').toBe('failed');
    const [comment] = botComments(n);
    expect(comment, `${run?.error}`).toBeDefined();
    expect(comment?.body).toContain('characters long; infra-agent reads at most 65,536');
    expect(comment?.body).not.toMatch(/TypeError|Cannot read properties|undefined/);
  });

  it('a GitHub outage longer than the queue retry budget: the run ends failed and its thread says so when GitHub is back', {
    timeout: 300_000,
  }, async () => {
    const n = await openIssue('Long outage');
    const stopOutage = proxy.add({ when: 'before', fault: '500' });
    expect((await label(n)).status).toBeLessThan(300);
    // The intake itself needs GitHub (config, permission): it is retried, then gives up. Let the intake through.
    stopOutage();
    const run = await waitFor('the run to start', async () => {
      const [r] = await server.runtime.store.listRuns({ key: `${OWNER}/${REPO}#${n}` });
      return r?.status === 'running' || r?.status === 'queued' ? r : undefined;
    });
    const outage = proxy.add({ when: 'before', fault: '500' });
    const [ended] = await settled(n, 1, 120_000);
    expect(ended?.id).toBe(run.id);
    expect(ended?.status).toBe('failed');
    expect(ended?.error).toMatch(/500|Server Error/);
    outage();
    // GitHub is back: the repair sweep posts the final word into the progress comment.
    const comment = await waitFor('the final word in the thread', () => {
      const [c] = botComments(n);
      return c?.body.includes('❌ stopped') ? c : undefined;
    });
    expect(comment.body).toContain(run.id);
    expect(botComments(n)).toHaveLength(1);
  });

  it('deliveries GitHub could not hand over while the App was down or failing are asked for again, once each', {
    timeout: 300_000,
  }, async () => {
    if (!world) throw new Error('no world');
    // The App is unreachable: GitHub records "failed to connect".
    const down = await openIssue('Delivered while the App was down');
    standin.setWebhook('http://127.0.0.1:9/api/github/webhooks', world.secret);
    const downHook = standinWebhooks(standin).issuesLabeled(OWNER, REPO, down, 'infra-request', 'mona');
    const lost = await standin.deliverWebhook(downHook.event, downHook.payload);
    expect(lost.statusCode).toBe(502);
    // The App is up but failing (its store): GitHub records the 500.
    standin.setWebhook(world.webhookUrl, world.secret);
    const failing = await openIssue('Delivered while the App was failing');
    faults.add({ sql: /INSERT INTO webhook_deliveries/, times: 1 });
    const failHook = standinWebhooks(standin).issuesLabeled(OWNER, REPO, failing, 'infra-request', 'mona');
    const refused = await standin.deliverWebhook(failHook.event, failHook.payload);
    expect(refused.statusCode).toBe(500);
    // The redelivery sweep (every 500 ms here) finds both and asks GitHub to deliver them again.
    for (const n of [down, failing]) {
      const [run] = await settled(n);
      expect(run?.status).toBe('succeeded');
      expectOneOfEach(n);
    }
    // Give later sweeps the chance to ask again: they must not.
    await new Promise((r) => setTimeout(r, 1_500));
    for (const first of [lost, refused]) {
      const attempts = standin.state.hookDeliveries.filter((d) => d.guid === first.guid);
      expect(attempts.map((a) => [a.redelivery, a.statusCode])).toEqual([
        [false, first.statusCode],
        [true, 200],
      ]);
    }
    expect(standin.violations).toEqual([]);
  });

  it('a run an older version left queued without a job is found by the repair sweep and runs', {
    timeout: 300_000,
  }, async () => {
    const n = await openIssue('Stranded run');
    const store = server.runtime.store;
    const run = await store.createRun({
      kind: 'generate',
      repo: `${OWNER}/${REPO}`,
      number: n,
      triggeredBy: 'mona',
      input: {
        installationId: 7,
        owner: OWNER,
        repo: REPO,
        defaultBranch: world?.remote.defaultBranch ?? 'main',
        kind: 'generate',
        issueNumber: n,
        requester: 'mona',
        trigger: 'label',
        deliveryId: 'old-version',
      },
    });
    const [done] = await settled(n);
    expect(done?.id).toBe(run.id);
    expect(done?.status).toBe('succeeded');
    expectOneOfEach(n);
  });
});

describe('fault helpers', () => {
  it('the store wrapper fails exactly the statements it is told to', { timeout: 300_000 }, async () => {
    const f = storeFaults();
    const calls: string[] = [];
    const driver = f.wrap({
      name: 'pglite',
      query: async (sql) => {
        calls.push(sql);
        return [];
      },
      exec: async () => {},
      transaction: async (fn) => fn({ query: async () => [] }),
      close: async () => {},
    });
    f.add({ sql: /INSERT INTO jobs/, times: 1 });
    await driver.query('SELECT 1');
    await expect(driver.query('INSERT INTO jobs VALUES (1)')).rejects.toThrow(/injected store fault/);
    await driver.query('INSERT INTO jobs VALUES (2)');
    await expect(driver.transaction(async (tx) => tx.query('SELECT 2'))).resolves.toEqual([]);
    expect(calls).toEqual(['SELECT 1', 'INSERT INTO jobs VALUES (2)']);
    expect(f.failed).toHaveLength(1);
  });
});
