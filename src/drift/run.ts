// The drift job on a worker: check out the default branch, pick the projects, and for each one run the check (unless
// an apply of that project is running right now: then the job goes back to the queue and is tried again shortly),
// record it (the drift issue is created, edited or closed), count it, and — with `drift.auto_reconcile` — ask for the
// reconciling pull request once per drift. A check that runs past `terraform.plan_timeout_s` is recorded as failed
// (the next scheduled check tries again) instead of going back to the queue: checks are never stacked.
import { loadRepoConfig } from '../config/load.js';
import type { AutoReconcile, RepoConfig } from '../config/schema.js';
import type { DriftJob } from '../core/drift-job.js';
import type { RepoRef } from '../core/github.js';
import type { Project } from '../core/types.js';
import { enqueueRun } from '../github/enqueue.js';
import { invalidConfigReply } from '../github/replies.js';
import { metrics } from '../observability/metrics.js';
import { indexRepo } from '../repo/index.js';
import type { WorkerDeps } from '../stages/deps.js';
import { candidateProjects } from '../stages/project.js';
import { Workspace } from '../stages/workspace.js';
import type { Store } from '../store/types.js';
import { type DriftCheckResult, runDriftCheck } from './check.js';
import { markAutoReconciled, recordDriftCheck } from './issue.js';
import { renderDriftMarkdown } from './render.js';
import { inflightKey } from './scheduler.js';

/** Thrown when a project is being applied: the queue retries the job with backoff. */
export class ApplyInProgressError extends Error {
  override readonly name = 'ApplyInProgressError';
}

/** The project's effective `auto_reconcile` (its own override first). */
export function autoReconcileFor(config: RepoConfig, project: Project): AutoReconcile {
  const own = config.projects.find((p) => (p.name ?? p.dir) === project.name);
  return own?.drift?.auto_reconcile ?? config.drift.auto_reconcile;
}

/** True while an apply of a PR holding this project's lock is running. */
export async function applyRunning(store: Store, repo: string, project: Project): Promise<number | undefined> {
  const lock = await store.getLock({ repo, project: project.name, workspace: project.workspace });
  if (!lock) return undefined;
  const applies = await store.listRuns({ repo, kind: 'apply', status: ['queued', 'running'], limit: 50 });
  const pr = lock.holder.pr;
  return applies.some((r) => r.input['prNumber'] === pr || r.input['pr'] === pr) ? lock.holder.pr : undefined;
}

export async function executeDriftJob(job: DriftJob, deps: WorkerDeps, signal: AbortSignal): Promise<void> {
  try {
    await checkRepository(job, deps, signal);
  } catch (err) {
    // Waiting for an apply: the job is retried and still holds its slot.
    if (err instanceof ApplyInProgressError) throw err;
    if (job.trigger === 'schedule') await clearInflight(deps.store, job);
    throw err;
  }
  if (job.trigger === 'schedule') await clearInflight(deps.store, job);
}

async function clearInflight(store: Store, job: DriftJob): Promise<void> {
  await store.deleteKey(inflightKey(`${job.owner}/${job.repo}`)).catch(() => {});
}

