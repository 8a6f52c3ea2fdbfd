// Policy comes from where config comes from (issue #11 part B), end to end through the App: the repo's own Rego
// (`policy.custom_policy_dir`) is read from the DEFAULT branch. A person pushes to the App's PR a commit that empties
// that policy and adds one calling `http.send` to a server we watch: the re-plan still judges the PR with the
// default branch's rule, and the watched server never hears from the worker.
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { standinWebhooks } from '../../devtools/github-standin/index.js';
import { opaScanner } from '../../src/policy/scanners/opa.js';
import { runChecks } from '../../src/stages/checks.js';
import type { Checker } from '../../src/stages/deps.js';
import { type AppWorld, startAppWorld } from '../helpers/app-world.js';
import { HUMAN_IDENTITY } from '../helpers/git-remote.js';
import { describeWithTools } from '../helpers/tools.js';
import { waitFor } from '../helpers/wait.js';

const REVIEW_REGO = `package infra_agent.custom.review

deny contains f if {
	some rc in input.resource_changes
	rc.type == "terraform_data"
	rc.name == "extra"
	f := {
		"rule_id": "CUSTOM-REVIEW-001",
		"severity": "high",
		"level": "soft",
		"message": "terraform_data.extra needs a platform review",
		"address": rc.address,
	}
}
`;

const FILES = {
  'main.tf': 'resource "terraform_data" "base" {\n  input = "base"\n}\n',
  '.github/infra-agent.yml': 'version: 1\npolicy:\n  custom_policy_dir: policy\n',
  'policy/review.rego': REVIEW_REGO,
};

function step(id: number, name: string, input: unknown) {
  return {
    kind: 'message' as const,
    content: [{ type: 'tool_use' as const, id: `toolu_guard_${id}`, name, input }],
    stopReason: 'tool_use' as const,
    usage: { input_tokens: 100, output_tokens: 20 },
  };
}

// OPA is the scanner under test; tfsec and checkov add nothing here but minutes.
const opaOnly: Checker = (opts) => runChecks({ ...opts, scanners: { static: [], plan: [opaScanner] } });

describeWithTools(['terraform', 'git', 'opa'], 'custom policy from the default branch, through the App', () => {
  let world: AppWorld | undefined;
  let watched: Server;
  let hits = 0;
  let watchedUrl = '';

  beforeAll(async () => {
    watched = createServer((_req, res) => {
      hits += 1;
      res.end('{}');
    });
    await new Promise<void>((r) => watched.listen(0, '127.0.0.1', r));
    const address = watched.address();
    watchedUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/`;
    world = await startAppWorld({
      files: FILES,
      permissions: { mona: 'write' },
      script: [
        step(1, 'write_file', { path: 'extra.tf', content: 'resource "terraform_data" "extra" {\n  input = "x"\n}\n' }),
        step(2, 'run_checks', {}),
        step(3, 'finish', { title: 'Add terraform_data.extra', summary: 'Adds one resource.' }),
      ],
      server: { checks: opaOnly },
    });
  });

  afterAll(async () => {
    await world?.close();
    await new Promise<void>((r) => watched.close(() => r()));
  });

  it('a PR that rewrites the custom policy dir is still judged by the default branch policy, and its http.send never runs', async () => {
    if (!world) throw new Error('no world');
    const { standin, remote, server, sender, owner, repo } = world;
    const hooks = standinWebhooks(standin);
    const runsDone = (n: number) =>
      waitFor(`${n} finished run(s)`, async () => {
        const runs = await server.runtime.store.listRuns({});
        const done = runs.filter((r) => ['succeeded', 'failed', 'cancelled', 'needs-human'].includes(r.status));
        return done.length >= n && done.length === runs.length ? runs : undefined;
      });

    const issue = standin.addIssue({
      owner,
      repo,
      title: 'Add extra',
      body: 'one more',
      user: 'mona',
      labels: ['infra-request'],
    });
    const labeled = hooks.issuesLabeled(owner, repo, issue.number, 'infra-request', 'mona');
    expect((await sender.send(labeled.event, labeled.payload)).status).toBeLessThan(300);
    const [first] = await runsDone(1);
    expect(first?.status, first?.error ?? '').toBe('succeeded');
    const pr = standin.pulls(owner, repo)[0];
    if (!pr) throw new Error('no PR');
    expect(pr.body).toContain('CUSTOM-REVIEW-001');

    // A person empties the policy on the PR branch and adds one that phones home.
    const before = await remote.headSha(pr.headRef);
    const head = await remote.commitFiles(
      pr.headRef,
      {
        'policy/review.rego': 'package infra_agent.custom.review\n\ndeny := set()\n',
        'policy/exfil.rego': `package infra_agent.custom.exfil\n\ndeny contains f if {\n\tr := http.send({"method": "GET", "url": "${watchedUrl}"})\n\tf := {"rule_id": "X", "message": sprintf("%v", [r.status_code])}\n}\n`,
      },
      'Relax the review policy',
      { author: HUMAN_IDENTITY },
    );
    const pushed = await hooks.pullRequestSynchronize(owner, repo, pr.number, before, 'mona');
    expect((await sender.send(pushed.event, pushed.payload)).status).toBeLessThan(300);
    const runs = await runsDone(2);
    const replan = runs.find((r) => r.kind === 'plan');
    expect(replan?.status, replan?.error ?? '').toBe('succeeded');
    const body = standin.pull(owner, repo, pr.number)?.body ?? '';
    expect(body).toContain(head.slice(0, 7));
    // Still judged by the default branch's rule; the PR's http.send policy was never loaded.
    expect(body).toContain('CUSTOM-REVIEW-001');
    expect(body).not.toContain('rule_id');
    expect(hits).toBe(0);
    const policyRun = standin.state.checkRuns
      .filter((c) => c.name === 'infra-agent/policy' && c.headSha === head)
      .at(-1);
    expect(policyRun?.conclusion).not.toBe('success');
    expect(standin.violations).toEqual([]);
  }, 600_000);
});
