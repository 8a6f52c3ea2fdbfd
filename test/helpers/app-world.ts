// The end-to-end harness the App suites share: GitHub served by the stand-in (one installation, one repo, the given
// permissions), that repo as a git remote on disk, the scripted model, the real server (role `all`, in-memory store
// and queue, no GitHub throttling) and a webhook sender signed with the world's secret. One place, so every suite
// runs the App the same way and a new server option is wired once.
import { randomBytes } from 'node:crypto';
import { type GitHubStandin, startGitHubStandin } from '../../devtools/github-standin/index.js';
import { createLogger, type Logger } from '../../src/observability/logger.js';
import { realAgentRunner } from '../../src/pipeline/wiring.js';
import { createRuntime } from '../../src/queue/runtime.js';
import type { QueueOptions } from '../../src/queue/types.js';
import { type AppServer, type AppServerOptions, startAppServer, WEBHOOK_PATH } from '../../src/server/server.js';
import { type FaultProxy, startFaultProxy } from './fault-proxy.js';
import type { StoreFaults } from './faulty-store.js';
import { createGitRemote, type GitRemote } from './git-remote.js';
import {
  type ScriptedModel,
  type ScriptedModelOptions,
  type ScriptStep,
  startScriptedModel,
} from './scripted-model.js';
import { createWebhookSender, type WebhookSender } from './webhooks.js';

export type RepoPermission = Parameters<GitHubStandin['setPermission']>[3];

export interface AppWorldOptions {
  /** The repo's files on its default branch. */
  files: Record<string, string>;
  /** More repos in the same installation, each a remote beside the first (one git URL template serves all). */
  moreRepos?: Array<{ name: string; files: Record<string, string> }>;
  /** Login → permission, on every repo. */
  permissions: Record<string, RepoPermission>;
  /** The scripted model's conversation (default: none; calls beyond the script get `modelOptions.afterScript`). */
  script?: ScriptStep[];
  modelOptions?: ScriptedModelOptions;
  /** Server options that differ from the harness's (e.g. a stub `agent` or `checks`). */
  server?: Pick<
    AppServerOptions,
    'agent' | 'checks' | 'driftScheduler' | 'githubFaults' | 'concurrency' | 'workRoot' | 'repair' | 'redelivery'
  >;
  /**
   * Fault injection: a proxy between the App and the stand-in (`world.proxy`), a store whose statements can be
   * failed (`storeFaults`), queue tuning (short retries), PostgreSQL instead of the embedded store.
   */
  faults?: {
    proxy?: boolean;
    store?: StoreFaults;
    queue?: Partial<QueueOptions>;
    databaseUrl?: string;
  };
  owner?: string;
  repo?: string;
  installationId?: number;
  secret?: string;
  /** The App's logger (default: fatal only, to keep the output readable). */
  log?: Logger;
}

export interface AppWorld {
  standin: GitHubStandin;
  /** The fault proxy the App reaches GitHub through, when `faults.proxy` was asked for. */
  proxy: FaultProxy | undefined;
  /** The store and queue options the server was started with (to start a second server on the same store). */
  planKey: string;
  remote: GitRemote;
  /** Every remote, the first repo's first. */
  remotes: GitRemote[];
  model: ScriptedModel;
  server: AppServer;
  sender: WebhookSender;
  webhookUrl: string;
  owner: string;
  repo: string;
  secret: string;
  close(): Promise<void>;
}

/** A key that looks like an Anthropic key, so redaction and the client treat it as one. */
const SCRIPTED_MODEL_KEY = 'sk-ant-scripted-model-key-000000';

export async function startAppWorld(opts: AppWorldOptions): Promise<AppWorld> {
  const owner = opts.owner ?? 'acme';
  const repo = opts.repo ?? 'infra';
  const installationId = opts.installationId ?? 7;
  const secret = opts.secret ?? 'app-world-webhook-secret';
  // Whatever started is closed again if a later step throws, so a failed setup leaks no servers.
  const closers: Array<() => Promise<void>> = [];
  const close = async () => {
    for (const c of closers.splice(0).reverse()) await c();
  };
  try {
    const standin = await startGitHubStandin();
    closers.push(() => standin.close());
    standin.addInstallation({ id: installationId, account: owner, accountType: 'Organization' });
    const remotes: GitRemote[] = [];
    for (const r of [{ name: repo, files: opts.files }, ...(opts.moreRepos ?? [])]) {
      const base = remotes[0]?.baseDir;
      const remote = await createGitRemote({ files: r.files, owner, repo: r.name, ...(base ? { baseDir: base } : {}) });
      remotes.push(remote);
      closers.push(() => remote.close());
      standin.addRepo({
        owner,
        name: r.name,
        remotePath: remote.path,
        defaultBranch: remote.defaultBranch,
        installationId,
      });
      for (const [user, permission] of Object.entries(opts.permissions)) {
        standin.setPermission(owner, r.name, user, permission);
      }
    }
    const [remote] = remotes;
    if (!remote) throw new Error('no remote was created');
    const model = await startScriptedModel(opts.script ?? [], opts.modelOptions);
    closers.push(() => model.close());
    const proxy = opts.faults?.proxy ? await startFaultProxy(standin.url) : undefined;
    if (proxy) closers.push(() => proxy.close());
    const planKey = randomBytes(32).toString('hex');
    const faults = opts.faults;
    const runtime =
      faults?.store || faults?.queue || faults?.databaseUrl
        ? await createRuntime({
            role: 'all',
            ...(faults.databaseUrl ? { databaseUrl: faults.databaseUrl } : { dataDir: 'memory://' }),
            planKey,
            retention: false,
            ...(faults.queue ? { queue: faults.queue } : {}),
            ...(faults.store ? { wrapDriver: faults.store.wrap } : {}),
          })
        : undefined;
    const server = await startAppServer({
      appId: String(standin.app.id),
      privateKey: standin.app.privateKey ?? '',
      webhookSecret: secret,
      githubApiUrl: proxy?.url ?? standin.url,
      role: 'all',
      githubThrottle: false,
      port: 0,
      host: '127.0.0.1',
      dataDir: 'memory://',
      planKey,
      ...(runtime ? { runtime } : {}),
      gitUrlTemplate: remote.urlTemplate,
      agent: realAgentRunner({ apiKey: SCRIPTED_MODEL_KEY, baseURL: model.url }),
      ...opts.server,
      // Probot logs a forged delivery at error level with the whole payload: keep the output readable.
      log: opts.log ?? createLogger({ level: process.env['T_LOG'] ?? 'fatal' }),
    });
    closers.push(() => server.close());
    const webhookUrl = `${server.url}${WEBHOOK_PATH}`;
    const sender = createWebhookSender(webhookUrl, secret, standin.app.id);
    return {
      standin,
      proxy,
      planKey,
      remote,
      remotes,
      model,
      server,
      sender,
      webhookUrl,
      owner,
      repo,
      secret,
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}
