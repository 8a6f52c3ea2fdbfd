// A fault-injecting HTTP proxy in front of the GitHub stand-in (real HTTP on 127.0.0.1): the App talks to GitHub
// through it, and a test decides which requests fail and how. A fault fires either BEFORE the request is forwarded
// (GitHub never saw it: an outage, a rate limit) or AFTER (GitHub did the work and the answer is lost: the ambiguous
// 502 that duplicates a comment when a client repeats the create). Rate limits are GitHub's real shapes: 403 with
// "You have exceeded a secondary rate limit" and `retry-after`, 403 with `x-ratelimit-remaining: 0` and
// `x-ratelimit-reset`, 429 with `retry-after`. Every request is logged with the fault it got, if any.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type FaultKind = '500' | '502' | 'secondary-403' | 'primary-403' | '429';

export interface FaultRule {
  /** Which requests: method (e.g. 'POST') and a path pattern (e.g. /\/issues\/\d+\/comments$/). Both optional. */
  method?: string;
  path?: RegExp;
  /** before: answered by the proxy, GitHub never sees it; after: GitHub handles it, its answer is replaced. */
  when: 'before' | 'after';
  fault: FaultKind;
  /** How many matching requests fail (default: all while the rule is on). */
  times?: number;
  /** Fail a matching request with this probability (seeded, reproducible); default 1. */
  probability?: number;
  /** The `retry-after` (seconds) of a rate-limit answer (default 1). */
  retryAfterSeconds?: number;
}

export interface ProxiedRequest {
  method: string;
  path: string;
  status: number;
  fault?: FaultKind;
  when?: 'before' | 'after';
}

export interface FaultProxy {
  url: string;
  /** Add a rule; returns a function that removes it. */
  add(rule: FaultRule): () => void;
  /** Remove every rule and forget the log. */
  clear(): void;
  readonly log: ProxiedRequest[];
  /** Requests that got a fault. */
  faults(): ProxiedRequest[];
  close(): Promise<void>;
}

/** mulberry32: a small seeded generator, so a "30 % of writes" run is the same run every time. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function faultAnswer(rule: FaultRule): { status: number; headers: Record<string, string>; body: string } {
  const json = { 'content-type': 'application/json; charset=utf-8' };
  const after = String(rule.retryAfterSeconds ?? 1);
  switch (rule.fault) {
    case '500':
      return { status: 500, headers: json, body: JSON.stringify({ message: 'Server Error' }) };
    case '502':
      return { status: 502, headers: { 'content-type': 'text/html' }, body: '<h1>502 Bad Gateway</h1>' };
    case 'secondary-403':
      return {
        status: 403,
        headers: { ...json, 'retry-after': after },
        body: JSON.stringify({
          message:
            'You have exceeded a secondary rate limit. Please wait a few minutes before you try again. If you reach out to GitHub Support for help, please include the request ID.',
          documentation_url:
            'https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits',
        }),
      };
    case 'primary-403':
      return {
        status: 403,
        headers: {
          ...json,
          'x-ratelimit-limit': '5000',
          'x-ratelimit-remaining': '0',
          'x-ratelimit-used': '5000',
          'x-ratelimit-reset': String(Math.ceil(Date.now() / 1000) + Number(after)),
        },
        body: JSON.stringify({ message: 'API rate limit exceeded for installation ID 7.' }),
      };
    case '429':
      return {
        status: 429,
        headers: { ...json, 'retry-after': after },
        body: JSON.stringify({ message: 'Too Many Requests' }),
      };
  }
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

export async function startFaultProxy(target: string, options: { seed?: number } = {}): Promise<FaultProxy> {
  const rules: Array<FaultRule & { fired: number }> = [];
  const log: ProxiedRequest[] = [];
  const random = seeded(options.seed ?? 19);

  function pick(method: string, path: string, when: 'before' | 'after'): FaultRule | undefined {
    for (const rule of rules) {
      if (rule.when !== when) continue;
      if (rule.method && rule.method.toUpperCase() !== method) continue;
      if (rule.path && !rule.path.test(path)) continue;
      if (rule.times !== undefined && rule.fired >= rule.times) continue;
      if (rule.probability !== undefined && random() >= rule.probability) continue;
      rule.fired += 1;
      return rule;
    }
    return undefined;
  }

  function answer(res: ServerResponse, rule: FaultRule): number {
    const a = faultAnswer(rule);
    res.writeHead(a.status, a.headers);
    res.end(a.body);
    return a.status;
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = (req.method ?? 'GET').toUpperCase();
    const url = req.url ?? '/';
    const path = url.split('?')[0] ?? '/';
    const body = await readBody(req);
    const before = pick(method, path, 'before');
    if (before) {
      log.push({ method, path, status: answer(res, before), fault: before.fault, when: 'before' });
      return;
    }
    const headers = new Headers();
    for (const [k, v] of Object.entries(req.headers)) {
      if (v === undefined || k === 'host' || k === 'connection' || k === 'content-length') continue;
      headers.set(k, Array.isArray(v) ? v.join(', ') : v);
    }
    const upstream = await fetch(`${target}${url}`, {
      method,
      headers,
      ...(method === 'GET' || method === 'HEAD' ? {} : { body: new Uint8Array(body) }),
      redirect: 'manual',
    });
    const bytes = Buffer.from(await upstream.arrayBuffer());
    // GitHub did it; the answer is lost on the way back.
    const after = pick(method, path, 'after');
    if (after) {
      log.push({ method, path, status: answer(res, after), fault: after.fault, when: 'after' });
      return;
    }
    const out: Record<string, string> = {};
    upstream.headers.forEach((v, k) => {
      if (k !== 'content-encoding' && k !== 'content-length' && k !== 'transfer-encoding' && k !== 'connection')
        out[k] = v;
    });
    res.writeHead(upstream.status, out);
    res.end(bytes);
    log.push({ method, path, status: upstream.status });
  }

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) res.writeHead(599, { 'content-type': 'text/plain' });
      res.end(`fault proxy: ${err instanceof Error ? err.message : String(err)}`);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    add(rule) {
      const entry = { ...rule, fired: 0 };
      rules.push(entry);
      return () => {
        const i = rules.indexOf(entry);
        if (i >= 0) rules.splice(i, 1);
      };
    },
    clear() {
      rules.splice(0);
      log.splice(0);
    },
    log,
    faults: () => log.filter((l) => l.fault !== undefined),
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
