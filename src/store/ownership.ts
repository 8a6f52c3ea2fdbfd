// Which pull requests are the app's own: opened by the App's bot account (GitHub says who opened it) AND recorded in
// the store when the App opened it, with the issue it closes and the run that opened it. Nothing in the body counts:
// a person with write access can edit a PR body, so a pasted `<!-- infra-agent:issue=N -->` changes nothing here.

import { isBot } from '../core/github.js';
import type { Store } from './types.js';

export interface OwnedPullRequest {
  issueNumber: number;
  runId: string;
}

export async function ownedPullRequest(
  store: Store,
  repo: string,
  pr: { number: number; user: { login: string; type: string } },
  botLogin: string | undefined,
): Promise<OwnedPullRequest | undefined> {
  if (!isBot(pr.user)) return undefined;
  if (botLogin !== undefined && pr.user.login.toLowerCase() !== botLogin.toLowerCase()) return undefined;
  const link = await store.getPullRequestLink(repo, pr.number);
  return link ? { issueNumber: link.issue, runId: link.runId } : undefined;
}
