// Webhook deliveries as GitHub makes them, for the offline demo and the end-to-end tests: payloads that start from
// the recorded examples in @octokit/webhooks-examples (so every field a real delivery has is there) with the
// repository, issue, PR, comment, review, sender and installation replaced by the test's own, signed with
// HMAC-SHA256 and POSTed with GitHub's headers. Every delivery is kept so a test can re-deliver it byte for byte.
import { createHmac, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { z } from 'zod';
import { isJsonObject, type Json, type JsonObject, toJsonObject } from './json.js';

/** `sha256=<hex>`: the X-Hub-Signature-256 header GitHub sends for `body` under `secret`. */
export function signWebhook(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body, 'utf8').digest('hex')}`;
}

export interface WebhookDelivery {
  event: string;
  deliveryId: string;
  /** The exact bytes sent (re-delivery sends these again). */
  rawBody: string;
  headers: Record<string, string>;
}

export interface WebhookResult {
  status: number;
  /** The App's response body, as text. */
  body: string;
  /** Milliseconds from sending to the App's response (GitHub gives up after 10 s). */
  ackMs: number;
  delivery: WebhookDelivery;
}

export interface SendWebhookOptions {
  event: string;
  payload: JsonObject;
  secret: string;
  deliveryId?: string;
  /** Send this signature instead of the right one (to test that a forged delivery is refused). */
  signature?: string;
  /** The App id GitHub names in X-GitHub-Hook-Installation-Target-ID. */
  appId?: number;
}

/** POST one delivery to the App's webhook URL (e.g. `http://127.0.0.1:3000/api/github/webhooks`). */
export async function sendWebhook(url: string, options: SendWebhookOptions): Promise<WebhookResult> {
  const rawBody = JSON.stringify(options.payload);
  const deliveryId = options.deliveryId ?? randomUUID();
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'user-agent': 'GitHub-Hookshot/standin',
    'x-github-event': options.event,
    'x-github-delivery': deliveryId,
    'x-github-hook-id': '1',
    'x-github-hook-installation-target-type': 'integration',
    'x-github-hook-installation-target-id': String(options.appId ?? 1001),
    'x-hub-signature-256': options.signature ?? signWebhook(options.secret, rawBody),
  };
  return deliver(url, { event: options.event, deliveryId, rawBody, headers });
}

/** Send a recorded delivery again, unchanged (same delivery id, body and signature), as GitHub's "Redeliver" does. */
export async function deliver(url: string, delivery: WebhookDelivery): Promise<WebhookResult> {
  const started = performance.now();
  const res = await fetch(url, { method: 'POST', headers: delivery.headers, body: delivery.rawBody });
  const body = await res.text();
  return { status: res.status, body, ackMs: Math.round(performance.now() - started), delivery };
}

export interface WebhookSender {
  send(
    event: string,
    payload: JsonObject,
    options?: { deliveryId?: string; signature?: string },
  ): Promise<WebhookResult>;
  /** Every delivery sent so far, in order. */
  readonly deliveries: WebhookDelivery[];
  /** Re-deliver everything sent so far, in order; returns each result. */
  redeliverAll(): Promise<WebhookResult[]>;
}

