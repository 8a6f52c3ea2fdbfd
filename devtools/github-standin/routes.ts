// The REST operations the stand-in serves, keyed by the operationId of GitHub's description: one module per
// resource (apps, repositories and git data, issues, pull requests, check runs), each operation a small function of
// (path params, query, validated body) → reply; what they share is in route-kit.ts, the permissions in permissions.ts.

import type { Handler } from './route-kit.js';
import { APP_HANDLERS } from './routes-apps.js';
import { CHECK_HANDLERS } from './routes-checks.js';
import { ISSUE_HANDLERS } from './routes-issues.js';
import { PULL_HANDLERS } from './routes-pulls.js';
import { REPO_HANDLERS } from './routes-repos.js';

export { permits, REQUIRED_PERMISSIONS } from './permissions.js';
export type { Auth, Handler, HandlerInput, Reply } from './route-kit.js';
export { HttpError, MAX_BODY_CHARS } from './route-kit.js';

export const HANDLERS: Record<string, Handler> = {
  ...APP_HANDLERS,
  ...REPO_HANDLERS,
  ...ISSUE_HANDLERS,
  ...PULL_HANDLERS,
  ...CHECK_HANDLERS,
};
