// The App's HTTP server: the webhook receiver at /api/github/webhooks (src/server/webhook-receiver.ts; HMAC-verified:
// a forged signature gets 400 and never reaches a handler), plus /healthz and /metrics. The role decides what runs in
// this process: `web` verifies and enqueues, `worker` runs jobs, `all` both (the embedded store's only mode). Used by
// `serve`, the demo and the end-to-end tests, so all three run the same code.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Probot, ProbotOctokit } from 'probot';
import { z } from 'zod';
import { JOB_KIND_RUN, RunJobSchema } from '../core/jobs.js';
import type { DriftScheduler, DriftSchedulerOptions } from '../drift/scheduler.js';
import type { RedeliveryOptions } from '../github/redelivery.js';
import { type ResilienceOptions, resilience } from '../github/resilience.js';
import { createLogger, type Logger } from '../observability/logger.js';
import { collectAndRenderMetrics, METRICS_CONTENT_TYPE } from '../observability/metrics.js';
import { createDeliveryWriter } from '../queue/delivery-writer.js';
import { createRuntime, type Role, type Runtime } from '../queue/runtime.js';
import type { AgentRunner, Checker, WorkerDeps } from '../stages/deps.js';
import type { GitIdentity } from '../stages/workspace.js';
import type { RunRecord } from '../store/types.js';
import { createWebhookReceiver } from './webhook-receiver.js';

export const WEBHOOK_PATH = '/api/github/webhooks';

export interface AppServerOptions {
  appId: string;
  privateKey: string;
  webhookSecret: string;
  /** GitHub API base URL (GHES, the stand-in); default https://api.github.com. */
  githubApiUrl?: string;
  role: Role;
  port: number;
  host?: string;
  /** Store/queue options; a runtime built from them (or the environment) when `runtime` is not given. */
  databaseUrl?: string;
  dataDir?: string;
  planKey?: string;
  runtime?: Runtime;
  gitUrlTemplate?: string;
  author?: GitIdentity;
  workRoot?: string;
  concurrency?: number;
  agent?: AgentRunner;
  checks?: Checker;
  log?: Logger;
  /** Scheduled drift checks in worker processes (default on, every 60 s); `false` turns the scheduler off. */
  driftScheduler?: false | Pick<DriftSchedulerOptions, 'intervalMs' | 'maxJitterMs' | 'now'>;
  /**
   * Pace GitHub requests with Probot's throttling (one write per second per process, GitHub's guidance against its
   * secondary rate limits). Default true: keep it on against real GitHub. The demo, the end-to-end tests and the
   * benches turn it off against the local stand-in. `serve` reads INFRA_AGENT_GITHUB_THROTTLE=off.
   */
  githubThrottle?: boolean;
  /** Rate-limit budget, 5xx retries and the clock of the GitHub client (tests shorten them). */
  githubFaults?: ResilienceOptions;
  /** The repair sweep (interrupted runs, stranded queued runs, notices GitHub was down for): default every minute. */
  repair?: { intervalMs?: number; queuedStaleMs?: number };
  /** The redelivery sweep of failed webhook deliveries (part of the repair sweep); `false` turns it off. */
  redelivery?: RedeliveryOptions | false;
}

export interface AppServer {
  url: string;
  port: number;
  runtime: Runtime;
  probot: Probot;
  botLogin: string | undefined;
  /** The drift scheduler of a worker process (tests call `tick()` to run a pass now). */
  driftScheduler?: DriftScheduler;
  close(): Promise<void>;
}

const TokenSchema = z.object({ token: z.string().min(1) });
const AppSchema = z.object({ slug: z.string().min(1) });

/**
 * The Octokit class for the App. Probot wraps the class it is given with its own defaults, which put `throttle`
 * back (`enabled: true` and its handlers) after a plain `defaults({ throttle: { enabled: false } })`; a function
 * default runs after Probot's, so the flag set here is the one the throttling plugin reads.
 */
export function githubOctokitClass(throttle: boolean, faults: ResilienceOptions = {}): typeof ProbotOctokit {
  return ProbotOctokit.plugin(resilience(faults)).defaults((options: Record<string, unknown>) => {
    const current = options['throttle'];
    return {
      ...options,
      throttle: { ...(typeof current === 'object' && current !== null ? current : {}), enabled: throttle },
      // @octokit/plugin-retry would repeat a create whose answer was lost (a second comment); resilience.ts retries
      // only what is safe to repeat.
      retry: { enabled: false },
    };
  });
}

/**
 * What only a worker needs (the pipeline, the agent, the scanners, the drift scheduler, the repair sweep), imported
 * when a worker starts: a web-only process never loads it, so it stays small and starts fast.
 */
