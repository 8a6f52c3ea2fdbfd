// Through the App's own HTTP server (Probot's signature check, the handlers, the batched delivery writer), the web
// role as it runs in production (`--role web`, nothing consuming the queue) on PostgreSQL + pg-boss and on the
// embedded store: every delivery that gets a 2xx is already in the store with its job when the answer arrives — read
// from a connection of its own — also when many arrive at once; and a store that fails before the ack answers 5xx,
// keeps nothing, and takes GitHub's redelivery of the same bytes exactly once.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { generateAppKeyPair } from '../../devtools/github-standin/index.js';
import { deliver, issuesLabeledPayload, sendWebhook } from '../../devtools/webhooks.js';
import { createLogger } from '../../src/observability/logger.js';
import { createRuntime, type Runtime } from '../../src/queue/runtime.js';
import { type AppServer, startAppServer, WEBHOOK_PATH } from '../../src/server/server.js';
import { createStore } from '../../src/store/create-store.js';
import type { SqlExecutor } from '../../src/store/sql.js';
import { storeFaults } from '../helpers/faulty-store.js';
import { postgresMissing, requirePostgres, startPostgres, type TestPostgres } from '../helpers/postgres.js';
import { embeddedWebRuntime } from '../helpers/web-runtime.js';

const SECRET = 'ingest-durable-secret';
const Count = z.object({ n: z.coerce.number() });

