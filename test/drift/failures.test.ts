// A project whose backend credentials are missing, then right, then whose backend hangs, through the App (stand-in,
// real terraform, a real HTTP state backend on loopback that wants basic auth):
//   - missing credentials: the check fails with Terraform's own message in the drift issue, posted once — a second
//     failing check edits the issue but posts nothing new;
//   - credentials passed through (terraform.env_passthrough): the next check succeeds, finds no drift, closes it;
//   - a backend that never answers: the check is cut at terraform.plan_timeout_s and recorded as failed, and the job
//     is not retried by the queue (the next scheduled check tries again: checks are never stacked).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { standinWebhooks } from '../../devtools/github-standin/index.js';
import { DRIFT_LABEL } from '../../src/drift/issue.js';
import { UNSANDBOXED_ENV } from '../../src/sandbox/status.js';
import { type AppWorld, startAppWorld } from '../helpers/app-world.js';
import { describeWithTools } from '../helpers/tools.js';

const OWNER = 'acme';
const REPO = 'infra';
const USER = 'drift-bot';
const PASSWORD = 'right-password-123';

describeWithTools(['terraform', 'git'], 'drift check failures', () => {
  let world: AppWorld;
  let backend: Server;
  let mode: 'auth' | 'hang' = 'auth';
  const hung: Array<() => void> = [];

  beforeAll(async () => {
    // The state backend is a server on the host's loopback, which a sandbox (its own network namespace; Go never
    // proxies 127.0.0.1) cannot reach: this suite is about credentials, so the operator's unsandboxed switch is on.
    process.env[UNSANDBOXED_ENV] = '1';
    backend = createServer((req, res) => {
      if (mode === 'hang') {
        hung.push(() => res.destroy());
        return;
      }
      const expected = `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}`;
      if (req.headers.authorization !== expected) {
        res.writeHead(401, { 'www-authenticate': 'Basic realm="state"' });
        res.end('unauthorized');
        return;
      }
      // No state yet: an empty root module with no state is in sync.
      res.writeHead(404);
      res.end();
    });
    await new Promise<void>((r) => backend.listen(0, '127.0.0.1', r));
    const port = (backend.address() as AddressInfo).port;
    world = await startAppWorld({
      files: {
        'main.tf': `terraform {\n  backend "http" {\n    address = "http://127.0.0.1:${port}/state"\n  }\n}\n\nlocals {\n  team = "platform"\n}\n`,
        '.github/infra-agent.yml': [
          'projects:',
          '  - name: app',
          '    dir: .',
          'terraform:',
          '  env_passthrough: [TF_HTTP_USERNAME, TF_HTTP_PASSWORD]',
          '  plan_timeout_s: 10',
          '',
        ].join('\n'),
      },
      permissions: { mona: 'write' },
      owner: OWNER,
      repo: REPO,
      server: { driftScheduler: false },
    });
  }, 600_000);

  afterAll(async () => {
    for (const h of hung) h();
    await world?.close();
    await new Promise<void>((r) => backend.close(() => r()));
    delete process.env['TF_HTTP_USERNAME'];
    delete process.env['TF_HTTP_PASSWORD'];
    delete process.env[UNSANDBOXED_ENV];
  });

  const store = () => world.server.runtime.store;
  const checks = async () => (await store().listAudit({ action: 'drift.checked', limit: 1000 })).length;
  const idle = async () => {
    const d = await world.server.runtime.queue.depth();
    return d.queued === 0 && d.active === 0;
  };
  const checkNow = async (on: number) => {
    const before = await checks();
    const c = world.standin.addComment({
      owner: OWNER,
      repo: REPO,
      issueNumber: on,
      user: 'mona',
      body: '/infra drift',
    });
    const hook = standinWebhooks(world.standin).issueCommentCreated(OWNER, REPO, c.id);
    expect((await world.sender.send(hook.event, hook.payload)).status).toBeLessThan(300);
    const until = Date.now() + 300_000;
    while (!((await checks()) > before && (await idle()))) {
      if (Date.now() > until) throw new Error('no drift check');
      await new Promise((r) => setTimeout(r, 250));
    }
  };
  const driftIssues = () => world.standin.state.issues.filter((i) => i.labels.includes(DRIFT_LABEL));
  const failureComments = (n: number) =>
    world.standin
      .comments(OWNER, REPO, n)
      .filter((c) => c.user === world.standin.app.botLogin && c.body.includes('The drift check of'));

  it('posts Terraform’s message once, closes the issue on the next success, and records a timeout without retrying', async () => {
    delete process.env['TF_HTTP_USERNAME'];
    delete process.env['TF_HTTP_PASSWORD'];
    const ops = world.standin.addIssue({ owner: OWNER, repo: REPO, title: 'ops', user: 'mona' });

    await checkNow(ops.number);
    expect(driftIssues()).toHaveLength(1);
    const issue = driftIssues()[0];
    if (!issue) throw new Error('no drift issue');
    expect(issue.body).toContain('**the check fails**');
    expect(issue.body).toMatch(/HTTP remote state endpoint requires auth/);
    expect(failureComments(issue.number)).toHaveLength(1);
    expect(failureComments(issue.number)[0]?.body).toMatch(/HTTP remote state endpoint requires auth/);
    expect((await store().getDrift({ repo: `${OWNER}/${REPO}`, project: 'app', workspace: 'default' }))?.state).toBe(
      'error',
    );

    // The same failure an hour later: the issue is edited, nothing is posted again, no second issue.
    await checkNow(ops.number);
    expect(driftIssues()).toHaveLength(1);
    expect(failureComments(issue.number)).toHaveLength(1);
    expect(world.standin.issue(OWNER, REPO, issue.number)?.body).toContain('| Checks since first seen | 2 |');

    // Credentials fixed: the next check succeeds, finds no drift, and closes the issue.
    process.env['TF_HTTP_USERNAME'] = USER;
    process.env['TF_HTTP_PASSWORD'] = PASSWORD;
    await checkNow(ops.number);
    expect(world.standin.issue(OWNER, REPO, issue.number)?.state).toBe('closed');
    const clean = await store().getDrift({ repo: `${OWNER}/${REPO}`, project: 'app', workspace: 'default' });
    expect(clean?.state).toBe('clean');
    expect(clean?.issueNumber).toBeNull();
    // The password never reached GitHub.
    expect(world.standin.state.comments.some((c) => c.body.includes(PASSWORD))).toBe(false);
    expect(world.standin.state.issues.some((i) => (i.body ?? '').includes(PASSWORD))).toBe(false);

    // A backend that never answers: cut at plan_timeout_s, recorded as a failure, and the job is done (no retry).
    mode = 'hang';
    const jobsBefore = await store().countJobs();
    await checkNow(ops.number);
    const timedOut = driftIssues().find((i) => i.state === 'open');
    expect(timedOut?.body).toContain('timed out after 10s');
    const jobsAfter = await store().countJobs();
    expect(jobsAfter.failed).toBe(jobsBefore.failed);
    expect(jobsAfter.queued).toBe(0);
    const audits = await store().listAudit({ action: 'drift.checked', limit: 10 });
    expect(audits[0]?.details['status']).toBe('error');
    expect(world.standin.violations).toEqual([]);
  }, 900_000);
});
