// Pull requests: open, read, update, list their commits and files, reviews, merge.
// Handlers keyed by the operationId of GitHub's REST description (see routes.ts).
import { z } from 'zod';
import { listCommits, type MergeMethod, mergeBranch, resolveCommit } from '../bare-repo.js';
import { diffStats, newPullRecord, pullObject, pullShas, reviewObject } from './objects.js';
import type { Json } from './openapi.js';
import {
  actor,
  CLOSING,
  checkBodyLength,
  closeIssue,
  commitObject,
  findPull,
  type Handler,
  HttpError,
  keyOf,
  nextNumber,
  now,
  num,
  paginate,
  parse,
  repoOf,
  touch,
} from './route-kit.js';

export const PULL_HANDLERS: Record<string, Handler> = {
  // --- Pull requests ---
  'pulls/create': async (input) => {
    const repo = repoOf(input);
    const b = parse(
      z.object({
        title: z.string().optional(),
        head: z.string(),
        head_repo: z.string().optional(),
        base: z.string(),
        body: z.string().optional(),
        draft: z.boolean().optional(),
        maintainer_can_modify: z.boolean().optional(),
        issue: z.number().optional(),
      }),
      input.body,
    );
    checkBodyLength(b.body, 'PullRequest');
    const headRef = b.head.includes(':') ? b.head.slice(b.head.indexOf(':') + 1) : b.head;
    const invalid = (field: string, message: string) =>
      new HttpError(422, 'Validation Failed', [{ resource: 'PullRequest', code: 'invalid', field, message }]);
    const headSha = await resolveCommit(repo.remotePath, `refs/heads/${headRef}`);
    if (!headSha) throw invalid('head', `head: branch ${headRef} does not exist`);
    const baseSha = await resolveCommit(repo.remotePath, `refs/heads/${b.base}`);
    if (!baseSha) throw invalid('base', `base: branch ${b.base} does not exist`);
    if (headSha === baseSha) throw invalid('head', `No commits between ${b.base} and ${headRef}`);
    const existing = input.ctx.state.pulls.find(
      (p) => p.repo === keyOf(repo) && p.state === 'open' && p.headRef === headRef && p.baseRef === b.base,
    );
    if (existing)
      throw new HttpError(422, 'Validation Failed', [
        {
          resource: 'PullRequest',
          code: 'custom',
          message: `A pull request already exists for ${repo.owner}:${headRef}.`,
        },
      ]);
    if (b.title === undefined && b.issue === undefined) throw invalid('title', 'title is required');
    const id = input.nextId();
    const at = now();
    const p = newPullRecord({
      repo: keyOf(repo),
      number: nextNumber(input, repo),
      id,
      title: b.title ?? '',
      body: b.body ?? null,
      user: actor(input),
      headRef,
      baseRef: b.base,
      at,
      draft: b.draft ?? false,
      maintainerCanModify: b.maintainer_can_modify ?? true,
    });
    input.ctx.state.pulls.push(p);
    return {
      status: 201,
      body: await pullObject(input.ctx, p, true),
      headers: { location: `${input.ctx.url}/repos/${p.repo}/pulls/${p.number}` },
    };
  },
  'pulls/get': async (input) => {
    const p = findPull(input, repoOf(input), num(input, 'pull_number'));
    return { status: 200, body: await pullObject(input.ctx, p, true) };
  },
  'pulls/update': async (input) => {
    const repo = repoOf(input);
    const p = findPull(input, repo, num(input, 'pull_number'));
    const b = parse(
      z.object({
        title: z.string().optional(),
        body: z.string().optional(),
        state: z.enum(['open', 'closed']).optional(),
        base: z.string().optional(),
        maintainer_can_modify: z.boolean().optional(),
      }),
      input.body,
    );
    checkBodyLength(b.body, 'PullRequest');
    if (b.title !== undefined) p.title = b.title;
    if (b.body !== undefined) touch(p, b.body);
    if (b.base !== undefined) {
      if (!(await resolveCommit(repo.remotePath, `refs/heads/${b.base}`)))
        throw new HttpError(422, 'Validation Failed', [{ resource: 'PullRequest', code: 'invalid', field: 'base' }]);
      p.baseRef = b.base;
    }
    if (b.maintainer_can_modify !== undefined) p.maintainerCanModify = b.maintainer_can_modify;
    if (b.state === 'closed' && p.state === 'open') {
      const shas = await pullShas(input.ctx.state, p);
      p.headShaAtClose = shas.head;
      closeIssue(p, null);
    } else if (b.state === 'open' && p.state === 'closed') {
      if (p.merged) throw new HttpError(422, 'Validation Failed: cannot reopen a merged pull request');
      p.state = 'open';
      p.closedAt = null;
      p.headShaAtClose = null;
    }
    touch(p);
    return { status: 200, body: await pullObject(input.ctx, p, true) };
  },
  'pulls/list': async (input) => {
    const repo = repoOf(input);
    const state = input.query.get('state') ?? 'open';
    const head = input.query.get('head');
    const base = input.query.get('base');
    const direction = input.query.get('direction') ?? 'desc';
    let list = input.ctx.state.pulls.filter((p) => p.repo === keyOf(repo) && (state === 'all' || p.state === state));
    if (head) {
      // `owner:branch`; GitHub ignores a filter without the owner part (it returns everything).
      const [owner, branch] = head.includes(':')
        ? [head.slice(0, head.indexOf(':')), head.slice(head.indexOf(':') + 1)]
        : [];
      if (owner !== undefined && branch !== undefined)
        list = list.filter(
          (p) => owner.toLowerCase() === (p.forkOwner ?? repo.owner).toLowerCase() && p.headRef === branch,
        );
    }
    if (base) list = list.filter((p) => p.baseRef === base);
    list = [...list].sort((a, b) => (direction === 'asc' ? a.number - b.number : b.number - a.number));
    const objects: Json[] = [];
    for (const p of list) objects.push(await pullObject(input.ctx, p, false));
    return paginate(input, objects);
  },
  'pulls/list-files': async (input) => {
    const repo = repoOf(input);
    const p = findPull(input, repo, num(input, 'pull_number'));
    const shas = await pullShas(input.ctx.state, p);
    if (!shas.head || !shas.base) return paginate(input, []);
    const { files } = await diffStats(repo.remotePath, shas.base, shas.head);
    return paginate(
      input,
      files.map((f) => ({
        sha: shas.head ?? '',
        filename: f.filename,
        status: f.status,
        additions: f.additions,
        deletions: f.deletions,
        changes: f.additions + f.deletions,
        blob_url: `${input.ctx.url}/${p.repo}/blob/${shas.head}/${f.filename}`,
        raw_url: `${input.ctx.url}/${p.repo}/raw/${shas.head}/${f.filename}`,
        contents_url: `${input.ctx.url}/repos/${p.repo}/contents/${f.filename}?ref=${shas.head}`,
        patch: f.patch,
        ...(f.previousFilename ? { previous_filename: f.previousFilename } : {}),
      })),
    );
  },
  'pulls/list-commits': async (input) => {
    const repo = repoOf(input);
    const p = findPull(input, repo, num(input, 'pull_number'));
    const shas = await pullShas(input.ctx.state, p);
    if (!shas.head || !shas.base) return paginate(input, []);
    const commits = await listCommits(repo.remotePath, shas.base, shas.head);
    return paginate(
      input,
      commits.map((c) => commitObject(input, repo, c)),
    );
  },
  'pulls/list-reviews': (input) => {
    const repo = repoOf(input);
    const p = findPull(input, repo, num(input, 'pull_number'));
    return paginate(
      input,
      input.ctx.state.reviews
        .filter((r) => r.repo === p.repo && r.pullNumber === p.number)
        .map((r) => reviewObject(input.ctx, r)),
    );
  },
  'pulls/check-if-merged': (input) => {
    const p = findPull(input, repoOf(input), num(input, 'pull_number'));
    return p.merged ? { status: 204 } : { status: 404, body: { message: 'Not Found' } };
  },
  'pulls/merge': async (input) => {
    const repo = repoOf(input);
    const p = findPull(input, repo, num(input, 'pull_number'));
    const b = parse(
      z
        .object({
          commit_title: z.string().optional(),
          commit_message: z.string().optional(),
          sha: z.string().optional(),
          merge_method: z.enum(['merge', 'squash', 'rebase']).optional(),
        })
        .nullable(),
      input.body,
    );
    if (p.merged || p.state !== 'open') throw new HttpError(405, 'Pull Request is not mergeable');
    const shas = await pullShas(input.ctx.state, p);
    if (!shas.head || !shas.base) throw new HttpError(405, 'Pull Request is not mergeable');
    if (b?.sha && b.sha !== shas.head)
      throw new HttpError(409, 'Head branch was modified. Review and try the merge again.');
    if (p.mergeableOverride === false) throw new HttpError(405, 'Pull Request is not mergeable');
    const method: MergeMethod = b?.merge_method ?? 'merge';
    const title =
      b?.commit_title ??
      (method === 'squash'
        ? `${p.title} (#${p.number})`
        : `Merge pull request #${p.number} from ${repo.owner}/${p.headRef}`);
    const message = b?.commit_message !== undefined ? `${title}\n\n${b.commit_message}` : `${title}\n\n${p.title}`;
    const merged = await mergeBranch(repo.remotePath, p.baseRef, shas.head, method, message);
    if (!merged) throw new HttpError(405, 'Pull Request is not mergeable');
    const at = now();
    p.merged = true;
    p.mergedAt = at;
    p.mergedBy = actor(input);
    p.mergeCommitSha = merged;
    p.headShaAtClose = shas.head;
    p.baseShaAtClose = shas.base;
    closeIssue(p, null);
    // Merging into the default branch closes the issues the PR says it closes, as GitHub does.
    if (input.autoCloseIssues && p.baseRef === repo.defaultBranch) {
      for (const m of `${p.title}\n${p.body ?? ''}`.matchAll(CLOSING)) {
        const issue = input.ctx.state.issues.find((i) => i.repo === p.repo && i.number === Number(m[1]));
        if (issue) closeIssue(issue, 'completed');
      }
    }
    return { status: 200, body: { sha: merged, merged: true, message: 'Pull Request successfully merged' } };
  },
};