async function checkRepository(job: DriftJob, deps: WorkerDeps, signal: AbortSignal): Promise<void> {
  const repo: RepoRef = { owner: job.owner, repo: job.repo };
  const full = `${job.owner}/${job.repo}`;
  const log = deps.log.child({ drift: full, trigger: job.trigger, slot: job.slot });
  const { octokit, token } = await deps.installation(job.installationId);
  const reply = async (body: string) => {
    if (job.replyTo === undefined) return;
    await octokit.rest.issues.createComment({ ...repo, issue_number: job.replyTo, body });
  };
  const loaded = await loadRepoConfig(octokit, repo, job.defaultBranch);
  if (!loaded.ok) {
    log.warn({ message: loaded.message }, 'drift check skipped: invalid config');
    await reply(invalidConfigReply(loaded.message));
    return;
  }
  const config = loaded.config;
  const ws = await Workspace.cloneFor(deps, repo, token, signal);
  try {
    await ws.checkoutNew(`infra-agent-drift-check`, `origin/${job.defaultBranch}`);
    const index = await indexRepo(ws.dir, { declaredProjects: config.projects.map((p) => p.dir), signal });
    const all = candidateProjects(config, index.rootModules);
    const wanted = job.projects;
    const projects = wanted ? all.filter((p) => wanted.includes(p.name) || wanted.includes(p.dir)) : all;
    if (projects.length === 0) {
      await reply(
        wanted
          ? `There is no project ${wanted.map((w) => `\`${w}\``).join(', ')} in this repository.`
          : 'I found no Terraform project in this repository to check for drift.',
      );
      return;
    }
    const answers: string[] = [];
    for (const project of projects) {
      const applying = await applyRunning(deps.store, full, project);
      if (applying !== undefined) {
        if (job.trigger === 'schedule') {
          throw new ApplyInProgressError(`#${applying} is applying ${project.name}: the drift check waits for it`);
        }
        answers.push(
          `### Drift check: \`${project.name}\`\n\nNot checked: #${applying} is being applied right now. Comment \`/infra drift\` again once it is done.\n`,
        );
        continue;
      }
      const result = await checkWithTimeout(ws.dir, project, config, signal);
      metrics.recordDriftCheck(result.status);
      const outcome = await recordDriftCheck({
        octokit,
        store: deps.store,
        repo,
        result,
        trigger: job.trigger,
        requiredPermission: config.trigger.required_permission,
      });
      await deps.store.audit({
        actor: job.requester ?? 'infra-agent',
        action: 'drift.checked',
        repo: full,
        target: project.name,
        details: {
          status: result.status,
          resources: result.resources.length,
          issue: outcome.issueNumber ?? null,
          trigger: job.trigger,
          slot: job.slot ?? null,
          durationMs: result.durationMs,
        },
      });
      log.info({ project: project.name, status: result.status, issue: outcome.issueNumber }, 'drift checked');
      const auto = autoReconcileFor(config, project);
      if (
        result.status === 'drifted' &&
        auto !== 'off' &&
        outcome.issueNumber !== undefined &&
        !outcome.report.autoReconciled
      ) {
        await requestReconcile(deps, job, {
          issueNumber: outcome.issueNumber,
          project: project.name,
          mode: auto,
          requester: deps.botLogin ?? 'infra-agent',
          idempotencyId: `auto-reconcile:${full}#${outcome.issueNumber}`,
        });
        await markAutoReconciled(deps.store, outcome.status);
      }
      const link = outcome.issueNumber !== undefined ? `\n\nDrift issue: #${outcome.issueNumber}` : '';
      answers.push(
        `${renderDriftMarkdown(result).trimEnd()}${result.status === 'clean' && !outcome.closed ? '' : link}\n`,
      );
    }
    await reply(answers.join('\n'));
  } finally {
    await ws.remove().catch(() => {});
  }
}

async function checkWithTimeout(
  repoRoot: string,
  project: Project,
  config: RepoConfig,
  signal: AbortSignal,
): Promise<DriftCheckResult> {
  const limitS = config.terraform.plan_timeout_s;
  const timeout = AbortSignal.timeout(limitS * 1000);
  const started = Date.now();
  try {
    return await runDriftCheck({ repoRoot, project, config, signal: AbortSignal.any([signal, timeout]) });
  } catch (err) {
    if (signal.aborted || !timeout.aborted) throw err;
    return {
      project,
      status: 'error',
      resources: [],
      error: `The drift check timed out after ${limitS}s (terraform.plan_timeout_s). It runs again at the next scheduled check.`,
      durationMs: Date.now() - started,
    };
  }
}

/** Enqueue the reconcile run of a drift issue: a generate run on the issue, for the project, in the given mode. */
export async function requestReconcile(
  deps: Pick<WorkerDeps, 'store' | 'queue'>,
  ctx: { installationId: number; owner: string; repo: string; defaultBranch: string },
  req: {
    issueNumber: number;
    project: string;
    mode: 'code' | 'revert';
    requester: string;
    idempotencyId: string;
    commentId?: number;
  },
) {
  if (!deps.queue) throw new Error('reconcile needs the queue');
  return enqueueRun({ store: deps.store, queue: deps.queue }, req.idempotencyId, {
    installationId: ctx.installationId,
    owner: ctx.owner,
    repo: ctx.repo,
    defaultBranch: ctx.defaultBranch,
    kind: 'generate',
    issueNumber: req.issueNumber,
    requester: req.requester,
    trigger: 'command',
    project: req.project,
    reconcile: req.mode,
    ...(req.commentId !== undefined ? { commentId: req.commentId } : {}),
  });
}
