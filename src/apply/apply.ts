// Approve → apply, for one approving review of one of the app's PRs. The steps, in order:
//   1 once per review (a re-delivered webhook changes nothing)
//   2 gather the facts (PR, reviews, commits, approver, plan set, saved plans, verdicts, locks, apply records)
//   3 decide (requirements.ts): refuse with the missing requirements, re-plan a stale plan, or apply
//   4 locks: hold every project's lock for the whole apply
//   5 per project in dependency order: saved plan bytes from the store (bound to head + base, checksummed) → plan
//     file → init → claim the plan hash and mark the run "applying" → `terraform apply <planfile>` → record
//   6 success: report, merge (or not), close the issue, release the locks, label; failure: report the error and
//     what to do next, keep the locks and the PR open.
// A plan hash is applied at most once: its claim is written before terraform starts and never cleared, so a crash
// mid-apply leaves a claim that refuses every later attempt until a human re-plans (new hash).
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { RepoConfig } from '../config/schema.js';
import { ownedPullRequest } from '../github/ownership.js';
import { readMarkers } from '../markdown/markers.js';
import { renderInline } from '../markdown/text.js';
import { resolveProjectDir } from '../pipeline/checks.js';
import { workDirPrefix } from '../pipeline/work-dirs.js';
import { runGuard } from '../policy/scanners/pregate.js';
import { decideVerdict } from '../policy/verdict.js';
import { applyMayHaveStarted, interruptedApplyMessage, startRunHeartbeat } from '../queue/recovery.js';
import { withProjectSlot } from '../store/project-slot.js';
import type { RequesterReason, RunRecord, Store } from '../store/types.js';
import { type Terraform, TerraformError, terraformForRepo } from '../terraform/engine.js';
import { Redactor, redact } from '../util/redact.js';
import { type LockWaiter, lockTarget, releasePullRequestLocks, takeProjectLocks } from './locks.js';
import {
  type ApplyReportInput,
  type ProjectApplyReport,
  renderApplyCheckSummary,
  renderApplyReport,
  renderInterruptedApply,
  renderLockHeld,
  renderRefusal,
  renderReplan,
} from './messages.js';
import { DependencyCycleError, orderByDependencies } from './order.js';
import { findSavedPlan, loadGate, loadPlanSet, type PlannedProject, type PlanSet, sha256 } from './plan-record.js';
import {
  APPLY_LABELS,
  type ApplyGitHubPort,
  type CommitFacts,
  type PullRequestFacts,
  type ReviewState,
} from './port.js';
import {
  type ActorFacts,
  type ApplyDecision,
  type ApplyRecordState,
  type ApplyRequirementsInput,
  evaluateApplyRequirements,
  type ProjectFacts,
  type Requirement,
} from './requirements.js';

/** Run events and the audit log keep this much of terraform's output; the PR comments get all of it (split). */
const EVENT_OUTPUT_CHARS = 4_000;

export interface ApplyDeps {
  store: Store;
  port: ApplyGitHubPort;
  /** The app's bot login (`<slug>[bot]`): its commits are not human commits, its PRs are the ones it applies. */
  botLogin: string;
  /** A fresh checkout of the repository at `sha`; `cleanup` removes it. */
  checkout: (sha: string) => Promise<{ root: string; cleanup: () => Promise<void> }>;
  /**
   * Whether the PR head contains its base branch's tip (git, in a checkout). Asked only when the decision would apply
   * or re-plan. Absent: not checked (the requirement is then not evaluated).
   */
  headContainsBase?: (pr: PullRequestFacts) => Promise<boolean>;
  /** Queue a plan run for a PR (stale plan, a lock it waited for freed). */
  requestPlan: (req: { pr: number; reason: string }) => Promise<void>;
  /** Default: the pinned terraform with the config's passthrough env and plan timeout. */
  terraform?: (config: RepoConfig) => Terraform;
  signal?: AbortSignal;
}

export interface ApprovalRequest {
  pr: number;
  review: { id: number; login: string; userType: string; state: ReviewState; commitId: string };
  config: RepoConfig;
  /** The apply run the enqueuer created (kind 'apply'); when absent one is created. */
  runId?: string;
}

