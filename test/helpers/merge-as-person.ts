// A person merging a pull request on GitHub (the merge button), for the suites that apply on merge: the stand-in's
// own git merge of the head into the base, then the PR's record frozen as GitHub freezes a merged PR (merged, merged
// by, merge commit, head and base at close). The App learns of it only from the `pull_request.closed` webhook the
// test sends next, as it would from GitHub.
import { type MergeMethod, mergeBranch } from '../../devtools/bare-repo.js';
import type { GitHubStandin } from '../../devtools/github-standin/index.js';
import { pullShas } from '../../devtools/github-standin/objects.js';

export async function mergeAsPerson(
  standin: GitHubStandin,
  opts: { owner: string; repo: string; pullNumber: number; user: string; remotePath: string; method?: MergeMethod },
): Promise<string> {
  const p = standin.pull(opts.owner, opts.repo, opts.pullNumber);
  if (p?.state !== 'open') throw new Error(`no open PR #${opts.pullNumber}`);
  const shas = await pullShas(standin.state, p);
  if (!shas.head || !shas.base) throw new Error(`PR #${opts.pullNumber} has no head or base`);
  const method = opts.method ?? 'squash';
  const sha = await mergeBranch(opts.remotePath, p.baseRef, shas.head, method, `${p.title} (#${p.number})`);
  if (!sha) throw new Error(`PR #${opts.pullNumber} does not merge cleanly`);
  const at = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
  Object.assign(p, {
    state: 'closed',
    closedAt: at,
    updatedAt: at,
    merged: true,
    mergedAt: at,
    mergedBy: opts.user,
    mergeCommitSha: sha,
    headShaAtClose: shas.head,
    baseShaAtClose: shas.base,
  });
  return sha;
}
