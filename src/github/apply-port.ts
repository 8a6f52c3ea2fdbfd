// The apply module's port (src/apply/port.ts) on an installation's Octokit, bound to one repository. Everything
// GitHub returns is reduced to the port's plain shapes here, so the apply logic decides on data only. Two GitHub
// details matter for safety: the base SHA is the base branch's tip read now (a PR's `base.sha` can lag behind the
// branch), and a merge GitHub refuses is an answer, not an exception, with Octokit's retries off (Probot's Octokit
// would otherwise retry a 405/409 for about 14 s before giving up).

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
} from '../apply/port.js';
import { PERMISSIONS } from '../config/schema.js';
import type { Store } from '../store/types.js';
import { type GitHubClient, httpStatus, type RepoRef } from './client.js';

export const APPLY_CHECK_NAME = 'infra-agent/apply';

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
    const { data } = await this.octokit.rest.issues.createComment({ ...this.ref, issue_number: issueOrPr, body });
    return data.id;
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
      const { data } = await this.octokit.rest.checks.create({
        ...this.ref,
        name: APPLY_CHECK_NAME,
        head_sha: report.headSha,
        ...completion,
        output,
      });
      id = data.id;
      await this.store.putKey(key, String(id));
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
      // Any failure is "not merged": the apply already happened, so the report must still be written.
      const status = httpStatus(err);
      return { merged: false, message: `GitHub refused the merge${status ? ` (${status})` : ''}: ${messageOf(err)}` };
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
