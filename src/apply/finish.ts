// Step 6 of an apply: what happens after the projects ran. Success: report, merge (or not: merge off, a partial
// `/infra apply`, or the PR is already merged in merge mode), release the locks once merged, close the App's issue,
// label. Failure: report the error per project and what to do next, keep the locks and the PR open; an apply that
// lost track after terraform started needs a human and is never retried.

import { APPLY_LABELS, type ApplyGitHubPort, type PullRequestFacts } from '../core/apply-port.js';
import { endRunAttempt } from '../stages/run-state.js';
import { EVENT_OUTPUT_CHARS } from './apply-project.js';
import { type LockWaiter, releasePullRequestLocks } from './locks.js';
import {
  type ApplyReportInput,
  type ProjectApplyReport,
  renderApplyCheckSummary,
  renderApplyReport,
} from './messages.js';
import { type ApplyDeps, type ApplyRequest, type ApprovalOutcome, actorOf, type Failure, triggerOf } from './types.js';

export async function finishFailure(
  deps: ApplyDeps,
  req: ApplyRequest,
  f: {
    runId: string;
    pr: PullRequestFacts;
    reports: ProjectApplyReport[];
    failure: Failure;
  },
): Promise<ApprovalOutcome> {
  const { store, port } = deps;
  const anyApplied = f.reports.some((r) => r.status === 'applied');
  const needsHuman = f.failure.unexpected === true && f.failure.pointOfNoReturn;
  const nextSteps = needsHuman
    ? [
        'infra-agent lost track of this apply after terraform started: it is **not** re-run automatically',
        'check the state (`terraform state list`, the backend lock) and finish or undo by hand',
        'then `/infra unlock` and `/infra plan`, review the new plan and approve again',
      ]
    : [
        ...(f.failure.pointOfNoReturn || anyApplied
          ? ['terraform may have changed part of the infrastructure: check the state before anything else']
          : []),
        ...(req.trigger === 'merge'
          ? ['fix the cause in a new pull request: it is planned and applied like this one']
          : [
              'fix the cause (push to this branch or `/infra revise <what to change>`), or comment `/infra plan` to plan again',
              'review the new plan and approve again — a saved plan is applied once, never retried',
            ]),
        'the project locks stay with this pull request; `/infra unlock` releases them if you abandon it',
      ];
  const input: ApplyReportInput = {
    approver: actorOf(req).login,
    trigger: triggerOf(req),
    runId: f.runId,
    headSha: f.pr.headSha,
    projects: f.reports,
    ok: false,
    after: [
      req.trigger === 'merge'
        ? 'The pull request is merged but not fully applied: it keeps its locks until the state is checked (`/infra unlock` there releases them).'
        : 'Nothing was merged; the pull request stays open and keeps its locks.',
    ],
    nextSteps,
  };
  await publishApplyReport(port, req.pr, input, 'failure');
  await port.setLabels(req.pr, {
    add: [needsHuman ? APPLY_LABELS.needsHuman : APPLY_LABELS.failed],
    remove: [APPLY_LABELS.applying],
  });
  await endRunAttempt(store, f.runId, {
    status: needsHuman ? 'needs-human' : 'failed',
    error: f.failure.error.slice(0, EVENT_OUTPUT_CHARS),
  });
  if (needsHuman) {
    await store.audit({
      actor: 'infra-agent',
      action: 'apply.interrupted',
      repo: port.repo,
      target: `#${req.pr}`,
      details: { runId: f.runId, error: f.failure.error.slice(0, EVENT_OUTPUT_CHARS) },
    });
    return { outcome: 'needs-human', runId: f.runId, error: f.failure.error };
  }
  return { outcome: 'failed', runId: f.runId, projects: f.reports, error: f.failure.error };
}

export async function finishSuccess(
  deps: ApplyDeps,
  req: ApplyRequest,
  s: {
    runId: string;
    pr: PullRequestFacts;
    reports: ProjectApplyReport[];
    /** The issue an App PR closes (undefined: a person's PR). */
    issueNumber: number | undefined;
    /** Every project of the plan set is applied now (false after `/infra apply <some>`). */
    complete: boolean;
  },
): Promise<ApprovalOutcome> {
  const { store, port } = deps;
  const repo = port.repo;
  const method = req.config.apply.merge_method;
  const after: string[] = [];
  let merged = req.trigger === 'merge';
  let waiters: LockWaiter[] = [];
  if (req.trigger === 'merge') {
    after.push('Applied after the merge (`apply.on: merge`).');
  } else if (!s.complete) {
    after.push(
      'Not merged: other projects of this pull request are not applied yet (`/infra apply` applies the rest). Its locks stay.',
    );
  } else if (method === 'off') {
    after.push(
      'Merging is off (`apply.merge_method: off`): merge this pull request yourself; its locks are released when it is merged or closed.',
    );
  } else {
    const res = await port.mergePullRequest(req.pr, { sha: s.pr.headSha, method });
    merged = res.merged;
    if (merged) {
      after.push(`Merged (${method}).`);
    } else {
      after.push(
        `**Not merged**: ${res.message.replace(/[<>`]/g, "'").slice(0, 300)}. The change is applied: merge this pull request by hand so the code matches the infrastructure. Its locks stay until it is merged or closed.`,
      );
    }
  }
  if (merged) {
    // The code that made the state is on the base branch now: other PRs may plan against it.
    const released = await releasePullRequestLocks(store, { repo, pr: req.pr, actor: 'infra-agent', reason: 'merged' });
    waiters = released.waiters;
    if (released.released.length > 0) after.push(`Released the lock${released.released.length === 1 ? '' : 's'}.`);
  }
  const issue = s.issueNumber;
  // A drift issue is closed by the drift check that finds no drift, not by the reconcile PR's apply.
  if (issue === undefined || !merged) {
    // A person's PR closes what it closes by GitHub's own rules; an unmerged App PR keeps its issue open.
  } else if ((await store.listDrift({ repo, issueNumber: issue })).length > 0) {
    after.push(`Drift issue #${issue} stays open until a drift check finds no drift.`);
  } else {
    await port.closeIssue(issue);
    after.push(`Closed #${issue}.`);
  }

  const input: ApplyReportInput = {
    approver: actorOf(req).login,
    trigger: triggerOf(req),
    runId: s.runId,
    headSha: s.pr.headSha,
    projects: s.reports,
    ok: true,
    after,
  };
  await publishApplyReport(port, req.pr, input, 'success');
  await port.setLabels(req.pr, { add: [APPLY_LABELS.applied], remove: [APPLY_LABELS.applying, APPLY_LABELS.failed] });
  await endRunAttempt(store, s.runId, { status: 'succeeded', stage: 'done' });
  for (const w of waiters)
    await deps.requestPlan({ pr: w.pr, reason: `lock on ${w.project}/${w.workspace} freed by #${req.pr}` });
  return { outcome: 'applied', runId: s.runId, projects: s.reports, merged, waiters };
}

/** The apply report in the thread (summary, then the output split to fit) and the `infra-agent/apply` check run. */
export async function publishApplyReport(
  port: ApplyGitHubPort,
  pr: number,
  input: ApplyReportInput,
  conclusion: 'success' | 'failure',
): Promise<void> {
  const { summary, outputs } = renderApplyReport(input);
  await port.comment(pr, summary);
  for (const o of outputs) await port.comment(pr, o);
  await port.reportApplyCheck({
    headSha: input.headSha,
    status: 'completed',
    conclusion,
    title: conclusion === 'success' ? 'Applied' : 'Apply failed',
    summary: renderApplyCheckSummary(input),
  });
}
