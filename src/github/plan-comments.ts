// Plan output that does not fit in the PR body goes into follow-up comments, split without breaking a code fence.
// The parts are the app's own comments, edited in place on each new plan; parts a shorter plan no longer needs are
// edited to say they are superseded and minimised, so comments never pile up however often a PR is re-planned.

import type { GitHubClient, RepoRef } from '../core/github.js';
import { DEFAULT_CHUNK_CHARS, splitMarkdown } from '../markdown/split-comment.js';
import type { Store } from '../store/types.js';
import { minimizeComment, upsertComment } from './comments.js';

export const SUPERSEDED_PART =
  '_Superseded: a newer plan replaced this output (see the pull request description and the comments above)._';

export interface PlanCommentsTarget extends RepoRef {
  prNumber: number;
  headSha: string;
}

/** Post (or update) the overflow parts; returns how many parts are live. `overflow` undefined = none needed. */
export async function postPlanOutput(
  octokit: GitHubClient,
  store: Store,
  target: PlanCommentsTarget,
  overflow: string | undefined,
  chunkChars = DEFAULT_CHUNK_CHARS,
): Promise<number> {
  const repo = { owner: target.owner, repo: target.repo };
  const full = `${target.owner}/${target.repo}#${target.prNumber}`;
  const countKey = `plan-output:${full}:count`;
  const before = Number((await store.getKey(countKey)) ?? '0');
  const chunks = overflow ? splitMarkdown(overflow, chunkChars) : [];
  const part = (i: number) => ({
    repo,
    issueNumber: target.prNumber,
    key: `plan-output:${full}:${i}`,
    marker: `<!-- infra-agent:plan-output=${target.prNumber}-${i} -->`,
  });
  for (const [i, chunk] of chunks.entries()) {
    const header = `**Plan output, part ${i + 1} of ${chunks.length}** (head \`${target.headSha.slice(0, 7)}\`)\n\n`;
    await upsertComment(octokit, store, part(i), `${header}${chunk}`);
  }
  for (let i = chunks.length; i < before; i++) {
    const { id, changed } = await upsertComment(octokit, store, part(i), SUPERSEDED_PART);
    if (!changed) continue;
    const { data } = await octokit.rest.issues.getComment({ ...repo, comment_id: id });
    await minimizeComment(octokit, data.node_id);
  }
  // The high-water mark: every part ever posted stays known, so a later shorter plan supersedes all of them.
  await store.putKey(countKey, String(Math.max(before, chunks.length)));
  return chunks.length;
}
