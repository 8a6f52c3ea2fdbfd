// Webhook handlers with recorded payloads: GitHub is nock (no real network, no pending mocks after each test), the
// store is the real embedded one (in memory), and the queue records what was enqueued. Each delivery is acknowledged
// without a single GitHub call (the handler only dedupes and enqueues an intake job); the test then plays the worker:
// it runs the intake jobs (config, permission, 👀, replies) and the bodies sent are snapshotted as before.

import pino from 'pino';
import { Probot, ProbotOctokit } from 'probot';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { IntakeJobSchema } from '../../src/core/jobs.js';
import { createAppFn } from '../../src/intake/app.js';
import { runIntake } from '../../src/intake/intake.js';
import type { EnqueueJob } from '../../src/queue/types.js';
import { createStore } from '../../src/store/create-store.js';
import type { Store } from '../../src/store/types.js';
import { nock } from './support/nock.js';
import { issueComment, issueLabeled, issueOpened, OWNER, pullRequestSynchronize, REPO } from './support/payloads.js';

const API = 'https://api.github.com';
const REPO_PATH = '/repos/Codertocat/Hello-World';
const CONFIG = `${REPO_PATH}/contents/.github%2Finfra-agent.yml`;
const OWN_PR_BODY = 'summary\n<!-- infra-agent:run-id=run-1 -->\n<!-- infra-agent:issue=1 -->';

let store: Store;
let enqueued: EnqueueJob[];
let intakes: EnqueueJob[];
let probot: Probot;
let delivery = 0;

const recordingQueue = {
  enqueue: async (job: EnqueueJob) => {
    if (job.kind === 'intake') {
      // The queue's idempotency key: a second enqueue of the same delivery adds nothing.
      if (!intakes.some((j) => j.idempotencyKey === job.idempotencyKey)) intakes.push(job);
      return `intake-${intakes.length}`;
    }
    enqueued.push(job);
    return `job-${enqueued.length}`;
  },
};

/** Deliver a webhook (the ack must not call GitHub), then run the intake jobs it queued, as the worker would. */
async function receive(
  name: 'issues' | 'issue_comment' | 'pull_request',
  payload: Record<string, unknown>,
  id?: string,
) {
  delivery += 1;
  const pendingBefore = nock.pendingMocks();
  const queuedBefore = intakes.length;
  // biome-ignore lint/suspicious/noExplicitAny: Probot's receive is typed per event name; the payloads are recorded JSON
  await probot.receive({ id: id ?? `delivery-${delivery}`, name, payload } as any);
  expect(nock.pendingMocks()).toEqual(pendingBefore);
  const octokit = await probot.auth();
  for (const job of intakes.slice(queuedBefore)) {
    await runIntake(IntakeJobSchema.parse(job.payload), octokit, {
      store,
      queue: recordingQueue,
      botLogin: 'infra-agent[bot]',
      log: pino({ level: 'silent' }),
    });
  }
}

/** Captures the JSON body of a nocked request for an inline snapshot. */
function capture(into: unknown[]) {
  return (body: unknown) => {
    into.push(body);
    return true;
  };
}

beforeAll(() => {
  nock.disableNetConnect();
});
afterAll(() => {
  nock.enableNetConnect();
});

beforeEach(async () => {
  // A fresh store per test: runs queued by one test must not make the next one "wait behind" them.
  store = await createStore({ dataDir: 'memory://' });
  // The App's PRs are the ones the store links to an issue (written when the App opened them), not any body's markers.
  await store.linkPullRequest({ repo: `${OWNER}/${REPO}`, pr: 9, issue: 1, runId: 'run-1', branch: 'infra/issue-1-x' });
  await store.linkPullRequest({
    repo: `${OWNER}/${REPO}`,
    pr: 12,
    issue: 11,
    runId: 'run-12',
    branch: 'infra/issue-11-x',
  });
  enqueued = [];
  intakes = [];
  probot = new Probot({
    githubToken: 'test-token',
    log: pino({ level: 'silent' }),
    Octokit: ProbotOctokit.defaults({ retry: { enabled: false }, throttle: { enabled: false } }),
  });
  await probot.load(
    createAppFn({
      store,
      queue: recordingQueue,
      botLogin: 'infra-agent[bot]',
    }),
  );
});

afterEach(async () => {
  await store.close();
  const pending = nock.pendingMocks();
  nock.cleanAll();
  expect(pending).toEqual([]);
});

