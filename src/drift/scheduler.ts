// The drift scheduler, run by every worker process: every `intervalMs` it lists the App's installations and their
// repositories, reads each repository's config from its default branch, and for every project whose schedule has a
// due slot it claims that slot in the store (insert-if-absent: with two workers on PostgreSQL exactly one wins) and
// enqueues one drift job for the repository's due projects. Durable by construction: the claim and the job live in
// the store/queue, so a restart neither loses a due check nor runs it twice. A repository whose previous scheduled
// check is still queued or running skips the slot (claimed, not enqueued): checks are never stacked.
import type { Logger } from 'pino';
import { loadRepoConfig } from '../config/load.js';
import { type DriftJob, driftQueueKey, JOB_KIND_DRIFT } from '../core/drift-job.js';
import type { GitHubClient } from '../core/github.js';
import type { Queue } from '../queue/types.js';
import type { Store } from '../store/types.js';
import { dueSlot, scheduleFor, slotKey } from './schedule.js';

export interface DriftSchedulerOptions {
  store: Store;
  queue: Pick<Queue, 'enqueue'>;
  /** The App's own (JWT) client: lists installations. */
  appClient: () => Promise<GitHubClient>;
  installationClient: (installationId: number) => Promise<GitHubClient>;
  log: Logger;
  /** How often to look for due checks (default 60 s). */
  intervalMs?: number;
  /** Upper bound of the per-project jitter (default 5 min; never more than a tenth of a schedule's spacing). */
  maxJitterMs?: number;
  /** A scheduled check still in flight after this long is presumed lost (default 6 h). */
  inflightStaleMs?: number;
  now?: () => Date;
}

export interface DriftScheduler {
  /** One pass now; resolves with the number of drift jobs enqueued. */
  tick(): Promise<number>;
  stop(): Promise<void>;
}

/** The store key marking a repository's scheduled check as queued or running (the job removes it when done). */
export function inflightKey(repo: string): string {
  return `drift-inflight:${repo}`;
}

const ALL = '*';

export function startDriftScheduler(opts: DriftSchedulerOptions): DriftScheduler {
  const intervalMs = opts.intervalMs ?? 60_000;
  const maxJitter = opts.maxJitterMs ?? 5 * 60_000;
  const staleMs = opts.inflightStaleMs ?? 6 * 3_600_000;
  const now = opts.now ?? (() => new Date());
  let running: Promise<number> | undefined;
  let stopped = false;

  async function scanRepo(
    octokit: GitHubClient,
    installationId: number,
    r: { owner: string; name: string; defaultBranch: string },
  ): Promise<number> {
    const full = `${r.owner}/${r.name}`;
    const loaded = await loadRepoConfig(octokit, { owner: r.owner, repo: r.name }, r.defaultBranch);
    if (!loaded.ok) return 0;
    const config = loaded.config;
    const names = config.projects.length > 0 ? config.projects.map((p) => p.name ?? p.dir) : [ALL];
    const at = now();
    const due: { name: string; slot: Date }[] = [];
    for (const name of names) {
      const schedule = scheduleFor(config, name === ALL ? undefined : name);
      if (schedule === 'off') continue;
      const slot = dueSlot(schedule, at, `${full}:${name}`, maxJitter);
      const claim = await opts.store.putKeyIfAbsent(slotKey(full, name, slot), at.toISOString());
      if (claim.inserted) due.push({ name, slot });
    }
    if (due.length === 0) return 0;
    const inflight = await opts.store.getKey(inflightKey(full));
    if (inflight && at.getTime() - Date.parse(inflight) < staleMs) {
      opts.log.warn({ repo: full, since: inflight }, 'drift check still in flight: this slot is skipped, not stacked');
      return 0;
    }
    const slot = due.reduce((a, b) => (a.slot > b.slot ? a : b)).slot.toISOString();
    const payload: DriftJob = {
      type: JOB_KIND_DRIFT,
      installationId,
      owner: r.owner,
      repo: r.name,
      defaultBranch: r.defaultBranch,
      trigger: 'schedule',
      slot,
      ...(due.some((d) => d.name === ALL) ? {} : { projects: due.map((d) => d.name) }),
    };
    await opts.store.putKey(inflightKey(full), at.toISOString());
    await opts.queue.enqueue({
      kind: JOB_KIND_DRIFT,
      key: driftQueueKey(r.owner, r.name),
      payload,
      idempotencyKey: `drift:${full}:${due.map((d) => d.name).join(',')}:${slot}`,
    });
    opts.log.info({ repo: full, projects: due.map((d) => d.name), slot }, 'drift check enqueued');
    return 1;
  }

  async function pass(): Promise<number> {
    const app = await opts.appClient();
    const installations = await app.paginate(app.rest.apps.listInstallations, { per_page: 100 });
    let enqueued = 0;
    for (const inst of installations) {
      if (stopped) break;
      if (inst.suspended_at) continue;
      const octokit = await opts.installationClient(inst.id);
      const repos = await octokit.paginate(octokit.rest.apps.listReposAccessibleToInstallation, { per_page: 100 });
      for (const repo of repos) {
        if (stopped) break;
        if (repo.archived || repo.disabled) continue;
        try {
          enqueued += await scanRepo(octokit, inst.id, {
            owner: repo.owner.login,
            name: repo.name,
            defaultBranch: repo.default_branch,
          });
        } catch (err) {
          opts.log.warn(
            { repo: repo.full_name, err: err instanceof Error ? err.message : String(err) },
            'drift schedule not read',
          );
        }
      }
    }
    return enqueued;
  }

  const tick = async (): Promise<number> => {
    if (running) return running;
    running = pass().finally(() => {
      running = undefined;
    });
    return running;
  };

  const timer = setInterval(() => {
    void tick().catch((err: unknown) =>
      opts.log.warn({ err: err instanceof Error ? err.message : String(err) }, 'drift scheduler pass failed'),
    );
  }, intervalMs);
  timer.unref();
  // The first pass right away: a check that fell due while no App was running is enqueued now.
  void tick().catch((err: unknown) =>
    opts.log.warn({ err: err instanceof Error ? err.message : String(err) }, 'drift scheduler pass failed'),
  );

  return {
    tick,
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running?.catch(() => {});
    },
  };
}