async function loadWorkerModules() {
  const [applyRun, repair, wiring, workDirs, worker, workspace, runState, sandbox, drift, redelivery] =
    await Promise.all([
      import('../pipeline/apply-run.js'),
      import('../pipeline/repair.js'),
      import('../pipeline/wiring.js'),
      import('../stages/work-dirs.js'),
      import('./worker.js'),
      import('../stages/workspace.js'),
      import('../stages/run-state.js'),
      import('../sandbox/status.js'),
      import('../drift/scheduler.js'),
      import('../github/redelivery.js'),
    ]);
  return { applyRun, repair, wiring, workDirs, worker, workspace, runState, sandbox, drift, redelivery };
}

/** The job that resumes an interrupted run: the run's stored input is the job payload minus the delivery id. */
function jobForRun(run: RunRecord) {
  const parsed = RunJobSchema.safeParse({ ...run.input, type: JOB_KIND_RUN, runId: run.id });
  return {
    kind: JOB_KIND_RUN,
    key: run.key,
    payload: parsed.success ? parsed.data : { type: JOB_KIND_RUN, runId: run.id },
  };
}

export async function startAppServer(opts: AppServerOptions): Promise<AppServer> {
  const log = opts.log ?? createLogger();
  const probot = new Probot({
    appId: opts.appId,
    privateKey: opts.privateKey,
    secret: opts.webhookSecret,
    log: log.child({ name: 'probot' }),
    ...(opts.githubApiUrl ? { baseUrl: opts.githubApiUrl } : {}),
    Octokit: githubOctokitClass(
      opts.githubThrottle ?? process.env['INFRA_AGENT_GITHUB_THROTTLE'] !== 'off',
      opts.githubFaults ?? {},
    ),
  });
  // Three independent waits, overlapped: the store opening (the embedded one compiles PostgreSQL's WebAssembly),
  // the App's identity from GitHub, and a worker's modules.
  const workerModules = opts.role !== 'web' ? loadWorkerModules() : undefined;
  workerModules?.catch(() => {});
  const identity = (async () => {
    // The app's own login: PRs are "ours" only when opened by it. Unknown (API down at start) → markers + Bot type.
    try {
      const app = await probot.auth();
      const { data } = await app.rest.apps.getAuthenticated();
      return `${AppSchema.parse(data).slug}[bot]`;
    } catch (err) {
      log.warn({ err: err instanceof Error ? err.message : String(err) }, 'could not read the app slug');
      return undefined;
    }
  })();
  const runtime =
    opts.runtime ??
    (await createRuntime({
      role: opts.role,
      ...(opts.databaseUrl ? { databaseUrl: opts.databaseUrl } : {}),
      ...(opts.dataDir ? { dataDir: opts.dataDir } : {}),
      ...(opts.planKey ? { planKey: opts.planKey } : {}),
    }));
  const botLogin = await identity;

  // The web side: our receiver (signature check with @octokit/webhooks, the intake handlers, the batched durable
  // write); a worker-only process serves no webhooks.
  const receiver =
    opts.role === 'worker'
      ? undefined
      : createWebhookReceiver({
          secret: opts.webhookSecret,
          log: log.child({ name: 'webhooks' }),
          deps: {
            store: runtime.store,
            queue: runtime.queue,
            deliveries: createDeliveryWriter(runtime.store, runtime.queue),
            ...(botLogin ? { botLogin } : {}),
          },
        });

  let drift: DriftScheduler | undefined;
  let repairTimer: NodeJS.Timeout | undefined;
  if (workerModules) {
    const {
      applyRun: { notifyInterruptedApplies },
      repair: { postPendingNotices, requeueStrandedRuns },
      wiring: { realAgentRunner, realChecker, realRenderers },
      workDirs: { removeStaleWorkDirs },
      worker: { createJobHandler },
      workspace: { DEFAULT_GIT_URL_TEMPLATE },
      runState: { recoverInterruptedRuns },
      sandbox: { refusalMessage, sandboxStatus },
      drift: { startDriftScheduler },
      redelivery: { redeliverFailedDeliveries },
    } = await workerModules;
    // Said once at start, loudly: a worker without a sandbox refuses every plan and apply (or runs them unsandboxed
    // when the operator switched it off).
    const sandbox = await sandboxStatus();
    if (sandbox.mode === 'unavailable') log.error({ sandbox: sandbox.reason }, refusalMessage(sandbox.reason));
    else if (sandbox.mode === 'unsandboxed') log.warn({ sandbox: sandbox.reason }, 'running tools UNSANDBOXED');
    const deps: WorkerDeps = {
      store: runtime.store,
      installation: async (installationId) => {
        const octokit = await probot.auth(installationId);
        // The token for git is minted through the app's own client: `octokit.auth({ type: 'installation' })` asks
        // api.github.com whatever the configured base URL unless a webhook already cached a token, so a worker-only
        // process (or one just restarted) on GHES or the stand-in would fail.
        const app = await probot.auth();
        const { data } = await app.rest.apps.createInstallationAccessToken({ installation_id: installationId });
        const { token } = TokenSchema.parse(data);
        return { octokit, token };
      },
      installationClient: async (installationId) => probot.auth(installationId),
      agent: opts.agent ?? realAgentRunner(),
      checks: opts.checks ?? realChecker,
      renderers: realRenderers,
      gitUrlTemplate: opts.gitUrlTemplate ?? DEFAULT_GIT_URL_TEMPLATE,
      author: opts.author ?? { name: 'infra-agent[bot]', email: 'infra-agent[bot]@users.noreply.github.com' },
      ...(opts.workRoot ? { workRoot: opts.workRoot } : {}),
      queue: runtime.queue,
      ...(botLogin ? { botLogin } : {}),
      log,
    };
    // Work directories a crashed process of this App left (checkouts, plans in clear): removed before any new run.
    const stale = [
      ...(await removeStaleWorkDirs(opts.workRoot)),
      ...(opts.workRoot ? await removeStaleWorkDirs(undefined) : []),
    ];
    if (stale.length > 0) log.info({ removed: stale.length }, 'stale work directories removed');
    const embedded = runtime.store.driver === 'pglite';
    const sweep = async (atStart: boolean) => {
      // Embedded at start: this is the only process, so everything running was interrupted.
      const staleAfterMs = atStart && embedded ? 0 : 60_000;
      // Applies a dead worker left after terraform started go to a human (never re-run), and their PRs are told,
      // before the generic recovery below re-enqueues the other runs (applies that never reached terraform too).
      const interrupted = await notifyInterruptedApplies(runtime.store, deps, { staleAfterMs });
      if (interrupted > 0) log.warn({ interrupted }, 'interrupted applies need a human');
      const recovered = await recoverInterruptedRuns(runtime.store, {
        queue: runtime.queue,
        staleAfterMs,
        jobFor: jobForRun,
      });
      const stranded = await requeueStrandedRuns(runtime.store, {
        queue: runtime.queue,
        jobFor: jobForRun,
        queuedStaleMs: atStart && embedded ? 0 : (opts.repair?.queuedStaleMs ?? 10 * 60_000),
      });
      const notices = await postPendingNotices(runtime.store, deps);
      // Deliveries GitHub could not hand over while this App was down or failing: asked for again.
      if (opts.redelivery !== false) {
        try {
          const redelivered = await redeliverFailedDeliveries(await probot.auth(), runtime.store, opts.redelivery);
          if (redelivered.requested.length > 0)
            log.info({ redelivered: redelivered.requested }, 'redelivery requested');
        } catch (err) {
          log.warn({ err: err instanceof Error ? err.message : String(err) }, 'redelivery sweep failed');
        }
      }
      if (recovered.requeued.length + recovered.needsHuman.length + stranded.length + notices > 0) {
        log.info(
          {
            requeued: recovered.requeued.length,
            needsHuman: recovered.needsHuman.length,
            stranded: stranded.length,
            notices,
          },
          'repair sweep',
        );
      }
    };
    await sweep(true);
    await runtime.queue.work(createJobHandler(deps), { concurrency: opts.concurrency ?? 2 });
    if (opts.driftScheduler !== false) {
      drift = startDriftScheduler({
        store: runtime.store,
        queue: runtime.queue,
        appClient: () => probot.auth(),
        installationClient: (id) => probot.auth(id),
        log: log.child({ name: 'drift-scheduler' }),
        ...(opts.driftScheduler ?? {}),
      });
    }
    let sweeping = false;
    repairTimer = setInterval(() => {
      if (sweeping) return;
      sweeping = true;
      sweep(false)
        .catch((err: unknown) => log.warn({ err: err instanceof Error ? err.message : String(err) }, 'repair sweep'))
        .finally(() => {
          sweeping = false;
        });
    }, opts.repair?.intervalMs ?? 60_000);
    repairTimer.unref();
  }

  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method === 'GET' && path === '/healthz') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ ok: true, role: opts.role, store: runtime.store.driver, queue: runtime.queue.driver }));
      return;
    }
    if (req.method === 'GET' && path === '/metrics') {
      collectAndRenderMetrics({
        countRuns: () => runtime.store.countRuns(),
        queueDepth: () => runtime.queue.depth(),
        driftStatus: () => runtime.store.listDrift(),
      }).then(
        (body) => {
          res.writeHead(200, { 'content-type': METRICS_CONTENT_TYPE });
          res.end(body);
        },
        () => {
          res.writeHead(500);
          res.end();
        },
      );
      return;
    }
    if (path === WEBHOOK_PATH && receiver) {
      receiver(req, res);
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' });
    res.end(
      path === WEBHOOK_PATH
        ? "this process runs the worker role: point the App's webhook URL at a web (or all) process\n"
        : 'not found\n',
    );
    req.resume();
  });
  await new Promise<void>((resolve) => server.listen(opts.port, opts.host ?? '0.0.0.0', resolve));
  const port = (server.address() as AddressInfo).port;
  log.info({ port, role: opts.role, store: runtime.store.driver, botLogin }, 'infra-agent listening');
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    runtime,
    probot,
    botLogin,
    ...(drift ? { driftScheduler: drift } : {}),
    async close() {
      await drift?.stop();
      clearInterval(repairTimer);
      await new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await runtime.close();
    },
  };
}
