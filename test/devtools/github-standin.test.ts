// The GitHub stand-in, driven the way the App drives GitHub: through Probot's own Octokit (app JWT → installation
// token → REST and GraphQL), against a real bare git repository. Each refusal GitHub would make is checked to be
// made here too, and recorded as a violation; every response is checked against GitHub's schema.
import { createSign } from 'node:crypto';
import { Probot, type ProbotOctokit } from 'probot';
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import { run } from '../../src/sandbox/exec.js';
import { createGitRemote, type GitRemote, identityFor } from '../helpers/git-remote.js';
import {
  type GitHubStandin,
  generateAppKeyPair,
  MAX_BODY_CHARS,
  matchRoute,
  startGitHubStandin,
  validateComponent,
  validateResponse,
} from '../helpers/github-standin/index.js';
import { describeWithTools } from '../helpers/tools.js';

type Octo = InstanceType<typeof ProbotOctokit>;

const OWNER = 'acme';
const REPO = 'infra';
const CONFIG = 'version: 1\nprojects: []\n';

function statusOf(err: unknown): number | undefined {
  return typeof err === 'object' && err !== null && 'status' in err && typeof err.status === 'number'
    ? err.status
    : undefined;
}

async function refusal(p: Promise<unknown>): Promise<{ status: number | undefined; message: string }> {
  try {
    await p;
  } catch (err) {
    return { status: statusOf(err), message: err instanceof Error ? err.message : String(err) };
  }
  throw new Error('expected the request to be refused');
}

/** A request Octokit's types would not let us write: the point is to send what GitHub refuses. */
function untyped(octo: Octo, route: string, params: Record<string, unknown>) {
  return octo.request(route, params);
}

function signJwt(privateKey: string, claims: Record<string, unknown>, alg = 'RS256'): string {
  const enc = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const head = `${enc({ alg, typ: 'JWT' })}.${enc(claims)}`;
  const sig = createSign('RSA-SHA256').update(head).sign(privateKey).toString('base64url');
  return `${head}.${sig}`;
}

