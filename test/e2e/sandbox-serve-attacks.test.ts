// The /proc attacks of issue #11 against the App as operators run it: `infra-agent serve` in its own process, started
// with its secrets in its environment (so /proc/<pid>/environ holds them: removing them from process.env later
// does not change what the kernel shows) and its private key in a file named by PRIVATE_KEY_PATH. The scripted model
// writes Terraform that reads the App's environ (its pid parsed from /proc/self/stat), the key file, terraform's own
// environment (the env_passthrough credential) and other projects' state (fileset + terraform_remote_state), and
// echoes all of it base64encode()d in outputs and in a precondition's error_message. No byte of any secret — raw,
// base64 or hex — may reach any request body the GitHub stand-in received, nor the App's log.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type GitHubStandin, standinWebhooks, startGitHubStandin } from '../../devtools/github-standin/index.js';
import { createWebhookSender, type WebhookSender } from '../../devtools/webhooks.js';
import { WEBHOOK_PATH } from '../../src/server/server.js';
import { projectRoot } from '../../src/toolchain/tools.js';
import { encodedForms } from '../../src/util/redact.js';
import { createGitRemote, type GitRemote } from '../helpers/git-remote.js';
import { type ScriptedModel, startScriptedModel } from '../helpers/scripted-model.js';
import { describeWithTools } from '../helpers/tools.js';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'sandbox-attacks');
const OWNER = 'acme';
const REPO = 'infra';
const INSTALLATION = 7;

const SECRETS = {
  WEBHOOK_SECRET: `whsec-e2e-${randomBytes(12).toString('hex')}`,
  ANTHROPIC_API_KEY: `sk-ant-api03-e2e${randomBytes(16).toString('hex')}`,
  INFRA_AGENT_PLAN_KEY: randomBytes(32).toString('hex'),
  GITHUB_CLIENT_SECRET: `ghcs-${randomBytes(16).toString('hex')}`,
  AWS_SECRET_ACCESS_KEY: `awsSecretE2e${randomBytes(14).toString('hex')}`,
};
const STATE_SECRET = `state-secret-${randomBytes(10).toString('hex')}`;

let ids = 0;
function call(name: string, input: unknown) {
  ids += 1;
  return {
    kind: 'message' as const,
    content: [{ type: 'tool_use' as const, id: `toolu_serve_${String(ids).padStart(4, '0')}`, name, input }],
    stopReason: 'tool_use' as const,
    usage: { input_tokens: 100, output_tokens: 50 },
  };
}
const attackRun = (file: string, content: string) => [
  call('write_file', { path: file, content }),
  call('run_checks', {}),
  call('finish', { title: `Add ${file}`, summary: 'As requested.', notes_for_reviewer: 'none' }),
];

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((ok) => srv.listen(0, '127.0.0.1', () => ok()));
  const address = srv.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  await new Promise<void>((ok) => srv.close(() => ok()));
  return port;
}

