// The pull_request_review and pull_request.closed handlers with recorded payloads: GitHub is nock (no real network,
// no pending mocks after each test), the store is the real embedded one, the queue records what was enqueued. The
// handler only filters, dedupes and enqueues an apply run keyed by the issue, without a GitHub call; a PR that
// carries our markers but that the app did not open gets the refusal from the worker's intake (run here, as the
// worker would), a PR without markers gets nothing. pull_request.closed releases locks in the intake too.
import pino from 'pino';
import { Probot, ProbotOctokit } from 'probot';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { listWaiters, takeProjectLocks } from '../../src/apply/locks.js';
import { IntakeJobSchema, RunJobSchema } from '../../src/core/jobs.js';
import { createAppFn, SUBSCRIBED_EVENTS } from '../../src/intake/app.js';
import { runIntake } from '../../src/intake/intake.js';
import type { EnqueueJob } from '../../src/queue/types.js';
import { createStore } from '../../src/store/create-store.js';
import type { Store } from '../../src/store/types.js';
import { nock } from './support/nock.js';
import { OWNER, pullRequestClosed, pullRequestReviewSubmitted, REPO } from './support/payloads.js';

const API = 'https://api.github.com';
const REPO_PATH = `/repos/${OWNER}/${REPO}`;
const FULL = `${OWNER}/${REPO}`;
const OWN_PR_BODY = 'summary\n<!-- infra-agent:run-id=run-1 -->\n<!-- infra-agent:issue=1 -->';

let store: Store;
let enqueued: EnqueueJob[];
let intakes: EnqueueJob[];
let probot: Probot;
let delivery = 0;

const recordingQueue = {
  enqueue: async (job: EnqueueJob) => {
    if (job.kind === 'intake') {
      if (!intakes.some((j) => j.idempotencyKey === job.idempotencyKey)) intakes.push(job);
      return `intake-${intakes.length}`;
    }
    enqueued.push(job);
    return `job-${enqueued.length}`;
  },
};

/** Deliver a webhook (the ack must not call GitHub), then run the intake jobs it queued, as the worker would. */
async function receive(name: 'pull_request_review' | 'pull_request', payload: Record<string, unknown>, id?: string) {
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

beforeAll(() => nock.disableNetConnect());
afterAll(() => nock.enableNetConnect());

beforeEach(async () => {
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

describe('pull_request_review.submitted', () => {
  it('is subscribed', () => {
    expect(SUBSCRIBED_EVENTS).toContain('pull_request_review');
  });

  it('an approval of the app’s PR enqueues one apply run on the issue key; a re-delivery enqueues nothing', async () => {
    const payload = pullRequestReviewSubmitted({
      body: OWN_PR_BODY,
      author: 'infra-agent[bot]',
      authorType: 'Bot',
      reviewer: 'octo',
    });
    await receive('pull_request_review', payload, 'review-delivery');
    await receive('pull_request_review', payload, 'review-delivery');
    expect(enqueued).toHaveLength(1);
    const job = enqueued[0];
    expect(job?.key).toBe(`${FULL}#1`);
    expect(job?.idempotencyKey).toBe('delivery:review-delivery');
    const parsed = RunJobSchema.parse(job?.payload);
    expect(parsed).toMatchObject({
      kind: 'apply',
      trigger: 'approval',
      issueNumber: 1,
      prNumber: 9,
      requester: 'octo',
      review: { id: 5150, login: 'octo', userType: 'User', commitId: 'c'.repeat(40) },
    });
    const runs = await store.listRuns({ kind: 'apply' });
    expect(runs.map((r) => [r.key, r.triggeredBy, r.status])).toEqual([[`${FULL}#1`, 'octo', 'queued']]);
  });

  it('ignores comments, change requests, bot reviewers and closed PRs without a word', async () => {
    const own = { body: OWN_PR_BODY, author: 'infra-agent[bot]', authorType: 'Bot' };
    await receive('pull_request_review', pullRequestReviewSubmitted({ ...own, reviewer: 'octo', state: 'commented' }));
    await receive(
      'pull_request_review',
      pullRequestReviewSubmitted({ ...own, reviewer: 'octo', state: 'changes_requested' }),
    );
    await receive(
      'pull_request_review',
      pullRequestReviewSubmitted({ ...own, reviewer: 'other[bot]', reviewerType: 'Bot' }),
    );
    await receive('pull_request_review', pullRequestReviewSubmitted({ ...own, reviewer: 'octo', prState: 'closed' }));
    expect(enqueued).toEqual([]);
  });

  it('a PR with our markers that the app did not open: refused in the thread, nothing enqueued', async () => {
    const bodies: unknown[] = [];
    nock(API)
      .post(`${REPO_PATH}/issues/9/comments`, (b) => {
        bodies.push(b);
        return true;
      })
      .reply(201, { id: 1 });
    await receive(
      'pull_request_review',
      pullRequestReviewSubmitted({ body: OWN_PR_BODY, author: 'mallory', authorType: 'User', reviewer: 'octo' }),
    );
    expect(enqueued).toEqual([]);
    expect(bodies).toEqual([
      {
        body: [
          '@octo thanks for the review — **nothing was applied**, because this requirement is not met:',
          '',
          '- **not-app-pr**: this pull request was not opened by infra-agent, so it has no reviewed plan',
          '',
          'Approve again once they are met.',
        ].join('\n'),
      },
    ]);
  });

  it('a people’s PR without our markers: no reply, nothing enqueued', async () => {
    await receive(
      'pull_request_review',
      pullRequestReviewSubmitted({ body: 'just a PR', author: 'mallory', authorType: 'User', reviewer: 'octo' }),
    );
    expect(enqueued).toEqual([]);
  });
});

describe('pull_request.closed', () => {
  it('releases the PR’s locks and queues a plan run for the app PR that waited', async () => {
    const project = [{ name: 'network', workspace: 'default' }];
    expect((await takeProjectLocks(store, { repo: FULL, pr: 9, runId: 'r9', projects: project })).ok).toBe(true);
    expect((await takeProjectLocks(store, { repo: FULL, pr: 12, runId: 'r12', projects: project })).ok).toBe(false);
    expect(await listWaiters(store, { repo: FULL, project: 'network', workspace: 'default' })).toHaveLength(1);
    nock(API)
      .get(`${REPO_PATH}/pulls/12`)
      .reply(200, {
        number: 12,
        state: 'open',
        body: 'x\n<!-- infra-agent:run-id=run-12 -->\n<!-- infra-agent:issue=11 -->',
        user: { login: 'infra-agent[bot]', type: 'Bot' },
      });
    await receive('pull_request', pullRequestClosed({ merged: false }), 'closed-1');
    await receive('pull_request', pullRequestClosed({ merged: false }), 'closed-1');
    expect(await store.listLocks({ repo: FULL, pr: 9 })).toEqual([]);
    expect(enqueued).toHaveLength(1);
    expect(enqueued[0]?.key).toBe(`${FULL}#11`);
    expect(RunJobSchema.parse(enqueued[0]?.payload)).toMatchObject({
      kind: 'plan',
      trigger: 'replan',
      issueNumber: 11,
      prNumber: 12,
      reason: 'lock on network/default freed: #9 was closed',
    });
  });
});