export type ApprovalOutcome =
  | { outcome: 'duplicate' }
  | { outcome: 'ignored'; reason: string }
  | { outcome: 'refused'; missing: Requirement[] }
  | { outcome: 're-plan'; missing: Requirement[] }
  | { outcome: 'applied'; runId: string; projects: ProjectApplyReport[]; merged: boolean; waiters: LockWaiter[] }
  | { outcome: 'failed'; runId: string; projects: ProjectApplyReport[]; error: string }
  | { outcome: 'needs-human'; runId: string; error: string };

export function applyClaimKey(repo: string, pr: number, project: string, workspace: string, planHash: string): string {
  return `apply:${repo}#${pr}:${project}/${workspace}:${planHash}`;
}

function approvalKey(repo: string, pr: number, reviewId: number): string {
  return `approval:${repo}#${pr}:review-${reviewId}`;
}

function parseClaim(value: string | undefined): { state: ApplyRecordState; runId: string } | undefined {
  const m = /^(applying|applied|failed):(.+)$/.exec(value ?? '');
  if (!m?.[1] || !m[2]) return undefined;
  const state = m[1] === 'applying' ? 'applying' : m[1] === 'applied' ? 'applied' : 'failed';
  return { state, runId: m[2] };
}

/** A git author name is untrusted text: shown as plain text (text.ts), never as markup or a mention. */
function displayAuthor(login: string | undefined, name: string): string {
  if (login) return `@${login}`;
  return renderInline(name, { max: 40 }) || 'an unknown author';
}

/** GitHub's account for commits made in its web UI (the committer of a web edit or an "Update branch"). */
const WEB_FLOW = 'web-flow';

const REASON_TEXT: Record<RequesterReason, (detail: string, issue: number) => string> = {
  'issue-author': (_d, issue) => `opened issue #${issue}`,
  labeller: (_d, issue) => `labelled issue #${issue}`,
  command: (d) => (d.startsWith('revise:') ? 'asked for a revision' : 'asked for the change by command'),
  pusher: (d) => `pushed ${/^[0-9a-f]{7,40}$/i.test(d) ? d.slice(0, 7) : 'commits'} to the branch`,
  'commit-author': (d) => `authored commit ${d.slice(0, 7)}`,
  'commit-committer': (d) => `committed ${d.slice(0, 7)}`,
};

/**
 * Everybody who asked for this change, with why: the store's record (issue author and labeller, commands, every
 * pusher the App saw) and GitHub's links of every commit on the branch to accounts (author and committer, both
 * recorded). A commit GitHub links to no account is its pusher's: covered by a recorded push whose head contains it,
 * otherwise reported as unattributed. Nothing here comes from a body.
 */
async function countRequesters(
  deps: ApplyDeps,
  issue: number,
  commits: CommitFacts[],
  isApp: (login: string | undefined) => boolean,
): Promise<{ requesters: string[]; reasons: Record<string, string[]>; unattributed: string[] }> {
  const { store, port } = deps;
  const repo = port.repo;
  const author = await port.getIssueAuthor(issue);
  if (author) await store.addRequester({ repo, issue, login: author, reason: 'issue-author' });
  const index = new Map(commits.map((c, i) => [c.sha, i]));
  for (const c of commits) {
    if (c.authorLogin && !isApp(c.authorLogin)) {
      await store.addRequester({ repo, issue, login: c.authorLogin, reason: 'commit-author', detail: c.sha });
    }
    if (c.committerLogin && !isApp(c.committerLogin) && c.committerLogin !== WEB_FLOW) {
      await store.addRequester({ repo, issue, login: c.committerLogin, reason: 'commit-committer', detail: c.sha });
    }
  }
  const recorded = await store.listRequesters(repo, issue);
  const pushedHeads = recorded.filter((r) => r.reason === 'pusher').map((r) => index.get(r.detail) ?? -1);
  const unattributed = commits
    .filter((c, i) => !isApp(c.authorLogin) && !c.authorLogin && !c.committerLogin && !pushedHeads.some((h) => h >= i))
    .map((c) => c.sha);
  const reasons: Record<string, string[]> = {};
  for (const r of recorded) {
    const list = reasons[r.login] ?? [];
    const text = REASON_TEXT[r.reason](r.detail, issue);
    if (!list.includes(text)) list.push(text);
    reasons[r.login] = list;
  }
  // Runs recorded before requesters were stored: their trigger still counts.
  const runs = await store.listRuns({ key: `${repo}#${issue}`, kind: 'generate', limit: 20 });
  for (const r of runs) if (r.triggeredBy && !isApp(r.triggeredBy)) reasons[r.triggeredBy] ??= ['asked for the change'];
  return { requesters: Object.keys(reasons), reasons, unattributed };
}

