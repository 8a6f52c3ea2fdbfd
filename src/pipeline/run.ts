// One run, start to end. The stages are listed once, in order, in `STAGES` (stages.ts) and executed here as data
// flows: checkout → index → project → agent → checks → publish. Every stage records a run event and updates the
// progress comment; a stage that cannot continue stops the run with a message saying where and why and how to retry.
// Transient failures (GitHub 5xx, network) hand the run back to the queue for a retry; side effects are guarded by
// idempotency keys and body markers, so a repeated stage never duplicates a PR or a comment.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describeHidden, visibleText } from '../agent/visible-text.js';
import { loadPlanSet } from '../apply/plan-record.js';
import { loadRepoConfig } from '../config/load.js';
import type { RunJob } from '../core/jobs.js';
import { prepareCodeReconcile, reconcileTitle } from '../drift/reconcile.js';
import { branchForIssue, isAppBranch } from '../github/branch.js';
import { INVISIBLE_CHARS, renderInline } from '../markdown/text.js';
import { metrics } from '../observability/metrics.js';
import { snapshotDefaultBranch } from '../policy/guard/baseline.js';
import { indexRepo } from '../repo/index.js';
import { sandboxRefusal, sandboxStatus } from '../sandbox/status.js';
import type { WorkerDeps } from '../stages/deps.js';
import { candidateProjects, chooseProject, describeCandidates } from '../stages/project.js';
import { beginRunAttempt, endRunAttempt, enterStage, startRunHeartbeat } from '../stages/run-state.js';
import type { StageName } from '../stages/stages.js';
import { Workspace } from '../stages/workspace.js';
import { withProjectSlot } from '../store/project-slot.js';
import { redact } from '../util/redact.js';
import { type MemoizedChecks, memoizeChecks } from './checks-memo.js';
import { type AttemptInfo, failureMessage, isTransient, retryHint } from './failure.js';
import { readIssue } from './issue.js';
import { mergeBaseIntoWorkTree } from './merge-checkout.js';
import { Progress, type ProgressTarget } from './progress.js';
import { publish } from './publish.js';
import type { RunContext } from './run-context.js';
import { StopRun } from './stop.js';

const RETRY_HINT = 'Fix the cause, then add the label again or comment `/infra plan` to retry.';

export function progressTarget(job: RunJob, botLogin: string | undefined): ProgressTarget | undefined {
  const repo = { owner: job.owner, repo: job.repo };
  const own = botLogin ? { botLogin } : {};
  const full = `${job.owner}/${job.repo}`;
  if (job.kind === 'generate') {
    return {
      repo,
      issueNumber: job.issueNumber,
      key: `progress-comment:${full}#${job.issueNumber}`,
      marker: `<!-- infra-agent:progress=${job.issueNumber} -->`,
      ...own,
    };
  }
  // A command, or the app re-planning (stale plan at approval, lock freed): the thread gets one reply per run.
  if (job.prNumber !== undefined && (job.trigger === 'command' || job.trigger === 'replan')) {
    return {
      repo,
      issueNumber: job.prNumber,
      key: `reply-comment:${full}#${job.prNumber}:${job.runId}`,
      marker: `<!-- infra-agent:reply=${job.runId} -->`,
      ...own,
    };
  }
  return undefined;
}

// ---- the stages -------------------------------------------------------------------------------------------------

