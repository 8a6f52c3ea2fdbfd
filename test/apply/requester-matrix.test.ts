// Who may approve an apply, as one table: for each kind of person involved in a change (issue author, labeller, who
// asked for a revision, pushers with linked and unlinked commits, committers, bots, read-only users, members of
// `apply.approvers` teams), what the App decides when they approve. The facts come the way they do in the App: the
// store's requester records (written from webhooks) and the PR's commits as GitHub's API links them to accounts
// (FakePort), gathered by gatherApplyFacts and judged by evaluateApplyRequirements. A row that may approve gets past
// every check of who approved and stops at `no-plan` (this table makes no plan; the apply tests do).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApplyDeps, gatherApplyFacts } from '../../src/apply/apply.js';
import { evaluateApplyRequirements } from '../../src/apply/requirements.js';
import { RepoConfigSchema } from '../../src/config/schema.js';
import type { CommitFacts } from '../../src/core/apply-port.js';
import { createStore } from '../../src/store/create-store.js';
import type { NewRequester, Store } from '../../src/store/types.js';
import { BOT, FakePort } from './fake-port.js';

const REPO = 'acme/infra';
const ISSUE = 3;
const PR = 4;
const H = (c: string) => c.repeat(40);
const APP_COMMIT: CommitFacts = { sha: H('1'), authorLogin: BOT, committerLogin: BOT, authorName: 'infra-agent' };

interface Row {
  who: string;
  approver: string;
  type?: 'User' | 'Bot';
  /** What the store recorded from webhooks (issue author and labeller are recorded at intake, pushers on push). */
  recorded?: Omit<NewRequester, 'repo' | 'issue'>[];
  /** The PR's commits after the App's first one, as GitHub's API links them. */
  commits?: CommitFacts[];
  approvers?: { users?: string[]; teams?: string[] };
  allowSelf?: boolean;
  codes: string[];
  /** A phrase the refusal must say (who was counted and why). */
  says?: string;
}

const ROWS: Row[] = [
  { who: 'the issue author', approver: 'vera', codes: ['self-approval'], says: `(opened issue #${ISSUE})` },
  {
    who: 'the labeller',
    approver: 'lara',
    recorded: [{ login: 'lara', reason: 'labeller' }],
    codes: ['self-approval'],
    says: `(labelled issue #${ISSUE})`,
  },
  {
    who: 'who asked for a revision',
    approver: 'rick',
    recorded: [{ login: 'rick', reason: 'command', detail: 'revise:77' }],
    codes: ['self-approval'],
    says: '(asked for a revision)',
  },
  {
    who: 'a pusher whose commit GitHub links to them',
    approver: 'pat',
    commits: [{ sha: H('2'), authorLogin: 'pat', committerLogin: 'pat', authorName: 'Pat' }],
    codes: ['self-approval'],
    says: `(authored commit ${H('2').slice(0, 7)}; committed ${H('2').slice(0, 7)})`,
  },
  {
    who: 'a committer of someone else’s commit',
    approver: 'cole',
    commits: [{ sha: H('3'), authorLogin: undefined, committerLogin: 'cole', authorName: 'Someone' }],
    codes: ['self-approval'],
    says: `(committed ${H('3').slice(0, 7)})`,
  },
  {
    who: 'a pusher whose commit GitHub links to no account',
    approver: 'dave',
    recorded: [{ login: 'dave', reason: 'pusher', detail: H('4') }],
    commits: [{ sha: H('4'), authorLogin: undefined, committerLogin: undefined, authorName: 'Dave' }],
    codes: ['self-approval'],
    says: `(pushed ${H('4').slice(0, 7)} to the branch)`,
  },
  {
    who: 'anyone, when an unlinked commit was pushed unseen (no recorded push covers it)',
    approver: 'octo',
    commits: [{ sha: H('5'), authorLogin: undefined, committerLogin: undefined, authorName: 'Mallory' }],
    codes: ['unattributed-commits'],
    says: `commit ${H('5').slice(0, 7)} is linked to no GitHub account`,
  },
  {
    who: 'an uninvolved writer after an unlinked commit whose push was recorded',
    approver: 'octo',
    recorded: [{ login: 'dave', reason: 'pusher', detail: H('6') }],
    commits: [
      { sha: H('5'), authorLogin: undefined, committerLogin: undefined, authorName: 'Dave' },
      { sha: H('6'), authorLogin: 'dave', committerLogin: 'dave', authorName: 'Dave' },
    ],
    codes: ['no-plan'],
  },
  {
    who: 'the author of a commit made in GitHub’s web UI (committer web-flow)',
    approver: 'wes',
    commits: [{ sha: H('7'), authorLogin: 'wes', committerLogin: 'web-flow', authorName: 'Wes' }],
    codes: ['self-approval'],
    says: `@wes (authored commit ${H('7').slice(0, 7)})`,
  },
  { who: 'an uninvolved writer', approver: 'octo', codes: ['no-plan'] },
  { who: 'a bot', approver: 'helper[bot]', type: 'Bot', codes: ['approver-is-bot'] },
  { who: 'a read-only user', approver: 'guest', codes: ['approver-unauthorised'], says: '(has read)' },
  {
    who: 'a member of a configured approvers team',
    approver: 'tina',
    approvers: { teams: ['acme/platform'] },
    codes: ['no-plan'],
  },
  {
    who: 'a writer outside the configured approvers',
    approver: 'octo',
    approvers: { teams: ['acme/platform'] },
    codes: ['approver-unauthorised'],
    says: 'is not one of the configured approvers (@acme/platform)',
  },
  {
    who: 'an approvers-team member who pushed to the branch',
    approver: 'tina',
    approvers: { teams: ['acme/platform'] },
    recorded: [{ login: 'tina', reason: 'pusher', detail: H('8') }],
    commits: [{ sha: H('8'), authorLogin: undefined, committerLogin: undefined, authorName: 'T' }],
    codes: ['self-approval'],
  },
  { who: 'the issue author, with allow_self_approval', approver: 'vera', allowSelf: true, codes: ['no-plan'] },
];