async function actorFacts(port: ApplyGitHubPort, config: RepoConfig, login: string, type: string): Promise<ActorFacts> {
  const teams: string[] = [];
  for (const slug of config.apply.approvers.teams) {
    const [org, team] = slug.replace(/^@/, '').split('/');
    if (org && team && (await port.isTeamMember(org, team, login))) teams.push(slug);
  }
  return { login, type, permission: await port.getPermission(login), teams };
}

export interface GatheredFacts {
  input: ApplyRequirementsInput;
  pr: PullRequestFacts;
  set: PlanSet | undefined;
  /** The plan set's projects in apply order (empty on a dependency cycle). */
  ordered: PlannedProject[];
  issueNumber: number | undefined;
}

/** Step 2: everything the decision needs, read fresh from GitHub and the store. */
export async function gatherApplyFacts(deps: ApplyDeps, req: ApprovalRequest): Promise<GatheredFacts> {
  const { store, port, botLogin } = deps;
  const { config } = req;
  const repo = port.repo;
  const pr = await port.getPullRequest(req.pr);
  const owned = await ownedPullRequest(store, repo, { number: pr.number, user: pr.author }, botLogin);
  const [reviews, commits, set] = await Promise.all([
    port.listReviews(req.pr),
    port.listCommits(req.pr),
    loadPlanSet(store, repo, req.pr),
  ]);

  const isApp = (login: string | undefined) => login !== undefined && login.toLowerCase() === botLogin.toLowerCase();
  const who = owned
    ? await countRequesters(deps, owned.issueNumber, commits, isApp)
    : { requesters: [], reasons: {}, unattributed: [] };

  // Commits after the plan's head that the app did not make.
  const planIndex = set ? commits.findIndex((c) => c.sha === set.headSha) : -1;
  const after = set ? (planIndex >= 0 ? commits.slice(planIndex + 1) : commits) : [];
  const humanCommits = after
    .filter((c) => !isApp(c.authorLogin))
    .map((c) => ({ sha: c.sha, who: displayAuthor(c.authorLogin, c.authorName) }));

  const approver = await actorFacts(port, config, req.review.login, req.review.userType);
  const reviewers: Record<string, ActorFacts> = { [approver.login]: approver };
  for (const r of reviews) {
    if (r.state !== 'APPROVED' || reviewers[r.login] || r.userType === 'Bot') continue;
    reviewers[r.login] = await actorFacts(port, config, r.login, r.userType);
  }

  let ordered: PlannedProject[] = [];
  let dependencyError: string | undefined;
  if (set) {
    try {
      ordered = orderByDependencies(set.projects);
    } catch (err) {
      if (!(err instanceof DependencyCycleError)) throw err;
      dependencyError = err.message;
    }
  }

  const projects: ProjectFacts[] = [];
  for (const p of ordered) {
    const facts: ProjectFacts = { name: p.name, workspace: p.workspace, planHash: p.planHash };
    if (p.error !== undefined) facts.planError = p.error;
    const lock = await store.getLock(lockTarget(repo, p));
    if (lock) facts.lock = lock;
    if (p.planHash !== null && set) {
      const saved = await findSavedPlan(store, set, p);
      if (saved) facts.savedPlan = { headSha: saved.headSha, baseSha: saved.baseSha, planHash: saved.planHash };
      const scanners = await loadGate(store, {
        repo,
        pr: req.pr,
        project: p.name,
        workspace: p.workspace,
        planHash: p.planHash,
      });
      if (scanners) {
        const overrides = await store.listOverrides({ repo, pr: req.pr, planHash: p.planHash });
        facts.verdict = decideVerdict({ scanners, overrides, config: config.policy, planHash: p.planHash });
      }
      const claim = parseClaim(await store.getKey(applyClaimKey(repo, req.pr, p.name, p.workspace, p.planHash)));
      if (claim) facts.applyRecord = claim;
    }
    projects.push(facts);
  }

  const input: ApplyRequirementsInput = {
    config: config.apply,
    pr,
    ownedByApp: owned !== undefined,
    review: { id: req.review.id, login: req.review.login, state: req.review.state, commitId: req.review.commitId },
    approver,
    requesters: who.requesters,
    requesterReasons: who.reasons,
    unattributedCommits: who.unattributed,
    reviewers,
    reviews,
    ...(set ? { plan: { headSha: set.headSha, baseSha: set.baseSha } } : {}),
    humanCommits,
    planHeadInBranch: planIndex >= 0,
    projects,
    ...(dependencyError !== undefined ? { dependencyError } : {}),
  };
  return { input, pr, set, ordered, issueNumber: owned?.issueNumber };
}

