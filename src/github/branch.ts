// Branch names the app pushes: `infra/issue-<N>-<slug>`. The slug comes from the issue title (untrusted), so it is
// reduced to an allowlist [a-z0-9-] and bounded; the result is always a valid, unambiguous git ref name.

const MAX_SLUG = 40;

export function slugify(title: string): string {
  const slug = title
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, MAX_SLUG)
    .replace(/-+$/g, '');
  return slug || 'change';
}

export function branchForIssue(issueNumber: number, title: string): string {
  if (!Number.isSafeInteger(issueNumber) || issueNumber <= 0) throw new Error(`bad issue number ${issueNumber}`);
  return `infra/issue-${issueNumber}-${slugify(title)}`;
}

export function isAppBranch(ref: string): boolean {
  return /^infra\/issue-\d+-[a-z0-9-]{1,40}$/.test(ref);
}