describeWithTools(['git'], 'GitHub stand-in', () => {
  let remote: GitRemote;
  let gh: GitHubStandin;
  let probot: Probot;
  let octo: Octo;

  beforeAll(async () => {
    remote = await createGitRemote({
      owner: OWNER,
      repo: REPO,
      files: {
        'main.tf': 'resource "terraform_data" "a" {}\n',
        'modules/net/main.tf': 'variable "cidr" {}\n',
        '.github/infra-agent.yml': CONFIG,
      },
    });
    gh = await startGitHubStandin();
    gh.addRepo({ owner: OWNER, name: REPO, remotePath: remote.path, installationId: 7 });
    gh.setPermission(OWNER, REPO, 'alice', 'write');
    gh.setPermission(OWNER, REPO, 'mallory', 'read');
    const privateKey = gh.app.privateKey;
    if (!privateKey) throw new Error('the stand-in should have generated an App key');
    probot = new Probot({ appId: gh.app.id, privateKey, baseUrl: gh.apiV3Url, logLevel: 'fatal' });
    octo = await probot.auth(7);
  });

  afterAll(async () => {
    await gh?.close();
    await remote?.close();
  });

  beforeEach(() => gh.clearLog());

  const issue = (title = 'Add a bucket', body = 'please') =>
    gh.addIssue({ owner: OWNER, repo: REPO, title, body, labels: ['infra-request'], user: 'alice' });

  it('serves a whole App conversation that GitHub would accept, with GitHub-shaped responses', async () => {
    const i = issue();
    const o = { owner: OWNER, repo: REPO };
    const app = await (await probot.auth()).rest.apps.getAuthenticated();
    expect(app.data?.slug).toBe('infra-agent');

    const config = await octo.config.get({ ...o, path: '.github/infra-agent.yml' });
    expect(config.config).toEqual({ version: 1, projects: [] });
    const perm = await octo.rest.repos.getCollaboratorPermissionLevel({ ...o, username: 'alice' });
    expect(perm.data.permission).toBe('write');

    await octo.rest.reactions.createForIssue({ ...o, issue_number: i.number, content: 'eyes' });
    const progress = await octo.rest.issues.createComment({ ...o, issue_number: i.number, body: 'working' });
    await octo.rest.issues.updateComment({ ...o, comment_id: progress.data.id, body: 'done' });

    const branch = `infra/issue-${i.number}-bucket`;
    const head = await remote.commitFiles(branch, { 'bucket.tf': 'resource "terraform_data" "b" {}\n' }, 'add', {
      from: 'main',
    });
    const pr = await octo.rest.pulls.create({
      ...o,
      head: branch,
      base: 'main',
      title: 'Add bucket',
      body: `Closes #${i.number}`,
    });
    expect(pr.data.number).toBe(i.number + 1); // issues and PRs share one number sequence
    expect(pr.data.head.sha).toBe(head);
    expect(pr.data.base.sha).toBe(await remote.headSha('main'));
    expect(pr.data.user?.login).toBe('infra-agent[bot]');
    expect(pr.data.mergeable).toBe(true);

    const found = await octo.rest.pulls.list({ ...o, head: `${OWNER}:${branch}`, state: 'open' });
    expect(found.data.map((p) => p.number)).toEqual([pr.data.number]);
    expect((await octo.rest.pulls.list({ ...o, head: `${OWNER}:nope` })).data).toEqual([]);
    const files = await octo.rest.pulls.listFiles({ ...o, pull_number: pr.data.number });
    expect(files.data.map((f) => [f.filename, f.status, f.additions])).toEqual([['bucket.tf', 'added', 1]]);

    const check = await octo.rest.checks.create({
      ...o,
      name: 'infra-agent/plan',
      head_sha: head,
      status: 'in_progress',
    });
    await octo.rest.checks.update({
      ...o,
      check_run_id: check.data.id,
      conclusion: 'success',
      output: {
        title: 'Plan: 1 to add',
        summary: 'ok',
        annotations: [{ path: 'bucket.tf', start_line: 1, end_line: 1, annotation_level: 'notice', message: 'new' }],
      },
    });
    const runs = await octo.rest.checks.listForRef({ ...o, ref: head, check_name: 'infra-agent/plan' });
    expect(runs.data.total_count).toBe(1);
    expect(runs.data.check_runs[0]?.conclusion).toBe('success');
    expect(runs.data.check_runs[0]?.pull_requests.map((p) => p.number)).toEqual([pr.data.number]);

    await octo.rest.issues.addLabels({ ...o, issue_number: pr.data.number, labels: ['infra:planned', 'x'] });
    await octo.rest.issues.removeLabel({ ...o, issue_number: pr.data.number, name: 'x' });
    const minimized = await octo.graphql<{ minimizeComment: { minimizedComment: { isMinimized: boolean } } }>(
      'mutation($id: ID!) { minimizeComment(input: {subjectId: $id, classifier: OUTDATED}) { minimizedComment { isMinimized } } }',
      { id: progress.data.node_id },
    );
    expect(minimized.minimizeComment.minimizedComment.isMinimized).toBe(true);

    const merged = await octo.rest.pulls.merge({ ...o, pull_number: pr.data.number, sha: head });
    expect(merged.data.merged).toBe(true);

    // What GitHub would now hold.
    const comment = gh.comments(OWNER, REPO, i.number)[0];
    expect(comment).toMatchObject({
      body: 'done',
      bodyHistory: ['working'],
      minimized: true,
      user: 'infra-agent[bot]',
    });
    expect(gh.state.reactions.at(-1)).toMatchObject({ content: 'eyes', user: 'infra-agent[bot]' });
    expect(gh.state.checkRuns.at(-1)).toMatchObject({ status: 'completed', conclusion: 'success', updates: 1 });
    expect(gh.state.checkRuns.at(-1)?.annotations).toHaveLength(1);
    expect(gh.pull(OWNER, REPO, pr.data.number)).toMatchObject({
      merged: true,
      state: 'closed',
      labels: ['infra:planned'],
    });
    expect(gh.issue(OWNER, REPO, i.number)).toMatchObject({ state: 'closed', stateReason: 'completed' });
    expect(await remote.readFile('main', 'bucket.tf')).toBe('resource "terraform_data" "b" {}\n');
    // The PR's html_url opens as a page (the demo prints it).
    const page = await fetch(pr.data.html_url);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await page.text()).toContain('Add bucket #');

    expect(gh.violations).toEqual([]);
    expect(gh.responseViolations).toEqual([]);
    expect(gh.requests.length).toBeGreaterThanOrEqual(18);
    expect(gh.requests.every((r) => r.operationId !== null && r.status < 400)).toBe(true);
    expect(gh.requests.filter((r) => r.operationId === 'html')).toHaveLength(1);
  });

  it('refuses a comment without a body, as the description requires one, and records it', async () => {
    const i = issue();
    const r = await refusal(
      untyped(octo, 'POST /repos/{owner}/{repo}/issues/{issue_number}/comments', {
        owner: OWNER,
        repo: REPO,
        issue_number: i.number,
        data: {},
      }),
    );
    expect(r.status).toBe(422);
    expect(r.message).toMatch(/body must have required property 'body'/);
    expect(gh.violations).toMatchObject([{ kind: 'spec', operationId: 'issues/create-comment' }]);
    expect(gh.comments(OWNER, REPO, i.number)).toEqual([]);
  });

  it('refuses a body field of the wrong type and a query parameter outside its enum', async () => {
    const i = issue();
    const bad = await refusal(
      untyped(octo, 'POST /repos/{owner}/{repo}/issues/{issue_number}/labels', {
        owner: OWNER,
        repo: REPO,
        issue_number: i.number,
        labels: [{ nope: 1 }],
      }),
    );
    expect(bad.status).toBe(422);
    const q = await refusal(octo.request('GET /repos/{owner}/{repo}/pulls?state=merged', { owner: OWNER, repo: REPO }));
    expect(q.status).toBe(422);
    expect(gh.violations.map((v) => v.kind)).toEqual(['spec', 'spec']);
    expect(gh.violations[1]?.message).toMatch(/query parameter "state".*one of/s);
  });

  it('answers 404 for a route or method GitHub does not have, and records it', async () => {
    const a = await refusal(octo.request('GET /infra-agent/status'));
    const b = await refusal(octo.request('DELETE /repos/{owner}/{repo}/pulls/1', { owner: OWNER, repo: REPO }));
    expect([a.status, b.status]).toEqual([404, 404]);
    expect(gh.violations.map((v) => v.kind)).toEqual(['unknown-route', 'unknown-route']);
    expect(gh.violations[0]?.message).toMatch(/GET \/infra-agent\/status is not a route/);
    expect(gh.violations[1]?.message).toMatch(/DELETE is not an operation on \/repos\/\{owner\}\/\{repo\}\/pulls/);
  });

  it(`takes bodies of exactly ${MAX_BODY_CHARS} characters and refuses one more, like GitHub`, async () => {
    const i = issue();
    const o = { owner: OWNER, repo: REPO, issue_number: i.number };
    // Characters, not UTF-16 units: 65,536 emoji are 131,072 units and still fit.
    const ok = await octo.rest.issues.createComment({ ...o, body: '🙂'.repeat(MAX_BODY_CHARS) });
    expect(ok.status).toBe(201);
    const tooLong = 'x'.repeat(MAX_BODY_CHARS + 1);
    const r1 = await refusal(octo.rest.issues.createComment({ ...o, body: tooLong }));
    const r2 = await refusal(
      octo.rest.issues.updateComment({ owner: OWNER, repo: REPO, comment_id: ok.data.id, body: tooLong }),
    );
    const r3 = await refusal(octo.rest.issues.update({ ...o, body: tooLong }));
    expect([r1.status, r2.status, r3.status]).toEqual([422, 422, 422]);
    expect(r1.message).toMatch(/body is too long \(maximum is 65536 characters\)/);
    expect(gh.violations.map((v) => v.kind)).toEqual(['limit', 'limit', 'limit']);
    expect(gh.comments(OWNER, REPO, i.number)).toHaveLength(1);
    expect(gh.issue(OWNER, REPO, i.number)?.body).toBe('please');
  });

  it('takes 50 annotations per request (appending across updates) and refuses 51', async () => {
    const head = await remote.headSha('main');
    const ann = (n: number) =>
      Array.from({ length: n }, (_, k) => ({
        path: 'main.tf',
        start_line: k + 1,
        end_line: k + 1,
        annotation_level: 'warning' as const,
        message: `finding ${k}`,
      }));
    const o = { owner: OWNER, repo: REPO };
    const output = (n: number) => ({ title: 'policy', summary: 's', annotations: ann(n) });
    const created = await octo.rest.checks.create({
      ...o,
      name: 'infra-agent/policy',
      head_sha: head,
      output: output(50),
    });
    await octo.rest.checks.update({ ...o, check_run_id: created.data.id, output: output(50) });
    const r = await refusal(octo.rest.checks.update({ ...o, check_run_id: created.data.id, output: output(51) }));
    expect(r.status).toBe(422);
    expect(gh.violations.map((v) => v.kind)).toEqual(['limit']);
    const record = gh.state.checkRuns.find((c) => c.id === created.data.id);
    expect(record?.annotations).toHaveLength(100);
    const fetched = await octo.rest.checks.get({ ...o, check_run_id: created.data.id });
    expect(fetched.data.output.annotations_count).toBe(100);
  });

  it('gives installation tokens only for JWTs signed by the App key, unexpired, with its id', async () => {
    const key = gh.app.privateKey ?? '';
    const now = Math.floor(Date.now() / 1000);
    const good = { iat: now - 30, exp: now + 540, iss: String(gh.app.id) };
    const post = (jwt: string) =>
      fetch(`${gh.url}/app/installations/7/access_tokens`, {
        method: 'POST',
        headers: { authorization: `Bearer ${jwt}`, accept: 'application/vnd.github+json' },
      });
    const ok = await post(signJwt(key, good));
    expect(ok.status).toBe(201);
    const token = (await ok.json()) as { token: string };
    expect(token.token).toMatch(/^ghs_/);
    const foreign = generateAppKeyPair().privateKey;
    const refused = await Promise.all([
      post(signJwt(foreign, good)),
      post(signJwt(key, { ...good, exp: now - 1 })),
      post(signJwt(key, { ...good, exp: now + 3600 })),
      post(signJwt(key, { ...good, iss: '999' })),
      post(signJwt(key, good, 'HS256')),
      post('not-a-jwt'),
    ]);
    expect(refused.map((r) => r.status)).toEqual([401, 401, 401, 401, 401, 401]);
    expect(gh.violations.map((v) => v.kind)).toEqual(Array(6).fill('auth'));

    // The token works for the installation's repos only; a JWT is not a token.
    const withToken = await fetch(`${gh.url}/repos/${OWNER}/${REPO}`, {
      headers: { authorization: `token ${token.token}` },
    });
    expect(withToken.status).toBe(200);
    const withJwt = await fetch(`${gh.url}/repos/${OWNER}/${REPO}`, {
      headers: { authorization: `Bearer ${signJwt(key, good)}` },
    });
    expect(withJwt.status).toBe(403);
    const anonymous = await fetch(`${gh.url}/repos/${OWNER}/${REPO}`);
    expect(anonymous.status).toBe(401);
  });

  it('keeps an installation to its own repositories and to the permissions it was granted', async () => {
    const other = await createGitRemote({ owner: 'globex', repo: 'infra', files: { 'main.tf': '\n' } });
    try {
      gh.addInstallation({ id: 8, account: 'globex', permissions: { metadata: 'read', issues: 'read' } });
      gh.addRepo({ owner: 'globex', name: 'infra', remotePath: other.path, installationId: 8 });
      gh.addIssue({ owner: 'globex', repo: 'infra', title: 't', user: 'bob' });
      const globex = await probot.auth(8);
      const cross = await refusal(globex.rest.repos.get({ owner: OWNER, repo: REPO }));
      expect(cross.status).toBe(404);
      const readOnly = await refusal(
        globex.rest.issues.createComment({ owner: 'globex', repo: 'infra', issue_number: 1, body: 'hi' }),
      );
      expect(readOnly.status).toBe(403);
      expect(readOnly.message).toMatch(/Resource not accessible by integration/);
      expect((await globex.rest.issues.get({ owner: 'globex', repo: 'infra', issue_number: 1 })).status).toBe(200);
      expect(gh.violations.map((v) => v.kind)).toEqual(['auth', 'auth']);
      expect(gh.violations[1]?.message).toMatch(/needs issues:write or pull_requests:write/);
    } finally {
      await other.close();
    }
  });

  it('merges a PR in the bare repository with each merge method, and refuses what GitHub refuses', async () => {
    const o = { owner: OWNER, repo: REPO };
    const open = async (branch: string, files: Record<string, string>) => {
      await remote.commitFiles(branch, files, `change on ${branch}`, { from: 'main' });
      return (await octo.rest.pulls.create({ ...o, head: branch, base: 'main', title: branch })).data;
    };
    // merge: a merge commit with two parents, even after main moved on.
    const a = await open('feat/a', { 'a.tf': 'a\n' });
    await remote.commitFiles('main', { 'human.tf': 'h\n' }, 'a person pushed to main');
    // Octokit's retry plugin retries 405 and 409 with back-off; GitHub's answer is final here, so no retries.
    const once = { request: { retries: 0 } };
    const stale = await refusal(octo.rest.pulls.merge({ ...o, pull_number: a.number, sha: '0'.repeat(40), ...once }));
    expect(stale.status).toBe(409);
    const m = await octo.rest.pulls.merge({ ...o, pull_number: a.number, merge_method: 'merge' });
    expect(await remote.headSha('main')).toBe(m.data.sha);
    const parents = await run('git', ['rev-list', '--parents', '-n', '1', m.data.sha], { cwd: remote.path });
    expect(parents.stdout.trim().split(' ')).toHaveLength(3);
    expect(await remote.readFile('main', 'a.tf')).toBe('a\n');
    expect(await remote.readFile('main', 'human.tf')).toBe('h\n');
    const again = await refusal(octo.rest.pulls.merge({ ...o, pull_number: a.number, ...once }));
    expect(again.status).toBe(405);
    expect((await octo.rest.pulls.checkIfMerged({ ...o, pull_number: a.number })).status).toBe(204);
    const after = await octo.rest.pulls.get({ ...o, pull_number: a.number });
    expect(after.data).toMatchObject({ merged: true, state: 'closed', merge_commit_sha: m.data.sha });

    // squash: one commit with one parent on top of main.
    const before = await remote.headSha('main');
    const b = await open('feat/b', { 'b.tf': 'b\n' });
    const s = await octo.rest.pulls.merge({ ...o, pull_number: b.number, merge_method: 'squash' });
    const sp = await run('git', ['rev-list', '--parents', '-n', '1', s.data.sha], { cwd: remote.path });
    expect(sp.stdout.trim().split(' ')).toEqual([s.data.sha, before]);

    // a conflict: not mergeable, and merging is refused.
    const c = await open('feat/c', { 'main.tf': 'theirs\n' });
    await remote.commitFiles('main', { 'main.tf': 'ours\n' }, 'conflicting push');
    const got = await octo.rest.pulls.get({ ...o, pull_number: c.number });
    expect(got.data.mergeable).toBe(false);
    expect(got.data.mergeable_state).toBe('dirty');
    const conflict = await refusal(octo.rest.pulls.merge({ ...o, pull_number: c.number, ...once }));
    expect(conflict.status).toBe(405);
    expect(await remote.readFile('main', 'main.tf')).toBe('ours\n');
    // A PR for the same head is refused while one is open.
    const dup = await refusal(octo.rest.pulls.create({ ...o, head: 'feat/c', base: 'main', title: 'again' }));
    expect(dup.status).toBe(422);
    expect(gh.violations).toEqual([]);
    expect(gh.responseViolations).toEqual([]);
  });

  it('serves file contents from the default branch: raw, base64, directories, and 404 when absent', async () => {
    const o = { owner: OWNER, repo: REPO };
    const json = await octo.rest.repos.getContent({ ...o, path: '.github/infra-agent.yml' });
    if (Array.isArray(json.data) || json.data.type !== 'file') throw new Error('expected a file');
    expect(Buffer.from(json.data.content, 'base64').toString('utf8')).toBe(CONFIG);
    const dir = await octo.rest.repos.getContent({ ...o, path: 'modules' });
    expect(Array.isArray(dir.data) ? dir.data.map((e) => [e.name, e.type]) : []).toEqual([['net', 'dir']]);
    const absent = await refusal(octo.rest.repos.getContent({ ...o, path: 'nope.tf' }));
    expect(absent.status).toBe(404);
    // Probot falls back to the owner's `.github` repository, which does not exist here: a plain 404.
    const orgConfig = await octo.config.get({ owner: 'acme', repo: 'nothing', path: '.github/infra-agent.yml' });
    expect(orgConfig.config).toEqual({});
    const branch = await octo.rest.repos.getBranch({ ...o, branch: 'main' });
    expect(branch.data.commit.sha).toBe(await remote.headSha('main'));
    expect(gh.violations).toEqual([]);
    expect(gh.responseViolations).toEqual([]);
  });

  it('pages lists with Link headers that Octokit follows', async () => {
    const i = issue();
    for (let k = 0; k < 35; k++)
      gh.addComment({ owner: OWNER, repo: REPO, issueNumber: i.number, user: 'alice', body: `c${k}` });
    const all = await octo.paginate(octo.rest.issues.listComments, {
      owner: OWNER,
      repo: REPO,
      issue_number: i.number,
      per_page: 10,
    });
    expect(all.map((c) => c.body)).toEqual(Array.from({ length: 35 }, (_, k) => `c${k}`));
    expect(gh.requests.filter((r) => r.operationId === 'issues/list-comments')).toHaveLength(4);
  });

  it('returns simulated reviews and team memberships as configured', async () => {
    const o = { owner: OWNER, repo: REPO };
    await remote.commitFiles('feat/r', { 'r.tf': 'r\n' }, 'r', { from: 'main' });
    const pr = (await octo.rest.pulls.create({ ...o, head: 'feat/r', base: 'main', title: 'r' })).data;
    const review = await gh.addReview({ ...o, pullNumber: pr.number, user: 'alice', state: 'APPROVED' });
    expect(review.commitId).toBe(pr.head.sha);
    const reviews = await octo.rest.pulls.listReviews({ ...o, pull_number: pr.number });
    expect(reviews.data.map((r) => [r.user?.login, r.state, r.commit_id])).toEqual([
      ['alice', 'APPROVED', pr.head.sha],
    ]);
    gh.addTeamMember(OWNER, 'platform', 'alice');
    const member = await octo.rest.teams.getMembershipForUserInOrg({
      org: OWNER,
      team_slug: 'platform',
      username: 'alice',
    });
    expect(member.data.state).toBe('active');
    const notMember = await refusal(
      octo.rest.teams.getMembershipForUserInOrg({ org: OWNER, team_slug: 'platform', username: 'mallory' }),
    );
    expect(notMember.status).toBe(404);
    expect(gh.violations).toEqual([]);
  });

  it("lists a PR's commits with the accounts GitHub links them to, so a person's push is visible", async () => {
    const o = { owner: OWNER, repo: REPO };
    const bot = { name: gh.app.botLogin, email: `${gh.app.botId}+${gh.app.botLogin}@users.noreply.github.com` };
    await remote.commitFiles('feat/h', { 'h.tf': 'h\n' }, 'by the app', { from: 'main', author: bot });
    const pr = (await octo.rest.pulls.create({ ...o, head: 'feat/h', base: 'main', title: 'h' })).data;
    const pushed = await remote.commitFiles('feat/h', { 'h.tf': 'h2\n' }, 'by a person', {
      author: identityFor('alice'),
    });
    const commits = await octo.rest.pulls.listCommits({ ...o, pull_number: pr.number });
    expect(commits.data.map((c) => [c.author?.login, c.commit.message])).toEqual([
      [gh.app.botLogin, 'by the app'],
      ['alice', 'by a person'],
    ]);
    const head = await octo.rest.repos.getCommit({ ...o, ref: 'feat/h' });
    expect(head.data.sha).toBe(pushed);
    expect(gh.violations).toEqual([]);
    expect(gh.responseViolations).toEqual([]);
  });

  it('answers GraphQL it does not know with an error, and records it', async () => {
    const r = await refusal(octo.graphql('query { viewer { login } }'));
    expect(r.message).toMatch(/only supports the minimizeComment/);
    expect(gh.violations.map((v) => v.kind)).toEqual(['graphql']);
  });

  it('builds objects that match GitHub’s schemas, and the schema check does catch a broken one', async () => {
    const i = issue();
    const c = gh.addComment({ owner: OWNER, repo: REPO, issueNumber: i.number, user: 'alice', body: '/infra help' });
    expect(validateComponent('issue', gh.json.issue(OWNER, REPO, i.number))).toEqual([]);
    expect(validateComponent('issue-comment', gh.json.comment(c.id))).toEqual([]);
    expect(validateComponent('repository', gh.json.repository(OWNER, REPO))).toEqual([]);
    expect(validateComponent('installation', gh.json.installation(7))).toEqual([]);
    // The published list response says `allOf: [Simple User, Enterprise]` for the account (the component says
    // anyOf); the stand-in reads it as GitHub answers, and an account that is neither still fails.
    const list = matchRoute('GET', '/app/installations');
    if ('error' in list) throw new Error('route should exist');
    expect(validateResponse(list.operation, 200, [gh.json.installation(7)])).toEqual([]);
    const nobody = { ...gh.json.installation(7), account: { login: 'acme' } };
    expect(validateResponse(list.operation, 200, [nobody]).join('\n')).toMatch(
      /account must have required property 'avatar_url'/,
    );
    const broken = { ...gh.json.comment(c.id), user: { login: 'alice' } };
    expect(validateComponent('issue-comment', broken).join('\n')).toMatch(/must have required property 'id'/);
    const route = matchRoute('GET', '/repos/acme/infra/pulls/1');
    if ('error' in route) throw new Error('route should exist');
    expect(validateResponse(route.operation, 200, { number: 1 })).not.toEqual([]);
  });
});
