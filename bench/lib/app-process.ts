// Child-process entry for the benchmarks: runs ONE webhook server in its own process, so its CPU and memory are its
// own. Either our App server (src/server/server.ts, exactly as `serve` / the demo / the e2e test run it) or the
// baseline, a bare Probot app whose only handler is empty, behind the same HTTP wrapper. Usage (via
// bench/lib/child-process.ts): `node --import tsx bench/lib/app-process.ts <config.json> <ready.json>`.
import { writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createNodeMiddleware, Probot, ProbotOctokit } from 'probot';
import { z } from 'zod';
import { createLogger } from '../../src/observability/logger.js';
import { realAgentRunner } from '../../src/pipeline/wiring.js';
import { startAppServer, WEBHOOK_PATH } from '../../src/server/server.js';
import { createStore } from '../../src/store/create-store.js';
import { embeddedWebRuntime } from '../../test/helpers/web-runtime.js';

const Common = z.object({ appId: z.string(), privateKey: z.string(), webhookSecret: z.string() });

export const AppProcessConfigSchema = z.discriminatedUnion('kind', [
  Common.extend({
    kind: z.literal('ours'),
    role: z.enum(['web', 'worker', 'all']),
    /** PostgreSQL (pg-boss queue); absent: the embedded store, in `dataDir`. */
    databaseUrl: z.string().optional(),
    /**
     * The embedded store's data directory, as `serve` has one (a new one is initialised by a child process that
     * exits); default `memory://`, an in-memory store whose initdb runs in this process and whose memory stays.
     */
    dataDir: z.string().default('memory://'),
    githubApiUrl: z.string(),
    planKey: z.string(),
    gitUrlTemplate: z.string().optional(),
    modelUrl: z.string().optional(),
    concurrency: z.number().int().positive().optional(),
    /**
     * `as-shipped`: startAppServer as `serve` runs it against real GitHub (writes paced as GitHub's secondary rate
     * limits ask; the webhook ack does not wait for them). `off`: `githubThrottle: false`, as the demo and the e2e
     * tests run it against the local stand-in.
     */
    throttle: z.enum(['as-shipped', 'off']).default('as-shipped'),
  }),
  Common.extend({ kind: z.literal('bare') }),
]);
/** What a caller writes (defaults may be left out). */
export type AppProcessConfig = z.input<typeof AppProcessConfigSchema>;
type Parsed = z.infer<typeof AppProcessConfigSchema>;

/** Logs off in both servers: a benchmark of pino writing to a pipe is not a benchmark of webhook handling. */
const log = createLogger({ level: 'fatal' });

async function startOurs(c: Extract<Parsed, { kind: 'ours' }>): Promise<Closable> {
  const runtime =
    c.role === 'web' && !c.databaseUrl
      ? await embeddedWebRuntime(await createStore({ dataDir: c.dataDir, planKey: c.planKey }))
      : undefined;
  return startAppServer({
    githubThrottle: c.throttle !== 'off',
    appId: c.appId,
    privateKey: c.privateKey,
    webhookSecret: c.webhookSecret,
    githubApiUrl: c.githubApiUrl,
    role: c.role,
    port: 0,
    host: '127.0.0.1',
    planKey: c.planKey,
    ...(runtime ? { runtime } : c.databaseUrl ? { databaseUrl: c.databaseUrl } : { dataDir: c.dataDir }),
    ...(c.gitUrlTemplate ? { gitUrlTemplate: c.gitUrlTemplate } : {}),
    ...(c.concurrency ? { concurrency: c.concurrency } : {}),
    ...(c.modelUrl
      ? { agent: realAgentRunner({ apiKey: 'sk-ant-bench-scripted-0000000000', baseURL: c.modelUrl }) }
      : {}),
    log,
  });
}

interface Closable {
  url: string;
  close(): Promise<void>;
}

/** The same HTTP wrapper for every variant: the middleware, else 404. */
async function serve(
  middleware: (req: IncomingMessage, res: ServerResponse, next: () => void) => unknown,
  onClose: () => Promise<void> = async () => {},
): Promise<Closable> {
  const server: Server = createServer((req, res) => {
    void middleware(req, res, () => {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('not found\n');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: async () => {
      await new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      });
      await onClose();
    },
  };
}

/** The baseline: Probot's own middleware, same secret, an empty `issues.labeled` handler, same HTTP wrapper. */
async function startBare(c: Extract<Parsed, { kind: 'bare' }>): Promise<{ url: string; close(): Promise<void> }> {
  const probot = new Probot({
    appId: c.appId,
    privateKey: c.privateKey,
    secret: c.webhookSecret,
    log: log.child({ name: 'probot' }),
    // The function form: Probot's own defaults re-enable throttling over an object form.
    Octokit: ProbotOctokit.defaults((o: Record<string, unknown>) => ({ ...o, throttle: { enabled: false } })),
  });
  const middleware = await createNodeMiddleware(
    (app: Probot) => {
      app.on('issues.labeled', async () => {});
    },
    { probot, webhooksPath: WEBHOOK_PATH },
  );
  return serve(middleware);
}

async function main(): Promise<void> {
  const [configPath, readyPath] = process.argv.slice(2);
  if (!configPath || !readyPath) throw new Error('usage: app-process.ts <config.json> <ready.json>');
  const { readFile } = await import('node:fs/promises');
  const config = AppProcessConfigSchema.parse(JSON.parse(await readFile(configPath, 'utf8')));
  const server = config.kind === 'ours' ? await startOurs(config) : await startBare(config);
  let closing = false;
  const shutdown = () => {
    if (closing) return;
    closing = true;
    server.close().then(
      () => process.exit(0),
      (err: unknown) => {
        process.stderr.write(`close failed: ${String(err)}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
  await writeFile(readyPath, JSON.stringify({ pid: process.pid, url: server.url }));
}

main().catch((err: unknown) => {
  process.stderr.write(`bench/lib/app-process: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
