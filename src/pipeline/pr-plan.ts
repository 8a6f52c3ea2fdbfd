// Plan a pull request as it will be merged, every project it affects — any PR, a person's or a fork's (a fork only
// when a maintainer asked). In order: read the PR and its changed files (no Terraform touched → nothing is posted),
// check out the merge of its head into its base's tip, index it, find the affected projects (own files, local
// modules, `when_modified`), take their locks (all or none: a PR that waits is told which PR holds them and is
// planned when they free), plan and gate them in bounded parallel (`autoplan.max_parallel`; the steps that touch a
// project's state hold its execution slot) with the PR's one comment edited as they finish, then record the plans
// bound to head + base exactly as the App's own PRs' plans are (what an apply may use), and post one check run per
// project.
import { setMaxListeners } from 'node:events';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { releasePullRequestLocks, takeProjectLocks } from '../apply/locks.js';
import { type PlanSet, recordReviewedPlans } from '../apply/plan-record.js';
import { loadRepoConfig } from '../config/load.js';
import type { RepoConfig } from '../config/schema.js';
import type { GitHubClient, RepoRef } from '../core/github.js';
import { isForkPullRequest } from '../core/github.js';
import type { RunJob } from '../core/jobs.js';
import type { ChecksResult, Project } from '../core/types.js';
import { publishCheckRun } from '../github/check-runs.js';
import { upsertComment } from '../github/comments.js';
import {
  checkRunPlanText,
  checkRunSummary,
  checkRunTitle,
  type PlannedRow,
  projectCheckName,
  projectConclusion,
  prPlanComment,
  renderPrPlanComment,
} from '../github/pr-plan-report.js';
import { renderCode } from '../markdown/text.js';
import { snapshotDefaultBranch } from '../policy/guard/baseline.js';
import { indexRepo } from '../repo/index.js';
import { sandboxRefusal, sandboxStatus } from '../sandbox/status.js';
import type { WorkerDeps } from '../stages/deps.js';
import { candidateProjects } from '../stages/project.js';
import { Workspace } from '../stages/workspace.js';
import { withProjectSlot } from '../store/project-slot.js';
import { mapBounded } from '../util/bounded.js';
import { type AffectedProject, affectedProjects, isTerraformFile } from './affected.js';
import { planRequester } from './apply-run.js';
import type { AttemptInfo } from './failure.js';
import { checkoutMerge } from './merge-checkout.js';
import { runPullRequestJob, StopPrRun } from './pr-run.js';

/** How often, at most, the comment is edited while projects plan (GitHub's secondary limits). */
const PROGRESS_EVERY_MS = 3_000;

interface PrFacts {
  number: number;
  headSha: string;
  headRef: string;
  baseRef: string;
  htmlUrl: string;
  fork: string | undefined;
}

async function readPr(octokit: GitHubClient, repo: RepoRef, n: number): Promise<PrFacts> {
  const { data: pr } = await octokit.rest.pulls.get({ ...repo, pull_number: n });
  if (pr.state !== 'open') throw new StopPrRun(`#${n} is ${pr.state}: nothing to plan.`, 'succeeded');
  const baseFull = `${repo.owner}/${repo.repo}`;
  const fork = isForkPullRequest(pr, baseFull) ? (pr.head.repo?.full_name ?? 'a deleted fork') : undefined;
  return { number: n, headSha: pr.head.sha, headRef: pr.head.ref, baseRef: pr.base.ref, htmlUrl: pr.html_url, fork };
}

async function changedFiles(octokit: GitHubClient, repo: RepoRef, n: number): Promise<string[]> {
  const files = await octokit.paginate(octokit.rest.pulls.listFiles, { ...repo, pull_number: n, per_page: 100 });
  return [...new Set(files.flatMap((f) => [f.filename, ...(f.previous_filename ? [f.previous_filename] : [])]))];
}