describeWithTools(['terraform', 'git', 'tfsec', 'checkov', 'opa'], 'sandbox attacks against `serve`', () => {
  let base: string;
  let standin: GitHubStandin;
  let remote: GitRemote;
  let model: ScriptedModel;
  let app: ChildProcess | undefined;
  let sender: WebhookSender;
  let keyBody: string;
  let log = '';

  beforeAll(async () => {
    base = mkdtempSync(join(tmpdir(), 'sandbox-serve-'));
    const keyFile = join(base, 'app-private-key.pem');
    const stateRoot = join(base, 'state');
    const statePath = join(stateRoot, 'payments', 'terraform.tfstate');
    mkdirSync(join(stateRoot, 'payments'), { recursive: true });
    writeFileSync(
      statePath,
      JSON.stringify({
        version: 4,
        terraform_version: '1.11.4',
        serial: 1,
        lineage: 'e2e',
        outputs: { db_password: { value: STATE_SECRET, type: 'string' } },
        resources: [],
      }),
    );
    const fill = (name: string) =>
      readFileSync(join(FIXTURES, name), 'utf8')
        .replaceAll('__KEY_PATH__', keyFile)
        .replaceAll('__STATE_ROOT__', stateRoot)
        .replaceAll('__STATE_PATH__', statePath);

    standin = await startGitHubStandin();
    standin.addInstallation({ id: INSTALLATION, account: OWNER, accountType: 'Organization' });
    // The App's real key, in the file the App reads: the attack wants it.
    const pem = standin.app.privateKey ?? '';
    writeFileSync(keyFile, pem, { mode: 0o600 });
    keyBody = pem.replace(/-----[A-Z ]+-----/g, '').replace(/\s+/g, '');
    remote = await createGitRemote({
      files: {
        'main.tf': 'resource "terraform_data" "base" {\n  input = "x"\n}\n',
        // The pre-plan guard's early warning for file reads (PRE-FILE-001) is lowered by the repo's owner, so the
        // attack reaches plan and meets the wall itself: the sandbox.
        '.github/infra-agent.yml':
          'terraform:\n  env_passthrough: [AWS_SECRET_ACCESS_KEY]\npolicy:\n  levels:\n    PRE-FILE-001: advisory\n',
      },
      owner: OWNER,
      repo: REPO,
    });
    standin.addRepo({
      owner: OWNER,
      name: REPO,
      remotePath: remote.path,
      defaultBranch: remote.defaultBranch,
      installationId: INSTALLATION,
    });
    standin.setPermission(OWNER, REPO, 'mona', 'write');
    model = await startScriptedModel([
      ...attackRun('leak_outputs.tf', fill('leak-outputs.tf')),
      ...attackRun('leak_precondition.tf', fill('leak-precondition.tf')),
    ]);

    const port = await freePort();
    app = spawn(process.execPath, ['--import', 'tsx', join(projectRoot(), 'src', 'cli.ts'), 'serve', '--role', 'all'], {
      cwd: projectRoot(),
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        PATH: process.env['PATH'] ?? '/usr/bin:/bin',
        HOME: process.env['HOME'] ?? base,
        ...SECRETS,
        APP_ID: String(standin.app.id),
        PRIVATE_KEY_PATH: keyFile,
        ANTHROPIC_BASE_URL: model.url,
        GITHUB_API_URL: standin.url,
        INFRA_AGENT_DATA_DIR: join(base, 'app-data'),
        INFRA_AGENT_GIT_URL_TEMPLATE: remote.urlTemplate,
        INFRA_AGENT_GITHUB_THROTTLE: 'off',
        INFRA_AGENT_LOG_LEVEL: 'debug',
        PORT: String(port),
        HOST: '127.0.0.1',
        // To see the attack succeed without the wall: INFRA_AGENT_UNSANDBOXED=1 npx vitest run <this file>.
        ...(process.env['INFRA_AGENT_UNSANDBOXED']
          ? { INFRA_AGENT_UNSANDBOXED: process.env['INFRA_AGENT_UNSANDBOXED'] }
          : {}),
      },
    });
    app.stdout?.on('data', (c: Buffer) => {
      log += c.toString('utf8');
    });
    app.stderr?.on('data', (c: Buffer) => {
      log += c.toString('utf8');
    });
    const url = `http://127.0.0.1:${port}`;
    // Generous: a cold `node --import tsx` start on a loaded 2-core machine can take most of a minute.
    const until = Date.now() + 240_000;
    for (;;) {
      const ok = await fetch(`${url}/healthz`).then(
        (r) => r.ok,
        () => false,
      );
      if (ok) break;
      if (Date.now() > until || app.exitCode !== null) throw new Error(`serve did not start:\n${log}`);
      await new Promise((r) => setTimeout(r, 250));
    }
    sender = createWebhookSender(`${url}${WEBHOOK_PATH}`, SECRETS.WEBHOOK_SECRET, standin.app.id);
  }, 300_000);

  afterAll(async () => {
    if (app && app.exitCode === null) {
      const exited = new Promise((ok) => app?.once('exit', ok));
      app.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
      if (app.exitCode === null) app.kill('SIGKILL');
    }
    await model?.close();
    await remote?.close();
    await standin?.close();
    rmSync(base, { recursive: true, force: true });
  });

  async function generate(title: string): Promise<string> {
    const issue = standin.addIssue({
      owner: OWNER,
      repo: REPO,
      title,
      body: title,
      user: 'mona',
      labels: ['infra-request'],
    });
    const hook = standinWebhooks(standin).issuesLabeled(OWNER, REPO, issue.number, 'infra-request', 'mona');
    expect((await sender.send(hook.event, hook.payload)).status).toBeLessThan(300);
    const until = Date.now() + 360_000;
    for (;;) {
      const progress = standin.comments(OWNER, REPO, issue.number).map((c) => c.body ?? '');
      if (progress.some((b) => b.includes('✅ done') || b.includes('❌ stopped'))) break;
      if (Date.now() > until) throw new Error(`timed out waiting for the run of "${title}":\n${log.slice(-3000)}`);
      await new Promise((r) => setTimeout(r, 500));
    }
    const pr = standin.pulls(OWNER, REPO).find((p) => p.body?.includes(`Closes #${issue.number}`));
    return `${pr?.body ?? ''}\n${standin
      .comments(OWNER, REPO, issue.number)
      .map((c) => c.body)
      .join('\n')}`;
  }

  function assertNothingLeaked(): void {
    const values = [...Object.values(SECRETS), STATE_SECRET, keyBody.slice(40, 120), keyBody.slice(400, 480)];
    const forms = values.flatMap((v) => encodedForms(v)).filter((f) => f.length >= 8);
    const haystacks = [...standin.requests.map((r) => JSON.stringify(r.body ?? '')), log];
    for (const needle of forms) {
      const hit = haystacks.some((h) => h.includes(needle));
      expect(hit, `a form of a secret (${needle.slice(0, 6)}…) reached GitHub or the log`).toBe(false);
    }
  }

  it("outputs that base64encode the App's environ, its key file, passed-through credentials and other state", async () => {
    const text = await generate('Add outputs');
    // The attack ran and its outputs reached the PR: the environment it found starts with "PATH=" (base64 UEFUSD0…),
    // the sandbox's own, allow-listed one.
    expect(text).toMatch(/leak_own_env\s*=\s*"UEFUSD0/);
    assertNothingLeaked();
  }, 420_000);

  it("a precondition's error_message and terraform_remote_state with a local backend", async () => {
    const text = await generate('Add a check');
    expect(text).toMatch(/Unable to find remote state|Resource precondition failed|leak /);
    assertNothingLeaked();
  }, 420_000);
});