async function checkout(ctx: RunContext): Promise<string> {
  const { job, deps, repo } = ctx;
  if (job.kind !== 'generate') {
    const prNumber = job.prNumber;
    if (prNumber === undefined) throw new StopRun('this run needs a pull request number');
    const { data: pr } = await ctx.octokit.rest.pulls.get({ ...repo, pull_number: prNumber });
    if (pr.state !== 'open') throw new StopRun(`#${prNumber} is ${pr.state}: nothing to do.`, 'succeeded');
    if (!isAppBranch(pr.head.ref))
      throw new StopRun(`#${prNumber}'s branch \`${pr.head.ref}\` is not one infra-agent made.`);
    ctx.pr = {
      number: pr.number,
      body: pr.body ?? '',
      headRef: pr.head.ref,
      headSha: pr.head.sha,
      htmlUrl: pr.html_url,
    };
    ctx.branch = pr.head.ref;
  }
  // The clone does not depend on the open-PR lookup below: both at once. Whatever the lookup decides, the clone is
  // kept in ctx so the run's cleanup removes it.
  const cloning = settled(
    Workspace.cloneFor(deps, repo, ctx.token, ctx.signal).then((ws) => {
      ctx.workspace = ws;
      return ws;
    }),
  );
  if (job.kind === 'generate') {
    ctx.branch = branchForIssue(job.issueNumber, ctx.issue.title);
    const open = await ctx.octokit.rest.pulls
      .list({ ...repo, head: `${repo.owner}:${ctx.branch}`, state: 'open' })
      .catch(async (err: unknown) => {
        await cloning().catch(() => undefined);
        throw err;
      });
    const existing = open.data[0];
    const link = existing
      ? await deps.store.getPullRequestLink(`${repo.owner}/${repo.repo}`, existing.number)
      : undefined;
    if (existing && link?.runId !== job.runId) {
      await cloning().catch(() => undefined);
      throw new StopRun(
        `Pull request #${existing.number} is already open for this issue. Comment \`/infra revise <what to change>\` or \`/infra plan\` there.`,
        'succeeded',
      );
    }
  }
  const ws = await cloning();
  ctx.planDir = join(ws.dir, '..', 'plans');
  await mkdir(ctx.planDir, { recursive: true, mode: 0o700 });
  const defaultHead = await ws.headSha(`origin/${job.defaultBranch}`);
  // Policy comes from where config comes from: the default branch, never the branch under review. The snapshot only
  // reads objects of the clone and the branch fetch only adds a remote-tracking ref: the two run at once.
  const branch = need(ctx.branch, 'branch');
  const [snapshot, exists] = await Promise.all([
    snapshotDefaultBranch(
      (args) => ws.exec(args),
      defaultHead,
      join(ws.dir, '..', 'default-branch'),
      ctx.config.policy.custom_policy_dir,
    ),
    ws.fetchBranch(branch),
  ]);
  ctx.defaultBranch = snapshot;
  if (exists) ctx.remoteHead = await ws.headSha(`refs/remotes/origin/${branch}`);
  if (job.kind === 'generate') {
    await ws.checkoutNew(branch, `origin/${job.defaultBranch}`);
    ctx.baseSha = defaultHead;
    // A new branch from the default branch's tip: HEAD is that tip, no need to ask git again.
    return `\`${branch}\` at ${defaultHead.slice(0, 7)}`;
  } else {
    if (!exists) throw new StopRun(`the branch \`${branch}\` no longer exists.`);
    await ws.checkoutNew(branch, `refs/remotes/origin/${branch}`);
    // The base branch's tip now, not the merge base: the saved plan is bound to the base as it is when planned, and
    // an approval compares it with the base's tip then (a merge base would look stale forever once the base moved).
    ctx.baseSha = defaultHead;
    // A plan (no agent) of a branch behind its base is of the merge, as GitHub would make it (nothing is committed).
    if (job.kind === 'plan') {
      const merge = await mergeBaseIntoWorkTree(ws, defaultHead, job.defaultBranch);
      if (merge.conflict) throw new StopRun(`Not planned: ${merge.conflict}. Merge or rebase it, then push.`);
      ctx.plannedAsMerge = merge.merged;
      if (merge.merged)
        return `\`${ctx.branch}\` at ${(await ws.headSha()).slice(0, 7)} merged with ${job.defaultBranch} at ${defaultHead.slice(0, 7)}`;
    }
  }
  return `\`${ctx.branch}\` at ${(await ws.headSha()).slice(0, 7)}`;
}

async function index(ctx: RunContext): Promise<string> {
  const ws = need(ctx.workspace, 'workspace');
  ctx.index = await indexRepo(ws.dir, {
    declaredProjects: ctx.config.projects.map((p) => p.dir),
    signal: ctx.signal,
  });
  return `${ctx.index.rootModules.length} root module(s)`;
}

