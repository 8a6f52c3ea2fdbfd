// The glue the GitHub layer calls for the apply side of the loop, one function per event or command. Each takes the
// port (GitHub) and the store, does the work through the pure modules and answers on the PR. The webhook handlers
// verify, dedupe and enqueue; these run in the worker (the approval runs terraform) or are quick enough for the
// handler (override, unlock, closed: store writes and one comment).
import type { RepoConfig } from '../config/schema.js';
import type { ApplyGitHubPort } from '../core/apply-port.js';
import type { Project } from '../core/types.js';
import type { Store } from '../store/types.js';
import { type LockWaiter, releasePullRequestLocks, takeProjectLocks, unlockCommand } from './locks.js';
import { renderLockHeld, renderOverrideRecorded, renderOverrideRefused, renderUnlocked } from './messages.js';
import { type OverrideOutcome, ownerTeams, recordOverride } from './overrides.js';

export interface ApplyCommandDeps {
  store: Store;
  port: ApplyGitHubPort;
  /** Queue a plan run for a PR (its lock freed). */
  requestPlan: (req: { pr: number; reason: string }) => Promise<void>;
}

/** `/infra override <RULE-ID> <reason>` on one of the app's PRs. Answers in the PR either way. */
export async function handleOverrideCommand(
  deps: Omit<ApplyCommandDeps, 'requestPlan'>,
  cmd: { pr: number; login: string; ruleId: string; reason: string; config: RepoConfig },
): Promise<OverrideOutcome> {
  const teams: string[] = [];
  for (const { org, team } of ownerTeams(cmd.config.policy.policy_owners)) {
    if (await deps.port.isTeamMember(org, team, cmd.login)) teams.push(`${org}/${team}`);
  }
  const outcome = await recordOverride({
    store: deps.store,
    config: cmd.config,
    repo: deps.port.repo,
    pr: cmd.pr,
    login: cmd.login,
    teams,
    ruleId: cmd.ruleId,
    reason: cmd.reason,
  });
  await deps.port.comment(
    cmd.pr,
    outcome.ok ? renderOverrideRecorded(outcome.overrides) : renderOverrideRefused(cmd.login, outcome.message),
  );
  return outcome;
}

/** `/infra unlock [project]`: write permission; releases this PR's locks and queues the PRs that waited. */
export async function handleUnlockCommand(
  deps: ApplyCommandDeps,
  cmd: { pr: number; login: string; project?: string },
): Promise<{ ok: boolean; waiters: LockWaiter[] }> {
  const permission = await deps.port.getPermission(cmd.login);
  const res = await unlockCommand(deps.store, {
    repo: deps.port.repo,
    pr: cmd.pr,
    actor: cmd.login,
    permission,
    ...(cmd.project !== undefined ? { project: cmd.project } : {}),
  });
  if (!res.ok) {
    await deps.port.comment(cmd.pr, `@${cmd.login} nothing was unlocked: ${res.message}.`);
    return { ok: false, waiters: [] };
  }
  await deps.port.comment(cmd.pr, renderUnlocked(cmd.login, res.released, res.waiters));
  for (const w of res.waiters) {
    await deps.requestPlan({
      pr: w.pr,
      reason: `lock on ${w.project}/${w.workspace} released by /infra unlock on #${cmd.pr}`,
    });
  }
  return { ok: true, waiters: res.waiters };
}

/** `pull_request.closed` (merged or not): release the PR's locks and queue the PRs that waited for them. */
export async function handlePullRequestClosed(
  deps: Omit<ApplyCommandDeps, 'port'> & { repo: string },
  event: { pr: number; merged: boolean; actor: string },
): Promise<{ waiters: LockWaiter[] }> {
  const res = await releasePullRequestLocks(deps.store, {
    repo: deps.repo,
    pr: event.pr,
    actor: event.actor,
    reason: event.merged ? 'merged' : 'closed',
  });
  for (const w of res.waiters) {
    await deps.requestPlan({
      pr: w.pr,
      reason: `lock on ${w.project}/${w.workspace} freed: #${event.pr} was ${event.merged ? 'merged' : 'closed'}`,
    });
  }
  return { waiters: res.waiters };
}

/**
 * Before a plan run plans a PR's projects: take their locks. When another PR holds one, nothing is planned, the PR
 * is told who holds it, and it waits (it is queued to plan when the lock frees). Returns false then.
 */
export async function lockProjectsForPlan(
  deps: Omit<ApplyCommandDeps, 'requestPlan'>,
  req: { pr: number; runId: string; projects: Pick<Project, 'name' | 'workspace'>[] },
): Promise<boolean> {
  const res = await takeProjectLocks(deps.store, {
    repo: deps.port.repo,
    pr: req.pr,
    runId: req.runId,
    projects: req.projects,
  });
  if (res.ok) return true;
  await deps.port.comment(req.pr, renderLockHeld(req.pr, res.blocked));
  return false;
}
