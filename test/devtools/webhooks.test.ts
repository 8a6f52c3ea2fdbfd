// Webhook deliveries: the signature is the one @octokit/webhooks-methods (what Probot verifies with) accepts, the
// request carries GitHub's headers and the exact bytes signed, re-delivery repeats a delivery byte for byte, and
// payloads built from stand-in state match GitHub's own webhook schemas.
import { createServer, type IncomingMessage } from 'node:http';
import { sign, verify } from '@octokit/webhooks-methods';
import { createNodeMiddleware, Probot } from 'probot';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGitRemote, type GitRemote } from '../helpers/git-remote.js';
import {
  type GitHubStandin,
  standinWebhooks,
  startGitHubStandin,
  validateWebhookPayload,
} from '../helpers/github-standin/index.js';
import { describeWithTools } from '../helpers/tools.js';
import { createWebhookSender, exampleWebhook, sendWebhook, signWebhook } from '../helpers/webhooks.js';

const SECRET = 'webhook-secret-for-tests';

interface Received {
  headers: IncomingMessage['headers'];
  body: string;
}

describe('webhook signing and delivery', () => {
  const received: Received[] = [];
  let url = '';
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      const body = Buffer.concat(chunks).toString('utf8');
      received.push({ headers: req.headers, body });
      const sig = req.headers['x-hub-signature-256'];
      const ok = typeof sig === 'string' && (await verify(SECRET, body, sig));
      res.writeHead(ok ? 202 : 401, { 'content-type': 'text/plain' });
      res.end(ok ? 'accepted' : 'bad signature');
    });
  });

  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('no address');
    url = `http://127.0.0.1:${address.port}/api/github/webhooks`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('signs exactly as @octokit/webhooks-methods does, and only the right secret verifies', async () => {
    const body = JSON.stringify({ action: 'labeled', n: 'ünïcödé 🙂' });
    const ours = signWebhook(SECRET, body);
    expect(ours).toBe(await sign(SECRET, body));
    expect(await verify(SECRET, body, ours)).toBe(true);
    expect(await verify('another-secret', body, ours)).toBe(false);
    expect(await verify(SECRET, `${body} `, ours)).toBe(false);
  });

  it("POSTs GitHub's headers and the signed bytes; a forged signature is sent as given", async () => {
    received.length = 0;
    const payload = { action: 'opened', number: 1 };
    const ok = await sendWebhook(url, { event: 'issues', payload, secret: SECRET, deliveryId: 'd-1' });
    expect(ok.status).toBe(202);
    expect(ok.body).toBe('accepted');
    expect(ok.ackMs).toBeGreaterThanOrEqual(0);
    const got = received[0];
    expect(got?.body).toBe(JSON.stringify(payload));
    expect(got?.headers).toMatchObject({
      'content-type': 'application/json',
      'x-github-event': 'issues',
      'x-github-delivery': 'd-1',
      'x-hub-signature-256': signWebhook(SECRET, JSON.stringify(payload)),
    });
    expect(got?.headers['user-agent']).toMatch(/^GitHub-Hookshot\//);

    const forged = await sendWebhook(url, {
      event: 'issues',
      payload,
      secret: SECRET,
      signature: `sha256=${'0'.repeat(64)}`,
    });
    expect(forged.status).toBe(401);
    expect(received[1]?.headers['x-hub-signature-256']).toBe(`sha256=${'0'.repeat(64)}`);
  });

  it('re-delivers every delivery byte for byte, with the same delivery ids, and never a forged one', async () => {
    received.length = 0;
    const sender = createWebhookSender(url, SECRET);
    await sender.send('issues', { action: 'labeled', n: 1 });
    await sender.send('issue_comment', { action: 'created', n: 2 });
    await sender.send('issues', { action: 'labeled', n: 3 }, { signature: 'sha256=forged' });
    expect(sender.deliveries).toHaveLength(2);
    const again = await sender.redeliverAll();
    expect(again.map((r) => r.status)).toEqual([202, 202]);
    const first = received.slice(0, 2);
    const second = received.slice(3);
    expect(second.map((r) => [r.headers['x-github-delivery'], r.headers['x-hub-signature-256'], r.body])).toEqual(
      first.map((r) => [r.headers['x-github-delivery'], r.headers['x-hub-signature-256'], r.body]),
    );
  });

  it('starts payloads from the recorded examples', () => {
    const ex = exampleWebhook('pull_request', 'synchronize');
    expect(ex['action']).toBe('synchronize');
    expect(ex).toHaveProperty('before');
    expect(() => exampleWebhook('issues', 'no-such-action')).toThrow(/has no issues.no-such-action example/);
  });
});