async function pickProject(ctx: RunContext): Promise<string> {
  const candidates = candidateProjects(ctx.config, need(ctx.index, 'index').rootModules);
  // The project this PR planned before, from the store's plan set (never from the body, which a person can edit).
  const planned = ctx.pr
    ? await loadPlanSet(ctx.deps.store, `${ctx.repo.owner}/${ctx.repo.repo}`, ctx.pr.number)
    : undefined;
  // A hint only: a project renamed or removed since is chosen again like a new one.
  const fromPr = planned?.projects.map((p) => p.name).find((n) => candidates.some((c) => c.name === n));
  const named = ctx.job.project ?? fromPr;
  const choice = chooseProject(candidates, {
    ...(named !== undefined ? { named } : {}),
    requestText: `${ctx.issue.title}\n${ctx.issue.body}`,
  });
  switch (choice.kind) {
    case 'one':
      ctx.project = choice.project;
      return `\`${choice.project.name}\``;
    case 'none':
      throw new StopRun(
        'I found no Terraform root module in this repository (no `.tf` files outside modules), so there is nothing to change yet. ' +
          'If the code lives somewhere unusual, list it under `projects:` in `.github/infra-agent.yml`.',
      );
    case 'unknown':
      throw new StopRun(
        `There is no project \`${choice.name}\`. The projects are:\n${describeCandidates(choice.candidates)}`,
      );
    case 'ambiguous':
      throw new StopRun(
        `Which project should this change go to? This repository has several:\n${describeCandidates(choice.candidates)}\n\n` +
          'Mention one of them in the issue and add the label again, or comment `/infra plan <project>`.',
      );
  }
}

function boundChecks(ctx: RunContext): MemoizedChecks {
  if (ctx.checker) return ctx.checker;
  const project = need(ctx.project, 'project');
  const repoRoot = need(ctx.workspace, 'workspace').dir;
  const target = { repo: `${ctx.repo.owner}/${ctx.repo.repo}`, project: project.name, workspace: project.workspace };
  // One terraform execution per project+workspace at a time, whichever issue or PR asks (state lock): the steps that
  // touch the state (init … plan) hold the project's slot; fmt, the guard and the scanners of another run overlap
  // them. The agent's last run_checks pass is the final checks when the checkout is unchanged since (checks-memo.ts).
  ctx.checker = memoizeChecks(repoRoot, (signal?: AbortSignal) => {
    const sig = signal ?? ctx.signal;
    return ctx.deps.checks({
      repoRoot,
      project,
      config: ctx.config,
      ...(ctx.planDir ? { planDir: ctx.planDir } : {}),
      ...(ctx.defaultBranch ? { defaultBranch: ctx.defaultBranch } : {}),
      serialize: (fn) => withProjectSlot(ctx.deps.store, target, fn, { signal: sig }),
      signal: sig,
    });
  });
  return ctx.checker;
}

/**
 * The request as the model gets it: what a person sees of the issue. A title is plain text on GitHub (only invisible
 * characters go); the body is Markdown (html comments, reference definitions, titles, hidden elements go). When
 * anything was dropped the thread says so, so nobody wonders why the agent ignored an instruction they cannot see.
 */
function modelRequest(ctx: RunContext): string {
  const title = ctx.issue.title.replace(INVISIBLE_CHARS, '').trim();
  const body = visibleText(ctx.issue.body.slice(0, 100_000));
  const hiddenInTitle = ctx.issue.title.length - ctx.issue.title.replace(INVISIBLE_CHARS, '').length;
  const said = describeHidden(
    { ...body.hidden, invisibleChars: body.hidden.invisibleChars + hiddenInTitle },
    `issue #${ctx.job.issueNumber}`,
  );
  if (said) ctx.progress?.remark(`ℹ️ ${said}`);
  return `${title}\n\n${body.text}`;
}

