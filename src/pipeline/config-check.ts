// The `infra-agent/config` check run: a PR that changes `.github/infra-agent.yml` is told, on that PR, whether the
// file it proposes is valid — with the same key-path message an issue would get once it reached the default branch.

import { z } from 'zod';
import { CONFIG_PATH, parseRepoConfig } from '../config/load.js';
import type { ConfigCheckJob } from '../core/jobs.js';
import { publishCheckRun } from '../github/check-runs.js';
import type { WorkerDeps } from './deps.js';

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
  const result = text.startsWith('\u0000')
    ? { ok: false as const, message: `\`${CONFIG_PATH}\` is not a regular file` }
    : parseRepoConfig(text);
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
