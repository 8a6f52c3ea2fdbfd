// The short texts the handlers post. Kept together so tone and wording stay consistent, and so handler tests can
// snapshot them. Nothing here interpolates untrusted text except logins, which GitHub restricts to [A-Za-z0-9-], and
// repository names, rendered as code.
import { renderCode } from '../markdown/text.js';

export function unauthorisedReply(login: string, required: string, what: string): string {
  return [
    `Thanks @${login}! ${what} needs \`${required}\` permission on this repository, and your permission is lower, so`,
    'nothing was started. Ask someone with that permission to do it, or ask a maintainer to change',
    '`trigger.required_permission` in `.github/infra-agent.yml`.',
  ].join(' ');
}

export function invalidConfigReply(message: string): string {
  return [
    '**infra-agent could not start: the repository configuration is invalid.**',
    '',
    message,
    '',
    'The configuration is read from the default branch. Fix it there, then add the label again (or comment `/infra plan`).',
  ].join('\n');
}

export function unknownCommandReply(word: string, help: string): string {
  return `I don't know \`/infra ${word}\`.\n\n${help}`;
}

export function notOwnPullRequestReply(): string {
  return '`/infra unlock` and `/infra override` work on pull requests infra-agent opened or planned; this one has no plan yet: comment `/infra plan` first.';
}

export function onPullRequestOnlyReply(word: string): string {
  return `\`/infra ${word}\` works on the pull request infra-agent opened for this issue: comment there.`;
}

export function reviseOnIssueReply(): string {
  return '`/infra revise` works on the pull request infra-agent opened for this issue: comment there.';
}

export function queuedBehindReply(kind: string, activeRunId: string): string {
  return `A run is already in progress here (\`${activeRunId}\`); this \`${kind}\` will start when it finishes.`;
}

/** `/infra revise` on a fork's PR: the App never pushes to a fork. */
export function forkReviseReply(who: string, fork: string): string {
  return `@${who} **nothing was changed**: infra-agent never pushes to a fork, and this pull request comes from ${renderCode(fork)}. Make the change on the fork's branch, or open the pull request from a branch of this repository and ask again.`;
}
