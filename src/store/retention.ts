// Retention: saved plans hold secrets, so they are deleted after a while (default 30 days,
// INFRA_AGENT_PLAN_RETENTION_DAYS); webhook delivery ids (kept to drop re-deliveries, which GitHub only makes for
// a few days) and finished embedded jobs are trimmed too. Runs and the audit log are kept: they are the history.
import type { Store } from './types.js';

export interface RetentionOptions {
  planRetentionDays?: number;
  deliveryRetentionDays?: number;
  jobRetentionDays?: number;
  /** How often to purge (default hourly). */
  intervalMs?: number;
  onError?: (err: unknown) => void;
}

const DAY = 24 * 3600 * 1000;

export function planRetentionDays(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env['INFRA_AGENT_PLAN_RETENTION_DAYS'];
  if (raw === undefined || raw === '') return 30;
  const days = Number(raw);
  if (!Number.isFinite(days) || days <= 0) {
    throw new Error(`INFRA_AGENT_PLAN_RETENTION_DAYS must be a positive number of days, got "${raw}"`);
  }
  return days;
}

/** Purge once now. */
export async function purgeExpired(store: Store, options: RetentionOptions = {}, now = new Date()) {
  const ago = (days: number) => new Date(now.getTime() - days * DAY);
  const plans = await store.purgePlans(ago(options.planRetentionDays ?? planRetentionDays()));
  const history = await store.purgeHistory({
    deliveries: ago(options.deliveryRetentionDays ?? 14),
    jobs: ago(options.jobRetentionDays ?? 14),
  });
  return { plans, ...history };
}

/** Purge now and then periodically; returns the function that stops it. */
export function startRetention(store: Store, options: RetentionOptions = {}): () => void {
  const tick = () => {
    purgeExpired(store, options).catch((err: unknown) => options.onError?.(err));
  };
  tick();
  const timer = setInterval(tick, options.intervalMs ?? 3600 * 1000);
  timer.unref();
  return () => clearInterval(timer);
}