/** A sender bound to one App URL and secret that remembers its deliveries. */
export function createWebhookSender(url: string, secret: string, appId?: number): WebhookSender {
  const deliveries: WebhookDelivery[] = [];
  return {
    deliveries,
    async send(event, payload, options = {}) {
      const result = await sendWebhook(url, {
        event,
        payload,
        secret,
        ...(appId === undefined ? {} : { appId }),
        ...(options.deliveryId === undefined ? {} : { deliveryId: options.deliveryId }),
        ...(options.signature === undefined ? {} : { signature: options.signature }),
      });
      // A forged delivery is not something GitHub would ever redeliver.
      if (options.signature === undefined) deliveries.push(result.delivery);
      return result;
    },
    async redeliverAll() {
      const out: WebhookResult[] = [];
      for (const d of [...deliveries]) out.push(await deliver(url, d));
      return out;
    },
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Payloads

const Definition = z.object({ name: z.string(), examples: z.array(z.unknown()) });
let examples: Map<string, JsonObject[]> | undefined;

function loadExamples(): Map<string, JsonObject[]> {
  if (examples) return examples;
  const require = createRequire(import.meta.url);
  const file = require.resolve('@octokit/webhooks-examples/api.github.com/index.json');
  const defs = z.array(Definition).parse(JSON.parse(readFileSync(file, 'utf8')));
  examples = new Map();
  for (const d of defs) {
    const list = d.examples.map((e) => toJsonObject(e, `${d.name} example`));
    examples.set(d.name, list);
  }
  return examples;
}

/** A deep copy of the recorded example for an event and action (preferring one with an installation). */
export function exampleWebhook(event: string, action: string): JsonObject {
  const list = (loadExamples().get(event) ?? []).filter((e) => e['action'] === action);
  const chosen = list.find((e) => 'installation' in e) ?? list[0];
  if (!chosen) throw new Error(`@octokit/webhooks-examples has no ${event}.${action} example`);
  return toJsonObject(structuredClone(chosen), 'example');
}

/** The fields every App webhook carries. Objects come from the stand-in (`standin.json.*`) or are partial. */
export interface PayloadContext {
  repository: JsonObject;
  sender: JsonObject;
  installationId: number;
}

function merged(example: Json | undefined, ours: JsonObject): JsonObject {
  return { ...(isJsonObject(example) ? example : {}), ...ours };
}

function base(event: string, action: string, c: PayloadContext): JsonObject {
  const ex = exampleWebhook(event, action);
  return {
    ...ex,
    action,
    repository: merged(ex['repository'], c.repository),
    sender: merged(ex['sender'], c.sender),
    installation: { id: c.installationId, node_id: Buffer.from(`Installation${c.installationId}`).toString('base64') },
  };
}

/** A label object for a name, when the test has no stand-in label to pass. */
export function labelJson(name: string, id = 1): JsonObject {
  const url = `https://api.github.com/repos/acme/infra/labels/${encodeURIComponent(name)}`;
  return { id, node_id: `LA_${id}`, url, name, color: 'ededed', default: false, description: null };
}

export function issuesOpenedPayload(c: PayloadContext & { issue: JsonObject }): JsonObject {
  const ex = exampleWebhook('issues', 'opened');
  return { ...base('issues', 'opened', c), issue: merged(ex['issue'], c.issue) };
}

export function issuesLabeledPayload(
  c: PayloadContext & { issue: JsonObject; label: JsonObject | string },
): JsonObject {
  const ex = exampleWebhook('issues', 'labeled');
  const label = typeof c.label === 'string' ? labelJson(c.label) : c.label;
  return { ...base('issues', 'labeled', c), issue: merged(ex['issue'], c.issue), label: merged(ex['label'], label) };
}

export function issueCommentCreatedPayload(c: PayloadContext & { issue: JsonObject; comment: JsonObject }): JsonObject {
  const ex = exampleWebhook('issue_comment', 'created');
  return {
    ...base('issue_comment', 'created', c),
    issue: merged(ex['issue'], c.issue),
    comment: merged(ex['comment'], c.comment),
  };
}

export function pullRequestSynchronizePayload(
  c: PayloadContext & { pullRequest: JsonObject; before: string; after: string },
): JsonObject {
  const ex = exampleWebhook('pull_request', 'synchronize');
  return {
    ...base('pull_request', 'synchronize', c),
    number: numberOf(c.pullRequest),
    pull_request: merged(ex['pull_request'], c.pullRequest),
    before: c.before,
    after: c.after,
  };
}

export function pullRequestClosedPayload(c: PayloadContext & { pullRequest: JsonObject }): JsonObject {
  const ex = exampleWebhook('pull_request', 'closed');
  return {
    ...base('pull_request', 'closed', c),
    number: numberOf(c.pullRequest),
    pull_request: merged(ex['pull_request'], c.pullRequest),
  };
}

export function pullRequestOpenedPayload(c: PayloadContext & { pullRequest: JsonObject }): JsonObject {
  const ex = exampleWebhook('pull_request', 'opened');
  return {
    ...base('pull_request', 'opened', c),
    number: numberOf(c.pullRequest),
    pull_request: merged(ex['pull_request'], c.pullRequest),
  };
}

export function pullRequestReviewSubmittedPayload(
  c: PayloadContext & { pullRequest: JsonObject; review: JsonObject },
): JsonObject {
  const ex = exampleWebhook('pull_request_review', 'submitted');
  return {
    ...base('pull_request_review', 'submitted', c),
    pull_request: merged(ex['pull_request'], c.pullRequest),
    review: merged(ex['review'], c.review),
  };
}

function numberOf(pr: JsonObject): number {
  const n = pr['number'];
  if (typeof n !== 'number') throw new Error('pull request object has no number');
  return n;
}
