// `/infra revise <what to change>` on a pull request a person wrote (same repository only): the agent adds commits
// on top of their branch — checked out at its current head, committed as the App, pushed as a fast-forward (a push
// that is not one is refused by git, so their history is never rewritten) — then the PR is planned again like any
// PR (src/pipeline/pr-plan.ts) and the thread is answered. Their PR body is theirs: nothing in it is edited. A fork's
// branch is never pushed to: the run says so and stops.

import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { visibleText } from '../agent/visible-text.js';
import { loadPlanSet } from '../apply/plan-record.js';
import { loadRepoConfig } from '../config/load.js';
import { type GitHubClient, isForkPullRequest, type RepoRef } from '../core/github.js';
import type { RunJob } from '../core/jobs.js';
import type { Project } from '../core/types.js';
import { upsertComment } from '../github/comments.js';
import { enqueuePullRequestPlan } from '../github/enqueue.js';
import { forkReviseReply } from '../github/replies.js';
import { renderCode, renderInline } from '../markdown/text.js';
import { snapshotDefaultBranch } from '../policy/guard/baseline.js';
import { indexRepo } from '../repo/index.js';
import { sandboxRefusal, sandboxStatus } from '../sandbox/status.js';
import type { WorkerDeps } from '../stages/deps.js';
import { candidateProjects, chooseProject } from '../stages/project.js';
import { Workspace } from '../stages/workspace.js';
import { withProjectSlot } from '../store/project-slot.js';
import type { AttemptInfo } from './failure.js';
import { runPullRequestJob, StopPrRun } from './pr-run.js';

/** The reply in the thread: one per run, edited as it goes. */
function replyComment(repo: RepoRef, pr: number, runId: string, botLogin: string | undefined) {
  return {
    repo,
    issueNumber: pr,
    key: `reply-comment:${repo.owner}/${repo.repo}#${pr}:${runId}`,
    marker: `<!-- infra-agent:reply=${runId} -->`,
    ...(botLogin ? { botLogin } : {}),
  };
}

export async function executePullRequestRevise(
  job: RunJob,
  deps: WorkerDeps,
  signal: AbortSignal,
  info: AttemptInfo = { lastAttempt: false },
): Promise<void> {
  const repo = { owner: job.owner, repo: job.repo };
  const pr = job.prNumber ?? job.issueNumber;
  const reply = replyComment(repo, pr, job.runId, deps.botLogin);
  await runPullRequestJob(job, deps, signal, info, {
    kind: 'revise',
    work: async ({ octokit, token, held }) => {
      await upsertComment(octokit, deps.store, reply, `@${job.requester} revising this branch…`);
      const done = await revise({ job, deps, signal, octokit, token, repo, pr, held });
      await upsertComment(octokit, deps.store, reply, done);
    },
    report: (octokit, message) =>
      upsertComment(octokit, deps.store, reply, `**Nothing was pushed**: ${message}`).then(() => {}),
  });
}

interface ReviseContext {
  job: RunJob;
  deps: WorkerDeps;
  signal: AbortSignal;
  octokit: GitHubClient;
  token: string;
  repo: RepoRef;
  pr: number;
  held: { ws?: Workspace };
}

