// The publish stage: commit as the app and push (with a lease, so nobody's commits are overwritten), open or update
// the PR (found by its head branch first, so a retry never opens a second one), save the plan bound to head + base
// SHA for the apply step, post check runs with annotations, overflow plan output into split comments (superseded
// parts edited and minimised, never piled up), and set the state label. Right after the plan is saved the PR takes
// its projects' locks (or is told which PR holds them and waits), and the plan set an approval applies is recorded.
import { rm } from 'node:fs/promises';
import { posix } from 'node:path';
import { z } from 'zod';
import { lockProjectsForPlan } from '../apply/handlers.js';
import { recordReviewedPlans } from '../apply/plan-record.js';
import { APPLY_LABELS } from '../core/apply-port.js';
import { CREATE_RETRY } from '../core/github.js';
import type { ChecksResult } from '../core/types.js';
import { revertCommitMessage } from '../drift/reconcile.js';
import { OctokitApplyPort } from '../github/apply-port.js';
import { type Annotation, publishCheckRun } from '../github/check-runs.js';
import { postPlanOutput } from '../github/plan-comments.js';
import { bodyUnchanged, renderPrBody } from '../github/pr-body.js';
import { fenceFor } from '../markdown/split-comment.js';
import { plainLine, plainText, renderCode, renderInline, renderQuoted, renderText } from '../markdown/text.js';
import { renderCheckRunOutput } from '../report/check-run.js';
import { costLine } from '../report/cost-markdown.js';
import { sideEffectOnce } from '../store/idempotency.js';
import { planHeadline } from '../terraform/plan-summary.js';
import { redact } from '../util/redact.js';
import type { PublishedPr, RunContext } from './run-context.js';

export const STATE_LABELS = {
  planned: 'infra-agent:planned',
  'needs-override': 'infra-agent:needs-override',
  blocked: 'infra-agent:blocked',
  failed: 'infra-agent:checks-failed',
} as const;

/** A stage that failed to run; the verdict stage "fails" for any verdict but pass, which the labels tell apart. */
function failedStageOf(checks: ChecksResult) {
  return checks.stages.find((s) => s.status === 'failed' && s.name !== 'verdict');
}

function stateOf(checks: ChecksResult): keyof typeof STATE_LABELS {
  if (!checks.plan || failedStageOf(checks)) {
    return checks.verdict.status === 'blocked' ? 'blocked' : 'failed';
  }
  if (checks.verdict.status === 'blocked') return 'blocked';
  if (checks.verdict.status === 'needs-override') return 'needs-override';
  return 'planned';
}

