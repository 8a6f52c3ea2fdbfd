// The apply module's port (src/core/apply-port.ts) on an installation's Octokit, bound to one repository. Everything
// GitHub returns is reduced to the port's plain shapes here, so the apply logic decides on data only. Two GitHub
// details matter for safety: the base SHA is the base branch's tip read now (a PR's `base.sha` can lag behind the
// branch), and a merge GitHub refuses is an answer, not an exception, with Octokit's retries off (Probot's Octokit
// would otherwise retry a 405/409 for about 14 s before giving up).

import { createHash } from 'node:crypto';
import { z } from 'zod';
import type {
  ApplyGitHubPort,
  CheckRunReport,
  CommitFacts,
  MergeMethod,
  PullRequestFacts,
  RepoPermission,
  ReviewFacts,
  ReviewState,
} from '../core/apply-port.js';
import { CREATE_RETRY, type GitHubClient, httpStatus, isTransient, PERMISSIONS, type RepoRef } from '../core/github.js';
import { sideEffectOnce } from '../store/idempotency.js';
import type { Store } from '../store/types.js';
import { checkRunExternalId, findCheckRun } from './check-runs.js';

export const APPLY_CHECK_NAME = 'infra-agent/apply';

/** Where an apply run's check run head SHA is kept, so recovery can conclude the check of an interrupted apply. */
export function applyCheckHeadKey(runKey: string): string {
  return `apply-check-head:${runKey}`;
}

const REVIEW_STATES: readonly ReviewState[] = ['APPROVED', 'CHANGES_REQUESTED', 'COMMENTED', 'DISMISSED', 'PENDING'];

function reviewState(raw: string): ReviewState {
  const upper = raw.toUpperCase();
  return REVIEW_STATES.find((s) => s === upper) ?? 'COMMENTED';
}

function permissionOf(raw: string | undefined): RepoPermission | undefined {
  return PERMISSIONS.find((p) => p === raw);
}

const ErrorBody = z.object({ response: z.object({ data: z.object({ message: z.string() }) }) });

function messageOf(err: unknown): string {
  const parsed = ErrorBody.safeParse(err);
  if (parsed.success) return parsed.data.response.data.message;
  return err instanceof Error ? err.message : String(err);
}

export class OctokitApplyPort implements ApplyGitHubPort {
  readonly repo: string;
  /** Check run ids by head SHA for this port's lifetime (one apply run); the store keeps them across restarts. */
  private readonly checkRuns = new Map<string, number>();

  constructor(
    private readonly octokit: GitHubClient,
    private readonly ref: RepoRef,
    private readonly store: Store,
    /** Names this apply's check run in the store (the run id): a retried job updates the same check run. */
    private readonly checkKey: string,
  ) {
    this.repo = `${ref.owner}/${ref.repo}`;
  }

  async getPullRequest(pr: number): Promise<PullRequestFacts> {
    const { data } = await this.octokit.rest.pulls.get({ ...this.ref, pull_number: pr });
    // The base branch's tip now: `base.sha` is where the PR's base was when GitHub last computed it.
    const { data: branch } = await this.octokit.rest.repos.getBranch({ ...this.ref, branch: data.base.ref });
    return {
      number: data.number,
      state: data.state === 'open' ? 'open' : 'closed',
      merged: data.merged === true,
      draft: data.draft === true,
      headSha: data.head.sha,
      baseSha: branch.commit.sha,
      baseRef: data.base.ref,
      author: { login: data.user.login, type: data.user.type },
      body: data.body ?? '',
      mergeable: data.mergeable ?? null,
      mergeableState: data.mergeable_state ?? 'unknown',
    };
  }