describe('issues.labeled', () => {
  it('enqueues a generate run for an authorised labeller, with 👀, and drops the re-delivery', async () => {
    nock(API)
      .get(CONFIG)
      .query({ ref: 'master' })
      .reply(404)
      .get(`${REPO_PATH}/collaborators/Codertocat/permission`)
      .reply(200, { permission: 'write', role_name: 'write', user: null })
      .post(`${REPO_PATH}/issues/1/reactions`, { content: 'eyes' })
      .reply(201, {});
    await receive('issues', issueLabeled(), 'same-delivery');
    expect(enqueued).toHaveLength(1);
    const job = enqueued[0];
    expect(job?.key).toBe('Codertocat/Hello-World#1');
    expect(job?.idempotencyKey).toBe('delivery:same-delivery');
    expect(job?.payload).toMatchObject({
      type: 'run',
      kind: 'generate',
      issueNumber: 1,
      requester: 'Codertocat',
      installationId: 4242,
      defaultBranch: 'master',
      trigger: 'label',
    });
    const run = await store.getRun(String(job?.payload['runId']));
    expect(run?.status).toBe('queued');

    // GitHub re-delivers the same delivery id: no API call, nothing enqueued.
    await receive('issues', issueLabeled(), 'same-delivery');
    expect(enqueued).toHaveLength(1);
  });

  it('replies politely to a labeller without write permission and runs nothing', async () => {
    const bodies: unknown[] = [];
    nock(API)
      .get(CONFIG)
      .query({ ref: 'master' })
      .reply(404)
      .get(`${REPO_PATH}/collaborators/Codertocat/permission`)
      .reply(200, { permission: 'read', role_name: 'triage', user: null })
      .post(`${REPO_PATH}/issues/1/comments`, capture(bodies))
      .reply(201, {});
    await receive('issues', issueLabeled());
    expect(enqueued).toEqual([]);
    expect(bodies).toMatchInlineSnapshot(`
      [
        {
          "body": "Thanks @Codertocat! Starting infra-agent with the \`infra-request\` label needs \`write\` permission on this repository, and your permission is lower, so nothing was started. Ask someone with that permission to do it, or ask a maintainer to change \`trigger.required_permission\` in \`.github/infra-agent.yml\`.",
        },
      ]
    `);
  });

  it('comments with the bad key when the config is invalid, and runs nothing', async () => {
    const bodies: unknown[] = [];
    const yaml = 'apply:\n  merge_method: fast-forward\n';
    nock(API)
      .get(CONFIG)
      .query({ ref: 'master' })
      .reply(200, { type: 'file', encoding: 'base64', content: Buffer.from(yaml).toString('base64') })
      .post(`${REPO_PATH}/issues/1/comments`, capture(bodies))
      .reply(201, {});
    await receive('issues', issueLabeled());
    expect(enqueued).toEqual([]);
    expect(bodies).toMatchInlineSnapshot(`
      [
        {
          "body": "**infra-agent could not start: the repository configuration is invalid.**

      \`.github/infra-agent.yml\`: apply.merge_method: expected one of merge|squash|rebase|off

      The configuration is read from the default branch. Fix it there, then add the label again (or comment \`/infra plan\`).",
        },
      ]
    `);
  });

  it('uses the configured label and ignores other labels', async () => {
    const yaml = 'trigger:\n  label: terraform\n';
    nock(API)
      .get(CONFIG)
      .query({ ref: 'master' })
      .reply(200, { type: 'file', encoding: 'base64', content: Buffer.from(yaml).toString('base64') });
    await receive('issues', issueLabeled({ label: 'infra-request' }));
    expect(enqueued).toEqual([]);
    // Dropped cheaply by the worker: no run record, no comment (no comment mock above).
    expect(await store.listRuns({})).toEqual([]);
  });

  it('acknowledges without asking GitHub: the delivery becomes one intake job on the thread’s intake key', async () => {
    // No nock mock at all: any GitHub call during the ack would fail (disableNetConnect).
    // biome-ignore lint/suspicious/noExplicitAny: Probot's receive is typed per event name; the payloads are recorded JSON
    await probot.receive({ id: 'ack-only', name: 'issues', payload: issueLabeled() } as any);
    // biome-ignore lint/suspicious/noExplicitAny: as above
    await probot.receive({ id: 'ack-only', name: 'issues', payload: issueLabeled() } as any);
    expect(enqueued).toEqual([]);
    expect(intakes).toHaveLength(1);
    expect(intakes[0]).toMatchObject({
      kind: 'intake',
      key: 'Codertocat/Hello-World#1:intake',
      idempotencyKey: 'delivery:ack-only:intake',
      payload: { type: 'intake', event: 'issues', deliveryId: 'ack-only', installationId: 4242 },
    });
    expect(await store.listRuns({})).toEqual([]);
  });

  it('ignores bots, without a single API call', async () => {
    await receive('issues', issueLabeled({ sender: 'renovate[bot]', senderType: 'Bot' }));
    await receive('issues', issueLabeled({ sender: 'some-app', senderType: 'Bot' }));
    expect(enqueued).toEqual([]);
  });
});

