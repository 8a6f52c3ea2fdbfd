// The webhook endpoint of the web role: read the body (refused over GitHub's 25 MB cap), verify its HMAC-SHA256
// signature and dispatch it to the intake handlers with @octokit/webhooks (the library Probot's middleware wraps), and
// answer only when the handlers are done: 200 after the durable write, 400 on a bad signature, body or missing
// header, 500 when the write failed (GitHub redelivers, and the redelivery sweep asks for what it did not).
// Two departures from Probot's middleware, both measured (bench/ingest.ts): no installation client is built per
// delivery and handler (the handlers ask GitHub nothing; Probot made two per delivery here), and there is no
// "202 still processing" answer after 9 s — an ack must never come before the write it promises.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Webhooks } from '@octokit/webhooks';
import type { Logger } from 'pino';
import type { AppDeps } from '../github/deps.js';
import { INTAKE_ROUTES } from '../intake/app.js';
import { metrics } from '../observability/metrics.js';

/** GitHub caps webhook payloads at 25 MB; anything larger is not GitHub. */
export const MAX_WEBHOOK_BYTES = 25 * 1024 * 1024;

const JSON_TYPE = /^\s*application\/json\s*(?:;|$)/i;

export type WebhookReceiver = (req: IncomingMessage, res: ServerResponse) => void;

function answer(res: ServerResponse, status: number, body: string): void {
  if (res.headersSent) return;
  const json = status >= 300;
  const text = json ? JSON.stringify({ error: body }) : body;
  res.writeHead(status, {
    'content-type': json ? 'application/json' : 'text/plain',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

/** The body as text, or undefined (and the request answered) when it is over the cap or the stream fails. */
function readBody(req: IncomingMessage, res: ServerResponse): Promise<string | undefined> {
  return new Promise((resolve) => {
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > MAX_WEBHOOK_BYTES) {
      answer(res, 413, `payload over ${MAX_WEBHOOK_BYTES} bytes`);
      req.resume();
      resolve(undefined);
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    req.on('data', (chunk: Buffer) => {
      if (done) return;
      size += chunk.length;
      if (size > MAX_WEBHOOK_BYTES) {
        done = true;
        answer(res, 413, `payload over ${MAX_WEBHOOK_BYTES} bytes`);
        resolve(undefined);
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (done) return;
      done = true;
      resolve(Buffer.concat(chunks, size).toString('utf8'));
    });
    req.on('error', () => {
      if (done) return;
      done = true;
      resolve(undefined);
    });
  });
}

/** The status an error from verifyAndReceive maps to: the library's own (400: signature, JSON), else 500. */
function statusOf(err: unknown): number {
  const inner = err instanceof AggregateError ? err.errors[0] : err;
  const status = typeof inner === 'object' && inner !== null && 'status' in inner ? inner.status : undefined;
  return typeof status === 'number' && status >= 400 && status < 600 ? status : 500;
}

function messageOf(err: unknown): string {
  const inner = err instanceof AggregateError ? err.errors[0] : err;
  return inner instanceof Error ? inner.message : String(inner);
}

export function createWebhookReceiver(opts: { secret: string; deps: AppDeps; log: Logger }): WebhookReceiver {
  const webhooks = new Webhooks({ secret: opts.secret });
  webhooks.onAny((event) => metrics.recordWebhook(event.name));
  for (const [events, handler] of INTAKE_ROUTES) {
    webhooks.on(events, (event) =>
      handler({ id: event.id, name: event.name, payload: event.payload, log: opts.log }, opts.deps),
    );
  }

  return (req, res) => {
    if (req.method !== 'POST') {
      answer(res, 404, `unknown route: ${req.method ?? '?'} ${req.url ?? ''}`);
      req.resume();
      return;
    }
    if (!JSON_TYPE.test(req.headers['content-type'] ?? '')) {
      answer(res, 415, 'the webhook content type must be application/json (the App setting "Content type")');
      req.resume();
      return;
    }
    const name = req.headers['x-github-event'];
    const id = req.headers['x-github-delivery'];
    const signature = req.headers['x-hub-signature-256'];
    if (typeof name !== 'string' || typeof id !== 'string' || typeof signature !== 'string') {
      answer(res, 400, 'required headers missing: x-github-event, x-github-delivery, x-hub-signature-256');
      req.resume();
      return;
    }
    void readBody(req, res).then(async (payload) => {
      if (payload === undefined) return;
      try {
        // The event name is GitHub's (checked by the signature); an event nobody handles is verified and dropped.
        await webhooks.verifyAndReceive({ id, name, payload, signature });
        answer(res, 200, 'ok\n');
      } catch (err) {
        const status = statusOf(err);
        if (status >= 500) {
          // The store's error stays in our log: GitHub shows a delivery's response body to whoever reads its log.
          opts.log.error({ delivery: id, event: name, err: messageOf(err) }, 'webhook not accepted');
          answer(res, status, `delivery ${id} was not stored; it will be redelivered`);
        } else {
          opts.log.warn({ delivery: id, event: name, err: messageOf(err) }, 'webhook refused');
          answer(res, status, messageOf(err));
        }
      }
    });
  };
}
