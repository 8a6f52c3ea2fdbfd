// The App's webhook as GitHub runs it: the stand-in POSTs a signed delivery to the App's URL and records the attempt
// (status code, duration, guid), and `POST /app/hook/deliveries/{id}/attempts` sends the same bytes again under the
// same guid. `GET /app/hook/deliveries` (routes.ts) lists these records, so an App's redelivery sweep is tested
// against deliveries that really failed (a 500, a refused connection), not against a list a test wrote by hand.
import { signWebhook } from '../webhooks.js';
import type { HookDeliveryRecord, StandinState } from './state.js';

const now = () => new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');

function numberAt(value: unknown, key: string): number | null {
  if (typeof value !== 'object' || value === null || !(key in value)) return null;
  const inner = (value as Record<string, unknown>)[key];
  if (typeof inner !== 'object' || inner === null || !('id' in inner)) return null;
  return typeof inner.id === 'number' ? inner.id : null;
}

/** POST one delivery (or a redelivery of `rawBody` under `guid`) to the App's hook and record the attempt. */
export async function deliverToHook(
  state: StandinState,
  nextId: () => number,
  delivery: { event: string; rawBody: string; guid: string; redelivery: boolean; appId: number },
): Promise<HookDeliveryRecord> {
  const hook = state.hook;
  if (!hook) throw new Error('the App has no webhook URL: call setWebhook first');
  let parsed: unknown;
  try {
    parsed = JSON.parse(delivery.rawBody);
  } catch {
    parsed = {};
  }
  const action =
    typeof parsed === 'object' && parsed !== null && 'action' in parsed && typeof parsed.action === 'string'
      ? parsed.action
      : null;
  const started = performance.now();
  let statusCode: number;
  let status: string;
  try {
    const res = await fetch(hook.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'user-agent': 'GitHub-Hookshot/standin',
        'x-github-event': delivery.event,
        'x-github-delivery': delivery.guid,
        'x-github-hook-id': '1',
        'x-github-hook-installation-target-type': 'integration',
        'x-github-hook-installation-target-id': String(delivery.appId),
        'x-hub-signature-256': signWebhook(hook.secret, delivery.rawBody),
      },
      body: delivery.rawBody,
      signal: AbortSignal.timeout(10_000),
    });
    await res.arrayBuffer();
    statusCode = res.status;
    status = res.status >= 200 && res.status < 300 ? 'OK' : `Invalid HTTP Response: ${res.status}`;
  } catch {
    // GitHub records a connection it could not make (or a timeout after 10 s) like this.
    statusCode = 502;
    status = 'failed to connect';
  }
  const record: HookDeliveryRecord = {
    id: nextId(),
    guid: delivery.guid,
    deliveredAt: now(),
    redelivery: delivery.redelivery,
    duration: Math.round(performance.now() - started) / 1000,
    status,
    statusCode,
    event: delivery.event,
    action,
    installationId: numberAt(parsed, 'installation'),
    repositoryId: numberAt(parsed, 'repository'),
    rawBody: delivery.rawBody,
  };
  state.hookDeliveries.push(record);
  return record;
}