describe('issues.opened', () => {
  it('an issue opened with the trigger label starts a run; one without it costs no API call', async () => {
    await receive('issues', issueOpened({ labels: [] }));
    expect(enqueued).toEqual([]);
    const { number } = z.object({ number: z.number() }).parse(issueOpened({ labels: [] })['issue']);
    nock(API)
      .get(CONFIG)
      .query({ ref: 'master' })
      .reply(404)
      .get(`${REPO_PATH}/collaborators/Codertocat/permission`)
      .reply(200, { permission: 'admin', role_name: 'admin', user: null })
      .post(`${REPO_PATH}/issues/${number}/reactions`, { content: 'eyes' })
      .reply(201, {});
    await receive('issues', issueOpened({ labels: ['bug', 'infra-request'] }));
    expect(enqueued.map((j) => j.payload['trigger'])).toEqual(['opened']);
  });
});

describe('issue_comment.created', () => {
  function commentMocks(permission = 'write') {
    return nock(API)
      .get(CONFIG)
      .query({ ref: 'master' })
      .reply(404)
      .get(`${REPO_PATH}/collaborators/Codertocat/permission`)
      .reply(200, { permission, role_name: permission, user: null });
  }

  it('answers an unknown command with the help', async () => {
    const bodies: unknown[] = [];
    nock(API)
      .get(CONFIG)
      .query({ ref: 'master' })
      .reply(404)
      .post(`${REPO_PATH}/issues/1/comments`, capture(bodies))
      .reply(201, {});
    await receive('issue_comment', issueComment({ body: '/infra deploy everything' }));
    expect(enqueued).toEqual([]);
    expect(bodies).toMatchInlineSnapshot(`
      [
        {
          "body": "I don't know \`/infra deploy\`.

      infra-agent commands (comment on the issue, on the pull request the app opened, or on a pull request it planned):

      | Command | What it does |
      |---|---|
      | \`/infra revise <what to change>\` | the agent revises the branch (a person’s: a commit on top, never a fork’s), re-checks and re-plans it |
      | \`/infra plan [project…]\` | plans the named projects (default: those the change affects) as merged into the base, and gates them (no agent) |
      | \`/infra apply [project…]\` | applies the reviewed plan when the repository applies by comment (\`apply.on: comment\`) |
      | \`/infra unlock [project]\` | releases the project lock held by this pull request |
      | \`/infra override <RULE-ID> <reason>\` | lifts a soft finding for this plan only (policy owners) |
      | \`/infra drift [project]\` | checks the projects for drift now (on any issue or pull request) |
      | \`/infra reconcile revert\` | on a drift issue: a pull request whose plan puts reality back to the code |
      | \`/infra reconcile code\` | on a drift issue: the agent changes the code to accept reality |
      | \`/infra help\` | this message |

      Commands need \`write\` permission on the repository.",
        },
      ]
    `);
  });

  it('ignores comments by bots, including its own', async () => {
    await receive(
      'issue_comment',
      issueComment({ body: '/infra plan', sender: 'infra-agent[bot]', senderType: 'Bot' }),
    );
    await receive('issue_comment', issueComment({ body: '/infra plan', sender: 'ci', senderType: 'Bot' }));
    expect(enqueued).toEqual([]);
  });

  it('ignores comments without a command', async () => {
    await receive('issue_comment', issueComment({ body: 'looks good, see `/infra plan` docs' }));
    expect(enqueued).toEqual([]);
  });

  it('enqueues a revise on the app’s own PR, keyed by the PR’s issue', async () => {
    commentMocks().post(`${REPO_PATH}/issues/comments/777/reactions`, { content: 'eyes' }).reply(201, {});
    await receive(
      'issue_comment',
      issueComment({
        body: '/infra revise use two buckets',
        pullRequest: { body: OWN_PR_BODY, author: 'infra-agent[bot]', authorType: 'Bot' },
      }),
    );
    expect(enqueued).toHaveLength(1);
    expect(enqueued[0]?.key).toBe('Codertocat/Hello-World#1');
    expect(enqueued[0]?.payload).toMatchObject({
      kind: 'revise',
      feedback: 'use two buckets',
      issueNumber: 1,
      prNumber: 9,
      commentId: 777,
    });
  });

  it('a revise on a person’s PR (pasted markers or not) is that PR’s own revise, never the App’s issue run', async () => {
    commentMocks()
      .get(`${REPO_PATH}/pulls/9`)
      .reply(200, { head: { ref: 'their-branch', repo: { full_name: 'Codertocat/Hello-World' } } })
      .post(`${REPO_PATH}/issues/comments/777/reactions`, { content: 'eyes' })
      .reply(201, {});
    await receive(
      'issue_comment',
      issueComment({
        body: '/infra revise open port 22',
        pullRequest: { body: OWN_PR_BODY, author: 'mallory', authorType: 'User' },
      }),
    );
    expect(enqueued).toHaveLength(1);
    expect(enqueued[0]?.key).toBe('Codertocat/Hello-World#9');
    expect(enqueued[0]?.payload).toMatchObject({
      kind: 'revise',
      pullRequestRevise: true,
      issueNumber: 9,
      prNumber: 9,
      feedback: 'open port 22',
    });
  });

  it('a revise on a fork’s PR pushes nothing and says why', async () => {
    const bodies: unknown[] = [];
    commentMocks()
      .get(`${REPO_PATH}/pulls/9`)
      .reply(200, { head: { ref: 'main', repo: { full_name: 'mallory/Hello-World' } } })
      .post(`${REPO_PATH}/issues/9/comments`, capture(bodies))
      .reply(201, {});
    await receive(
      'issue_comment',
      issueComment({
        body: '/infra revise open port 22',
        pullRequest: { body: 'mine', author: 'mallory', authorType: 'User' },
      }),
    );
    expect(enqueued).toEqual([]);
    expect(JSON.stringify(bodies)).toContain('infra-agent never pushes to a fork');
  });

  it('replies politely to a commenter without permission', async () => {
    const bodies: unknown[] = [];
    commentMocks('read').post(`${REPO_PATH}/issues/9/comments`, capture(bodies)).reply(201, {});
    await receive(
      'issue_comment',
      issueComment({
        body: '/infra revise x',
        pullRequest: { body: OWN_PR_BODY, author: 'infra-agent[bot]', authorType: 'Bot' },
      }),
    );
    expect(enqueued).toEqual([]);
    expect(bodies).toMatchInlineSnapshot(`
      [
        {
          "body": "Thanks @Codertocat! \`/infra revise\` needs \`write\` permission on this repository, and your permission is lower, so nothing was started. Ask someone with that permission to do it, or ask a maintainer to change \`trigger.required_permission\` in \`.github/infra-agent.yml\`.",
        },
      ]
    `);
  });

  it('answers /infra override on an issue: it works on the PR', async () => {
    const bodies: unknown[] = [];
    commentMocks().post(`${REPO_PATH}/issues/1/comments`, capture(bodies)).reply(201, {});
    await receive('issue_comment', issueComment({ body: '/infra override SEC-TAG-001 tags come from a module' }));
    expect(enqueued).toEqual([]);
    expect(bodies).toMatchInlineSnapshot(`
      [
        {
          "body": "\`/infra override\` works on the pull request infra-agent opened for this issue: comment there.",
        },
      ]
    `);
  });
});

