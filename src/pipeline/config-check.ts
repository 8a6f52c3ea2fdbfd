// The `infra-agent/config` check run: a PR that changes `.github/infra-agent.yml` is told, on that PR, whether the
// file it proposes is valid — with the same key-path message an issue would get once it reached the default branch —
// and whether its `projects` fit the PR's own files (dirs that exist, known and acyclic `depends_on`, `when_modified`
// globs that match something).
import { z } from 'zod';
import { CONFIG_PATH, parseRepoConfig } from '../config/load.js';
import { type BranchTree, checkProjects } from '../config/projects-check.js';
import type { GitHubClient, RepoRef } from '../core/github.js';
import type { ConfigCheckJob } from '../core/jobs.js';
import { publishCheckRun } from '../github/check-runs.js';
import type { WorkerDeps } from '../stages/deps.js';

const FileContent = z.object({ type: z.literal('file'), encoding: z.literal('base64'), content: z.string() });

export async function runConfigCheck(job: ConfigCheckJob, deps: WorkerDeps): Promise<void> {
  const { octokit } = await deps.installation(job.installationId);
  const repo = { owner: job.owner, repo: job.repo };
  const files = await octokit.paginate(octokit.rest.pulls.listFiles, {
    ...repo,
    pull_number: job.prNumber,
    per_page: 100,
  });
  const changed = files.find((f) => f.filename === CONFIG_PATH || f.previous_filename === CONFIG_PATH);
  if (!changed) return;
  let text = '';
  if (changed.status !== 'removed' && changed.filename === CONFIG_PATH) {
    const res = await octokit.rest.repos.getContent({ ...repo, path: CONFIG_PATH, ref: job.headSha });
    const file = FileContent.safeParse(res.data);
    text = file.success ? Buffer.from(file.data.content, 'base64').toString('utf8') : '\u0000not a file';
  }
  const parsed = text.startsWith('\u0000')
    ? { ok: false as const, message: `\`${CONFIG_PATH}\` is not a regular file` }
    : parseRepoConfig(text);
  // What the schema cannot see: project dirs, names, dependencies and globs against the PR's own files.
  const problems =
    parsed.ok && parsed.config.projects.length > 0
      ? checkProjects(parsed.config, await branchTree(octokit, repo, job.headSha))
      : [];
  const result =
    parsed.ok && problems.length > 0
      ? {
          ok: false as const,
          message:
            problems.length === 1
              ? `\`${CONFIG_PATH}\`: ${problems[0]}`
              : `\`${CONFIG_PATH}\` is invalid:\n${problems.map((p) => `- ${p}`).join('\n')}`,
        }
      : parsed;
  await publishCheckRun(octokit, deps.store, repo, {
    name: 'infra-agent/config',
    headSha: job.headSha,
    key: 'config',
    conclusion: result.ok ? 'success' : 'failure',
    title: result.ok ? `${CONFIG_PATH} is valid` : `${CONFIG_PATH} is invalid`,
    summary: result.ok
      ? changed.status === 'removed'
        ? `This pull request removes \`${CONFIG_PATH}\`: after merge the defaults apply.`
        : `\`${CONFIG_PATH}\` is valid. It takes effect once merged into the default branch.`
      : result.message,
    annotations: [],
  });
}

const Tree = z.object({
  truncated: z.boolean(),
  tree: z.array(z.object({ path: z.string(), type: z.string() })),
});

/** The files and directories of the PR's head (one request; GitHub cuts very large trees and says so). */
async function branchTree(octokit: GitHubClient, repo: RepoRef, sha: string): Promise<BranchTree> {
  const res = await octokit.rest.git.getTree({ ...repo, tree_sha: sha, recursive: 'true' });
  const data = Tree.parse(res.data);
  const files = data.tree.filter((e) => e.type === 'blob').map((e) => e.path);
  const dirs = new Set(data.tree.filter((e) => e.type === 'tree').map((e) => e.path));
  return { files, dirs, complete: !data.truncated };
}
