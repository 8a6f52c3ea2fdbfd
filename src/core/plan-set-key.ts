// Where the store keeps a PR's plan set (which projects its latest plan covered, bound to head and base): written by
// the plan record (apply/plan-record.ts), read there and by the GitHub side to tell whether the App planned a PR.

export function planSetKey(repo: string, pr: number): string {
  return `plan-set:${repo}#${pr}`;
}