/**
 * Handle one approving review: apply exactly the reviewed plans, or say precisely why not. Safe to call again for
 * the same review (re-delivery): the second call returns 'duplicate' and does nothing.
 */
export async function applyReviewedPlan(deps: ApplyDeps, req: ApprovalRequest): Promise<ApprovalOutcome> {
  const { store, port } = deps;
  const repo = port.repo;
  if (req.review.state !== 'APPROVED') return { outcome: 'ignored', reason: 'not an approving review' };

  // 1 Once per review: a second delivery (or a second job for it) sees the first one's claim.
  // A retried job of the same run may pass again; anything else for the same review is a duplicate.
  const claimValue = req.runId ?? `once:${randomUUID()}`;
  const once = await store.putKeyIfAbsent(approvalKey(repo, req.pr, req.review.id), claimValue);
  if (!once.inserted && once.value !== claimValue) return { outcome: 'duplicate' };

  // 2 + 3
  const facts = await gatherApplyFacts(deps, req);
  let decision: ApplyDecision = evaluateApplyRequirements(facts.input);
  // Behind its base? Asked only when the answer matters (a checkout and a fetch): before applying, and before
  // re-planning, since a re-plan of a head behind its base would only produce a plan that reverts the base.
  if ((decision.ok || decision.action === 're-plan') && deps.headContainsBase) {
    if (!(await deps.headContainsBase(facts.pr))) {
      facts.input.behindBase = { baseRef: facts.pr.baseRef, baseSha: facts.pr.baseSha };
      decision = evaluateApplyRequirements(facts.input);
    }
  }
  if (!decision.ok) {
    // A people's PR without any of our markers is none of our business: approving it must not draw a bot reply.
    // One that carries our markers but was not opened by the app gets the refusal (someone copied a body).
    if (decision.missing.some((m) => m.code === 'not-app-pr') && Object.keys(readMarkers(facts.pr.body)).length === 0) {
      return { outcome: 'ignored', reason: 'not a pull request opened by infra-agent' };
    }
    await store.audit({
      actor: req.review.login,
      action: decision.action === 're-plan' ? 'apply.replan' : 'apply.refused',
      repo,
      target: `#${req.pr}`,
      details: { reviewId: req.review.id, missing: decision.missing.map((m) => m.code) },
    });
    if (decision.action === 're-plan') {
      await port.comment(req.pr, renderReplan(req.review.login, decision.missing));
      await deps.requestPlan({ pr: req.pr, reason: decision.missing.map((m) => m.code).join(',') });
      return { outcome: 're-plan', missing: decision.missing };
    }
    await port.comment(req.pr, renderRefusal(req.review.login, decision.missing));
    return { outcome: 'refused', missing: decision.missing };
  }
  const set = facts.set;
  if (!set || facts.issueNumber === undefined) throw new Error('requirements passed without a plan set or issue');
  return executeApply(deps, req, { pr: facts.pr, set, ordered: facts.ordered, issueNumber: facts.issueNumber });
}

