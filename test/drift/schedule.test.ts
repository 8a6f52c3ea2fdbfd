// Schedules: which slot is due, the per-project jitter, project overrides, and the config's cron validation.
import { describe, expect, it } from 'vitest';
import { RepoConfigSchema } from '../../src/config/schema.js';
import { dueSlot, jitterMs, scheduleFor, slotKey } from '../../src/drift/schedule.js';

describe('dueSlot', () => {
  it('is the latest occurrence at or before now', () => {
    const now = new Date('2026-12-01T10:35:00Z');
    expect(dueSlot('*/10 * * * *', now, 'k', 0).toISOString()).toBe('2026-12-01T10:30:00.000Z');
    expect(dueSlot('0 * * * *', now, 'k', 0).toISOString()).toBe('2026-12-01T10:00:00.000Z');
    expect(dueSlot('@daily', now, 'k', 0).toISOString()).toBe('2026-12-01T00:00:00.000Z');
  });

  it('shifts a slot by a stable per-project jitter of at most a tenth of the spacing', () => {
    const key = 'acme/infra:app';
    const j = jitterMs(key, 6 * 60_000);
    expect(j).toBe(jitterMs(key, 6 * 60_000));
    expect(j).toBeGreaterThanOrEqual(0);
    expect(j).toBeLessThan(6 * 60_000);
    // Just after 10:00 plus less than the jitter: the 10:00 slot is not due yet for this project.
    const early = new Date(Date.parse('2026-12-01T10:00:00Z') + Math.max(0, j - 1));
    if (j > 0) expect(dueSlot('0 * * * *', early, key, 3_600_000).toISOString()).toBe('2026-12-01T09:00:00.000Z');
    const late = new Date(Date.parse('2026-12-01T10:00:00Z') + j + 1);
    expect(dueSlot('0 * * * *', late, key, 3_600_000).toISOString()).toBe('2026-12-01T10:00:00.000Z');
    // Different projects spread out.
    const spread = new Set(['a', 'b', 'c', 'd', 'e', 'f'].map((p) => jitterMs(`acme/infra:${p}`, 300_000)));
    expect(spread.size).toBeGreaterThan(3);
  });

  it('names one claim per repo, project and slot', () => {
    expect(slotKey('acme/infra', 'app', new Date('2026-12-01T10:00:00Z'))).toBe(
      'drift-slot:acme/infra:app:2026-12-01T10:00:00.000Z',
    );
  });
});

describe('drift config', () => {
  it('is off by default, with a per-project override', () => {
    const config = RepoConfigSchema.parse({
      drift: { schedule: '0 */6 * * *' },
      projects: [
        { name: 'prod', dir: 'prod', drift: { schedule: '*/30 * * * *', auto_reconcile: 'revert' } },
        { name: 'dev', dir: 'dev', drift: { schedule: 'off' } },
        { name: 'qa', dir: 'qa' },
      ],
    });
    expect(RepoConfigSchema.parse({}).drift).toEqual({ schedule: 'off', auto_reconcile: 'off' });
    expect(scheduleFor(config, 'prod')).toBe('*/30 * * * *');
    expect(scheduleFor(config, 'dev')).toBe('off');
    expect(scheduleFor(config, 'qa')).toBe('0 */6 * * *');
    expect(scheduleFor(config, undefined)).toBe('0 */6 * * *');
  });

  it('refuses a schedule that is not cron, and an unknown auto_reconcile', () => {
    for (const schedule of ['every hour', '61 * * * *', '* * *', '']) {
      const r = RepoConfigSchema.safeParse({ drift: { schedule } });
      expect(r.success, schedule).toBe(false);
    }
    const bad = RepoConfigSchema.safeParse({ drift: { schedule: 'every hour' } });
    expect(bad.error?.issues[0]?.message).toContain('cron expression');
    expect(RepoConfigSchema.safeParse({ drift: { auto_reconcile: 'apply' } }).success).toBe(false);
    expect(RepoConfigSchema.safeParse({ projects: [{ dir: 'a', drift: { schedule: '@hourly' } }] }).success).toBe(true);
  });
});