async function agent(ctx: RunContext): Promise<string | undefined> {
  if (ctx.job.kind === 'plan') return 'skipped: plan only';
  const ws = need(ctx.workspace, 'workspace');
  const reconcile = ctx.job.reconcile;
  // A reconcile-code run asks from the fresh plans (App-made text); every other run from what a human sees.
  let request: string | undefined;
  if (reconcile) {
    const project = need(ctx.project, 'project');
    ctx.issue = { ...ctx.issue, title: reconcileTitle(reconcile, project.name) };
    if (reconcile === 'revert') return 'skipped: reconcile revert (no code change: the plan is the change)';
    const prepared = await prepareCodeReconcile({ repoRoot: ws.dir, project, config: ctx.config, signal: ctx.signal });
    if (!prepared.ok) throw new StopRun(prepared.message, prepared.outcome);
    request = prepared.request;
  }
  let revision: { diff: string; feedback: string; lastReport: string } | undefined;
  if (ctx.job.kind === 'revise') {
    const pr = need(ctx.pr, 'pull request');
    const lastPush = await ctx.deps.store.getKey(lastPushKey(ctx));
    if (lastPush && ctx.remoteHead && lastPush !== ctx.remoteHead) {
      const authors = await ws.authorsBetween(lastPush, 'HEAD').catch(() => ['unknown']);
      const humans = authors.filter((a) => a !== ctx.deps.author.email);
      if (humans.length > 0) {
        throw new StopRun(
          `Not revising: this branch has ${humans.length} commit(s) pushed by someone else since infra-agent's last push, ` +
            'and the agent does not overwrite human edits. Push the change yourself, or close this pull request and re-label the issue to start over. ' +
            '`/infra plan` re-plans the branch as it is.',
        );
      }
    }
    revision = {
      diff: await ws.diff(need(ctx.baseSha, 'base')),
      feedback: ctx.job.feedback ?? '',
      lastReport: visibleText(pr.body).text,
    };
  }
  const result = await ctx.deps.agent({
    repoRoot: ws.dir,
    project: need(ctx.project, 'project'),
    config: ctx.config,
    request: request ?? modelRequest(ctx),
    ...(revision ? { revision } : {}),
    checks: boundChecks(ctx),
    ...(ctx.index ? { index: ctx.index } : {}),
    signal: ctx.signal,
  });
  ctx.agent = result;
  if (result.status === 'error' && result.filesChanged.length === 0) {
    throw new StopRun(
      `The agent stopped with an error: ${renderInline(result.reason ?? 'unknown error', { max: 1_000 })}`,
    );
  }
  if (result.filesChanged.length === 0) {
    throw new StopRun(
      `The agent finished without changing any file${result.summary ? `: ${renderInline(result.summary, { max: 500 })}` : '.'}`,
    );
  }
  const why = result.status === 'finished' ? '' : ` (stopped: ${result.reason ?? result.status})`;
  const reused = boundChecks(ctx).stats.reused;
  const checksNote = reused > 0 ? `; final checks = the last run_checks pass (checkout unchanged)` : '';
  return `${result.filesChanged.length} file(s) changed in ${result.usage.turns} turns${why}${checksNote}`;
}

async function checks(ctx: RunContext): Promise<string> {
  const result = ctx.agent?.finalChecks ?? (await boundChecks(ctx)());
  ctx.checks = result;
  const failed = result.stages.find((s) => s.status === 'failed');
  const plan = result.plan?.summary.counts;
  const planText = plan ? `+${plan.add} ~${plan.change} -${plan.destroy}` : 'no plan';
  return `${planText}; policy ${result.verdict.status}${failed ? `; ${failed.name} failed` : ''}`;
}

function lastPushKey(ctx: RunContext): string {
  return `last-push:${ctx.repo.owner}/${ctx.repo.repo}:${need(ctx.branch, 'branch')}`;
}

async function publishStage(ctx: RunContext): Promise<string> {
  ctx.published = await publish(ctx, lastPushKey(ctx));
  return `#${ctx.published.number}`;
}

const RUNNERS: Record<StageName, (ctx: RunContext) => Promise<string | undefined>> = {
  checkout,
  index,
  project: pickProject,
  agent,
  checks,
  publish: publishStage,
};

/**
 * Start `p` now and read its outcome later: a rejection is held (never unhandled) until the returned function is
 * awaited, which resolves or throws as `p` did.
 */
function settled<T>(p: Promise<T>): () => Promise<T> {
  const held = p.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );
  return async () => {
    const r = await held;
    if (r.ok) return r.value;
    throw r.error;
  };
}

function need<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`internal: ${what} is not set at this stage`);
  return value;
}

// ---- the run ----------------------------------------------------------------------------------------------------