async function startRun(store: Store, req: ApprovalRequest, repo: string, issueNumber: number, set: PlanSet) {
  const input = {
    pr: req.pr,
    reviewId: req.review.id,
    headSha: set.headSha,
    baseSha: set.baseSha,
    planHashes: set.projects.map((p) => p.planHash),
  };
  if (req.runId) {
    const existing = await store.getRun(req.runId);
    if (!existing) throw new Error(`apply run ${req.runId} does not exist`);
    return store.updateRun(req.runId, {
      status: 'running',
      stage: 'locking',
      ...(existing.startedAt ? {} : { startedAt: new Date() }),
      heartbeatAt: new Date(),
    });
  }
  const run = await store.createRun({
    kind: 'apply',
    repo,
    number: issueNumber,
    triggeredBy: req.review.login,
    input,
    status: 'running',
    stage: 'locking',
  });
  return store.updateRun(run.id, { startedAt: new Date(), heartbeatAt: new Date(), attempt: 1 });
}

async function executeApply(
  deps: ApplyDeps,
  req: ApprovalRequest,
  ctx: { pr: PullRequestFacts; set: PlanSet; ordered: PlannedProject[]; issueNumber: number },
): Promise<ApprovalOutcome> {
  const { store, port } = deps;
  const repo = port.repo;
  const { set } = ctx;
  const run = await startRun(store, req, repo, ctx.issueNumber, set);
  const runId = run.id;
  // A long apply must not look like a dead worker to the recovery sweep.
  const stopHeartbeat = startRunHeartbeat(store, runId);
  try {
    return await executeApplyRun(deps, req, ctx, runId);
  } finally {
    stopHeartbeat();
  }
}

async function executeApplyRun(
  deps: ApplyDeps,
  req: ApprovalRequest,
  ctx: { pr: PullRequestFacts; set: PlanSet; ordered: PlannedProject[]; issueNumber: number },
  runId: string,
): Promise<ApprovalOutcome> {
  const { store, port } = deps;
  const repo = port.repo;
  const { pr, set } = ctx;

  // 4 Hold every lock for the whole apply (a race since the check refuses here).
  const locked = await takeProjectLocks(store, { repo, pr: req.pr, runId, projects: ctx.ordered });
  if (!locked.ok) {
    await store.updateRun(runId, {
      status: 'failed',
      error: 'a project is locked by another pull request',
      finishedAt: new Date(),
    });
    const missing: Requirement[] = locked.blocked.map((b) => ({
      code: 'lock-held',
      project: b.project,
      message: `\`${b.project}\` is locked by #${b.lock.holder.pr}`,
    }));
    await port.comment(
      req.pr,
      `${renderRefusal(req.review.login, missing)}\n\n${renderLockHeld(req.pr, locked.blocked)}`,
    );
    return { outcome: 'refused', missing };
  }

  await store.audit({
    actor: req.review.login,
    action: 'plan.approved',
    repo,
    target: `#${req.pr}`,
    details: {
      runId,
      reviewId: req.review.id,
      headSha: set.headSha,
      baseSha: set.baseSha,
      plans: ctx.ordered.map((p) => ({ project: p.name, workspace: p.workspace, planHash: p.planHash })),
    },
  });
  await port.reportApplyCheck({
    headSha: pr.headSha,
    status: 'in_progress',
    title: 'Applying the reviewed plan',
    summary: `Approved by @${req.review.login}; run \`${runId}\`.`,
  });
  await port.setLabels(req.pr, { add: [APPLY_LABELS.applying], remove: [APPLY_LABELS.failed] });

  // 5 Apply each project in order; stop at the first failure.
  const reports: ProjectApplyReport[] = ctx.ordered.map((p) => ({
    project: p.name,
    workspace: p.workspace,
    planHash: p.planHash ?? '',
    status: 'skipped',
  }));
  let failure: Failure | undefined;
  const planDir = await mkdtemp(workDirPrefix(undefined, 'apply'));
  let checkout: { root: string; cleanup: () => Promise<void> } | undefined;
  let tf: Terraform | undefined;
  try {
    checkout = await deps.checkout(pr.headSha);
    const checkoutRoot = checkout.root;
    const engine = (deps.terraform ?? terraformForRepo)(req.config);
    tf = engine;
    for (const [i, p] of ctx.ordered.entries()) {
      const report = reports[i];
      if (!report) continue;
      // One terraform execution per project+workspace at a time: a plan of another issue waits for this apply.
      const result = await withProjectSlot(
        store,
        { repo, project: p.name, workspace: p.workspace },
        () =>
          applyProject(deps, {
            req,
            runId,
            pr,
            set,
            project: p,
            checkoutRoot,
            planDir,
            tf: engine,
          }),
        deps.signal ? { signal: deps.signal } : {},
      );
      Object.assign(report, result.report);
      if (result.failure) {
        failure = result.failure;
        break;
      }
    }
  } catch (err) {
    // Unexpected (checkout, store, disk). If this run already claimed a plan, terraform may have run: a human decides.
    let claimed = false;
    for (const p of ctx.ordered) {
      if (p.planHash === null) continue;
      const value = await store
        .getKey(applyClaimKey(repo, req.pr, p.name, p.workspace, p.planHash))
        .catch(() => undefined);
      if (value === `applying:${runId}` || value === `applied:${runId}`) claimed = true;
    }
    failure = {
      error: redact(err instanceof Error ? err.message : String(err)),
      pointOfNoReturn: claimed,
      unexpected: true,
    };
  } finally {
    // The TF data dirs of this apply (outside the checkout) go with it.
    tf?.dispose?.();
    await rm(planDir, { recursive: true, force: true });
    await checkout?.cleanup().catch(() => {});
  }

  if (failure) return finishFailure(deps, req, { runId, pr, reports, failure });
  return finishSuccess(deps, req, { runId, pr, reports, issueNumber: ctx.issueNumber });
}

