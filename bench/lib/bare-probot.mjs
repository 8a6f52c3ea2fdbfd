// The start-up baseline for bench/start.ts: a bare Probot app (one empty handler) behind a plain HTTP server, in
// plain JavaScript so that, like `node dist/cli.js serve`, nothing is compiled at start. Reads APP_ID,
// PRIVATE_KEY_PATH, WEBHOOK_SECRET and PORT; answers GET /healthz with 200 once it listens (the same probe the
// bench sends to our server), everything else goes to Probot's middleware.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { createNodeMiddleware, Probot } from 'probot';

const probot = new Probot({
  appId: process.env.APP_ID,
  privateKey: readFileSync(process.env.PRIVATE_KEY_PATH ?? '', 'utf8'),
  secret: process.env.WEBHOOK_SECRET,
});
const middleware = await createNodeMiddleware(
  (app) => {
    app.on('issues.labeled', async () => {});
  },
  { probot, webhooksPath: '/api/github/webhooks' },
);
const server = createServer((req, res) => {
  if (req.method === 'GET' && req.url === '/healthz') {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{"ok":true}');
    return;
  }
  void middleware(req, res, () => {
    res.writeHead(404);
    res.end();
  });
});
server.listen(Number(process.env.PORT), '127.0.0.1');
process.once('SIGTERM', () => server.close(() => process.exit(0)));