/** A fork's plan runs its code: no provider credentials unless the repo allows them for forks. */
function configFor(config: RepoConfig, fork: string | undefined): RepoConfig {
  if (!fork || config.autoplan.fork_env_passthrough) return config;
  return { ...config, terraform: { ...config.terraform, env_passthrough: [] } };
}

function pickNamed(affected: AffectedProject[], all: Project[], names: string[] | undefined): AffectedProject[] {
  if (!names?.length) return affected;
  const out: AffectedProject[] = [];
  for (const name of names) {
    const p = all.find((c) => c.name === name || c.dir === name);
    if (!p) {
      throw new StopPrRun(
        `There is no project ${renderCode(name)}. The projects are: ${all.map((c) => renderCode(c.name)).join(', ')}.`,
      );
    }
    if (!out.some((o) => o.project.name === p.name)) {
      out.push(affected.find((a) => a.project.name === p.name) ?? { project: p, reason: 'asked for by name' });
    }
  }
  return out;
}

export async function executePullRequestPlan(
  job: RunJob,
  deps: WorkerDeps,
  signal: AbortSignal,
  info: AttemptInfo = { lastAttempt: false },
): Promise<void> {
  // Every project's terraform and scanner processes listen to the run's signal: several projects at once is more
  // than Node's default of 10 listeners, which is not a leak here.
  setMaxListeners(64, signal);
  const repo = { owner: job.owner, repo: job.repo };
  const prNumber = job.prNumber ?? job.issueNumber;
  await runPullRequestJob(job, deps, signal, info, {
    kind: 'plan',
    work: ({ octokit, token, held }) =>
      planPullRequest({
        job,
        deps,
        signal,
        octokit,
        token,
        repo,
        prNumber,
        setWorkspace: (w) => {
          held.ws = w;
        },
      }),
    report: (octokit, message, retryable) =>
      upsertComment(
        octokit,
        deps.store,
        prPlanComment(repo, prNumber, deps.botLogin),
        `**infra-agent plan**: ${message}${retryable ? '\n\nComment `/infra plan` to retry.' : ''}`,
      ).then(() => {}),
  });
}

interface PlanContext {
  job: RunJob;
  deps: WorkerDeps;
  signal: AbortSignal;
  octokit: GitHubClient;
  token: string;
  repo: RepoRef;
  prNumber: number;
  setWorkspace: (ws: Workspace) => void;
}

