// When to apply, end to end through the App (signed webhooks, the GitHub stand-in, a git remote, real terraform and
// scanners): the repo's `.github/infra-agent.yml` on the default branch picks `apply.on`, and is changed between the
// cases by a commit to the default branch, as a team would.
//   1 `apply.on: merge` — an approval applies nothing; a person merging the approved PR applies the reviewed plan
//     from the merge commit, reports on the merged PR, closes the issue, releases the lock only then. A PR merged
//     without an approval is reported on and applies nothing; its lock stays until `/infra unlock`.
//   2 `apply.on: comment` — `/infra apply` by the requester is refused; by another authorised approver after an
//     approval it applies and merges.
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { z } from 'zod';
import { DEMO_REQUEST, demoModelScript } from '../../devtools/demo-model-script.js';
import { type GitHubStandin, standinWebhooks } from '../../devtools/github-standin/index.js';
import type { JsonObject } from '../../devtools/github-standin/openapi.js';
import { STATE_DIRS_ENV } from '../../src/sandbox/policy.js';
import type { AppServer } from '../../src/server/server.js';
import type { RunRecord } from '../../src/store/types.js';
import { projectRoot } from '../../src/toolchain/tools.js';
import { type AppWorld, startAppWorld } from '../helpers/app-world.js';
import type { GitRemote } from '../helpers/git-remote.js';
import { mergeAsPerson } from '../helpers/merge-as-person.js';
import { describeWithTools } from '../helpers/tools.js';
import { waitFor } from '../helpers/wait.js';
import type { WebhookSender } from '../helpers/webhooks.js';

const OWNER = 'acme';
const REPO = 'infra';
const CONFIG = '.github/infra-agent.yml';

/** One generate conversation per issue: the demo's, then one file each for the next two requests. */
function modelScript() {
  const [write, check, finish] = demoModelScript();
  if (!write || !check || !finish) throw new Error('the demo script changed');
  const step = (id: string, name: string, input: unknown) => ({
    kind: 'message' as const,
    content: [{ type: 'tool_use' as const, id, name, input }],
    stopReason: 'tool_use' as const,
    usage: { input_tokens: 2_000, output_tokens: 150 },
  });
  const change = (n: number, file: string, value: string) => [
    step(`toolu_modes_${n}1`, 'write_file', {
      path: file,
      content: `resource "terraform_data" "${value}" {\n  input = "${value}"\n}\n`,
    }),
    step(`toolu_modes_${n}2`, 'run_checks', {}),
    step(`toolu_modes_${n}3`, 'finish', {
      title: `Add ${value}`,
      summary: `Adds \`terraform_data.${value}\`.`,
      notes_for_reviewer: 'Nothing else changes.',
    }),
  ];
  return [write, check, finish, ...change(2, 'second.tf', 'second'), ...change(3, 'third.tf', 'third')];
}

