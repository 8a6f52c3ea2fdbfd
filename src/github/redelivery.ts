// The redelivery sweep: after an outage of the App itself (down, or answering 5xx), GitHub does not redeliver on its
// own; its "list deliveries for an app webhook" API shows what failed. The sweep (worker start, then periodically)
// reads the recent deliveries, and for each delivery id (guid) none of whose attempts succeeded asks GitHub to
// deliver it again. Bounded: a look-back window, a page limit and a cap per sweep, at most a few requests per guid.
// Idempotent: one request per (guid, number of failed attempts) across all processes (an insert-if-absent key), and
// the App's own dedupe makes a redelivery that arrives twice run once.
import { z } from 'zod';
import type { GitHubClient } from '../core/github.js';
import type { Store } from '../store/types.js';

export interface RedeliveryOptions {
  /** Deliveries older than this are left alone (default 3 hours; GitHub keeps them 3 days). */
  lookbackMs?: number;
  /** Pages of 100 read per sweep at most (default 10). */
  maxPages?: number;
  /** Redeliveries requested per sweep at most (default 50). */
  maxRequests?: number;
  /** Failed attempts of one guid after which the sweep gives up on it (default 4). */
  maxAttemptsPerDelivery?: number;
  now?: Date;
}

const DeliveryItem = z.object({
  id: z.number().int(),
  guid: z.string().min(1),
  delivered_at: z.string(),
  status_code: z.number().int(),
  event: z.string(),
  action: z.string().nullable().optional(),
});

export interface RedeliveryResult {
  /** Guids the sweep asked GitHub to deliver again. */
  requested: string[];
  /** Deliveries read. */
  scanned: number;
}

/** One sweep; `app` is the App's own (JWT) client. */
export async function redeliverFailedDeliveries(
  app: GitHubClient,
  store: Store,
  options: RedeliveryOptions = {},
): Promise<RedeliveryResult> {
  const now = (options.now ?? new Date()).getTime();
  const since = now - (options.lookbackMs ?? 3 * 3600_000);
  const maxPages = options.maxPages ?? 10;
  const maxRequests = options.maxRequests ?? 50;
  const maxAttempts = options.maxAttemptsPerDelivery ?? 4;

  // Newest first: stop at the window's edge or the page limit.
  const attempts = new Map<string, Array<z.infer<typeof DeliveryItem>>>();
  let scanned = 0;
  let pages = 0;
  for await (const page of app.paginate.iterator(app.rest.apps.listWebhookDeliveries, { per_page: 100 })) {
    pages += 1;
    let old = false;
    for (const raw of page.data) {
      const d = DeliveryItem.safeParse(raw);
      if (!d.success) continue;
      if (Date.parse(d.data.delivered_at) < since) {
        old = true;
        continue;
      }
      scanned += 1;
      const list = attempts.get(d.data.guid) ?? [];
      list.push(d.data);
      attempts.set(d.data.guid, list);
    }
    if (old || pages >= maxPages) break;
  }

  const requested: string[] = [];
  for (const [guid, list] of attempts) {
    if (requested.length >= maxRequests) break;
    if (list.some((a) => a.status_code >= 200 && a.status_code < 300)) continue;
    if (list.length >= maxAttempts) continue;
    // One request per (guid, failures seen): a second sweep (or process) seeing the same failures does nothing; a
    // failed redelivery adds an attempt, and the next sweep may ask once more.
    const claim = await store.putKeyIfAbsent(`redelivery:${guid}:${list.length}`, new Date(now).toISOString());
    if (!claim.inserted) continue;
    const latest = list.reduce((a, b) => (b.id > a.id ? b : a));
    await app.rest.apps.redeliverWebhookDelivery({ delivery_id: latest.id });
    requested.push(guid);
  }
  return { requested, scanned };
}