  async listReviews(pr: number): Promise<ReviewFacts[]> {
    const reviews = await this.octokit.paginate(this.octokit.rest.pulls.listReviews, {
      ...this.ref,
      pull_number: pr,
      per_page: 100,
    });
    return reviews.flatMap((r) =>
      r.user && r.commit_id
        ? [
            {
              id: r.id,
              login: r.user.login,
              userType: r.user.type,
              state: reviewState(r.state),
              commitId: r.commit_id,
              submittedAt: r.submitted_at ?? '',
            },
          ]
        : [],
    );
  }

  async listCommits(pr: number): Promise<CommitFacts[]> {
    const commits = await this.octokit.paginate(this.octokit.rest.pulls.listCommits, {
      ...this.ref,
      pull_number: pr,
      per_page: 100,
    });
    return commits.map((c) => ({
      sha: c.sha,
      authorLogin: c.author?.login ?? undefined,
      committerLogin: c.committer?.login ?? undefined,
      authorName: c.commit.author?.name ?? '',
    }));
  }

  async getIssueAuthor(issue: number): Promise<string> {
    const { data } = await this.octokit.rest.issues.get({ ...this.ref, issue_number: issue });
    return data.user?.login ?? '';
  }

  async getPermission(login: string): Promise<RepoPermission> {
    try {
      const { data } = await this.octokit.rest.repos.getCollaboratorPermissionLevel({ ...this.ref, username: login });
      // role_name distinguishes triage and maintain; `permission` folds them into read and write.
      const byRole = permissionOf(data.role_name);
      const byPermission = permissionOf(data.permission);
      const rank = (p: RepoPermission | undefined) => (p ? (PERMISSIONS as readonly string[]).indexOf(p) : -1);
      const best = rank(byRole) >= rank(byPermission) ? byRole : byPermission;
      return best ?? 'none';
    } catch (err) {
      if (httpStatus(err) === 404) return 'none';
      throw err;
    }
  }

  async isTeamMember(org: string, teamSlug: string, login: string): Promise<boolean> {
    try {
      const { data } = await this.octokit.rest.teams.getMembershipForUserInOrg({
        org,
        team_slug: teamSlug,
        username: login,
      });
      return data.state === 'active';
    } catch (err) {
      if (httpStatus(err) === 404) return false;
      throw err;
    }
  }

  async comment(issueOrPr: number, body: string): Promise<number> {
    // Once per (thread, run, body): a lost answer or a retried job finds the comment by its hidden marker.
    const digest = createHash('sha256').update(body).digest('hex').slice(0, 24);
    const marker = `<!-- infra-agent:comment=${digest} -->`;
    const text = `${body}\n${marker}`;
    const made = await sideEffectOnce(this.store, `comment:${this.repo}#${issueOrPr}:${this.checkKey}:${digest}`, {
      retry: CREATE_RETRY,
      find: async () => {
        const comments = await this.octokit.paginate(this.octokit.rest.issues.listComments, {
          ...this.ref,
          issue_number: issueOrPr,
          per_page: 100,
        });
        const mine = comments.find((c) => (c.body ?? '').includes(marker) && c.user?.type === 'Bot');
        return mine ? String(mine.id) : undefined;
      },
      create: async () => {
        const { data } = await this.octokit.rest.issues.createComment({
          ...this.ref,
          issue_number: issueOrPr,
          body: text,
        });
        return String(data.id);
      },
    });
    return Number(made.value);
  }

