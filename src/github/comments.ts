// Comments the app owns and updates in place (the progress comment, command replies, plan-output parts). Each is
// named by an idempotency key in the store and carries a hidden marker, so a re-delivered webhook or a restarted
// worker finds and edits the same comment instead of posting another; an unchanged body is not re-sent.
import { createHash } from 'node:crypto';
import type { GitHubClient, RepoRef } from '../core/github.js';
import { CREATE_RETRY, httpStatus } from '../core/github.js';
import { hasOwnMarker, isOwnComment } from '../markdown/markers.js';
import { GITHUB_BODY_LIMIT } from '../markdown/split-comment.js';
import { sideEffectOnce } from '../store/idempotency.js';
import type { Store } from '../store/types.js';

export interface OwnedComment {
  repo: RepoRef;
  issueNumber: number;
  /** Idempotency key, e.g. `progress-comment:owner/repo#12`. */
  key: string;
  /** A hidden marker unique to this comment (e.g. `<!-- infra-agent:progress=12 -->`): how a lost id is found. */
  marker: string;
  /** The App's bot login, when known: only a comment it wrote is taken for ours. */
  botLogin?: string;
}

function hash(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 32);
}

function bounded(body: string): string {
  if (body.length < GITHUB_BODY_LIMIT) return body;
  return `${body.slice(0, GITHUB_BODY_LIMIT - 200)}\n\n[… cut to fit GitHub's comment limit]`;
}

async function findByMarker(octokit: GitHubClient, c: OwnedComment): Promise<string | undefined> {
  const comments = await octokit.paginate(octokit.rest.issues.listComments, {
    ...c.repo,
    issue_number: c.issueNumber,
    per_page: 100,
  });
  const mine = comments.find((x) => isOwnComment(x.user, c.botLogin) && hasOwnMarker(x.body, c.marker));
  return mine ? String(mine.id) : undefined;
}

/** Create the comment once, or edit it in place; returns its id and URL. */
export async function upsertComment(
  octokit: GitHubClient,
  store: Store,
  c: OwnedComment,
  body: string,
): Promise<{ id: number; created: boolean; changed: boolean }> {
  const text = bounded(body.includes(c.marker) ? body : `${body}\n${c.marker}`);
  const bodyHash = hash(text);
  const effect = await sideEffectOnce(store, c.key, {
    find: () => findByMarker(octokit, c),
    retry: CREATE_RETRY,
    create: async () => {
      const res = await octokit.rest.issues.createComment({ ...c.repo, issue_number: c.issueNumber, body: text });
      await store.putKey(`${c.key}:hash`, bodyHash);
      return String(res.data.id);
    },
  });
  const id = Number(effect.value);
  if (effect.created) return { id, created: true, changed: true };
  if ((await store.getKey(`${c.key}:hash`)) === bodyHash) return { id, created: false, changed: false };
  try {
    await octokit.rest.issues.updateComment({ ...c.repo, comment_id: id, body: text });
  } catch (err) {
    if (httpStatus(err) !== 404) throw err;
    // Someone deleted it: post it again (once) and remember the new id.
    const res = await octokit.rest.issues.createComment({ ...c.repo, issue_number: c.issueNumber, body: text });
    await store.putKey(c.key, String(res.data.id));
    await store.putKey(`${c.key}:hash`, bodyHash);
    return { id: res.data.id, created: true, changed: true };
  }
  await store.putKey(`${c.key}:hash`, bodyHash);
  return { id, created: false, changed: true };
}

/** Collapse a superseded comment in the UI (GraphQL minimizeComment). Best effort: editing it already said why. */
export async function minimizeComment(octokit: GitHubClient, nodeId: string): Promise<boolean> {
  try {
    await octokit.graphql(
      'mutation($id: ID!) { minimizeComment(input: { subjectId: $id, classifier: OUTDATED }) { clientMutationId } }',
      { id: nodeId },
    );
    return true;
  } catch {
    return false;
  }
}
