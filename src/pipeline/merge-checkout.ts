// Check out what a pull request will be once merged: its head merged into its base's tip, bound to both SHAs. The
// merge is made in the run's own clone (GitHub's test-merge ref is computed in the background and may lag; the
// merge of two exact SHAs is the same tree and is known to be of exactly those). A fork's head is fetched from
// `refs/pull/N/head`, where GitHub keeps it in the base repository. A branch behind its base is planned against
// the base as it is now, so the plan never reverts what the base gained since the branch was cut.
import { GitError, type Workspace } from '../stages/workspace.js';

export interface MergeTarget {
  prNumber: number;
  /** The head commit the API reported for the PR: the plan is bound to it. */
  headSha: string;
  /** The head branch, when it lives in this repository (not a fork). */
  headRef?: string;
  baseRef: string;
}

export type MergeCheckout =
  | { ok: true; headSha: string; baseSha: string; mergeSha: string; behind: boolean }
  | { ok: false; message: string };

const HEAD_REF = 'refs/infra-agent/pr-head';
const BASE_REF = 'refs/infra-agent/pr-base';

export async function checkoutMerge(ws: Workspace, target: MergeTarget): Promise<MergeCheckout> {
  if (!(await ws.fetchRef(`refs/heads/${target.baseRef}`, BASE_REF))) {
    return { ok: false, message: `the base branch ${target.baseRef} no longer exists` };
  }
  // A same-repo branch first (it is what the API's head SHA names); the pull ref is GitHub's copy for any PR.
  const fetched =
    (target.headRef !== undefined && (await ws.fetchRef(`refs/heads/${target.headRef}`, HEAD_REF))) ||
    (await ws.fetchRef(`refs/pull/${target.prNumber}/head`, HEAD_REF));
  if (!fetched) return { ok: false, message: `the head of #${target.prNumber} could not be fetched` };
  const present = await ws.exec(['cat-file', '-t', target.headSha]).catch(() => '');
  if (present !== 'commit') {
    return {
      ok: false,
      message: `the head commit ${target.headSha.slice(0, 7)} is no longer on the branch (it was force-pushed): the next push is planned`,
    };
  }
  const baseSha = await ws.headSha(BASE_REF);
  const behind = !(await ws.contains(target.headSha, baseSha));
  await ws.checkoutDetached(baseSha);
  const failed = await tryMerge(ws, [
    '--no-ff',
    '--no-edit',
    '-m',
    `infra-agent: #${target.prNumber} (${target.headSha.slice(0, 12)}) merged into ${target.baseRef} (${baseSha.slice(0, 12)})`,
    target.headSha,
  ]);
  if (failed) {
    return {
      ok: false,
      message:
        failed.files.length > 0
          ? `this pull request does not merge cleanly into ${target.baseRef}: ${failed.files.join(', ')} conflict. Resolve the conflicts (merge or rebase ${target.baseRef}) and push: it is planned again`
          : `this pull request could not be merged into ${target.baseRef} to plan it (${failed.error.slice(0, 300)})`,
    };
  }
  return { ok: true, headSha: target.headSha, baseSha, mergeSha: await ws.headSha(), behind };
}

/**
 * The App's own branch, checked out, behind its base: merge the base's tip into the working tree WITHOUT committing
 * (HEAD stays the branch's head, which the plan is bound to; nothing is pushed), so the plan is of the merge. A
 * conflict leaves the branch as it was and says which files.
 */
export async function mergeBaseIntoWorkTree(
  ws: Workspace,
  baseSha: string,
  baseRef: string,
): Promise<{ merged: boolean; conflict?: string }> {
  const head = await ws.headSha();
  if (await ws.contains(head, baseSha)) return { merged: false };
  const failed = await tryMerge(ws, ['--no-commit', '--no-ff', baseSha]);
  if (failed) {
    const files = failed.files.length ? ` (${failed.files.join(', ')})` : '';
    return { merged: false, conflict: `this branch does not merge cleanly with ${baseRef}${files}` };
  }
  await ws.clean();
  return { merged: true };
}

/** `git merge …`; on failure the merge is aborted and the conflicted files come back (code-formatted, at most 20). */
async function tryMerge(ws: Workspace, args: string[]): Promise<{ files: string[]; error: string } | undefined> {
  try {
    await ws.exec(['merge', ...args]);
    return undefined;
  } catch (err) {
    if (!(err instanceof GitError)) throw err;
    const conflicted = await ws.exec(['diff', '--name-only', '--diff-filter=U']).catch(() => '');
    await ws.exec(['merge', '--abort']).catch(() => {});
    const files = conflicted.split('\n').filter(Boolean).slice(0, 20);
    return { files: files.map((f) => `\`${f.replace(/`/g, "'")}\``), error: err.message };
  }
}
