// Which pull requests are the app's own: opened by a bot (this app's login when known) AND carrying the app's body
// markers. The issue marker ties the PR to the issue its runs are serialised on. A human cannot make their PR "ours"
// by pasting markers, because the author check comes first.

import { readMarkers } from './markers.js';
import { isBot } from './payloads.js';

export interface OwnedPullRequest {
  issueNumber: number;
  runId: string;
}

export function ownedPullRequest(
  pr: { body?: string | null | undefined; user: { login: string; type: string } },
  botLogin: string | undefined,
): OwnedPullRequest | undefined {
  if (!isBot(pr.user)) return undefined;
  if (botLogin !== undefined && pr.user.login !== botLogin) return undefined;
  const markers = readMarkers(pr.body);
  const issue = Number(markers.issue);
  if (!markers['run-id'] || !Number.isSafeInteger(issue) || issue <= 0) return undefined;
  return { issueNumber: issue, runId: markers['run-id'] };
}
