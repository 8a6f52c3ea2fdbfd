// Records, from the GitHub stand-in, every response our App's web path needs for one `issues.labeled` delivery (app
// identity, installation token, config file lookup, labeller's permission, the 👀 reaction) plus the delivery itself,
// so the ingestion benchmark can replay them from a process that answers instantly (bench/lib/replay-github.ts).
import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { Probot, ProbotOctokit } from 'probot';
import { z } from 'zod';
import { createGitRemote } from '../../devtools/git-remote.js';
import { standinWebhooks, startGitHubStandin } from '../../devtools/github-standin/index.js';
import type { JsonObject } from '../../devtools/json.js';
import { createLogger } from '../../src/observability/logger.js';
import { projectRoot } from '../../src/toolchain/tools.js';
import type { RecordedRoute } from './replay-github.js';

export const OWNER = 'acme';
export const REPO = 'infra';
export const INSTALLATION_ID = 7;
export const TRIGGER_LABEL = 'infra-request';
export const LABELLER = 'mona';

export interface RecordedGitHub {
  appId: string;
  privateKey: string;
  routes: RecordedRoute[];
  /** An `issues.labeled` delivery (trigger label, by a user with write permission) as the stand-in builds it. */
  labeled: { event: string; payload: JsonObject };
}

/** The bundled example repository's files, as the e2e test and the demo use them. */
export async function demoRepoFiles(): Promise<Record<string, string>> {
  const root = join(projectRoot(), 'examples', 'demo-repo');
  const files: Record<string, string> = {};
  for (const entry of await readdir(root, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const abs = join(entry.parentPath, entry.name);
    files[relative(root, abs)] = await readFile(abs, 'utf8');
  }
  return files;
}

const HttpFailure = z.object({ status: z.number(), response: z.object({ data: z.unknown() }) });

async function capture(
  fn: () => Promise<{ status: number; data: unknown }>,
): Promise<{ status: number; body: string }> {
  try {
    const res = await fn();
    return { status: res.status, body: JSON.stringify(res.data) };
  } catch (err) {
    const failure = HttpFailure.safeParse(err);
    if (!failure.success) throw err;
    return { status: failure.data.status, body: JSON.stringify(failure.data.response.data) };
  }
}

export async function recordGitHub(): Promise<RecordedGitHub> {
  const standin = await startGitHubStandin();
  const remote = await createGitRemote({ files: await demoRepoFiles(), owner: OWNER, repo: REPO });
  try {
    standin.addInstallation({ id: INSTALLATION_ID, account: OWNER, accountType: 'Organization' });
    standin.addRepo({
      owner: OWNER,
      name: REPO,
      remotePath: remote.path,
      defaultBranch: remote.defaultBranch,
      installationId: INSTALLATION_ID,
    });
    standin.setPermission(OWNER, REPO, LABELLER, 'write');
    const issue = standin.addIssue({ owner: OWNER, repo: REPO, title: 'Bench request', user: LABELLER });
    const labeled = standinWebhooks(standin).issuesLabeled(OWNER, REPO, issue.number, TRIGGER_LABEL, LABELLER);

    const privateKey = standin.app.privateKey ?? '';
    const probot = new Probot({
      appId: standin.app.id,
      privateKey,
      baseUrl: standin.url,
      log: createLogger({ level: 'fatal' }),
      Octokit: ProbotOctokit.defaults({ throttle: { enabled: false } }),
    });
    const app = await probot.auth();
    const inst = await probot.auth(INSTALLATION_ID);
    const repo = { owner: OWNER, repo: REPO };
    const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    const base = `^/repos/${esc(OWNER)}/${esc(REPO)}`;
    const routes: RecordedRoute[] = [
      { name: 'GET /app', method: 'GET', path: '^/app$', ...(await capture(() => app.rest.apps.getAuthenticated())) },
      {
        name: 'POST /app/installations/{id}/access_tokens',
        method: 'POST',
        path: '^/app/installations/\\d+/access_tokens$',
        ...(await capture(() => app.rest.apps.createInstallationAccessToken({ installation_id: INSTALLATION_ID }))),
      },
      {
        name: 'GET contents/.github/infra-agent.yml',
        method: 'GET',
        path: `${base}/contents/`,
        ...(await capture(() =>
          inst.rest.repos.getContent({ ...repo, path: '.github/infra-agent.yml', ref: remote.defaultBranch }),
        )),
      },
      {
        name: 'GET collaborators/{user}/permission',
        method: 'GET',
        path: `${base}/collaborators/[^/]+/permission$`,
        ...(await capture(() => inst.rest.repos.getCollaboratorPermissionLevel({ ...repo, username: LABELLER }))),
      },
      {
        name: 'POST issues/{n}/reactions',
        method: 'POST',
        path: `${base}/issues/\\d+/reactions$`,
        ...(await capture(() =>
          inst.rest.reactions.createForIssue({ ...repo, issue_number: issue.number, content: 'eyes' }),
        )),
      },
    ];
    if (standin.violations.length > 0) {
      throw new Error(`recording broke GitHub's description: ${JSON.stringify(standin.violations[0])}`);
    }
    return { appId: String(standin.app.id), privateKey, routes, labeled };
  } finally {
    await standin.close();
    await remote.close();
  }
}
