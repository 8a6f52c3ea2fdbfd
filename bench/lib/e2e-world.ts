// The world the end-to-end and memory benchmarks run in, wired like test/e2e/app.test.ts and `npm run demo`: the
// GitHub stand-in (every request checked against GitHub's OpenAPI description), a real git remote on disk holding
// examples/demo-repo, a scripted zero-latency model, and our real App server (`--role all`, embedded store in a fresh
// data dir, real terraform and scanners) in its own process, driven over HTTP with HMAC-signed webhooks. Records, per issue, when
// the webhook was sent and acknowledged, when the stand-in answered the App's "create pull request", and when the
// run finished.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { createGitRemote, type GitRemote } from '../../devtools/git-remote.js';
import { type GitHubStandin, standinWebhooks, startGitHubStandin } from '../../devtools/github-standin/index.js';
import {
  finish,
  type MessagesRequest,
  requestText,
  type ScriptedModel,
  type StepResponse,
  startScriptedModel,
  toolUse,
} from '../../devtools/scripted-model.js';
import { createWebhookSender, type WebhookSender } from '../../devtools/webhooks.js';
import { WEBHOOK_PATH } from '../../src/server/server.js';
import type { AppProcessConfig } from './app-process.js';
import { type BenchChild, startBenchChild } from './child-process.js';
import { demoRepoFiles, INSTALLATION_ID, LABELLER, OWNER, REPO, TRIGGER_LABEL } from './record-github.js';
import { sleep } from './stats.js';

const APP_PROCESS = join(fileURLToPath(new URL('.', import.meta.url)), 'app-process.ts');
const TITLE_PREFIX = 'Bench request';

/** Which request a conversation belongs to: the issue title the agent was given names it. */
function requestNumber(req: MessagesRequest): number {
  const m = new RegExp(`${TITLE_PREFIX} (\\d+)`).exec(requestText(req));
  return m?.[1] ? Number(m[1]) : 0;
}

/**
 * One zero-latency conversation per issue, whatever the interleaving: the turn is chosen by how many assistant
 * messages the request already holds. Turn 1 writes a small terraform_data + random_pet change, turn 2 runs the
 * checks, turn 3 finishes.
 */
function benchTurn(req: MessagesRequest): StepResponse {
  const n = requestNumber(req);
  const turn = req.messages.filter((m) => m.role === 'assistant').length;
  if (turn === 0) {
    return toolUse('write_file', {
      path: `bench_${n}.tf`,
      content: [
        `resource "terraform_data" "bench_${n}" {`,
        `  input = "bench request ${n}"`,
        '}',
        '',
        `resource "random_pet" "bench_${n}" {`,
        '  length = 2',
        '}',
        '',
      ].join('\n'),
    });
  }
  if (turn === 1) return toolUse('run_checks', {});
  return finish({ title: `Bench change ${n}`, summary: `Adds terraform_data.bench_${n} and random_pet.bench_${n}.` });
}

export interface RequestTiming {
  issue: number;
  /** Webhook sent → the App's 2xx. */
  ackMs: number;
  /** Webhook sent → the stand-in answered the App's POST /pulls with 201. */
  prOpenedMs?: number;
  /** Webhook sent → the run reached a final status (progress comment finished). */
  doneMs?: number;
  ok: boolean;
}

export interface E2EWorld {
  app: BenchChild;
  standin: GitHubStandin;
  /** Label `count` fresh issues at once and wait (up to `timeoutMs`) for every run to finish. */
  trigger(count: number, timeoutMs?: number): Promise<RequestTiming[]>;
  /** Runs finished so far by status, and the App's stage timings, from its /metrics. */
  metrics(): Promise<AppMetrics>;
  close(): Promise<void>;
}

export interface AppMetrics {
  finished: Record<string, number>;
  /** Stage → { count, total seconds }. */
  stages: Record<string, { count: number; sumSec: number }>;
}

const PullBody = z.object({ head: z.string() });

function parseMetrics(text: string): AppMetrics {
  const finished: Record<string, number> = {};
  const stages: Record<string, { count: number; sumSec: number }> = {};
  for (const line of text.split('\n')) {
    const fin = /^infra_agent_runs_finished_total\{([^}]*)\} ([\d.e+-]+)$/.exec(line);
    if (fin?.[1] && fin[2]) {
      const status = /status="([^"]+)"/.exec(fin[1])?.[1] ?? 'unknown';
      finished[status] = (finished[status] ?? 0) + Number(fin[2]);
    }
    const st = /^infra_agent_stage_duration_seconds_(sum|count)\{([^}]*)\} ([\d.e+-]+)$/.exec(line);
    if (st?.[1] && st[2] && st[3]) {
      const stage = /stage="([^"]+)"/.exec(st[2])?.[1] ?? 'unknown';
      const entry = stages[stage] ?? { count: 0, sumSec: 0 };
      if (st[1] === 'sum') entry.sumSec += Number(st[3]);
      else entry.count += Number(st[3]);
      stages[stage] = entry;
    }
  }
  return { finished, stages };
}

