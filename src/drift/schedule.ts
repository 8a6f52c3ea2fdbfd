// When a project's drift check is due. A schedule is a cron expression (UTC, via cron-parser); the slot a check is
// for is the latest occurrence at or before now, shifted by a per-project jitter (a stable hash of repo + project,
// at most a tenth of the schedule's spacing and `maxJitterMs`), so a fleet of projects on `0 * * * *` does not plan
// at the same second. A slot is claimed once in the store (insert-if-absent), so several schedulers on one database
// enqueue it once, and a slot that passed while no App was running is found — once — when one comes back.
import { createHash } from 'node:crypto';
import { CronExpressionParser } from 'cron-parser';
import type { RepoConfig } from '../config/schema.js';

/** The project's effective schedule (its own override first), or 'off'. */
export function scheduleFor(config: RepoConfig, projectName: string | undefined): string {
  const own = projectName ? config.projects.find((p) => (p.name ?? p.dir) === projectName) : undefined;
  return own?.drift?.schedule ?? config.drift.schedule;
}

/** A stable offset in [0, max) for one repo + project. */
export function jitterMs(key: string, max: number): number {
  if (max <= 0) return 0;
  const h = createHash('sha256').update(key).digest();
  return h.readUInt32BE(0) % Math.floor(max);
}

/**
 * The slot due at `now` for a schedule: its latest occurrence at or before `now - jitter`. The jitter is bounded by
 * a tenth of the spacing between occurrences around now and by maxJitterMs.
 */
export function dueSlot(schedule: string, now: Date, key: string, maxJitterMs: number): Date {
  const around = CronExpressionParser.parse(schedule, { currentDate: now, tz: 'UTC' });
  const prev = around.prev().toDate();
  const next = CronExpressionParser.parse(schedule, { currentDate: prev, tz: 'UTC' }).next().toDate();
  const spacing = Math.max(0, next.getTime() - prev.getTime());
  const j = jitterMs(key, Math.min(maxJitterMs, spacing / 10));
  const shifted = new Date(now.getTime() - j);
  return CronExpressionParser.parse(schedule, { currentDate: shifted, tz: 'UTC' }).prev().toDate();
}

/** The store key that claims one slot of one project. */
export function slotKey(repo: string, project: string, slot: Date): string {
  return `drift-slot:${repo}:${project}:${slot.toISOString()}`;
}
