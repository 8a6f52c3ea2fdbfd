// The drift issue: one per drifted project, found by the store's record (drift_status.issue_number), never by text
// in a body. Created on the first check that finds drift (or fails), labelled `infra-agent:drift`; every later check
// rewrites its body in place (first seen, last checked, what changed since the last check); a check that fails posts
// Terraform's message once per distinct error; a check that finds no drift closes it. Creation is claimed under an
// idempotency key derived from when the drift was first seen (stored before the issue is created), so a retried
// check finds the issue it made instead of opening a second one.
import { createHash } from 'node:crypto';
import type { GitHubClient, RepoRef } from '../core/github.js';
import { sideEffectOnce } from '../store/idempotency.js';
import type { DriftStatusRecord, Store } from '../store/types.js';
import { planHeadline } from '../terraform/plan-summary.js';
import type { DriftCheckResult } from './check.js';
import { driftDelta, driftIssueTitle, renderDriftIssueBody, renderFailureComment } from './render.js';
import { type DriftReport, parseReport } from './report.js';

export const DRIFT_LABEL = 'infra-agent:drift';

export type DriftTrigger = DriftReport['trigger'];

export interface RecordDriftInput {
  octokit: GitHubClient;
  store: Store;
  repo: RepoRef;
  result: DriftCheckResult;
  trigger: DriftTrigger;
  requiredPermission: string;
  now?: Date;
}

export interface RecordDriftOutcome {
  status: DriftStatusRecord;
  report: DriftReport;
  issueNumber?: number;
  opened: boolean;
  closed: boolean;
  /** Terraform's error was posted as a comment (a new error). */
  errorPosted: boolean;
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

export async function recordDriftCheck(input: RecordDriftInput): Promise<RecordDriftOutcome> {
  const { octokit, store, repo, result } = input;
  const now = input.now ?? new Date();
  const full = `${repo.owner}/${repo.repo}`;
  const project = { name: result.project.name, dir: result.project.dir, workspace: result.project.workspace };
  const target = { repo: full, project: project.name, workspace: project.workspace };
  const prev = await store.getDrift(target);
  const prevReport = prev ? parseReport(prev.report) : undefined;
  const base = {
    project,
    trigger: input.trigger,
    checkedAt: now.toISOString(),
    ...(prev ? { previousCheckAt: prev.lastCheckedAt.toISOString() } : {}),
  };

  if (result.status === 'clean') {
    const report: DriftReport = { ...base, status: 'clean', checks: 0, resources: [] };
    let closed = false;
    const issueNumber = prev?.issueNumber ?? undefined;
    if (issueNumber !== undefined) {
      const { data: issue } = await octokit.rest.issues.get({ ...repo, issue_number: issueNumber });
      const body = renderDriftIssueBody(report, { requiredPermission: input.requiredPermission });
      if (issue.state === 'open') {
        await sideEffectOnce(store, `drift-resolved:${full}#${issueNumber}:${prev?.firstSeenAt?.toISOString() ?? ''}`, {
          create: async () => {
            const res = await octokit.rest.issues.createComment({
              ...repo,
              issue_number: issueNumber,
              body: `A drift check at ${report.checkedAt} found no drift in \`${project.name}\`: reality, state and code agree. Closing.`,
            });
            return String(res.data.id);
          },
        });
        await octokit.rest.issues.update({
          ...repo,
          issue_number: issueNumber,
          body,
          state: 'closed',
          state_reason: 'completed',
        });
        closed = true;
      } else {
        await octokit.rest.issues.update({ ...repo, issue_number: issueNumber, body });
      }
    }
    const status = await store.putDrift({
      ...target,
      state: 'clean',
      issueNumber: null,
      firstSeenAt: null,
      lastCheckedAt: now,
      report,
    });
    return {
      status,
      report,
      ...(issueNumber !== undefined ? { issueNumber } : {}),
      opened: false,
      closed,
      errorPosted: false,
    };
  }

  const ongoing = prev !== undefined && prev.state !== 'clean';
  const firstSeen = ongoing && prev.firstSeenAt ? prev.firstSeenAt : now;
  const failed = result.status === 'error';
  // A failed check does not know the drift: the last known drifted resources stay listed under the failure.
  const resources = failed ? (ongoing ? (prevReport?.resources ?? []) : []) : result.resources;
  const report: DriftReport = {
    ...base,
    status: result.status,
    firstSeenAt: firstSeen.toISOString(),
    checks: (ongoing ? (prevReport?.checks ?? 0) : 0) + 1,
    resources,
    ...(!failed && ongoing && prevReport && prevReport.resources.length > 0
      ? { delta: driftDelta(prevReport.resources, result.resources) }
      : {}),
    ...(!failed && result.plan ? { planHeadline: planHeadline(result.plan) } : {}),
    ...(failed ? { error: result.error ?? 'unknown error' } : {}),
    ...(ongoing && prevReport?.errorHash ? { errorHash: prevReport.errorHash } : {}),
    ...(ongoing && prevReport?.autoReconciled ? { autoReconciled: true } : {}),
  };
  if (!ongoing) delete report.previousCheckAt;
  // Stored before the issue exists: a retry of this check reuses `firstSeen`, hence the same creation key.
  let issueNumber = prev?.issueNumber ?? null;
  const save = (issue: number | null) =>
    store.putDrift({
      ...target,
      state: result.status,
      issueNumber: issue,
      firstSeenAt: firstSeen,
      lastCheckedAt: now,
      report,
    });
  await save(issueNumber);

  const body = renderDriftIssueBody(report, { requiredPermission: input.requiredPermission });
  let opened = false;
  if (issueNumber === null) {
    const made = await sideEffectOnce(
      store,
      `drift-issue:${full}:${project.name}:${project.workspace}:${firstSeen.toISOString()}`,
      {
        create: async () => {
          const res = await octokit.rest.issues.create({
            ...repo,
            title: driftIssueTitle(project),
            body,
            labels: [DRIFT_LABEL],
          });
          return String(res.data.number);
        },
      },
    );
    issueNumber = Number(made.value);
    opened = made.created;
  } else {
    const { data: issue } = await octokit.rest.issues.get({ ...repo, issue_number: issueNumber });
    // Still drifted after someone closed it (or a reconcile PR was merged without fixing it): the same issue reopens.
    await octokit.rest.issues.update({
      ...repo,
      issue_number: issueNumber,
      body,
      ...(issue.state === 'closed' ? { state: 'open' as const } : {}),
    });
  }

  let errorPosted = false;
  if (failed) {
    const hash = sha256(report.error ?? '');
    if (hash !== report.errorHash) {
      const number = issueNumber;
      await sideEffectOnce(store, `drift-error:${full}#${number}:${hash}:${firstSeen.toISOString()}`, {
        create: async () => {
          const res = await octokit.rest.issues.createComment({
            ...repo,
            issue_number: number,
            body: renderFailureComment(project, report.error ?? ''),
          });
          return String(res.data.id);
        },
      });
      report.errorHash = hash;
      errorPosted = true;
    }
  }
  const status = await save(issueNumber);
  return { status, report, issueNumber, opened, closed: false, errorPosted };
}

/** Mark that auto_reconcile asked for this drift's PR, so later checks do not ask again. */
export async function markAutoReconciled(store: Store, status: DriftStatusRecord): Promise<void> {
  const report = parseReport(status.report);
  if (!report) return;
  await store.putDrift({ ...status, report: { ...report, autoReconciled: true } });
}