export async function startE2EWorld(opts: { concurrency?: number } = {}): Promise<E2EWorld> {
  const prOpenedAt = new Map<number, number>();
  const standin = await startGitHubStandin({
    onRequest: (r) => {
      if (r.method !== 'POST' || !/\/pulls$/.test(r.path) || r.status !== 201) return;
      const head = PullBody.safeParse(r.body);
      const n = head.success ? /^infra\/issue-(\d+)-/.exec(head.data.head)?.[1] : undefined;
      if (n) prOpenedAt.set(Number(n), performance.now());
    },
  });
  let remote: GitRemote | undefined;
  let model: ScriptedModel | undefined;
  let app: BenchChild | undefined;
  // The embedded store in a fresh data directory, as `serve` makes it on a first start (initdb in a child that exits),
  // not `memory://`, whose in-process initdb would stay in the App's RSS and dwarf what the runs cost.
  const dataDir = await mkdtemp(join(tmpdir(), 'infra-agent-bench-e2e-data-'));
  try {
    remote = await createGitRemote({ files: await demoRepoFiles(), owner: OWNER, repo: REPO });
    standin.addInstallation({ id: INSTALLATION_ID, account: OWNER, accountType: 'Organization' });
    standin.addRepo({
      owner: OWNER,
      name: REPO,
      remotePath: remote.path,
      defaultBranch: remote.defaultBranch,
      installationId: INSTALLATION_ID,
    });
    standin.setPermission(OWNER, REPO, LABELLER, 'write');
    model = await startScriptedModel([], { afterScript: benchTurn });
    const secret = randomBytes(16).toString('hex');
    const config: AppProcessConfig = {
      kind: 'ours',
      role: 'all',
      // Against the local stand-in, like the demo and the e2e tests: GitHub's write pacing would only add sleeps.
      throttle: 'off',
      appId: String(standin.app.id),
      privateKey: standin.app.privateKey ?? '',
      webhookSecret: secret,
      githubApiUrl: standin.url,
      planKey: randomBytes(32).toString('hex'),
      gitUrlTemplate: remote.urlTemplate,
      modelUrl: model.url,
      dataDir,
      ...(opts.concurrency ? { concurrency: opts.concurrency } : {}),
    };
    app = await startBenchChild(APP_PROCESS, config);
    const sender: WebhookSender = createWebhookSender(`${app.url}${WEBHOOK_PATH}`, secret, standin.app.id);
    const hooks = standinWebhooks(standin);
    const appUrl = app.url;
    let nextTitle = 1;

    const metrics = async (): Promise<AppMetrics> => parseMetrics(await (await fetch(`${appUrl}/metrics`)).text());
    const finishedCount = async () => Object.values((await metrics()).finished).reduce((a, b) => a + b, 0);

    const world: E2EWorld = {
      app,
      standin,
      metrics,
      async trigger(count, timeoutMs = 15 * 60_000) {
        const baseline = await finishedCount();
        const issues = Array.from({ length: count }, () =>
          standin.addIssue({
            owner: OWNER,
            repo: REPO,
            title: `${TITLE_PREFIX} ${nextTitle++}`,
            body: 'Add a terraform_data and a random_pet for the benchmark.',
            user: LABELLER,
          }),
        );
        const sent = new Map<number, number>();
        const timings = await Promise.all(
          issues.map(async (issue): Promise<RequestTiming> => {
            const hook = hooks.issuesLabeled(OWNER, REPO, issue.number, TRIGGER_LABEL, LABELLER);
            const t0 = performance.now();
            sent.set(issue.number, t0);
            const ack = await sender.send(hook.event, hook.payload);
            if (ack.status >= 300) throw new Error(`webhook for #${issue.number} answered ${ack.status}: ${ack.body}`);
            return { issue: issue.number, ackMs: performance.now() - t0, ok: false };
          }),
        );
        const pending = new Set(issues.map((i) => i.number));
        const until = Date.now() + timeoutMs;
        while (pending.size > 0) {
          for (const n of [...pending]) {
            const progress = standin.comments(OWNER, REPO, n).find((c) => c.user === standin.app.botLogin);
            if (progress && /\*\*Opened #\d+\*\*/.test(progress.body)) {
              const t = timings.find((x) => x.issue === n);
              if (t) {
                t.doneMs = performance.now() - (sent.get(n) ?? 0);
                t.ok = true;
              }
              pending.delete(n);
            }
          }
          if (pending.size === 0) {
            // "Opened" is written just before the run is recorded as finished: wait for that too, so the next
            // trigger's count of finished runs starts from a settled number.
            const settle = Date.now() + 30_000;
            while ((await finishedCount()) - baseline < count && Date.now() < settle) await sleep(100);
            break;
          }
          // Runs that ended without a PR (failed, refused) never write "Opened": count them via /metrics.
          if ((await finishedCount()) - baseline >= count) {
            await sleep(300);
            for (const n of pending) {
              const t = timings.find((x) => x.issue === n);
              if (t) t.doneMs = performance.now() - (sent.get(n) ?? 0);
            }
            break;
          }
          if (Date.now() > until) throw new Error(`timed out: ${pending.size} of ${count} runs unfinished`);
          await sleep(100);
        }
        for (const t of timings) {
          const at = prOpenedAt.get(t.issue);
          if (at !== undefined) t.prOpenedMs = at - (sent.get(t.issue) ?? 0);
          t.ackMs = Math.round(t.ackMs);
          if (t.prOpenedMs !== undefined) t.prOpenedMs = Math.round(t.prOpenedMs);
          if (t.doneMs !== undefined) t.doneMs = Math.round(t.doneMs);
        }
        return timings;
      },
      async close() {
        await app?.stop();
        await model?.close();
        await standin.close();
        await remote?.close();
        await rm(dataDir, { recursive: true, force: true });
      },
    };
    return world;
  } catch (err) {
    await app?.stop();
    await model?.close();
    await standin.close();
    await remote?.close();
    await rm(dataDir, { recursive: true, force: true });
    throw err;
  }
}