let github: Server;
let githubUrl = '';
let postgres: TestPostgres | undefined;
let dbCount = 0;
beforeAll(async () => {
  // GitHub answers 404 to everything: the App's identity is unknown at start, which the web path does not need.
  github = createServer((_req, res) => {
    res.writeHead(404, { 'content-type': 'application/json' });
    res.end('{"message":"Not Found"}');
  });
  await new Promise<void>((resolve) => github.listen(0, '127.0.0.1', resolve));
  githubUrl = `http://127.0.0.1:${(github.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise<void>((resolve) => github.close(() => resolve()));
  await postgres?.stop();
});

interface World {
  server: AppServer;
  faults: ReturnType<typeof storeFaults>;
  /** Another connection (PostgreSQL: its own client, so only committed rows count). */
  read: SqlExecutor;
  /** Jobs of a delivery: the embedded queue's table, or pg-boss's. */
  jobsSql: string;
  close(): Promise<void>;
}

async function start(kind: 'embedded' | 'postgres'): Promise<World> {
  const faults = storeFaults();
  let runtime: Runtime;
  let read: SqlExecutor;
  let closeReader = async () => {};
  if (kind === 'postgres') {
    postgres ??= await startPostgres();
    const databaseUrl = await postgres.createDatabase(`ingest_${++dbCount}`);
    runtime = await createRuntime({ role: 'web', databaseUrl, wrapDriver: faults.wrap });
    const pool = new pg.Pool({ connectionString: databaseUrl, max: 2 });
    read = { query: async (sql, params) => (await pool.query(sql, params ? [...params] : [])).rows };
    closeReader = () => pool.end();
  } else {
    // The embedded store runs web and worker in one process; the worker is left off here so jobs stay queued.
    const store = await createStore({ dataDir: 'memory://', wrapDriver: faults.wrap });
    runtime = await embeddedWebRuntime(store);
    read = store.sql;
  }
  const { privateKey } = generateAppKeyPair();
  const server = await startAppServer({
    appId: '1001',
    privateKey,
    webhookSecret: SECRET,
    githubApiUrl: githubUrl,
    githubThrottle: false,
    githubFaults: { serverErrorRetries: 0 },
    role: 'web',
    port: 0,
    host: '127.0.0.1',
    runtime,
    log: createLogger({ level: 'silent' }),
  });
  return {
    server,
    faults,
    read,
    jobsSql:
      kind === 'postgres'
        ? `SELECT count(*) AS n FROM pgboss.job WHERE data->'payload'->>'deliveryId' = $1`
        : `SELECT count(*) AS n FROM jobs WHERE payload->>'deliveryId' = $1`,
    async close() {
      await server.close();
      await closeReader();
    },
  };
}

function labeled(issue: number) {
  return issuesLabeledPayload({
    repository: {
      id: 1,
      name: 'infra',
      full_name: 'acme/infra',
      owner: { login: 'acme', id: 2, type: 'Organization' },
    },
    sender: { login: 'mona', id: 3, type: 'User' },
    installationId: 7,
    issue: { number: issue, title: `request ${issue}`, body: 'a bucket please', labels: [] },
    label: 'infra-request',
  });
}

async function stored(w: World, deliveryId: string): Promise<{ delivery: number; jobs: number }> {
  const delivery = Count.parse(
    (await w.read.query('SELECT count(*) AS n FROM webhook_deliveries WHERE id = $1', [deliveryId]))[0],
  ).n;
  const jobs = Count.parse((await w.read.query(w.jobsSql, [deliveryId]))[0]).n;
  return { delivery, jobs };
}

const kinds: ('embedded' | 'postgres')[] = ['embedded'];
if (!postgresMissing()) kinds.push('postgres');
else requirePostgres('webhook ingestion on PostgreSQL');

describe.each(kinds)('webhook ingestion through the App server (%s)', (kind) => {
  let w: World;
  beforeAll(async () => {
    w = await start(kind);
  }, 120_000);
  afterAll(async () => {
    await w?.close();
  });
  const url = () => `${w.server.url}${WEBHOOK_PATH}`;

  it('every acknowledged delivery is in the store with its job when the answer arrives, 40 at once', {
    timeout: 120_000,
  }, async () => {
    const seen = await Promise.all(
      Array.from({ length: 40 }, async (_, i) => {
        const res = await sendWebhook(url(), { event: 'issues', payload: labeled(100 + i), secret: SECRET });
        expect(res.status).toBeLessThan(300);
        return stored(w, res.delivery.deliveryId);
      }),
    );
    expect(seen).toEqual(seen.map(() => ({ delivery: 1, jobs: 1 })));
  });

  it('a store failure before the ack answers 5xx and keeps nothing; the redelivery is taken once', {
    timeout: 120_000,
  }, async () => {
    w.faults.add({ sql: /INSERT INTO (pgboss\.job|jobs)/, times: 1 });
    const first = await sendWebhook(url(), { event: 'issues', payload: labeled(500), secret: SECRET });
    expect(first.status).toBeGreaterThanOrEqual(500);
    // GitHub shows the answer in the delivery log: the store's own error is not in it.
    expect(first.body).toContain(first.delivery.deliveryId);
    expect(first.body).not.toMatch(/injected store fault|INSERT|webhook_deliveries/);
    expect(w.faults.failed).toHaveLength(1);
    expect(await stored(w, first.delivery.deliveryId)).toEqual({ delivery: 0, jobs: 0 });
    // GitHub redelivers the same bytes: accepted, stored once; a second redelivery is a duplicate.
    expect((await deliver(url(), first.delivery)).status).toBeLessThan(300);
    expect(await stored(w, first.delivery.deliveryId)).toEqual({ delivery: 1, jobs: 1 });
    expect((await deliver(url(), first.delivery)).status).toBeLessThan(300);
    expect(await stored(w, first.delivery.deliveryId)).toEqual({ delivery: 1, jobs: 1 });
  });

  it('a write that stalls past 9 s and then fails gets a 5xx, never an early "202 still processing"', {
    timeout: 120_000,
  }, async () => {
    // Probot's middleware answered 202 after 9 s whatever the handler was still doing: GitHub counted the delivery
    // as delivered, the write then failed, and nothing (GitHub, the redelivery sweep) would ever send it again.
    w.faults.add({ sql: /INSERT INTO webhook_deliveries/, times: 1, delayMs: 9_500 });
    const res = await sendWebhook(url(), { event: 'issues', payload: labeled(600), secret: SECRET });
    expect(res.status).toBeGreaterThanOrEqual(500);
    expect(res.ackMs).toBeGreaterThanOrEqual(9_500);
    expect(await stored(w, res.delivery.deliveryId)).toEqual({ delivery: 0, jobs: 0 });
    expect((await deliver(url(), res.delivery)).status).toBeLessThan(300);
    expect(await stored(w, res.delivery.deliveryId)).toEqual({ delivery: 1, jobs: 1 });
  });

  it('refuses what is not a GitHub delivery before any write: forged, oversized, wrong type, headers missing', {
    timeout: 120_000,
  }, async () => {
    const good = await sendWebhook(url(), { event: 'issues', payload: labeled(700), secret: SECRET });
    expect(good.status).toBe(200);
    const { headers, rawBody } = good.delivery;
    const post = (h: Record<string, string>, body: string) => fetch(url(), { method: 'POST', headers: h, body });
    const fresh = () => ({ ...headers, 'x-github-delivery': `refused-${Math.random()}` });
    const cases: [string, Promise<Response>, number][] = [
      ['forged signature', post({ ...fresh(), 'x-hub-signature-256': `sha256=${'0'.repeat(64)}` }, rawBody), 400],
      ['signature of another body', post(fresh(), rawBody.replace('request 700', 'request 701')), 400],
      [
        'no signature',
        post(Object.fromEntries(Object.entries(fresh()).filter(([k]) => k !== 'x-hub-signature-256')), rawBody),
        400,
      ],
      ['form-encoded', post({ ...fresh(), 'content-type': 'application/x-www-form-urlencoded' }, rawBody), 415],
      ['over 25 MB', post(fresh(), ' '.repeat(25 * 1024 * 1024 + 1)), 413],
    ];
    for (const [what, pending, status] of cases) expect([what, (await pending).status]).toEqual([what, status]);
    const n = Count.parse(
      (await w.read.query(`SELECT count(*) AS n FROM webhook_deliveries WHERE id LIKE 'refused-%'`))[0],
    ).n;
    expect(n).toBe(0);
    // A signed event nobody handles (GitHub's ping on App creation) is verified and answered 200, nothing stored.
    const ping = await sendWebhook(url(), {
      event: 'ping',
      payload: { zen: 'Keep it logically awesome.' },
      secret: SECRET,
    });
    expect(ping.status).toBe(200);
    expect(await stored(w, ping.delivery.deliveryId)).toEqual({ delivery: 0, jobs: 0 });
    expect((await fetch(url())).status).toBe(404);
  });
});