interface Failure {
  error: string;
  /** Terraform may have changed something. */
  pointOfNoReturn: boolean;
  /** Not a terraform error we understand: with pointOfNoReturn, the run needs a human. */
  unexpected?: boolean;
}

interface ProjectStepResult {
  report?: Partial<ProjectApplyReport>;
  failure?: Failure;
}

async function applyProject(
  deps: ApplyDeps,
  a: {
    req: ApprovalRequest;
    runId: string;
    pr: PullRequestFacts;
    set: PlanSet;
    project: PlannedProject;
    checkoutRoot: string;
    planDir: string;
    tf: Terraform;
  },
): Promise<ProjectStepResult> {
  const { store, port } = deps;
  const repo = port.repo;
  const { project: p, runId } = a;
  const sig = deps.signal ? { signal: deps.signal } : {};
  if (p.planHash === null) return { failure: { error: `${p.name} has no plan`, pointOfNoReturn: false } };
  const planHash = p.planHash;

  // The saved bytes, bound to this head and base, checksummed again here: what runs is what was reviewed.
  const saved = await store.getPlan({ repo, pr: a.req.pr, project: p.name, workspace: p.workspace, planHash });
  if (!saved)
    return {
      failure: { error: `the saved plan of ${p.name} (${planHash}) is gone from the store`, pointOfNoReturn: false },
    };
  if (saved.headSha !== a.pr.headSha || saved.baseSha !== a.pr.baseSha || sha256(saved.bytes) !== planHash) {
    return {
      failure: {
        error: `the saved plan of ${p.name} does not match the reviewed head, base and hash`,
        pointOfNoReturn: false,
      },
    };
  }
  const counts = {
    add: saved.summary.counts.add,
    change: saved.summary.counts.change,
    destroy: saved.summary.counts.destroy,
    replace: saved.summary.counts.replace,
  };
  const dir = await resolveProjectDir(a.checkoutRoot, p.dir);
  // Literal secrets in the code (SEC-SECRET-001, e.g. when a repo lowered its level) are masked in the apply output
  // as they were in the plan output.
  const masker = new Redactor();
  for (const secret of (await runGuard(dir, a.checkoutRoot, a.req.config.policy)).secrets) masker.add(secret);
  const planFile = join(a.planDir, `${p.name}-${p.workspace}.tfplan`);
  await writeFile(planFile, saved.bytes, { mode: 0o600 });

  await store.updateRun(runId, { stage: `init:${p.name}`, heartbeatAt: new Date() });
  try {
    await a.tf.init(dir, sig);
    if (p.workspace !== 'default') await a.tf.selectWorkspace(dir, p.workspace, sig);
  } catch (err) {
    const error = redact(err instanceof Error ? err.message : String(err));
    await store.addRunEvent({
      runId,
      stage: `init:${p.name}`,
      status: 'failed',
      message: error.slice(0, EVENT_OUTPUT_CHARS),
    });
    return { report: { status: 'failed', counts, error }, failure: { error, pointOfNoReturn: false } };
  }

  // Point of no return: claim the plan hash and say "applying" BEFORE terraform may change anything.
  const claimKey = applyClaimKey(repo, a.req.pr, p.name, p.workspace, planHash);
  const claim = await store.putKeyIfAbsent(claimKey, `applying:${runId}`);
  if (!claim.inserted) {
    const error = `this plan of ${p.name} was already claimed (${claim.value}); it is never applied twice`;
    return { report: { status: 'skipped', counts, error }, failure: { error, pointOfNoReturn: false } };
  }
  await store.updateRun(runId, { stage: `applying:${p.name}`, heartbeatAt: new Date() });
  await store.addRunEvent({ runId, stage: `applying:${p.name}`, status: 'started', message: `plan ${planHash}` });
  await store.audit({
    actor: a.req.review.login,
    action: 'apply.started',
    repo,
    target: `#${a.req.pr}`,
    details: { runId, project: p.name, workspace: p.workspace, planHash, headSha: a.pr.headSha, baseSha: a.pr.baseSha },
  });

  const started = Date.now();
  let output: string;
  try {
    ({ output } = await a.tf.apply(dir, planFile, sig));
  } catch (err) {
    // Terraform said no (or died): record it. If recording fails, the claim stays "applying" and a human decides.
    const error = masker.redact(
      redact(
        err instanceof TerraformError
          ? `${err.message}${err.stderrTail && !err.message.includes(err.stderrTail) ? `\n\n${err.stderrTail}` : ''}`
          : err instanceof Error
            ? err.message
            : String(err),
      ),
    );
    await store.putKey(claimKey, `failed:${runId}`);
    await store.addRunEvent({
      runId,
      stage: `applying:${p.name}`,
      status: 'failed',
      durationMs: Date.now() - started,
      message: error.slice(0, EVENT_OUTPUT_CHARS),
    });
    await store.audit({
      actor: 'infra-agent',
      action: 'apply.failed',
      repo,
      target: `#${a.req.pr}`,
      details: { runId, project: p.name, workspace: p.workspace, planHash, error: error.slice(0, EVENT_OUTPUT_CHARS) },
    });
    return { report: { status: 'failed', counts, error }, failure: { error, pointOfNoReturn: true } };
  }
  // Terraform succeeded. Bookkeeping errors from here are not terraform's: they propagate, the claim stays
  // "applying", and the run becomes needs-human (never "failed", which would invite a retry of an applied plan).
  const clean = masker.redact(redact(output));
  const durationMs = Date.now() - started;
  await store.putKey(claimKey, `applied:${runId}`);
  await store.addRunEvent({
    runId,
    stage: `applying:${p.name}`,
    status: 'ok',
    durationMs,
    message: clean.slice(-EVENT_OUTPUT_CHARS),
  });
  await store.audit({
    actor: a.req.review.login,
    action: 'apply.succeeded',
    repo,
    target: `#${a.req.pr}`,
    details: { runId, project: p.name, workspace: p.workspace, planHash, counts, durationMs },
  });
  return { report: { status: 'applied', counts, durationMs, output: clean } };
}

