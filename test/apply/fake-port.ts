// An in-memory GitHub for the apply tests: it holds one PR, its reviews and commits, who has which permission and
// team, and records every write (comments, check runs, merges, closed issues, labels) so tests assert on them.
import type {
  ApplyGitHubPort,
  CheckRunReport,
  CommitFacts,
  MergeMethod,
  PullRequestFacts,
  RepoPermission,
  ReviewFacts,
} from '../../src/core/apply-port.js';

export const BOT = 'infra-agent[bot]';

export class FakePort implements ApplyGitHubPort {
  readonly repo: string;
  prs = new Map<number, PullRequestFacts>();
  reviews = new Map<number, ReviewFacts[]>();
  commits = new Map<number, CommitFacts[]>();
  issueAuthors = new Map<number, string>();
  permissions = new Map<string, RepoPermission>();
  teams = new Map<string, string[]>();
  mergeRefusal: string | undefined;

  comments: { number: number; body: string }[] = [];
  checks: CheckRunReport[] = [];
  merges: { pr: number; sha: string; method: MergeMethod }[] = [];
  closedIssues: number[] = [];
  labels = new Map<number, Set<string>>();

  constructor(repo = 'acme/infra') {
    this.repo = repo;
  }

  async getPullRequest(pr: number): Promise<PullRequestFacts> {
    const facts = this.prs.get(pr);
    if (!facts) throw new Error(`no PR ${pr}`);
    return { ...facts };
  }
  async listReviews(pr: number): Promise<ReviewFacts[]> {
    return [...(this.reviews.get(pr) ?? [])];
  }
  async listCommits(pr: number): Promise<CommitFacts[]> {
    return [...(this.commits.get(pr) ?? [])];
  }
  async getIssueAuthor(issue: number): Promise<string> {
    return this.issueAuthors.get(issue) ?? 'requester';
  }
  async getPermission(login: string): Promise<RepoPermission> {
    return this.permissions.get(login) ?? 'none';
  }
  async isTeamMember(org: string, team: string, login: string): Promise<boolean> {
    return (this.teams.get(`${org}/${team}`) ?? []).includes(login);
  }
  async comment(number: number, body: string): Promise<number> {
    if (body.length >= 65_536) throw new Error(`comment of ${body.length} characters is over GitHub's limit`);
    this.comments.push({ number, body });
    return this.comments.length;
  }
  async reportApplyCheck(report: CheckRunReport): Promise<void> {
    this.checks.push(report);
  }
  async mergePullRequest(pr: number, opts: { sha: string; method: MergeMethod }) {
    const facts = this.prs.get(pr);
    if (this.mergeRefusal) return { merged: false, message: this.mergeRefusal };
    if (!facts || facts.headSha !== opts.sha) return { merged: false, message: 'Head branch was modified' };
    this.merges.push({ pr, ...opts });
    this.prs.set(pr, { ...facts, state: 'closed', merged: true });
    return { merged: true, message: 'Pull Request successfully merged' };
  }
  async closeIssue(issue: number): Promise<void> {
    this.closedIssues.push(issue);
  }
  async setLabels(n: number, change: { add: string[]; remove: string[] }): Promise<void> {
    const set = this.labels.get(n) ?? new Set<string>();
    for (const l of change.remove) set.delete(l);
    for (const l of change.add) set.add(l);
    this.labels.set(n, set);
  }

  bodies(number: number): string[] {
    return this.comments.filter((c) => c.number === number).map((c) => c.body);
  }
}

/** A body the app writes on its PRs: the markers ownership is decided on. */
export function appPrBody(issue: number, runId = 'run-1'): string {
  return `Closes #${issue}\n\n<!-- infra-agent:run-id=${runId} -->\n<!-- infra-agent:issue=${issue} -->`;
}
