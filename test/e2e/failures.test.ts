// The App when things go wrong, end to end on the same harness (real server, stand-in GitHub, disk remotes, the
// scripted model): the model fails → the progress comment says where and why and the issue stays usable (a second
// label event reuses the same progress comment); a repo without Terraform, and one with several projects and a
// request that names none, get told so in the progress comment; an unauthorised labeller gets a polite reply.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type GitHubStandin, standinWebhooks } from '../../devtools/github-standin/index.js';
import type { AppServer } from '../../src/server/server.js';
import type { RunRecord } from '../../src/store/types.js';
import { type AppWorld, startAppWorld } from '../helpers/app-world.js';
import { error } from '../helpers/scripted-model.js';
import { describeWithTools } from '../helpers/tools.js';
import type { WebhookSender } from '../helpers/webhooks.js';

const SECRET = 'failures-secret';
// A root module as the index recognises one: it declares its providers.
const TF =
  'terraform {\n  required_providers {\n    random = { source = "hashicorp/random" }\n  }\n}\n\nresource "terraform_data" "x" {\n  input = "x"\n}\n';

describeWithTools(['git'], 'the App when a run cannot go on', () => {
  let standin: GitHubStandin;
  let server: AppServer;
  let sender: WebhookSender;
  let world: AppWorld | undefined;

  beforeAll(async () => {
    world = await startAppWorld({
      files: { 'main.tf': TF },
      moreRepos: [
        { name: 'no-terraform', files: { 'README.md': '# docs only\n' } },
        { name: 'two-projects', files: { 'network/main.tf': TF, 'app/main.tf': TF } },
      ],
      permissions: { mona: 'write', guest: 'read' },
      // Every model call is refused (400 is not retried): the agent stops with an error.
      modelOptions: { afterScript: error(400, undefined, 'scripted: model refused') },
      owner: 'acme',
      repo: 'broken-model',
      installationId: 3,
      secret: SECRET,
    });
    ({ standin, server, sender } = world);
  });

  afterAll(async () => {
    await world?.close();
  });

  async function label(repoName: string, title: string, who = 'mona'): Promise<number> {
    const issue = standin.addIssue({ owner: 'acme', repo: repoName, title, body: 'please', user: who });
    const hook = standinWebhooks(standin).issuesLabeled('acme', repoName, issue.number, 'infra-request', who);
    expect((await sender.send(hook.event, hook.payload)).status).toBeLessThan(300);
    return issue.number;
  }

  async function settled(repoName: string, count: number): Promise<RunRecord[]> {
    const until = Date.now() + 120_000;
    for (;;) {
      const runs = await server.runtime.store.listRuns({ repo: `acme/${repoName}` });
      if (runs.length >= count && runs.every((r) => r.status !== 'queued' && r.status !== 'running')) return runs;
      if (Date.now() > until) throw new Error(`runs of ${repoName} did not settle`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  const bot = () => standin.app.botLogin;

  it('the model fails: the progress comment says where and why; a re-label retries in the same comment', async () => {
    const n = await label('broken-model', 'Add a thing');
    const [run] = await settled('broken-model', 1);
    expect(run?.status).toBe('failed');
    const comments = standin.comments('acme', 'broken-model', n);
    expect(comments).toHaveLength(1);
    expect(comments[0]?.user).toBe(bot());
    expect(comments[0]?.body).toContain('❌ Write the change (agent)');
    expect(comments[0]?.body).toContain('The agent stopped with an error');
    expect(standin.pulls('acme', 'broken-model')).toEqual([]);

    const hook = standinWebhooks(standin).issuesLabeled('acme', 'broken-model', n, 'infra-request', 'mona');
    await sender.send(hook.event, hook.payload);
    const runs = await settled('broken-model', 2);
    expect(runs.map((r) => r.status)).toEqual(['failed', 'failed']);
    const after = standin.comments('acme', 'broken-model', n);
    expect(after).toHaveLength(1);
    expect(after[0]?.id).toBe(comments[0]?.id);
    expect(after[0]?.body).toContain(`run \`${runs[0]?.id}\``);
  });

  it('no Terraform: the progress comment says so', async () => {
    const n = await label('no-terraform', 'Add a database');
    await settled('no-terraform', 1);
    const [comment] = standin.comments('acme', 'no-terraform', n);
    expect(comment?.body).toContain('I found no Terraform root module in this repository');
  });

  it('several projects and the request names none: the progress comment asks which', async () => {
    const n = await label('two-projects', 'Add a queue');
    await settled('two-projects', 1);
    const [comment] = standin.comments('acme', 'two-projects', n);
    expect(comment?.body).toContain('Which project should this change go to?');
    expect(comment?.body).toContain('- `app`');
    expect(comment?.body).toContain('- `network`');
  });

  it('an unauthorised labeller gets a polite reply and nothing runs', async () => {
    const n = await label('two-projects', 'Open everything', 'guest');
    // The ack only queued the delivery; the worker checks the permission and replies.
    const until = Date.now() + 60_000;
    while (standin.comments('acme', 'two-projects', n).length === 0) {
      if (Date.now() > until) throw new Error('no reply to the unauthorised labeller');
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(await server.runtime.queue.depth()).toMatchObject({ queued: 0 });
    const runs = await server.runtime.store.listRuns({ repo: 'acme/two-projects' });
    expect(runs).toHaveLength(1);
    const [reply] = standin.comments('acme', 'two-projects', n);
    expect(reply?.body).toMatch(
      /^Thanks @guest! Starting infra-agent with the `infra-request` label needs `write` permission/,
    );
    expect(standin.violations).toEqual([]);
  });

  it('serves /healthz and /metrics beside the webhook route', async () => {
    const health = await fetch(`${server.url}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ ok: true, role: 'all', store: 'pglite', queue: 'embedded' });
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    expect(metrics).toMatch(/infra_agent_webhooks_total\{event="issues"\} \d+/);
    expect(metrics).toMatch(/infra_agent_runs\{kind="generate",status="failed"\} [1-9]/);
    expect(metrics).toMatch(/infra_agent_stage_duration_seconds_count\{stage="checkout",status="ok"\} [1-9]/);
    expect((await fetch(`${server.url}/nope`)).status).toBe(404);
  });
});