async function finishFailure(
  deps: ApplyDeps,
  req: ApprovalRequest,
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
        'fix the cause (push to this branch or `/infra revise <what to change>`), or comment `/infra plan` to plan again',
        'review the new plan and approve again — a saved plan is applied once, never retried',
        'the project locks stay with this pull request; `/infra unlock` releases them if you abandon it',
      ];
  const input: ApplyReportInput = {
    approver: req.review.login,
    runId: f.runId,
    headSha: f.pr.headSha,
    projects: f.reports,
    ok: false,
    after: ['Nothing was merged; the pull request stays open and keeps its locks.'],
    nextSteps,
  };
  await publishApplyReport(port, req.pr, input, 'failure');
  await port.setLabels(req.pr, {
    add: [needsHuman ? APPLY_LABELS.needsHuman : APPLY_LABELS.failed],
    remove: [APPLY_LABELS.applying],
  });
  await store.updateRun(f.runId, {
    status: needsHuman ? 'needs-human' : 'failed',
    error: f.failure.error.slice(0, EVENT_OUTPUT_CHARS),
    workerId: null,
    finishedAt: new Date(),
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

async function finishSuccess(
  deps: ApplyDeps,
  req: ApprovalRequest,
  s: { runId: string; pr: PullRequestFacts; reports: ProjectApplyReport[]; issueNumber: number },
): Promise<ApprovalOutcome> {
  const { store, port } = deps;
  const repo = port.repo;
  const method = req.config.apply.merge_method;
  const after: string[] = [];
  let merged = false;
  let waiters: LockWaiter[] = [];
  if (method === 'off') {
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
  // A drift issue is closed by the drift check that finds no drift, not by the reconcile PR's apply.
  if ((await store.listDrift({ repo, issueNumber: s.issueNumber })).length > 0) {
    after.push(`Drift issue #${s.issueNumber} stays open until a drift check finds no drift.`);
  } else {
    await port.closeIssue(s.issueNumber);
    after.push(`Closed #${s.issueNumber}.`);
  }

  const input: ApplyReportInput = {
    approver: req.review.login,
    runId: s.runId,
    headSha: s.pr.headSha,
    projects: s.reports,
    ok: true,
    after,
  };
  await publishApplyReport(port, req.pr, input, 'success');
  await port.setLabels(req.pr, { add: [APPLY_LABELS.applied], remove: [APPLY_LABELS.applying, APPLY_LABELS.failed] });
  await store.updateRun(s.runId, {
    status: 'succeeded',
    stage: 'done',
    error: null,
    workerId: null,
    finishedAt: new Date(),
  });
  for (const w of waiters)
    await deps.requestPlan({ pr: w.pr, reason: `lock on ${w.project}/${w.workspace} freed by #${req.pr}` });
  return { outcome: 'applied', runId: s.runId, projects: s.reports, merged, waiters };
}

// ---- Crash recovery ---------------------------------------------------------------------------------------------

export interface InterruptedApply {
  run: RunRecord;
  /** The PR to tell (from the run's input). */
  pr: number | undefined;
  /** The comment to post on it. */
  message: string;
}

/**
 * At worker start: every apply run still `running` was interrupted (this process is the only one that ran it, or
 * its worker stopped heartbeating). It becomes `needs-human`, keeps its locks and its plan-hash claim (so no later
 * approval re-runs it), and the caller posts `message` on the PR. Never re-runs anything.
 */
export async function recoverInterruptedApplies(
  store: Store,
  options: { staleAfterMs?: number; now?: Date } = {},
): Promise<InterruptedApply[]> {
  const now = (options.now ?? new Date()).getTime();
  const staleAfter = options.staleAfterMs ?? 0;
  const out: InterruptedApply[] = [];
  for (const run of await store.listRuns({ kind: 'apply', status: 'running', limit: 1000 })) {
    const lastSign = (run.heartbeatAt ?? run.updatedAt).getTime();
    if (staleAfter > 0 && now - lastSign < staleAfter) continue;
    // Interrupted before terraform started: nothing changed, the generic recovery runs it again.
    if (!(await applyMayHaveStarted(store, run))) continue;
    const error = interruptedApplyMessage(run);
    const updated = await store.updateRun(run.id, {
      status: 'needs-human',
      error,
      workerId: null,
      finishedAt: new Date(),
    });
    await store.addRunEvent({ runId: run.id, stage: run.stage, status: 'failed', message: error });
    const prValue = run.input['pr'];
    const pr = typeof prValue === 'number' && Number.isSafeInteger(prValue) ? prValue : undefined;
    await store.audit({
      actor: 'infra-agent',
      action: 'apply.interrupted',
      repo: run.repo,
      target: pr !== undefined ? `#${pr}` : `#${run.number}`,
      details: { runId: run.id, stage: run.stage, attempt: run.attempt },
    });
    out.push({ run: updated, pr, message: renderInterruptedApply(pr ?? run.number, run.id, run.stage) });
  }
  return out;
}

/** The apply report in the thread (summary, then the output split to fit) and the `infra-agent/apply` check run. */
async function publishApplyReport(
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
