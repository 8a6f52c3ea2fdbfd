// The fields of webhook payloads the handlers use, parsed with zod: the receiver verifies the signature, but the
// shape is still GitHub's to change, and these schemas say exactly what the app depends on.
import { z } from 'zod';

export const Actor = z.object({ login: z.string(), type: z.string() });

export const RepositoryPayload = z.object({
  name: z.string(),
  owner: z.object({ login: z.string() }),
  default_branch: z.string(),
});

const Installation = z.object({ id: z.number().int() });

export const IssuesEvent = z.object({
  action: z.string(),
  label: z.object({ name: z.string() }).optional(),
  issue: z.object({
    number: z.number().int(),
    title: z.string(),
    user: Actor.nullable().optional(),
    labels: z.array(z.object({ name: z.string() })).default([]),
    pull_request: z.unknown().optional(),
  }),
  repository: RepositoryPayload,
  sender: Actor,
  installation: Installation,
});

export const IssueCommentEvent = z.object({
  action: z.string(),
  comment: z.object({ id: z.number().int(), body: z.string().nullable(), user: Actor }),
  issue: z.object({
    number: z.number().int(),
    body: z.string().nullable().optional(),
    user: Actor,
    state: z.string(),
    pull_request: z.unknown().optional(),
  }),
  repository: RepositoryPayload,
  sender: Actor,
  installation: Installation,
});

export const PullRequestEvent = z.object({
  action: z.string(),
  number: z.number().int(),
  pull_request: z.object({
    number: z.number().int(),
    body: z.string().nullable(),
    user: Actor,
    state: z.string(),
    merged: z.boolean().nullable().optional(),
    head: z.object({ sha: z.string(), ref: z.string(), repo: z.object({ full_name: z.string() }).nullable() }),
    base: z.object({ sha: z.string(), ref: z.string() }),
  }),
  repository: RepositoryPayload.extend({ full_name: z.string() }),
  sender: Actor,
  installation: Installation,
});

export const PullRequestReviewEvent = z.object({
  action: z.string(),
  review: z.object({
    id: z.number().int().positive(),
    user: Actor.nullable(),
    state: z.string(),
    commit_id: z.string(),
  }),
  pull_request: z.object({
    number: z.number().int().positive(),
    body: z.string().nullable(),
    user: Actor,
    state: z.string(),
  }),
  repository: RepositoryPayload,
  sender: Actor,
  installation: Installation,
});

/**
 * Parse a delivery with the handler's schema. A delivery the app cannot use (no installation, a shape GitHub sends
 * for another kind of hook) is acknowledged and dropped with a debug log: answering 500 would only make GitHub
 * redeliver it, and it can never succeed.
 */
export function parsePayload<T>(
  schema: z.ZodType<T>,
  ctx: { id: string; name: string; payload: unknown; log: { debug: (obj: object, msg: string) => void } },
): T | undefined {
  const parsed = schema.safeParse(ctx.payload);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  ctx.log.debug(
    { delivery: ctx.id, event: ctx.name, path: issue?.path.join('.'), problem: issue?.message },
    'delivery ignored: not a payload this app can use',
  );
  return undefined;
}
