// Child-process entry: a GitHub API that answers in microseconds by replaying responses recorded from the GitHub
// stand-in (so every shape is one the OpenAPI-checked stand-in produced). The ingestion benchmark points our App at
// it so the figure measures the App's web path, not the stand-in's own cost (it validates every request against the
// 13 MB description and runs git for contents reads). Counts requests per route; GET /__bench/stats returns them.
// Usage: `node --import tsx bench/lib/replay-github.ts <config.json> <ready.json>`.
import { readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { z } from 'zod';

export const RecordedRouteSchema = z.object({
  name: z.string(),
  method: z.string(),
  /** Regular expression over the request path (no query). */
  path: z.string(),
  status: z.number().int(),
  body: z.string(),
});
export type RecordedRoute = z.infer<typeof RecordedRouteSchema>;
export const ReplayConfigSchema = z.object({ routes: z.array(RecordedRouteSchema) });
export type ReplayConfig = z.infer<typeof ReplayConfigSchema>;

async function main(): Promise<void> {
  const [configPath, readyPath] = process.argv.slice(2);
  if (!configPath || !readyPath) throw new Error('usage: replay-github.ts <config.json> <ready.json>');
  const config = ReplayConfigSchema.parse(JSON.parse(await readFile(configPath, 'utf8')));
  const routes = config.routes.map((r) => ({ ...r, re: new RegExp(r.path) }));
  const counts: Record<string, number> = {};
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    if (req.method === 'GET' && path === '/__bench/stats') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(counts));
      return;
    }
    // Drain the body: a client that sent one expects it read before the answer.
    req.resume();
    req.on('end', () => {
      const route = routes.find((r) => r.method === req.method && r.re.test(path));
      const name = route?.name ?? `unexpected ${req.method} ${path}`;
      counts[name] = (counts[name] ?? 0) + 1;
      const status = route?.status ?? 404;
      const body =
        route?.body ?? JSON.stringify({ message: 'Not Found', documentation_url: 'https://docs.github.com' });
      res.writeHead(status, {
        'content-type': 'application/json; charset=utf-8',
        'content-length': Buffer.byteLength(body),
        'x-ratelimit-limit': '5000',
        'x-ratelimit-remaining': '4999',
        'x-ratelimit-reset': String(Math.floor(Date.now() / 1000) + 3600),
      });
      res.end(body);
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const stop = () => {
    server.closeAllConnections();
    server.close(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  await writeFile(readyPath, JSON.stringify({ pid: process.pid, url: `http://127.0.0.1:${port}` }));
}

main().catch((err: unknown) => {
  process.stderr.write(`bench/lib/replay-github: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