describeWithTools(['git'], 'webhook payloads from stand-in state', () => {
  let remote: GitRemote;
  let gh: GitHubStandin;

  beforeAll(async () => {
    remote = await createGitRemote({ owner: 'acme', repo: 'infra', files: { 'main.tf': '\n' } });
    gh = await startGitHubStandin();
    gh.addRepo({ owner: 'acme', name: 'infra', remotePath: remote.path, installationId: 42 });
  });
  afterAll(async () => {
    await gh?.close();
    await remote?.close();
  });

  it("builds each delivery the App handles from current state, valid against GitHub's webhook schemas", async () => {
    const hooks = standinWebhooks(gh);
    const issue = gh.addIssue({ owner: 'acme', repo: 'infra', title: 'A bucket', body: 'please', user: 'alice' });
    const labeled = hooks.issuesLabeled('acme', 'infra', issue.number, 'infra-request', 'bob');
    expect(labeled.event).toBe('issues');
    expect(labeled.payload).toMatchObject({
      action: 'labeled',
      issue: { number: issue.number, title: 'A bucket', body: 'please', user: { login: 'alice' } },
      label: { name: 'infra-request' },
      sender: { login: 'bob' },
      repository: { full_name: 'acme/infra', name: 'infra', owner: { login: 'acme' }, default_branch: 'main' },
      installation: { id: 42 },
    });
    // GitHub applies the label before it tells the App.
    expect(gh.issue('acme', 'infra', issue.number)?.labels).toEqual(['infra-request']);

    const opened = hooks.issuesOpened('acme', 'infra', issue.number);
    const comment = gh.addComment({
      owner: 'acme',
      repo: 'infra',
      issueNumber: issue.number,
      user: 'bob',
      body: '/infra help',
    });
    const commented = hooks.issueCommentCreated('acme', 'infra', comment.id);
    expect(commented.payload).toMatchObject({
      comment: { id: comment.id, body: '/infra help', user: { login: 'bob' } },
    });

    const before = await remote.headSha('main');
    await remote.commitFiles('infra/issue-1-a', { 'a.tf': 'a\n' }, 'a', { from: 'main' });
    // The PR is opened the way the App opens it: through the API with an installation token.
    const privateKey = gh.app.privateKey ?? '';
    const octo = await new Probot({ appId: gh.app.id, privateKey, baseUrl: gh.url, logLevel: 'fatal' }).auth(42);
    const created = await octo.rest.pulls.create({
      owner: 'acme',
      repo: 'infra',
      head: 'infra/issue-1-a',
      base: 'main',
      title: 'Add a',
      body: `Closes #${issue.number}`,
    });
    const pr = created.data.number;
    const after = await remote.commitFiles('infra/issue-1-a', { 'a.tf': 'b\n' }, 'a person pushed');
    const sync = await hooks.pullRequestSynchronize('acme', 'infra', pr, before, 'alice');
    expect(sync.payload).toMatchObject({
      action: 'synchronize',
      number: pr,
      before,
      after,
      pull_request: { number: pr, head: { sha: after, ref: 'infra/issue-1-a' }, user: { login: gh.app.botLogin } },
    });
    const review = await gh.addReview({ owner: 'acme', repo: 'infra', pullNumber: pr, user: 'alice' });
    const reviewed = await hooks.pullRequestReviewSubmitted('acme', 'infra', review.id);
    expect(reviewed.payload).toMatchObject({ review: { id: review.id, state: 'APPROVED', commit_id: after } });
    const prOpened = await hooks.pullRequestOpened('acme', 'infra', pr);
    const closed = await hooks.pullRequestClosed('acme', 'infra', pr, 'alice');

    const all = [labeled, opened, commented, sync, reviewed, prOpened, closed];
    for (const w of all) {
      const action = w.payload['action'];
      expect(typeof action).toBe('string');
      expect({ event: w.event, action, problems: validateWebhookPayload(w.event, String(action), w.payload) }).toEqual({
        event: w.event,
        action,
        problems: [],
      });
    }
  });

  it('drives a real Probot app end to end: signed deliveries are handled against the stand-in, forged ones refused', async () => {
    const privateKey = gh.app.privateKey ?? '';
    const probot = new Probot({
      appId: gh.app.id,
      privateKey,
      secret: SECRET,
      baseUrl: gh.apiV3Url,
      logLevel: 'fatal',
    });
    const handled: string[] = [];
    const middleware = await createNodeMiddleware(
      (app) => {
        app.on('issues.labeled', async (context) => {
          handled.push(context.payload.label?.name ?? '');
          await context.octokit.rest.reactions.createForIssue(context.issue({ content: 'eyes' }));
          const config = await context.config<{ version?: number }>('infra-agent.yml');
          await context.octokit.rest.issues.createComment(context.issue({ body: `config version ${config?.version}` }));
        });
      },
      { probot },
    );
    const server = createServer((req, res) => {
      void middleware(req, res, () => {
        res.writeHead(404);
        res.end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    try {
      const address = server.address();
      if (address === null || typeof address === 'string') throw new Error('no address');
      await remote.commitFiles('main', { '.github/infra-agent.yml': 'version: 3\n' }, 'add config');
      const issue = gh.addIssue({ owner: 'acme', repo: 'infra', title: 'Probot', user: 'alice' });
      const hook = standinWebhooks(gh).issuesLabeled('acme', 'infra', issue.number, 'infra-request', 'alice');
      const sender = createWebhookSender(`http://127.0.0.1:${address.port}/api/github/webhooks`, SECRET, gh.app.id);
      const forged = await sender.send(hook.event, hook.payload, { signature: signWebhook('wrong-secret', '{}') });
      expect(forged.status).toBeGreaterThanOrEqual(400);
      expect(handled).toEqual([]);
      const ok = await sender.send(hook.event, hook.payload);
      expect(ok.status).toBe(200);
      expect(handled).toEqual(['infra-request']);
      expect(gh.comments('acme', 'infra', issue.number).map((c) => [c.user, c.body])).toEqual([
        [gh.app.botLogin, 'config version 3'],
      ]);
      expect(gh.violations).toEqual([]);
      expect(gh.responseViolations).toEqual([]);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
