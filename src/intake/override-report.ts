// After `/infra override`, the PR body's policy report must show it (who, when, why): the verdict is decided again
// from the gate recorded for each project's current plan hash and the overrides given for exactly that hash, and the
// "## Policy report" section and the plan table's policy column are rewritten in place. Nothing else in the body
// changes; the next plan run renders the whole body again anyway.
import { loadGate, loadPlanSet } from '../apply/plan-record.js';
import type { RepoConfig } from '../config/schema.js';
import type { GitHubClient, RepoRef } from '../core/github.js';
import type { Verdict } from '../core/types.js';
import { decideVerdict } from '../policy/verdict.js';
import { renderPolicyMarkdown } from '../report/policy-markdown.js';
import type { Store } from '../store/types.js';

const VERDICT_LABEL = { pass: '✅ pass', blocked: '⛔ blocked', 'needs-override': '⚠️ needs override' } as const;
const SECTION = '## Policy report';

/** Rewrite the policy section of `body` for these verdicts; undefined when the body has no such section. */
export function rewritePolicySection(
  body: string,
  verdicts: { project: string; verdict: Verdict }[],
): string | undefined {
  const start = body.indexOf(`\n${SECTION}\n`);
  if (start < 0) return undefined;
  const rest = body.slice(start + 1);
  const ends = ['\n<details><summary>Plan output</summary>', '\n<sub>Agent:', '\n<!-- infra-agent:']
    .map((m) => rest.indexOf(m))
    .filter((i) => i > 0);
  const end = ends.length > 0 ? Math.min(...ends) : rest.length;
  const policy = verdicts.map((v) => {
    const md = renderPolicyMarkdown(v.verdict, { maxChars: 20_000 });
    return verdicts.length > 1 ? `### Policy: ${v.project.replace(/\|/g, '\\|')}\n\n${md}` : md;
  });
  const section = [SECTION, '', ...policy, ''].join('\n');
  let head = body.slice(0, start + 1);
  // The plan table's last column: one row per project, in the same order the body was rendered.
  for (const v of verdicts) {
    const name = v.project.replace(/\|/g, '\\|');
    head = head.replace(
      new RegExp(`^(\\| ${escapeRegExp(name)}(?: \\([^|]*\\))? \\|(?:[^|\\n]*\\|){5,6}) [^|\\n]* \\|$`, 'm'),
      `$1 ${VERDICT_LABEL[v.verdict.status]} |`,
    );
  }
  return `${head}${section}${rest.slice(end)}`;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Re-render the PR body's policy report with the overrides now recorded for its current plans. */
export async function refreshPolicyReport(
  octokit: GitHubClient,
  store: Store,
  repo: RepoRef,
  prNumber: number,
  config: RepoConfig,
): Promise<boolean> {
  const full = `${repo.owner}/${repo.repo}`;
  const set = await loadPlanSet(store, full, prNumber);
  if (!set) return false;
  const verdicts: { project: string; verdict: Verdict }[] = [];
  for (const p of set.projects) {
    if (p.planHash === null) return false;
    const scanners = await loadGate(store, {
      repo: full,
      pr: prNumber,
      project: p.name,
      workspace: p.workspace,
      planHash: p.planHash,
    });
    if (!scanners) return false;
    const overrides = await store.listOverrides({ repo: full, pr: prNumber, planHash: p.planHash });
    verdicts.push({
      project: p.name,
      verdict: decideVerdict({ scanners, overrides, config: config.policy, planHash: p.planHash }),
    });
  }
  const { data: pr } = await octokit.rest.pulls.get({ ...repo, pull_number: prNumber });
  const next = rewritePolicySection(pr.body ?? '', verdicts);
  if (next === undefined || next === pr.body) return false;
  await octokit.rest.pulls.update({ ...repo, pull_number: prNumber, body: next });
  return true;
}