export async function executeRun(
  job: RunJob,
  deps: WorkerDeps,
  signal: AbortSignal,
  info: AttemptInfo = { lastAttempt: false },
): Promise<void> {
  const attempt = await beginRunAttempt(deps.store, job.runId);
  if (attempt.action !== 'run') {
    deps.log.info({ runId: job.runId, action: attempt.action }, 'run not executed');
    return;
  }
  const log = deps.log.child({ runId: job.runId });
  const stopHeartbeat = startRunHeartbeat(deps.store, job.runId);
  const repo = { owner: job.owner, repo: job.repo };
  const title =
    job.kind === 'generate' ? `issue #${job.issueNumber}` : `${job.kind} on #${job.prNumber ?? job.issueNumber}`;
  let progress: Progress | undefined;
  let ctx: RunContext | undefined;
  let current: StageName | undefined;
  try {
    // Inside the try: GitHub down while minting the token is a transient failure of this run like any other.
    const { octokit, token } = await deps.installation(job.installationId);
    progress = new Progress(title, job.runId, progressTarget(job, deps.botLogin), octokit, deps.store);
    // The config and the issue are independent reads: asked at once (one GitHub round trip instead of two). The issue
    // is only looked at once the config is valid and the sandbox is there, as before.
    const issueRead = settled(octokit.rest.issues.get({ ...repo, issue_number: job.issueNumber }));
    const loaded = await loadRepoConfig(octokit, repo, job.defaultBranch);
    if (!loaded.ok) throw new StopRun(loaded.message);
    // No sandbox, no untrusted code: refuse before anything of the repository is read.
    const sandbox = await sandboxStatus();
    if (sandbox.mode === 'unavailable') throw new StopRun(sandboxRefusal(sandbox.reason));
    const { data: rawIssue } = await issueRead();
    const issue = readIssue(rawIssue, job.issueNumber);
    ctx = {
      job,
      deps,
      signal,
      octokit,
      token,
      repo,
      config: loaded.config,
      issue: { title: issue.title, body: issue.body ?? '' },
      progress,
    };
    for (const [name, runStage] of Object.entries(RUNNERS) as [
      StageName,
      (c: RunContext) => Promise<string | undefined>,
    ][]) {
      current = name;
      if (signal.aborted) throw signal.reason ?? new Error('cancelled');
      const started = Date.now();
      await enterStage(deps.store, job.runId, name);
      await progress.start(name);
      const note = await runStage(ctx);
      const skipped = note?.startsWith('skipped') ?? false;
      await progress.end(name, skipped ? 'skipped' : 'ok', note);
      metrics.observeStage(name, skipped ? 'skipped' : 'ok', Date.now() - started);
      await deps.store.addRunEvent({
        runId: job.runId,
        stage: name,
        status: skipped ? 'skipped' : 'ok',
        durationMs: Date.now() - started,
        ...(note ? { message: redact(note).slice(0, 500) } : {}),
      });
      log.info({ stage: name, note }, 'stage done');
    }
    const published = need(ctx.published, 'published');
    progress.link(`PR #${published.number}`, published.url);
    for (const [name, url] of Object.entries(published.checkRuns)) progress.link(name, url);
    await progress.finish(published.resultMarkdown);
    await deps.store.updateRun(job.runId, { links: { pr: published.url, ...published.checkRuns } });
    if (ctx.agent) await deps.store.updateRun(job.runId, { usage: ctx.agent.usage });
    await endRunAttempt(deps.store, job.runId, { status: 'succeeded' });
    metrics.recordRun(job.kind, 'succeeded');
  } catch (err) {
    const stopped = err instanceof StopRun;
    if (!stopped && isTransient(err) && !signal.aborted && !info.lastAttempt) {
      log.warn(
        { err: failureMessage(err, job.runId), stage: current },
        'transient failure: the run goes back to the queue',
      );
      await endRunAttempt(deps.store, job.runId, { status: 'queued', error: failureMessage(err, job.runId) });
      throw err;
    }
    const message = stopped ? err.message : `${current ?? 'setup'} failed: ${failureMessage(err, job.runId)}`;
    const outcome = stopped ? err.outcome : 'failed';
    log.info({ stage: current, outcome, message }, 'run stopped');
    if (current) {
      await deps.store.addRunEvent({
        runId: job.runId,
        stage: current,
        status: outcome === 'failed' ? 'failed' : 'info',
        message: message.slice(0, 500),
      });
    }
    const final = outcome === 'failed' && !stopped ? `${message}\n\n${retryHint(job, RETRY_HINT)}` : message;
    try {
      if (!progress) throw new Error('no GitHub client');
      if (current)
        await progress.end(current, outcome === 'failed' ? 'failed' : 'skipped', stopped ? undefined : message);
      await progress.finish(final);
    } catch (notice) {
      // GitHub is unreachable (often why we are here): the run still ends now, and the repair sweep posts its final
      // word when GitHub is back. A run never stays `running` because its last comment could not be posted.
      log.warn(
        { err: failureMessage(notice, job.runId) },
        'the final word could not be posted: left for the repair sweep',
      );
      await deps.store.putKey(`pending-notice:${job.runId}`, final);
    }
    await endRunAttempt(
      deps.store,
      job.runId,
      outcome === 'failed' ? { status: 'failed', error: message } : { status: 'succeeded' },
    );
    metrics.recordRun(job.kind, outcome);
  } finally {
    // The model was paid for whatever happened after it.
    if (ctx?.agent) metrics.recordModelUsage(ctx.agent.usage, job.kind);
    stopHeartbeat();
    await ctx?.workspace?.remove().catch(() => {});
  }
}