function repoPath(projectDir: string, file: string): string {
  const clean = file.replace(/^\.\//, '');
  if (projectDir === '.' || clean.startsWith(`${projectDir}/`)) return clean;
  return posix.join(projectDir, clean);
}

function diagnosticAnnotations(checks: ChecksResult): Annotation[] {
  return checks.diagnostics
    .filter((d) => d.file && d.line)
    .map((d) => ({
      path: repoPath(checks.project.dir, d.file ?? ''),
      start_line: d.line ?? 1,
      end_line: d.line ?? 1,
      annotation_level: d.severity === 'error' ? 'failure' : 'warning',
      // Annotations are plain text on GitHub: bounded and redacted, with nothing that could ping.
      title: plainLine(d.summary, 255),
      message: plainText(d.detail ?? d.summary, 4000),
    }));
}

async function ensureCommitted(ctx: RunContext, lastPushKey: string): Promise<string> {
  const ws = ctx.workspace;
  if (!ws || !ctx.branch) throw new Error('internal: no workspace at publish');
  const { job, deps } = ctx;
  if (job.kind !== 'plan') {
    const title = plainLine(ctx.agent?.title || ctx.issue.title, 72) || 'infra change';
    const message = `${title}\n\n${job.kind === 'revise' ? 'Revised' : 'Requested'} in #${job.issueNumber} by @${job.requester}.\ninfra-agent run ${job.runId}`;
    let sha = await ws.commitAll(message);
    // `/infra reconcile revert`: no code change, the plan is the change; one empty commit lets the PR exist.
    if (!sha && job.reconcile === 'revert' && (await ws.headSha()) === ctx.baseSha) {
      sha = await ws.commitEmpty(
        revertCommitMessage(ctx.project?.name ?? '', job.issueNumber, job.requester, job.runId),
      );
    }
    if (sha) {
      await ws.push(ctx.branch, ctx.remoteHead);
      await deps.store.putKey(lastPushKey, sha);
      ctx.remoteHead = sha;
      // HEAD is the commit just pushed.
      return sha;
    }
    if (!ctx.remoteHead) throw new Error('nothing to commit and no branch to publish');
  }
  return ws.headSha();
}

export async function publish(ctx: RunContext, lastPushKey: string): Promise<PublishedPr> {
  const { job, deps, octokit, repo } = ctx;
  const checks = ctx.checks;
  if (!checks || !ctx.branch) throw new Error('internal: publish without checks');
  const headSha = await ensureCommitted(ctx, lastPushKey);
  const full = `${repo.owner}/${repo.repo}`;
  // The agent's words are kept in the store, never read back from the body (a person can edit the body, and reading
  // escaped text back would escape it twice): a plan-only run shows the last summary the agent gave this branch.
  const summaryKey = `agent-summary:${full}:${ctx.branch}`;
  if (ctx.agent) {
    await deps.store.putKey(summaryKey, JSON.stringify({ summary: ctx.agent.summary, notes: ctx.agent.notes ?? '' }));
  }
  const said = ctx.agent ?? AgentWords.safeParse(JSON.parse((await deps.store.getKey(summaryKey)) ?? 'null')).data;

  const rendered = renderPrBody({
    issueNumber: job.issueNumber,
    ...(job.reconcile ? { reconciles: job.reconcile } : {}),
    runId: job.runId,
    headSha,
    title: ctx.issue.title,
    summary: said?.summary ?? '',
    ...(said?.notes ? { notes: said.notes } : {}),
    ...(ctx.agent?.costNotes ? { costNotes: ctx.agent.costNotes } : {}),
    ...(ctx.agent?.budgetUsd !== undefined ? { budgetUsd: ctx.agent.budgetUsd } : {}),
    ...(ctx.agent?.costEstimate
      ? {
          agentEstimate: {
            calls: ctx.agent.costEstimates,
            before: ctx.agent.costEstimate.before,
            after: ctx.agent.costEstimate.after,
            delta: ctx.agent.costEstimate.delta,
          },
        }
      : {}),
    projects: [{ checks, policyMarkdown: deps.renderers.policyMarkdown(checks.verdict) }],
    ...(ctx.agent ? { usage: ctx.agent.usage } : {}),
    ...(job.trigger === 'human-push'
      ? { notice: `Re-planned after a push by @${job.requester} (the agent did not run).` }
      : job.trigger === 'replan'
        ? {
            notice: `Re-planned by infra-agent${job.reason ? ` (${renderInline(job.reason, { max: 500 })})` : ''}: review this plan and approve again to apply it.`,
          }
        : {}),
  });

  // The PR: an existing open one for the branch first (a retry, or a revise), else create it exactly once.
  let pr = ctx.pr;
  if (!pr) {
    const prTitle = plainLine(ctx.agent?.title || ctx.issue.title, 200) || `Infra change for #${job.issueNumber}`;
    const made = await sideEffectOnce(deps.store, `pull-request:${full}:${ctx.branch}`, {
      retry: CREATE_RETRY,
      find: async () => {
        const open = await octokit.rest.pulls.list({ ...repo, head: `${repo.owner}:${ctx.branch}`, state: 'open' });
        return open.data[0] ? String(open.data[0].number) : undefined;
      },
      create: async () => {
        const res = await octokit.rest.pulls.create({
          ...repo,
          title: prTitle,
          head: ctx.branch ?? '',
          base: job.defaultBranch,
          body: rendered.body,
          maintainer_can_modify: false,
        });
        await linkPr(ctx, full, res.data.number);
        return String(res.data.number);
      },
    });
    // The App's record of its PR (which issue it closes, which run opened it): the only authority for both.
    await linkPr(ctx, full, Number(made.value));
    const { data } = await octokit.rest.pulls.get({ ...repo, pull_number: Number(made.value) });
    pr = {
      number: data.number,
      body: data.body ?? '',
      headRef: data.head.ref,
      headSha: data.head.sha,
      htmlUrl: data.html_url,
    };
  }
  if (!bodyUnchanged(pr.body, rendered)) {
    await octokit.rest.pulls.update({ ...repo, pull_number: pr.number, body: rendered.body });
  }

  await postPlanOutput(octokit, deps.store, { ...repo, prNumber: pr.number, headSha }, rendered.overflow);
  const lock = await recordPlans(ctx, pr.number, headSha);

  // Check runs on the head commit.
  const plan = checks.plan;
  const failedStage = failedStageOf(checks);
  // The two check runs and the state label are independent writes: made at once (GitHub round trips overlap).
  const planRunP = publishCheckRun(octokit, deps.store, repo, {
    name: 'infra-agent/plan',
    headSha,
    key: job.runId,
    conclusion: plan && !failedStage ? 'success' : 'failure',
    title: plan ? planHeadline(plan.summary) : `No plan: ${failedStage?.name ?? 'checks'} failed`,
    summary: plan
      ? [
          `Project ${renderCode(checks.project.name)} · plan hash \`${plan.hash.slice(0, 12)}\``,
          ...(checks.cost
            ? ['', costLine(checks.cost), ...checks.cost.warnings.map((w) => `> ⚠️ ${renderInline(w, { max: 500 })}`)]
            : []),
        ].join('\n')
      : renderText(failedStage?.message ?? 'the plan did not run', { max: 2000 }),
    ...(plan ? { text: fencedPlan(plan.text) } : {}),
    annotations: diagnosticAnnotations(checks),
    detailsUrl: pr.htmlUrl,
  });
  const verdict = checks.verdict;
  const policy = renderCheckRunOutput(verdict, {
    title: verdict.status === 'pass' ? 'Policy: pass' : `Policy: ${verdict.status} — ${verdict.reasons.join('; ')}`,
  });
  const policyRunP = publishCheckRun(octokit, deps.store, repo, {
    name: 'infra-agent/policy',
    headSha,
    key: job.runId,
    conclusion: policy.conclusion,
    title: policy.title,
    summary: policy.summary,
    ...(policy.text ? { text: policy.text } : {}),
    // Finding paths are already relative to the repository root (terraform's diagnostics are not: see above).
    annotations: policy.annotations,
    detailsUrl: pr.htmlUrl,
  });

  const state = stateOf(checks);
  const [planRun, policyRun] = await Promise.all([
    planRunP,
    policyRunP,
    setStateLabel(ctx, pr.number, STATE_LABELS[state]),
  ]);

  const headline = plan ? planHeadline(plan.summary) : 'No plan.';
  const verb = job.kind === 'revise' ? 'Revised' : job.kind === 'plan' ? 'Re-planned' : 'Opened';
  const resultMarkdown = [
    `**${verb} #${pr.number}** at \`${headSha.slice(0, 7)}\`: ${headline} Policy: **${verdict.status}**.${checks.cost ? ` ${costLine(checks.cost)}` : ''}`,
    ...(lock === 'blocked'
      ? [
          '',
          'A project of this pull request is locked by another pull request (see the comment on the PR): it cannot be applied until that lock frees, and it is planned again then.',
        ]
      : []),
    ...(job.trigger === 'replan' && plan ? ['', 'This is a new plan: review it and approve again to apply it.'] : []),
    ...(ctx.agent?.summary && job.kind === 'revise'
      ? [
          '',
          "The agent's summary (written by the model, shown as plain text):",
          '',
          renderQuoted(ctx.agent.summary, { max: 1500 }),
        ]
      : []),
  ].join('\n');
  return {
    number: pr.number,
    url: pr.htmlUrl,
    headSha,
    checkRuns: { 'infra-agent/plan': planRun.url, 'infra-agent/policy': policyRun.url },
    resultMarkdown,
  };
}

async function linkPr(ctx: RunContext, repo: string, pr: number): Promise<void> {
  await ctx.deps.store.linkPullRequest({
    repo,
    pr,
    issue: ctx.job.issueNumber,
    runId: ctx.job.runId,
    branch: ctx.branch ?? '',
  });
}

const AgentWords = z.object({ summary: z.string(), notes: z.string() });

/** The plan text of a check run's details, in a fence longer than any backtick run inside it. */
function fencedPlan(text: string): string {
  const body = redact(text).slice(0, 60_000);
  const f = fenceFor(body);
  return `${f.open}\n${body}\n${f.close}`;
}

async function setStateLabel(ctx: RunContext, issueNumber: number, label: string): Promise<void> {
  const { octokit, repo } = ctx;
  const { data: current } = await octokit.rest.issues.listLabelsOnIssue({ ...repo, issue_number: issueNumber });
  const names = new Set(current.map((l) => l.name));
  // A new plan supersedes a failed apply's label: that plan can no longer be applied anyway.
  for (const stale of [...Object.values(STATE_LABELS), APPLY_LABELS.failed]) {
    if (stale !== label && names.has(stale)) {
      await octokit.rest.issues.removeLabel({ ...repo, issue_number: issueNumber, name: stale });
    }
  }
  if (!names.has(label)) await octokit.rest.issues.addLabels({ ...repo, issue_number: issueNumber, labels: [label] });
}

/**
 * Save the plan bound to the head and base SHA it was made on (what an approval may apply) and record the PR's plan
 * set, after taking the projects' locks. A PR blocked by another PR's lock still shows its plan (the lock holder is
 * named in a comment and this PR re-plans when the lock frees); an approval refuses while the lock is held.
 */
async function recordPlans(ctx: RunContext, prNumber: number, headSha: string): Promise<'locked' | 'blocked' | 'none'> {
  const checks = ctx.checks;
  const project = ctx.project;
  if (!checks || !project || !ctx.baseSha) return 'none';
  const repo = `${ctx.repo.owner}/${ctx.repo.repo}`;
  const port = new OctokitApplyPort(ctx.octokit, ctx.repo, ctx.deps.store, ctx.job.runId);
  const locked = await lockProjectsForPlan(
    { store: ctx.deps.store, port },
    { pr: prNumber, runId: ctx.job.runId, projects: [project] },
  );
  try {
    await recordReviewedPlans(ctx.deps.store, {
      repo,
      pr: prNumber,
      headSha,
      baseSha: ctx.baseSha,
      ...(ctx.plannedAsMerge ? { plannedAsMerge: true } : {}),
      runId: ctx.job.runId,
      results: [checks],
    });
  } catch (err) {
    // Without a plan key the PR is still useful for review; an approval refuses without a recorded plan.
    ctx.deps.log.warn({ err: err instanceof Error ? err.message : String(err) }, 'saved plan not stored');
  } finally {
    // The plan holds secrets in clear: once the store has it (encrypted), or could not take it, it leaves the disk.
    if (checks.plan?.file) await rm(checks.plan.file, { force: true });
  }
  return locked ? 'locked' : 'blocked';
}
