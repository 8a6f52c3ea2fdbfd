// Step 2 of an apply: everything the decision needs, read fresh from GitHub and the store — the PR, its reviews and
// commits, who asked for the change (never from a body), the actor (approver, commenter or merger) and every
// approving reviewer with their permission and teams, the plan set in dependency order, and per project the saved
// plan's binding, the verdict decided again with this plan hash's overrides, the lock and the apply claim.
import type { RepoConfig } from '../config/schema.js';
import type { ApplyGitHubPort, CommitFacts, PullRequestFacts } from '../core/apply-port.js';
import { renderInline } from '../markdown/text.js';
import { decideVerdict } from '../policy/verdict.js';
import { ownedPullRequest } from '../store/ownership.js';
import type { RequesterReason } from '../store/types.js';
import { lockTarget } from './locks.js';
import { DependencyCycleError, orderByDependencies } from './order.js';
import { findSavedPlan, loadGate, loadPlanSet, type PlannedProject, type PlanSet } from './plan-record.js';
import type { ActorFacts, ApplyRecordState, ApplyRequirementsInput, ProjectFacts } from './requirements.js';
import { type ApplyDeps, type ApplyRequest, actorOf, applyClaimKey, triggerOf } from './types.js';

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
 * otherwise reported as unattributed. Nothing here comes from a body. `thread` is the issue an App PR closes, or the
 * PR's own number for a person's PR (whose author is then a requester too).
 */
async function countRequesters(
  deps: ApplyDeps,
  thread: { issue: number; prAuthor?: string },
  commits: CommitFacts[],
  isApp: (login: string | undefined) => boolean,
): Promise<{ requesters: string[]; reasons: Record<string, string[]>; unattributed: string[] }> {
  const { store, port } = deps;
  const repo = port.repo;
  const issue = thread.issue;
  if (thread.prAuthor === undefined) {
    const author = await port.getIssueAuthor(issue);
    if (author) await store.addRequester({ repo, issue, login: author, reason: 'issue-author' });
  }
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
  if (thread.prAuthor !== undefined && !isApp(thread.prAuthor)) {
    reasons[thread.prAuthor] = [`opened pull request #${issue}`];
  }
  for (const r of recorded) {
    // A person's PR: its author is recorded as the thread's author, already said as "opened pull request".
    if (thread.prAuthor !== undefined && r.reason === 'issue-author') {
      reasons[r.login] ??= [`opened pull request #${issue}`];
      continue;
    }
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
  /** The issue an App PR closes; undefined for a person's PR. */
  issueNumber: number | undefined;
  /** Whether the App opened the PR (a person's PR is applied the same way once the App planned it). */
  owned: boolean;
}

/** Step 2: everything the decision needs, read fresh from GitHub and the store. */
export async function gatherApplyFacts(deps: ApplyDeps, req: ApplyRequest): Promise<GatheredFacts> {
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
  // A person's PR the App planned: its author and everyone who committed or pushed asked for the change.
  const who = owned
    ? await countRequesters(deps, { issue: owned.issueNumber }, commits, isApp)
    : set
      ? await countRequesters(deps, { issue: pr.number, prAuthor: pr.author.login }, commits, isApp)
      : { requesters: [], reasons: {}, unattributed: [] };

  // Commits after the plan's head that the app did not make.
  const planIndex = set ? commits.findIndex((c) => c.sha === set.headSha) : -1;
  const after = set ? (planIndex >= 0 ? commits.slice(planIndex + 1) : commits) : [];
  const humanCommits = after
    .filter((c) => !isApp(c.authorLogin))
    .map((c) => ({ sha: c.sha, who: displayAuthor(c.authorLogin, c.authorName) }));

  const trigger = triggerOf(req);
  const actor = actorOf(req);
  const approver = await actorFacts(port, config, actor.login, actor.userType);
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
    const facts: ProjectFacts = { name: p.name, workspace: p.workspace, planHash: p.planHash, dependsOn: p.dependsOn };
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

  const review =
    req.trigger === undefined || req.trigger === 'approval'
      ? { id: req.review.id, login: req.review.login, state: req.review.state, commitId: req.review.commitId }
      : undefined;
  const input: ApplyRequirementsInput = {
    config: config.apply,
    trigger,
    pr,
    ownedByApp: owned !== undefined || set !== undefined,
    ...(review ? { review } : {}),
    ...(req.trigger === 'comment' ? { onlyProjects: req.comment.projects } : {}),
    ...(req.trigger === 'merge' ? { mergeCommitSha: req.merge.mergeCommitSha } : {}),
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
  return { input, pr, set, ordered, issueNumber: owned?.issueNumber, owned: owned !== undefined };
}