/** Returns the thread's answer. */
async function revise(ctx: ReviseContext): Promise<string> {
  const { job, deps, octokit, repo, pr } = ctx;
  const full = `${repo.owner}/${repo.repo}`;
  const loaded = await loadRepoConfig(octokit, repo, job.defaultBranch);
  if (!loaded.ok) throw new StopPrRun(loaded.message);
  const config = loaded.config;
  const { data } = await octokit.rest.pulls.get({ ...repo, pull_number: pr });
  if (data.state !== 'open') throw new StopPrRun(`#${pr} is ${data.state}: nothing to revise.`, 'succeeded');
  if (isForkPullRequest(data, full)) {
    throw new StopPrRun(forkReviseReply(job.requester, data.head.repo?.full_name ?? 'a deleted fork'), 'succeeded');
  }
  const sandbox = await sandboxStatus();
  if (sandbox.mode === 'unavailable') throw new StopPrRun(sandboxRefusal(sandbox.reason));

  const ws = await Workspace.cloneFor(deps, repo, ctx.token, ctx.signal);
  ctx.held.ws = ws;
  const branch = data.head.ref;
  if (!(await ws.fetchBranch(branch))) throw new StopPrRun(`the branch ${renderCode(branch)} no longer exists.`);
  const head = await ws.headSha(`refs/remotes/origin/${branch}`);
  await ws.checkoutNew(branch, head);
  if (!(await ws.fetchBranch(data.base.ref)))
    throw new StopPrRun(`the base branch ${renderCode(data.base.ref)} is gone.`);
  const base = await ws.headSha(`refs/remotes/origin/${data.base.ref}`);
  // Policy comes from the default branch, never from the PR (as for its plan).
  if (data.base.ref !== job.defaultBranch && !(await ws.fetchBranch(job.defaultBranch))) {
    throw new StopPrRun(`the default branch ${renderCode(job.defaultBranch)} could not be fetched.`);
  }
  const defaultBranch = await snapshotDefaultBranch(
    (args) => ws.exec(args),
    data.base.ref === job.defaultBranch ? base : await ws.headSha(`refs/remotes/origin/${job.defaultBranch}`),
    join(ws.dir, '..', 'default-branch'),
    config.policy.custom_policy_dir,
  );
  const planDir = join(ws.dir, '..', 'plans');
  await mkdir(planDir, { recursive: true, mode: 0o700 });

  // Which project: the one the PR's plan covered, else the one the revise text names among the repo's projects.
  const index = await indexRepo(ws.dir, { declaredProjects: config.projects.map((p) => p.dir), signal: ctx.signal });
  const all = candidateProjects(config, index.rootModules);
  const planned = (await loadPlanSet(deps.store, full, pr))?.projects.map((p) => p.name) ?? [];
  const inPlan = all.filter((p) => planned.includes(p.name));
  const feedback = job.feedback ?? '';
  const choice = chooseProject(inPlan.length > 0 ? inPlan : all, { requestText: feedback });
  if (choice.kind !== 'one') {
    const list = (choice.kind === 'none' ? [] : choice.candidates).map((p: Project) => renderCode(p.name)).join(', ');
    throw new StopPrRun(
      choice.kind === 'none'
        ? 'there is no Terraform project here to revise.'
        : `which project should change? Name one of ${list} in the \`/infra revise\` text.`,
    );
  }
  const project = choice.project;

  const result = await deps.agent({
    repoRoot: ws.dir,
    project,
    config,
    request: `${data.title}\n\n${visibleText((data.body ?? '').slice(0, 65_536)).text}`,
    revision: { diff: await ws.diff(base), feedback, lastReport: '' },
    checks: (signal) =>
      withProjectSlot(
        deps.store,
        { repo: full, project: project.name, workspace: project.workspace },
        () => deps.checks({ repoRoot: ws.dir, project, config, planDir, defaultBranch, signal: signal ?? ctx.signal }),
        { signal: signal ?? ctx.signal },
      ),
    signal: ctx.signal,
  });
  if (result.filesChanged.length === 0) {
    const why = result.reason ?? result.summary;
    throw new StopPrRun(`the agent changed no file${why ? `: ${renderInline(why, { max: 500 })}` : '.'}`);
  }
  // A commit message is plain text: the first line of the request, printable characters only.
  const subject =
    (feedback.split('\n')[0] ?? '')
      .replace(/[^\x20-\x7E]/g, '')
      .trim()
      .slice(0, 60) || 'revise';
  const sha = await ws.commitAll(`infra-agent: ${subject}\n\nAsked by @${job.requester} in #${pr}.`);
  if (!sha) throw new StopPrRun('the agent changed no file.');
  // On top of their head, never instead of it: a fast-forward push only (git refuses anything else).
  await ws.pushFastForward(branch);
  // Planned again like any PR; without a queue in this worker the thread says how to ask for it.
  const queue = deps.queue;
  const replanned = queue
    ? await enqueuePullRequestPlan(
        { store: deps.store, queue, ...(deps.botLogin ? { botLogin: deps.botLogin } : {}) },
        {
          installationId: job.installationId,
          ...repo,
          defaultBranch: job.defaultBranch,
          pr,
          requester: job.requester,
          trigger: 'replan',
          idempotencyId: `revise:${job.runId}`,
          reason: `revised by @${job.requester}`,
        },
      ).then(() => true)
    : false;
  return [
    `@${job.requester} added ${renderCode(sha.slice(0, 7))} on top of ${renderCode(branch)} (${head.slice(0, 7)} → ${sha.slice(0, 7)}): ${renderInline(result.summary, { max: 1_000 })}`,
    '',
    `Files: ${result.filesChanged
      .slice(0, 20)
      .map((f) => renderCode(f))
      .join(
        ', ',
      )}. ${replanned ? 'The pull request is planned again; review the new plan.' : 'Comment `/infra plan` to plan it again.'}`,
  ].join('\n');
}
