// No sandbox, no untrusted code, through the App: when bubblewrap cannot start, a labelled issue gets a comment saying
// so and no plan, no PR; with the operator's INFRA_AGENT_UNSANDBOXED=1 the run goes ahead and the PR body and the
// policy check run say "Unsandboxed" where a reviewer sees them.
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { DEMO_REQUEST, demoModelScript } from '../../devtools/demo-model-script.js';
import { standinWebhooks } from '../../devtools/github-standin/index.js';
import { type AppWorld, startAppWorld } from '../helpers/app-world.js';
import { describeWithTools } from '../helpers/tools.js';

const OWNER = 'acme';
const REPO = 'infra';

describeWithTools(['terraform', 'git', 'tfsec', 'checkov', 'opa'], 'the App without a sandbox', () => {
  let world: AppWorld | undefined;
  const saved = { ...process.env };

  beforeAll(async () => {
    world = await startAppWorld({
      files: { 'main.tf': 'resource "terraform_data" "settings" {\n  input = { env = "dev" }\n}\n' },
      permissions: { mona: 'write' },
      script: demoModelScript().slice(0, 3),
      owner: OWNER,
      repo: REPO,
    });
  }, 120_000);
  afterEach(() => {
    process.env = { ...saved };
  });
  afterAll(async () => {
    await world?.close();
  });

  async function label(title: string): Promise<{ comment: string; prBody: string | undefined }> {
    const w = world;
    if (!w) throw new Error('no world');
    const issue = w.standin.addIssue({ owner: OWNER, repo: REPO, title, body: DEMO_REQUEST.body, user: 'mona' });
    const hook = standinWebhooks(w.standin).issuesLabeled(OWNER, REPO, issue.number, 'infra-request', 'mona');
    expect((await w.sender.send(hook.event, hook.payload)).status).toBeLessThan(300);
    const until = Date.now() + 400_000;
    for (;;) {
      const body = w.standin.comments(OWNER, REPO, issue.number).map((c) => c.body ?? '')[0] ?? '';
      if (body.includes('✅ done') || body.includes('❌ stopped')) {
        const pr = w.standin.pulls(OWNER, REPO).find((p) => p.body?.includes(`Closes #${issue.number}`));
        return { comment: body, prBody: pr?.body ?? undefined };
      }
      if (Date.now() > until) throw new Error(`timed out waiting for the run of "${title}"`);
      await new Promise((r) => setTimeout(r, 300));
    }
  }

  it('refuses to run and says why in the issue thread when bubblewrap cannot start', async () => {
    process.env['INFRA_AGENT_BWRAP_BIN'] = join(import.meta.dirname, 'no-such-bwrap');
    const { comment, prBody } = await label('Refused without a sandbox');
    expect(comment).toContain('the sandbox could not start: bubblewrap was not found');
    expect(comment).toContain('INFRA_AGENT_UNSANDBOXED=1');
    expect(prBody).toBeUndefined();
    // Nothing of the repository was run: the model was never asked.
    expect(world?.model.remaining()).toBe(3);
  }, 420_000);

  it("runs on the operator's explicit switch, and the PR body and check run say Unsandboxed", async () => {
    process.env['INFRA_AGENT_BWRAP_BIN'] = join(import.meta.dirname, 'no-such-bwrap');
    process.env['INFRA_AGENT_UNSANDBOXED'] = '1';
    const { prBody } = await label(DEMO_REQUEST.title);
    expect(prBody).toContain('**Unsandboxed**');
    const check = world?.standin.state.checkRuns.find((c) => c.name === 'infra-agent/policy');
    expect(JSON.stringify(check)).toContain('Unsandboxed');
  }, 420_000);
});
