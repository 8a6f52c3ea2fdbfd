// `npm run demo`: the whole loop offline, on the bundled example repo (examples/demo-repo). It starts a local
// GitHub stand-in (checked against GitHub's OpenAPI description), a bare git remote on disk, the scripted model (or
// the live model when ANTHROPIC_API_KEY is set), and the real App server with real terraform and scanners; then it
// labels an issue, waits for the pull request, prints it, does one `/infra revise` round, and has a second person
// approve the PR: the reviewed plan is applied (real state, in a local backend under the demo's temp dir), the PR is
// merged and the issue closed.
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createLogger } from '../src/observability/logger.js';
import { realAgentRunner } from '../src/pipeline/wiring.js';
import { STATE_DIRS_ENV } from '../src/sandbox/policy.js';
import { startAppServer, WEBHOOK_PATH } from '../src/server/server.js';
import type { RunRecord } from '../src/store/types.js';
import { projectRoot } from '../src/toolchain/tools.js';
import { DEMO_REQUEST, DEMO_REVISE_FEEDBACK, demoModelScript } from './demo-model-script.js';
import { createGitRemote } from './git-remote.js';
import { standinWebhooks, startGitHubStandin } from './github-standin/index.js';
import { startScriptedModel } from './scripted-model.js';
import { createWebhookSender } from './webhooks.js';

const OWNER = 'acme';
const REPO = 'infra';
const out = (line = '') => process.stdout.write(`${line}\n`);
const step = (n: number, text: string) => out(`\n\x1b[1m[${n}] ${text}\x1b[0m`);

interface ModelServer {
  url: string;
  close(): Promise<void>;
}

async function startScriptedModelServer(): Promise<ModelServer> {
  return startScriptedModel(demoModelScript());
}

/**
 * The example repo, plus a local backend at an absolute path: every run checks out afresh, so state in the checkout
 * would be lost between the plan and the apply. Real deployments configure a remote backend (S3, GCS, TFC…).
 */