async function repoFiles(statePath: string): Promise<Record<string, string>> {
  const root = join(projectRoot(), 'examples', 'demo-repo');
  const out: Record<string, string> = {};
  for (const entry of await readdir(root, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const abs = join(entry.parentPath, entry.name);
    out[relative(root, abs)] = await readFile(abs, 'utf8');
  }
  out['backend.tf'] = `terraform {\n  backend "local" {\n    path = "${statePath}"\n  }\n}\n`;
  out[CONFIG] = 'apply:\n  on: merge\n';
  return out;
}

const StateSchema = z.object({
  serial: z.number(),
  resources: z.array(z.object({ type: z.string(), name: z.string() })),
});

describeWithTools(['terraform', 'git', 'tfsec', 'checkov', 'opa'], 'apply.on: merge | comment end to end', () => {
  let standin: GitHubStandin;
  let remote: GitRemote;
  let server: AppServer;
  let sender: WebhookSender;
  let stateDir: string;
  let statePath: string;
  let world: AppWorld | undefined;

  beforeAll(async () => {
    stateDir = await mkdtemp(join(tmpdir(), 'infra-agent-e2e-modes-'));
    statePath = join(stateDir, 'terraform.tfstate');
    process.env[STATE_DIRS_ENV] = stateDir;
    world = await startAppWorld({
      files: await repoFiles(statePath),
      permissions: { mona: 'write', octo: 'write', octocat: 'write' },
      script: modelScript(),
      owner: OWNER,
      repo: REPO,
      secret: 'e2e-apply-modes-secret',
    });
    ({ standin, remote, server, sender } = world);
  });

  afterAll(async () => {
    await world?.close();
    if (stateDir) await rm(stateDir, { recursive: true, force: true });
  });

  const runsDone = async (n: number): Promise<RunRecord[]> =>
    waitFor(
      `${n} finished run(s)`,
      async () => {
        const runs = await server.runtime.store.listRuns({});
        const done = runs.filter((r) => ['succeeded', 'failed', 'cancelled', 'needs-human'].includes(r.status));
        const settled = (await server.runtime.queue.depth()).queued === 0;
        return runs.length >= n && done.length === runs.length && settled ? runs : undefined;
      },
      300_000,
    );
  const intakesDone = async () =>
    waitFor('the queue to settle', async () => ((await server.runtime.queue.depth()).queued === 0 ? true : undefined));
  const resources = async () =>
    StateSchema.parse(JSON.parse(await readFile(statePath, 'utf8')))
      .resources.map((r) => `${r.type}.${r.name}`)
      .sort();
  const botComments = (n: number) => standin.comments(OWNER, REPO, n).filter((c) => c.user === standin.app.botLogin);
  const send = async (hook: { event: string; payload: JsonObject }) =>
    expect((await sender.send(hook.event, hook.payload)).status).toBeLessThan(300);
  const approve = async (pr: number, user: string) => {
    const review = await standin.addReview({ owner: OWNER, repo: REPO, pullNumber: pr, user, state: 'APPROVED' });
    await send(await standinWebhooks(standin).pullRequestReviewSubmitted(OWNER, REPO, review.id));
  };
  const merge = async (pr: number, user: string) => {
    const sha = await mergeAsPerson(standin, {
      owner: OWNER,
      repo: REPO,
      pullNumber: pr,
      user,
      remotePath: remote.path,
    });
    await send(await standinWebhooks(standin).pullRequestClosed(OWNER, REPO, pr, user));
    return sha;
  };
  const command = async (pr: number, user: string, body: string) => {
    const c = standin.addComment({ owner: OWNER, repo: REPO, issueNumber: pr, user, body });
    await send(standinWebhooks(standin).issueCommentCreated(OWNER, REPO, c.id));
  };
  const openIssue = async (request: { title: string; body: string }) => {
    const issue = standin.addIssue({ owner: OWNER, repo: REPO, ...request, user: 'mona', labels: ['infra-request'] });
    await send(standinWebhooks(standin).issuesLabeled(OWNER, REPO, issue.number, 'infra-request', 'mona'));
    return issue;
  };
  const openPr = () => {
    const pr = standin.pulls(OWNER, REPO, { state: 'open' })[0];
    if (!pr) throw new Error('no open PR');
    return pr;
  };
  const repoName = `${OWNER}/${REPO}`;

  it('apply.on: merge — the merge of the approved PR applies it; a merge without approval applies nothing', async () => {
    const issue = await openIssue(DEMO_REQUEST);
    let runs = await runsDone(1);
    expect(runs[0]?.status, runs[0]?.error ?? '').toBe('succeeded');
    const pr = openPr();

    // Approving is not applying in this repo: no apply, no reply.
    await approve(pr.number, 'octo');
    runs = await runsDone(2);
    await expect(readFile(statePath, 'utf8')).rejects.toThrow();
    expect(botComments(pr.number).filter((c) => c.body.includes('nothing was applied'))).toEqual([]);
    expect(await server.runtime.store.listLocks({ repo: repoName, pr: pr.number })).toHaveLength(1);

    // A person merges: the reviewed plan is applied from the merge commit, reported on the merged PR.
    const mergeSha = await merge(pr.number, 'octo');
    runs = await runsDone(3);
    const apply = runs.filter((r) => r.kind === 'apply' && r.status === 'succeeded');
    expect(apply, JSON.stringify(runs.map((r) => [r.kind, r.status, r.error]))).toHaveLength(2);
    expect(await resources()).toEqual(['local_file.settings', 'random_pet.environment', 'terraform_data.settings']);
    const report = botComments(pr.number).find((c) => c.body.includes('Applied the reviewed plan'));
    expect(report?.body).toContain('merged by @octo');
    expect(report?.body).toContain('Applied after the merge (`apply.on: merge`).');
    expect(await remote.headSha(remote.defaultBranch)).toBe(mergeSha);
    expect(standin.issue(OWNER, REPO, issue.number)?.state).toBe('closed');
    expect(await server.runtime.store.listLocks({ repo: repoName })).toEqual([]);

    // The next PR, merged without any approval: reported on the merged PR, nothing applied, lock kept.
    await openIssue({ title: 'Add second', body: 'Please add a `terraform_data` called `second`.' });
    runs = await runsDone(4);
    const second = openPr();
    const serial = StateSchema.parse(JSON.parse(await readFile(statePath, 'utf8'))).serial;
    await merge(second.number, 'mona');
    runs = await runsDone(5);
    expect(StateSchema.parse(JSON.parse(await readFile(statePath, 'utf8'))).serial).toBe(serial);
    const refusal = botComments(second.number).at(-1)?.body ?? '';
    expect(refusal).toContain('**not-enough-approvals**');
    expect(refusal).toContain('The pull request is merged but **not applied**');
    expect(await server.runtime.store.listLocks({ repo: repoName, pr: second.number })).toHaveLength(1);
    // Releasing it is a maintainer's decision.
    await command(second.number, 'octo', '/infra unlock');
    await intakesDone();
    await waitFor('the lock released', async () =>
      (await server.runtime.store.listLocks({ repo: repoName })).length === 0 ? true : undefined,
    );
    expect(standin.violations).toEqual([]);
    expect(standin.responseViolations).toEqual([]);
  }, 900_000);

  it('apply.on: comment — `/infra apply` by the requester is refused; by another approver it applies', async () => {
    await remote.commitFiles(remote.defaultBranch, { [CONFIG]: 'apply:\n  on: comment\n' }, 'Apply by comment');
    const already = (await server.runtime.store.listRuns({})).length;
    const issue = await openIssue({ title: 'Add third', body: 'Please add a `terraform_data` called `third`.' });
    await runsDone(already + 1);
    const pr = openPr();
    await approve(pr.number, 'octo');
    await runsDone(already + 2);
    expect(await resources()).not.toContain('terraform_data.third');

    await command(pr.number, 'mona', '/infra apply');
    await runsDone(already + 3);
    expect(botComments(pr.number).at(-1)?.body).toContain('**self-approval**');
    expect(await resources()).not.toContain('terraform_data.third');

    await command(pr.number, 'octocat', '/infra apply');
    await runsDone(already + 4);
    expect(await resources()).toContain('terraform_data.third');
    const report = botComments(pr.number).find((c) => c.body.includes('Applied the reviewed plan'));
    expect(report?.body).toContain('`/infra apply` by @octocat');
    expect(standin.pull(OWNER, REPO, pr.number)?.merged).toBe(true);
    expect(standin.issue(OWNER, REPO, issue.number)?.state).toBe('closed');
    expect(standin.violations).toEqual([]);
    expect(standin.responseViolations).toEqual([]);
  }, 900_000);
});