async function planPullRequest(ctx: PlanContext): Promise<void> {
  const { job, deps, octokit, repo, prNumber } = ctx;
  const full = `${repo.owner}/${repo.repo}`;
  const loaded = await loadRepoConfig(octokit, repo, job.defaultBranch);
  if (!loaded.ok) throw new StopPrRun(loaded.message);
  const pr = await readPr(octokit, repo, prNumber);
  // A fork is planned only when a maintainer asked (its code runs in the plan); the intake never queues one itself.
  if (pr.fork && job.trigger === 'autoplan')
    throw new StopPrRun('a fork is planned only on `/infra plan`', 'succeeded');
  const files = await changedFiles(octokit, repo, prNumber);
  const explicit = job.trigger !== 'autoplan';
  if (!explicit && !files.some(isTerraformFile) && !anyWhenModified(loaded.config)) {
    await releaseUnaffected(ctx, []);
    return;
  }
  const sandbox = await sandboxStatus();
  if (sandbox.mode === 'unavailable') throw new StopPrRun(sandboxRefusal(sandbox.reason));
  const config = configFor(loaded.config, pr.fork);

  const ws = await Workspace.cloneFor(deps, repo, ctx.token, ctx.signal);
  ctx.setWorkspace(ws);
  const merged = await checkoutMerge(ws, {
    prNumber,
    headSha: pr.headSha,
    ...(pr.fork ? {} : { headRef: pr.headRef }),
    baseRef: pr.baseRef,
  });
  if (!merged.ok) throw new StopPrRun(merged.message);
  await ws.clean();
  // Policy comes from the default branch, never from the PR (its base is usually that branch).
  const defaultBranch = await snapshotDefaultBranch(
    (args) => ws.exec(args),
    pr.baseRef === job.defaultBranch ? merged.baseSha : await defaultBranchSha(ws, job.defaultBranch),
    join(ws.dir, '..', 'default-branch'),
    config.policy.custom_policy_dir,
  );

  const index = await indexRepo(ws.dir, { declaredProjects: config.projects.map((p) => p.dir), signal: ctx.signal });
  const candidates = candidateProjects(config, index.rootModules);
  const whenModified = new Map(config.projects.map((p) => [p.name ?? p.dir, p.when_modified]));
  const affected = pickNamed(
    affectedProjects({ projects: candidates, whenModified, changedFiles: files, modules: index.modules }),
    candidates,
    job.projects ?? (job.project ? [job.project] : undefined),
  );
  if (affected.length === 0) {
    if (!explicit) {
      await releaseUnaffected(ctx, []);
      return;
    }
    throw new StopPrRun('no project is affected by the files this pull request changes: nothing to plan.', 'succeeded');
  }

  const notices: string[] = [];
  if (pr.fork) {
    notices.push(
      `Planned on request of @${job.requester}: this pull request comes from the fork ${renderCode(pr.fork)}` +
        (config === loaded.config ? '.' : ', so terraform ran without the `terraform.env_passthrough` credentials.'),
    );
  }
  const rows: PlannedRow[] = affected.map((a) => ({ project: a.project, reason: a.reason, state: { kind: 'queued' } }));
  const comment = prPlanComment(repo, prNumber, deps.botLogin);
  const view = () => ({ headSha: merged.headSha, baseSha: merged.baseSha, baseRef: pr.baseRef, rows, notices });
  const post = (finished: boolean) =>
    upsertComment(octokit, deps.store, comment, renderPrPlanComment({ ...view(), finished }));

  // Locks: all of the PR's projects or none. Waiting is shown in the one comment; the lock's release re-plans it.
  const locks = await takeProjectLocks(deps.store, {
    repo: full,
    pr: prNumber,
    runId: job.runId,
    projects: affected.map((a) => a.project),
  });
  // A push that stopped touching a project frees its lock (a `/infra plan x` covers only x: it frees nothing).
  if (!job.projects?.length && !job.project) await releaseUnaffected(ctx, affected);
  if (!locks.ok) {
    for (const row of rows) {
      const held = locks.blocked.find((b) => b.project === row.project.name && b.workspace === row.project.workspace);
      row.state = held ? { kind: 'waiting-lock', holderPr: held.lock.holder.pr } : { kind: 'waiting-lock' };
    }
    await post(true);
    return;
  }

  await post(false);
  let lastPost = Date.now();
  const planRoot = join(ws.dir, '..', 'plans');
  const results = await mapBounded(rows, config.autoplan.max_parallel, async (row, i) => {
    row.state = { kind: 'planning' };
    const planDir = join(planRoot, String(i));
    await mkdir(planDir, { recursive: true, mode: 0o700 });
    const slot = { repo: full, project: row.project.name, workspace: row.project.workspace };
    // The steps that touch the project's state hold its execution slot (whichever issue or PR asks); the rest overlap.
    const checks = await deps.checks({
      repoRoot: ws.dir,
      project: row.project,
      config,
      planDir,
      defaultBranch,
      fmtWrite: false,
      serialize: (fn) => withProjectSlot(deps.store, slot, fn, { signal: ctx.signal }),
      signal: ctx.signal,
    });
    row.state = { kind: 'done', checks, policyMarkdown: deps.renderers.policyMarkdown(checks.verdict) };
    if (Date.now() - lastPost >= PROGRESS_EVERY_MS) {
      lastPost = Date.now();
      await post(false);
    }
    return checks;
  });

  await recordPlans(ctx, { headSha: merged.headSha, baseSha: merged.baseSha, results });
  for (const row of rows) {
    if (row.state.kind !== 'done') continue;
    const checks = row.state.checks;
    const run = await publishCheckRun(octokit, deps.store, repo, {
      name: projectCheckName(row.project),
      headSha: merged.headSha,
      key: job.runId,
      conclusion: projectConclusion(checks),
      title: checkRunTitle(checks),
      summary: checkRunSummary(checks, row.state.policyMarkdown),
      ...(checks.plan ? { text: checkRunPlanText(checks.plan.text) } : {}),
      annotations: [],
      detailsUrl: pr.htmlUrl,
    });
    row.state = { ...row.state, checkRunUrl: run.url };
  }
  await post(true);
}