describe('pull_request.synchronize', () => {
  it('a person pushing to the app’s PR enqueues a plan run (no agent) and the config check', async () => {
    await receive(
      'pull_request',
      pullRequestSynchronize({
        body: OWN_PR_BODY,
        author: 'infra-agent[bot]',
        authorType: 'Bot',
        sender: 'Codertocat',
      }),
    );
    expect(enqueued.map((j) => [j.kind, j.payload['kind'] ?? null, j.payload['trigger'] ?? null])).toEqual([
      ['config-check', null, null],
      ['run', 'plan', 'human-push'],
    ]);
  });

  it('the app’s own push only gets the config check', async () => {
    await receive(
      'pull_request',
      pullRequestSynchronize({
        body: OWN_PR_BODY,
        author: 'infra-agent[bot]',
        authorType: 'Bot',
        sender: 'infra-agent[bot]',
        senderType: 'Bot',
      }),
    );
    expect(enqueued.map((j) => j.kind)).toEqual(['config-check']);
  });
});

describe('one active run per issue', () => {
  it('a second request while a run is queued waits, and the thread says which run it waits for', async () => {
    const bodies: unknown[] = [];
    const perm = { permission: 'write', role_name: 'write', user: null };
    nock(API)
      .get(CONFIG)
      .query({ ref: 'master' })
      .times(2)
      .reply(404)
      .get(`${REPO_PATH}/collaborators/Codertocat/permission`)
      .times(2)
      .reply(200, perm)
      .post(`${REPO_PATH}/issues/1/reactions`)
      .reply(201, {})
      .post(`${REPO_PATH}/issues/comments/777/reactions`)
      .reply(201, {})
      .post(`${REPO_PATH}/issues/1/comments`, capture(bodies))
      .reply(201, {});
    await receive('issues', issueLabeled());
    await receive('issue_comment', issueComment({ body: '/infra plan' }));
    expect(enqueued.map((j) => j.key)).toEqual(['Codertocat/Hello-World#1', 'Codertocat/Hello-World#1']);
    const first = String(enqueued[0]?.payload['runId']);
    expect(bodies).toEqual([
      { body: `A run is already in progress here (\`${first}\`); this \`plan\` will start when it finishes.` },
    ]);
  });
});