  async reportApplyCheck(report: CheckRunReport): Promise<void> {
    const key = `apply-check:${this.repo}:${report.headSha}:${this.checkKey}`;
    let id = this.checkRuns.get(report.headSha);
    if (id === undefined) {
      const stored = Number(await this.store.getKey(key));
      if (Number.isSafeInteger(stored) && stored > 0) id = stored;
    }
    const output = { title: report.title.slice(0, 250), summary: report.summary.slice(0, 65_000) };
    const completion =
      report.status === 'completed'
        ? {
            status: 'completed' as const,
            conclusion: report.conclusion ?? 'neutral',
            completed_at: new Date().toISOString(),
          }
        : { status: 'in_progress' as const };
    if (id === undefined) {
      const externalId = checkRunExternalId(key);
      const made = await sideEffectOnce(this.store, key, {
        retry: CREATE_RETRY,
        find: () =>
          findCheckRun(this.octokit, this.ref, { name: APPLY_CHECK_NAME, headSha: report.headSha, externalId }),
        create: async () => {
          const { data } = await this.octokit.rest.checks.create({
            ...this.ref,
            name: APPLY_CHECK_NAME,
            head_sha: report.headSha,
            external_id: externalId,
            ...completion,
            output,
          });
          return String(data.id);
        },
      });
      id = Number(made.value);
      await this.store.putKey(applyCheckHeadKey(this.checkKey), report.headSha);
      // Adopted (made by an earlier execution): bring it to this report.
      if (!made.created) {
        await this.octokit.rest.checks.update({ ...this.ref, check_run_id: id, ...completion, output });
      }
    } else {
      await this.octokit.rest.checks.update({ ...this.ref, check_run_id: id, ...completion, output });
    }
    this.checkRuns.set(report.headSha, id);
  }

  async mergePullRequest(
    pr: number,
    opts: { sha: string; method: MergeMethod },
  ): Promise<{ merged: boolean; message: string }> {
    try {
      const { data } = await this.octokit.rest.pulls.merge({
        ...this.ref,
        pull_number: pr,
        sha: opts.sha,
        merge_method: opts.method,
        // A refusal (405 not mergeable, 409 head moved) is final: retrying it only delays the answer.
        request: { retries: 0 },
      });
      return { merged: data.merged, message: data.message };
    } catch (err) {
      // A lost answer (5xx, reset) says nothing about the merge: GitHub may have done it. Read the PR to know.
      if (isTransient(err)) {
        const known = await this.mergedState(pr, opts.sha).catch(() => undefined);
        if (known?.merged) return { merged: true, message: 'Pull Request successfully merged' };
      }
      // Any other failure is "not merged": the apply already happened, so the report must still be written.
      const status = httpStatus(err);
      return { merged: false, message: `GitHub refused the merge${status ? ` (${status})` : ''}: ${messageOf(err)}` };
    }
  }

  /** Whether the PR is merged (at `sha` as its head), read fresh after a merge whose answer was lost. */
  private async mergedState(pr: number, sha: string): Promise<{ merged: boolean }> {
    for (let attempt = 0; ; attempt++) {
      try {
        const { data } = await this.octokit.rest.pulls.get({ ...this.ref, pull_number: pr });
        return { merged: data.merged === true && data.head.sha === sha };
      } catch (err) {
        if (attempt >= CREATE_RETRY.attempts || !isTransient(err)) throw err;
        await new Promise((r) => setTimeout(r, CREATE_RETRY.delayMs * 2 ** attempt));
      }
    }
  }

  async closeIssue(issue: number): Promise<void> {
    await this.octokit.rest.issues.update({
      ...this.ref,
      issue_number: issue,
      state: 'closed',
      state_reason: 'completed',
    });
  }

  async setLabels(issueOrPr: number, change: { add: string[]; remove: string[] }): Promise<void> {
    if (change.add.length > 0) {
      await this.octokit.rest.issues.addLabels({ ...this.ref, issue_number: issueOrPr, labels: change.add });
    }
    if (change.remove.length === 0) return;
    const { data: current } = await this.octokit.rest.issues.listLabelsOnIssue({
      ...this.ref,
      issue_number: issueOrPr,
      per_page: 100,
    });
    const names = new Set(current.map((l) => l.name));
    for (const name of change.remove) {
      if (!names.has(name)) continue;
      try {
        await this.octokit.rest.issues.removeLabel({ ...this.ref, issue_number: issueOrPr, name });
      } catch (err) {
        if (httpStatus(err) !== 404) throw err;
      }
    }
  }
}