/**
 * Release the locks this PR holds on projects it no longer affects (a later push undid their change), and ask for
 * the plans of the PRs that waited for them. The PR's comment, when it has one, says so if nothing is left.
 */
async function releaseUnaffected(ctx: PlanContext, affected: AffectedProject[]): Promise<void> {
  const { deps, repo, prNumber } = ctx;
  const full = `${repo.owner}/${repo.repo}`;
  const still = new Set(affected.map((a) => a.project.name));
  const held = await deps.store.listLocks({ repo: full, pr: prNumber });
  const stale = [...new Set(held.map((l) => l.project))].filter((name) => !still.has(name));
  if (stale.length === 0) return;
  const request = planRequester(
    deps,
    ctx.octokit,
    { installationId: ctx.job.installationId, ...repo, defaultBranch: ctx.job.defaultBranch },
    `lock-freed:${ctx.job.runId}`,
  );
  for (const project of stale) {
    const res = await releasePullRequestLocks(deps.store, {
      repo: full,
      pr: prNumber,
      actor: deps.botLogin ?? 'infra-agent',
      reason: 'unlock',
      project,
    });
    for (const w of res.waiters) {
      await request({
        pr: w.pr,
        reason: `lock on ${w.project}/${w.workspace} freed: #${prNumber} no longer changes it`,
      });
    }
  }
  const comment = prPlanComment(repo, prNumber, deps.botLogin);
  if (affected.length === 0 && (await deps.store.getKey(comment.key))) {
    await upsertComment(
      ctx.octokit,
      deps.store,
      comment,
      `**infra-agent plan**: this pull request no longer changes any project's Terraform; the locks it held (${stale.map((n) => renderCode(n)).join(', ')}) were released.`,
    );
  }
}

/** Any project with `when_modified`: the changed files may matter though none is Terraform. */
function anyWhenModified(config: RepoConfig): boolean {
  return config.projects.some((p) => p.when_modified.length > 0);
}

async function defaultBranchSha(ws: Workspace, branch: string): Promise<string> {
  if (!(await ws.fetchRef(`refs/heads/${branch}`, 'refs/infra-agent/default'))) {
    throw new StopPrRun(`the default branch ${branch} could not be fetched`);
  }
  return ws.headSha('refs/infra-agent/default');
}

/** Save every plan bound to head + base (the PR's plan set, what an apply may use); plan files leave the disk. */
async function recordPlans(
  ctx: PlanContext,
  input: { headSha: string; baseSha: string; results: ChecksResult[] },
): Promise<PlanSet | undefined> {
  try {
    return await recordReviewedPlans(ctx.deps.store, {
      repo: `${ctx.repo.owner}/${ctx.repo.repo}`,
      pr: ctx.prNumber,
      headSha: input.headSha,
      baseSha: input.baseSha,
      plannedAsMerge: true,
      runId: ctx.job.runId,
      results: input.results,
    });
  } catch (err) {
    // Without a plan key the PR is still reviewed; an apply refuses without a recorded plan.
    ctx.deps.log.warn({ err: err instanceof Error ? err.message : String(err) }, 'saved plans not stored');
    return undefined;
  } finally {
    for (const r of input.results) if (r.plan?.file) await rm(r.plan.file, { force: true });
  }
}
