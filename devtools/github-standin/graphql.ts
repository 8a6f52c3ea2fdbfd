// The one GraphQL operation an App like this needs from GitHub: hiding its own superseded comments
// (`minimizeComment`, and `unminimizeComment` to undo). Anything else gets a GraphQL error and is recorded, so a
// new GraphQL use in the App shows up as a gap in the stand-in rather than a silent pass.
import { z } from 'zod';
import type { Json } from './openapi.js';
import type { CommentRecord, StandinState } from './state.js';

const Request = z.object({ query: z.string(), variables: z.record(z.string(), z.unknown()).nullish() });

const CLASSIFIERS = ['SPAM', 'ABUSE', 'OFF_TOPIC', 'OUTDATED', 'DUPLICATE', 'RESOLVED'];

export type GraphqlResult = { body: Json; violation?: string };

function argument(input: string, name: string, variables: Record<string, unknown>): string | undefined {
  const m = new RegExp(`\\b${name}\\s*:\\s*("(?:[^"\\\\]|\\\\.)*"|\\$\\w+|[A-Z_]+)`).exec(input);
  const raw = m?.[1];
  if (raw === undefined) return undefined;
  if (raw.startsWith('"')) {
    const parsed = z.string().safeParse(JSON.parse(raw));
    return parsed.success ? parsed.data : undefined;
  }
  if (raw.startsWith('$')) {
    const v = variables[raw.slice(1)];
    return typeof v === 'string' ? v : undefined;
  }
  return raw;
}

export function handleGraphql(state: StandinState, body: unknown): GraphqlResult {
  const parsed = Request.safeParse(body);
  if (!parsed.success)
    return { body: { errors: [{ message: 'Body must be {query, variables}' }] }, violation: 'not a GraphQL request' };
  const { query } = parsed.data;
  const variables = parsed.data.variables ?? {};
  const m = /\b(minimizeComment|unminimizeComment)\s*\(\s*input\s*:\s*(\{[^}]*\}|\$\w+)\s*\)/.exec(query);
  if (!m || !/^\s*mutation\b/.test(query)) {
    return {
      body: {
        errors: [{ message: 'The GitHub stand-in only supports the minimizeComment/unminimizeComment mutations' }],
      },
      violation: `unsupported GraphQL operation: ${query.slice(0, 200)}`,
    };
  }
  const op = m[1] ?? '';
  const inputText = m[2] ?? '';
  let subjectId: string | undefined;
  let classifier: string | undefined;
  if (inputText.startsWith('$')) {
    const obj = z
      .object({ subjectId: z.string(), classifier: z.string().optional() })
      .safeParse(variables[inputText.slice(1)]);
    if (obj.success) {
      subjectId = obj.data.subjectId;
      classifier = obj.data.classifier;
    }
  } else {
    subjectId = argument(inputText, 'subjectId', variables);
    classifier = argument(inputText, 'classifier', variables);
  }
  const err = (message: string, violation: string): GraphqlResult => ({
    body: { data: { [op]: null }, errors: [{ type: 'UNPROCESSABLE', message, path: [op] }] },
    violation,
  });
  if (!subjectId) return err('subjectId is required', `${op} without subjectId`);
  if (op === 'minimizeComment' && (!classifier || !CLASSIFIERS.includes(classifier)))
    return err(
      `classifier must be one of ${CLASSIFIERS.join(', ')}`,
      `${op} with classifier ${classifier ?? '(none)'}`,
    );
  const comment: CommentRecord | undefined = state.comments.find((c) => c.nodeId === subjectId && !c.deleted);
  if (!comment)
    return {
      body: {
        data: { [op]: null },
        errors: [
          {
            type: 'NOT_FOUND',
            message: `Could not resolve to a node with the global id of '${subjectId}'`,
            path: [op],
          },
        ],
      },
      violation: `${op} on unknown node ${subjectId}`,
    };
  if (op === 'minimizeComment') {
    comment.minimized = true;
    comment.minimizedReason = (classifier ?? 'OUTDATED').toLowerCase();
  } else {
    comment.minimized = false;
    comment.minimizedReason = null;
  }
  const field = op === 'minimizeComment' ? 'minimizedComment' : 'unminimizedComment';
  return {
    body: {
      data: {
        [op]: {
          clientMutationId: null,
          [field]: {
            isMinimized: comment.minimized,
            minimizedReason: comment.minimizedReason,
            viewerCanMinimize: true,
          },
        },
      },
    },
  };
}
