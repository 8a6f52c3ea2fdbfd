// The publish stage: commit as the app and push (with a lease, so nobody's commits are overwritten), open or update
// the PR (found by its head branch first, so a retry never opens a second one), save the plan bound to head + base
// SHA for the apply step, post check runs with annotations, overflow plan output into split comments (superseded
// parts edited and minimised, never piled up), and set the state label. Right after the plan is saved the PR takes
// its projects' locks (or is told which PR holds them and waits), and the plan set an approval applies is recorded.
import { posix } from 'node:path';
import { lockProjectsForPlan } from '../apply/handlers.js';
import { recordReviewedPlans } from '../apply/plan-record.js';
import { APPLY_LABELS } from '../apply/port.js';
import type { ChecksResult } from '../core/types.js';
import { OctokitApplyPort } from '../github/apply-port.js';
import { type Annotation, publishCheckRun } from '../github/check-runs.js';
import { postPlanOutput } from '../github/plan-comments.js';
import { bodyUnchanged, neutralise, renderPrBody } from '../github/pr-body.js';
import { renderCheckRunOutput } from '../report/check-run.js';
import { costLine } from '../report/cost-markdown.js';
import { sideEffectOnce } from '../store/idempotency.js';
import { planHeadline } from '../terraform/plan-summary.js';
import type { RunContext } from './run.js';

export interface PublishedPr {
  number: number;
  url: string;
  headSha: string;
  checkRuns: Record<string, string>;
  /** The final line of the progress comment / the reply to a command. */
  resultMarkdown: string;
}

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
      title: d.summary.slice(0, 255),
      message: neutralise(d.detail ?? d.summary, 4000),
    }));
}

async function ensureCommitted(ctx: RunContext, lastPushKey: string): Promise<string> {
  const ws = ctx.workspace;
  if (!ws || !ctx.branch) throw new Error('internal: no workspace at publish');
  const { job, deps } = ctx;
  if (job.kind !== 'plan') {
    const title = neutralise(ctx.agent?.title || ctx.issue.title, 72).split('\n')[0] ?? 'infra change';
    const message = `${title}\n\n${job.kind === 'revise' ? 'Revised' : 'Requested'} in #${job.issueNumber} by @${job.requester}.\ninfra-agent run ${job.runId}`;
    const sha = await ws.commitAll(message);
    if (sha) {
      await ws.push(ctx.branch, ctx.remoteHead);
      await deps.store.putKey(lastPushKey, sha);
      ctx.remoteHead = sha;
    } else if (!ctx.remoteHead) {
      throw new Error('nothing to commit and no branch to publish');
    }
  }
  return ws.headSha();
}

export async function publish(ctx: RunContext, lastPushKey: string): Promise<PublishedPr> {
  const { job, deps, octokit, repo } = ctx;
  const checks = ctx.checks;
  if (!checks || !ctx.branch) throw new Error('internal: publish without checks');
  const headSha = await ensureCommitted(ctx, lastPushKey);
  const full = `${repo.owner}/${repo.repo}`;

  const rendered = renderPrBody({
    issueNumber: job.issueNumber,
    runId: job.runId,
    headSha,
    title: ctx.issue.title,
    summary: ctx.agent?.summary || (ctx.pr ? bodySummary(ctx.pr.body) : ctx.issue.title),
    ...(ctx.agent?.notes ? { notes: ctx.agent.notes } : {}),
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
            notice: `Re-planned by infra-agent${job.reason ? ` (${job.reason})` : ''}: review this plan and approve again to apply it.`,
          }
        : {}),
  });

  // The PR: an existing open one for the branch first (a retry, or a revise), else create it exactly once.
  let pr = ctx.pr;
  if (!pr) {
    const prTitle =
      neutralise(ctx.agent?.title || ctx.issue.title, 200).split('\n')[0] || `Infra change for #${job.issueNumber}`;
    const made = await sideEffectOnce(deps.store, `pull-request:${full}:${ctx.branch}`, {
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
        return String(res.data.number);
      },
    });
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
  const planRun = await publishCheckRun(octokit, deps.store, repo, {
    name: 'infra-agent/plan',
    headSha,
    key: job.runId,
    conclusion: plan && !failedStage ? 'success' : 'failure',
    title: plan ? planHeadline(plan.summary) : `No plan: ${failedStage?.name ?? 'checks'} failed`,
    summary: plan
      ? [
          `Project \`${checks.project.name}\` · plan hash \`${plan.hash.slice(0, 12)}\``,
          ...(checks.cost
            ? ['', costLine(checks.cost), ...checks.cost.warnings.map((w) => `> ⚠️ ${neutralise(w, 500)}`)]
            : []),
        ].join('\n')
      : neutralise(failedStage?.message ?? 'the plan did not run', 2000),
    ...(plan ? { text: `\`\`\`\n${neutralise(plan.text, 60_000)}\n\`\`\`` } : {}),
    annotations: diagnosticAnnotations(checks),
    detailsUrl: pr.htmlUrl,
  });
  const verdict = checks.verdict;
  const policy = renderCheckRunOutput(verdict, {
    title: verdict.status === 'pass' ? 'Policy: pass' : `Policy: ${verdict.status} — ${verdict.reasons.join('; ')}`,
  });
  const policyRun = await publishCheckRun(octokit, deps.store, repo, {
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
  await setStateLabel(ctx, pr.number, STATE_LABELS[state]);

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
    ...(ctx.agent?.summary && job.kind === 'revise' ? ['', neutralise(ctx.agent.summary, 1500)] : []),
  ].join('\n');
  return {
    number: pr.number,
    url: pr.htmlUrl,
    headSha,
    checkRuns: { 'infra-agent/plan': planRun.url, 'infra-agent/policy': policyRun.url },
    resultMarkdown,
  };
}

/** The agent summary part of an existing body (for plan-only runs, which have no new summary). */
function bodySummary(body: string): string {
  const lines = body.split('\n');
  const start = lines.findIndex((l) => l.startsWith('Closes #'));
  const end = lines.findIndex((l) => l.startsWith('| Project |'));
  const part = lines.slice(start + 1, end > start ? end : undefined).filter((l) => !l.startsWith('> Re-planned'));
  return part.join('\n').trim() || 'Re-planned.';
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
      runId: ctx.job.runId,
      results: [checks],
    });
  } catch (err) {
    // Without a plan key the PR is still useful for review; an approval refuses without a recorded plan.
    ctx.deps.log.warn({ err: err instanceof Error ? err.message : String(err) }, 'saved plan not stored');
  }
  return locked ? 'locked' : 'blocked';
}
