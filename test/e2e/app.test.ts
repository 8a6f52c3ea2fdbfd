import { afterAll, beforeAll, expect, it } from 'vitest';
import { DEMO_FILE, DEMO_REQUEST, DEMO_REVISE_FEEDBACK, demoModelScript } from '../../devtools/demo-model-script.js';
import { type GitHubStandin, standinWebhooks } from '../../devtools/github-standin/index.js';
import { readMarkers } from '../../src/markdown/markers.js';
import type { AppServer } from '../../src/server/server.js';
import { type AppWorld, startAppWorld } from '../helpers/app-world.js';
import { demoFiles } from '../helpers/demo-files.js';
import { type GitRemote, HUMAN_IDENTITY } from '../helpers/git-remote.js';
import type { ScriptedModel } from '../helpers/scripted-model.js';
import { describeWithTools } from '../helpers/tools.js';
import { waitFor } from '../helpers/wait.js';
import { sendWebhook, type WebhookSender } from '../helpers/webhooks.js';

const OWNER = 'acme';
const REPO = 'infra';
const SECRET = 'e2e-webhook-secret';

describeWithTools(['terraform', 'git', 'tfsec', 'checkov', 'opa'], 'the App end to end', () => {
  let standin: GitHubStandin;
  let remote: GitRemote;
  let model: ScriptedModel;
  let server: AppServer;
  let sender: WebhookSender;
  let webhookUrl: string;
  let world: AppWorld | undefined;

  beforeAll(async () => {
    world = await startAppWorld({
      files: await demoFiles(),
      permissions: { mona: 'write', guest: 'read' },
      script: demoModelScript(),
      owner: OWNER,
      repo: REPO,
      secret: SECRET,
    });
    ({ standin, remote, model, server, sender, webhookUrl } = world);
  });

  afterAll(async () => {
    await world?.close();
  });

  const runsDone = async (n: number) =>
    waitFor(`${n} finished run(s)`, async () => {
      const runs = await server.runtime.store.listRuns({});
      const done = runs.filter((r) => ['succeeded', 'failed', 'cancelled', 'needs-human'].includes(r.status));
      return done.length >= n && done.length === runs.length ? runs : undefined;
    });

  it('refuses a forged signature', async () => {
    const hooks = standinWebhooks(standin);
    const issue = standin.addIssue({ owner: OWNER, repo: REPO, title: 'forged', user: 'mona' });
    const hook = hooks.issuesLabeled(OWNER, REPO, issue.number, 'infra-request', 'mona');
    const res = await sendWebhook(webhookUrl, { event: hook.event, payload: hook.payload, secret: 'wrong-secret' });
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
    expect(await server.runtime.store.listRuns({})).toEqual([]);
    standin.state.issues.splice(standin.state.issues.indexOf(issue), 1);
  });

  it('issue → PR with the report → /infra revise → updated branch and body; re-delivery changes nothing', async () => {
    const hooks = standinWebhooks(standin);
    const issue = standin.addIssue({
      owner: OWNER,
      repo: REPO,
      title: DEMO_REQUEST.title,
      body: DEMO_REQUEST.body,
      user: 'mona',
      labels: ['infra-request'],
    });
    const labeled = hooks.issuesLabeled(OWNER, REPO, issue.number, 'infra-request', 'mona');
    const ack = await sender.send(labeled.event, labeled.payload);
    expect(ack.status).toBeLessThan(300);

    const [run] = await runsDone(1);
    expect(run?.status, run?.error ?? '').toBe('succeeded');
    const pulls = standin.pulls(OWNER, REPO);
    expect(pulls).toHaveLength(1);
    const pr = pulls[0];
    if (!pr) throw new Error('no PR');
    expect(pr.headRef).toBe(`infra/issue-${issue.number}-write-the-environment-settings-to-a-file`);
    const body = pr.body ?? '';
    expect(body).toContain(`Closes #${issue.number}`);
    expect(body).toMatch(/\| Project \| Add \| Change \| Destroy \| Replace \| Import \| Cost \/ month \| Policy \|/);
    expect(body).toMatch(/\| \. \| 3 \| 0 \| 0 \| 0 \| 0 \| /);
    expect(body).toContain('<details><summary>Plan output</summary>');
    expect(body).toContain('local_file.settings');
    expect(body).toMatch(/Agent: [\d,]+ in \/ [\d,]+ out tokens/);
    const markers = readMarkers(body);
    expect(markers['run-id']).toBe(run?.id);
    expect(markers.issue).toBe(String(issue.number));
    const firstHead = await remote.headSha(pr.headRef);
    expect(markers['head-sha']).toBe(firstHead);
    expect(await remote.readFile(pr.headRef, DEMO_FILE)).toContain('file_permission = "0644"');
    expect(standin.state.checkRuns.map((c) => `${c.name}:${c.conclusion}`).sort()).toEqual([
      'infra-agent/plan:success',
      expect.stringMatching(/^infra-agent\/policy:/),
    ]);
    const progress = standin.comments(OWNER, REPO, issue.number);
    expect(progress).toHaveLength(1);
    expect(progress[0]?.body).toContain(`**Opened #${pr.number}**`);
    expect(progress[0]?.user).toBe(standin.app.botLogin);
    expect(standin.state.reactions.some((r) => r.content === 'eyes')).toBe(true);

    // /infra revise on the PR.
    const comment = standin.addComment({
      owner: OWNER,
      repo: REPO,
      issueNumber: pr.number,
      user: 'mona',
      body: `/infra revise ${DEMO_REVISE_FEEDBACK}`,
    });
    const commented = hooks.issueCommentCreated(OWNER, REPO, comment.id);
    expect((await sender.send(commented.event, commented.payload)).status).toBeLessThan(300);
    const runs = await runsDone(2);
    const revise = runs.find((r) => r.kind === 'revise');
    expect(revise?.status, revise?.error ?? '').toBe('succeeded');
    const secondHead = await remote.headSha(pr.headRef);
    expect(secondHead).not.toBe(firstHead);
    expect(await remote.readFile(pr.headRef, DEMO_FILE)).toContain('file_permission = "0640"');
    const revised = standin.pull(OWNER, REPO, pr.number);
    expect(readMarkers(revised?.body)['run-id']).toBe(revise?.id);
    expect(readMarkers(revised?.body)['head-sha']).toBe(secondHead);
    expect(revised?.bodyHistory.length).toBeGreaterThan(0);
    const thread = standin.comments(OWNER, REPO, pr.number).filter((c) => c.user === standin.app.botLogin);
    expect(thread).toHaveLength(1);
    expect(thread[0]?.body).toContain(`**Revised #${pr.number}**`);
    // The revision prompt carried the diff and the feedback.
    const reviseRequest = model.requests.find(
      (r) => JSON.stringify(r.body ?? {}).includes('0640') && JSON.stringify(r.body ?? {}).includes('diff'),
    );
    expect(reviseRequest).toBeDefined();

    // A person pushes to the PR: plan and gate re-run on their commit, without the agent.
    const humanHead = await remote.commitFiles(
      pr.headRef,
      { 'variables.tf': `${await remote.readFile(pr.headRef, 'variables.tf')}\n# owned by the platform team\n` },
      'Note the owner',
      { author: HUMAN_IDENTITY },
    );
    const pushed = await hooks.pullRequestSynchronize(OWNER, REPO, pr.number, secondHead, 'mona');
    expect((await sender.send(pushed.event, pushed.payload)).status).toBeLessThan(300);
    const afterPush = await runsDone(3);
    const replan = afterPush.find((r) => r.kind === 'plan');
    expect(replan?.status, replan?.error ?? '').toBe('succeeded');
    const replanned = standin.pull(OWNER, REPO, pr.number)?.body ?? '';
    expect(replanned).toContain('Re-planned after a push by @mona (the agent did not run).');
    expect(readMarkers(replanned)['head-sha']).toBe(humanHead);
    expect(
      standin.state.checkRuns
        .filter((c) => c.headSha === humanHead)
        .map((c) => c.name)
        .sort(),
    ).toEqual(['infra-agent/plan', 'infra-agent/policy']);

    // Asked to revise over the human's commit, the agent refuses and says so; the branch is left alone.
    const modelCalls = model.requests.length;
    const again1 = standin.addComment({
      owner: OWNER,
      repo: REPO,
      issueNumber: pr.number,
      user: 'mona',
      body: '/infra revise use 0600',
    });
    const againHook = hooks.issueCommentCreated(OWNER, REPO, again1.id);
    await sender.send(againHook.event, againHook.payload);
    const afterRefusal = await runsDone(4);
    expect(afterRefusal.filter((r) => r.kind === 'revise').map((r) => r.status)).toEqual(['failed', 'succeeded']);
    expect(await remote.headSha(pr.headRef)).toBe(humanHead);
    expect(model.requests.length).toBe(modelCalls);
    const refusal = standin
      .comments(OWNER, REPO, pr.number)
      .filter((c) => c.user === standin.app.botLogin)
      .at(-1);
    expect(refusal?.body).toContain('does not overwrite human edits');

    // Re-deliver every webhook of this test: same ids → nothing changes.
    const before = {
      pulls: standin.pulls(OWNER, REPO).length,
      comments: standin.state.comments.filter((c) => !c.deleted).length,
      head: await remote.headSha(pr.headRef),
      runs: (await server.runtime.store.listRuns({})).length,
      checkRuns: standin.state.checkRuns.length,
    };
    const again = await sender.redeliverAll();
    expect(again.every((r) => r.status < 300)).toBe(true);
    await new Promise((r) => setTimeout(r, 1500));
    expect({
      pulls: standin.pulls(OWNER, REPO).length,
      comments: standin.state.comments.filter((c) => !c.deleted).length,
      head: await remote.headSha(pr.headRef),
      runs: (await server.runtime.store.listRuns({})).length,
      checkRuns: standin.state.checkRuns.length,
    }).toEqual(before);
    expect(await server.runtime.queue.depth()).toMatchObject({ queued: 0, active: 0 });

    // Labelled again while its PR is open: the run (whose clone starts while the open PR is looked up) stops at the
    // checkout and points to the PR, in the issue's progress comment; no second PR.
    const relabel = hooks.issuesLabeled(OWNER, REPO, issue.number, 'infra-request', 'mona');
    expect((await sender.send(relabel.event, relabel.payload)).status).toBeLessThan(300);
    const afterRelabel = await runsDone(before.runs + 1);
    expect(afterRelabel.filter((r) => r.kind === 'generate').map((r) => r.status)).toEqual(['succeeded', 'succeeded']);
    expect(standin.comments(OWNER, REPO, issue.number)[0]?.body).toContain(
      `Pull request #${pr.number} is already open for this issue.`,
    );
    expect(standin.pulls(OWNER, REPO)).toHaveLength(1);

    expect(standin.violations).toEqual([]);
    expect(standin.responseViolations).toEqual([]);
  }, 900_000);
});