describe('the requester/approver matrix', () => {
  let store: Store;
  beforeAll(async () => {
    store = await createStore({ dataDir: 'memory://' });
  });
  afterAll(async () => {
    await store.close();
  });

  it.each(ROWS.map((r, i) => [r.who, r, i] as const))('%s', async (_who, row, i) => {
    const repo = `${REPO}-${i}`;
    await store.linkPullRequest({ repo, pr: PR, issue: ISSUE, runId: `gen-${i}`, branch: `infra/issue-${ISSUE}` });
    for (const r of row.recorded ?? []) await store.addRequester({ repo, issue: ISSUE, ...r });
    const port = new FakePort(repo);
    const commits = [APP_COMMIT, ...(row.commits ?? [])];
    port.prs.set(PR, {
      number: PR,
      state: 'open',
      merged: false,
      draft: false,
      headSha: commits.at(-1)?.sha ?? H('1'),
      baseSha: H('b'),
      baseRef: 'main',
      author: { login: BOT, type: 'Bot' },
      body: 'a body the App ignores <!-- infra-agent:issue=99 -->',
      mergeable: true,
      mergeableState: 'clean',
    });
    port.commits.set(PR, commits);
    port.issueAuthors.set(ISSUE, 'vera');
    for (const login of ['vera', 'lara', 'rick', 'pat', 'cole', 'dave', 'wes', 'octo', 'tina']) {
      port.permissions.set(login, 'write');
    }
    port.permissions.set('guest', 'read');
    port.teams.set('acme/platform', ['tina']);
    const config = RepoConfigSchema.parse({
      apply: {
        ...(row.approvers ? { approvers: { users: [], teams: [], ...row.approvers } } : {}),
        ...(row.allowSelf ? { allow_self_approval: true } : {}),
      },
    });
    const deps: ApplyDeps = {
      store,
      port,
      botLogin: BOT,
      checkout: async () => {
        throw new Error('not reached');
      },
      requestPlan: async () => {},
    };
    const facts = await gatherApplyFacts(deps, {
      pr: PR,
      review: {
        id: 1,
        login: row.approver,
        userType: row.type ?? 'User',
        state: 'APPROVED',
        commitId: commits.at(-1)?.sha ?? H('1'),
      },
      config,
    });
    const decision = evaluateApplyRequirements(facts.input);
    const missing = decision.ok ? [] : decision.missing;
    expect(missing.map((m) => m.code)).toEqual(row.codes);
    if (row.says) expect(missing.map((m) => m.message).join('\n')).toContain(row.says);
    // The store's link decides the issue, not the marker in the body.
    expect(facts.issueNumber).toBe(ISSUE);
  });
});