async function demoFiles(statePath: string): Promise<Record<string, string>> {
  const root = join(projectRoot(), 'examples', 'demo-repo');
  const files: Record<string, string> = {};
  for (const entry of await readdir(root, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const abs = join(entry.parentPath, entry.name);
    files[relative(root, abs)] = await readFile(abs, 'utf8');
  }
  files['backend.tf'] = `terraform {\n  backend "local" {\n    path = ${JSON.stringify(statePath)}\n  }\n}\n`;
  return files;
}

function excerpt(text: string, lines: number): string {
  const all = text.split('\n').filter((l) => !l.startsWith('<!-- infra-agent:'));
  return (
    all
      .slice(0, lines)
      .map((l) => `    ${l}`)
      .join('\n') + (all.length > lines ? '\n    …' : '')
  );
}

export async function main(_args: string[]): Promise<number> {
  const live = Boolean(process.env['ANTHROPIC_API_KEY']);
  step(1, 'Starting the local GitHub stand-in, a git remote on disk and the model');
  const standin = await startGitHubStandin({
    onRequest: (r) => {
      if (r.method !== 'GET') out(`    github ← ${r.method} ${r.path} → ${r.status}`);
    },
  });
  const stateDir = await mkdtemp(join(tmpdir(), 'infra-agent-demo-state-'));
  const statePath = join(stateDir, 'terraform.tfstate');
  // The demo is the operator here: it lets the sandboxed terraform use its local backend's dir (a repository or PR
  // can never set this; real deployments use a remote backend).
  process.env[STATE_DIRS_ENV] = [process.env[STATE_DIRS_ENV], stateDir].filter(Boolean).join(':');
  const remote = await createGitRemote({ files: await demoFiles(statePath), owner: OWNER, repo: REPO });
  standin.addInstallation({ id: 1, account: OWNER, accountType: 'Organization' });
  standin.addRepo({
    owner: OWNER,
    name: REPO,
    remotePath: remote.path,
    defaultBranch: remote.defaultBranch,
    installationId: 1,
  });
  standin.setPermission(OWNER, REPO, 'mona', 'write');
  standin.setPermission(OWNER, REPO, 'octo', 'write');
  const model = live ? undefined : await startScriptedModelServer();
  out(`    GitHub stand-in: ${standin.url}`);
  out(`    git remote:      ${remote.path}`);
  out(`    model:           ${live ? 'live (ANTHROPIC_API_KEY is set)' : `scripted, ${model?.url}`}`);

  const secret = randomBytes(16).toString('hex');
  step(2, 'Starting the infra-agent App server (embedded store, real terraform and scanners)');
  const server = await startAppServer({
    // The stand-in is local: GitHub's pacing of writes (kept on against real GitHub) would only slow the demo down.
    githubThrottle: false,
    appId: String(standin.app.id),
    privateKey: standin.app.privateKey ?? '',
    webhookSecret: secret,
    githubApiUrl: standin.url,
    role: 'all',
    port: 0,
    host: '127.0.0.1',
    dataDir: 'memory://',
    planKey: randomBytes(32).toString('hex'),
    gitUrlTemplate: remote.urlTemplate,
    agent: model
      ? realAgentRunner({ apiKey: 'sk-ant-demo-scripted-0000000000', baseURL: model.url })
      : realAgentRunner(),
    log: createLogger({ level: process.env['INFRA_AGENT_LOG_LEVEL'] ?? 'fatal' }),
  });
  out(`    listening on ${server.url} (webhooks at ${WEBHOOK_PATH})`);
  const sender = createWebhookSender(`${server.url}${WEBHOOK_PATH}`, secret, standin.app.id);
  const hooks = standinWebhooks(standin);

  const waitRuns = async (n: number): Promise<RunRecord[]> => {
    const until = Date.now() + 15 * 60_000;
    for (;;) {
      const runs = await server.runtime.store.listRuns({});
      const done = runs.filter((r) => ['succeeded', 'failed', 'cancelled', 'needs-human'].includes(r.status));
      if (done.length >= n && done.length === runs.length) return runs;
      if (Date.now() > until) throw new Error('timed out waiting for the run');
      await new Promise((r) => setTimeout(r, 500));
    }
  };

  try {
    step(3, `Opening an issue and labelling it infra-request: "${DEMO_REQUEST.title}"`);
    const issue = standin.addIssue({
      owner: OWNER,
      repo: REPO,
      title: DEMO_REQUEST.title,
      body: DEMO_REQUEST.body,
      user: 'mona',
    });
    const labeled = hooks.issuesLabeled(OWNER, REPO, issue.number, 'infra-request', 'mona');
    const ack = await sender.send(labeled.event, labeled.payload);
    out(`    webhook issues.labeled → ${ack.status} in ${ack.ackMs} ms (the work runs in the background)`);

    step(4, 'Waiting for the agent, the checks and the pull request');
    const [first] = await waitRuns(1);
    if (first?.status !== 'succeeded') {
      out(`    the run ${first?.status}: ${first?.error ?? ''}`);
      return 1;
    }
    const pr = standin.pulls(OWNER, REPO)[0];
    if (!pr) throw new Error('no pull request was opened');
    out(`    PR #${pr.number}: ${pr.title}`);
    out(`    ${standin.url}/${OWNER}/${REPO}/pull/${pr.number}   (branch ${pr.headRef})`);
    out(excerpt(pr.body ?? '', 28));
    const progress = standin.comments(OWNER, REPO, issue.number).at(-1);
    if (progress) out(`\n    progress comment on #${issue.number}:\n${excerpt(progress.body, 14)}`);

    step(5, `Commenting on the PR: /infra revise ${DEMO_REVISE_FEEDBACK}`);
    const comment = standin.addComment({
      owner: OWNER,
      repo: REPO,
      issueNumber: pr.number,
      user: 'mona',
      body: `/infra revise ${DEMO_REVISE_FEEDBACK}`,
    });
    const commented = hooks.issueCommentCreated(OWNER, REPO, comment.id);
    await sender.send(commented.event, commented.payload);
    const runs = await waitRuns(2);
    const revise = runs.find((r) => r.kind === 'revise');
    out(`    revise run ${revise?.status}${revise?.error ? `: ${revise.error}` : ''}`);
    const reply = standin
      .comments(OWNER, REPO, pr.number)
      .filter((c) => c.user === standin.app.botLogin)
      .at(-1);
    if (reply) out(excerpt(reply.body, 14));
    out(`\n    branch ${pr.headRef} is now at ${(await remote.headSha(pr.headRef)).slice(0, 7)}`);

    step(6, 'A second person (@octo, write permission, not the requester) approves the pull request');
    const review = await standin.addReview({ owner: OWNER, repo: REPO, pullNumber: pr.number, user: 'octo' });
    const approved = await hooks.pullRequestReviewSubmitted(OWNER, REPO, review.id);
    const approvalAck = await sender.send(approved.event, approved.payload);
    out(`    webhook pull_request_review.submitted → ${approvalAck.status} in ${approvalAck.ackMs} ms`);
    const afterApply = await waitRuns(3);
    const apply = afterApply.find((r) => r.kind === 'apply');
    out(`    apply run ${apply?.status}${apply?.error ? `: ${apply.error}` : ''}`);
    const report = standin
      .comments(OWNER, REPO, pr.number)
      .filter((c) => c.user === standin.app.botLogin && c.body.includes('the reviewed plan'))
      .at(-1);
    if (report) out(excerpt(report.body, 14));
    const merged = standin.pull(OWNER, REPO, pr.number)?.merged === true;
    const closed = standin.issue(OWNER, REPO, issue.number)?.state === 'closed';
    const state = await readFile(statePath, 'utf8').catch(() => '');
    const resources = [...state.matchAll(/"type": "([^"]+)",\s*"name": "([^"]+)"/g)].map((m) => `${m[1]}.${m[2]}`);
    out(`    PR merged: ${merged} · issue #${issue.number} closed: ${closed}`);
    out(`    terraform state (${statePath}): ${resources.join(', ') || 'empty'}`);

    step(7, 'Done');
    out(`    stand-in API requests that broke GitHub's OpenAPI description: ${standin.violations.length}`);
    const ok = revise?.status === 'succeeded' && apply?.status === 'succeeded' && merged && closed;
    return ok && standin.violations.length === 0 ? 0 : 1;
  } finally {
    await rm(stateDir, { recursive: true, force: true });
    await server.close();
    await model?.close();
    await standin.close();
    await remote.close();
  }
}

// Run directly (`npm run demo` → `tsx devtools/demo.ts`); importing the module only defines `main`.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`demo: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exitCode = 2;
    },
  );
}
