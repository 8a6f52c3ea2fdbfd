// A real git remote on disk for the offline demo and the end-to-end tests: a bare repository laid out as
// `<base>/<owner>/<repo>.git`, so one URL template (`file://<base>/{owner}/{repo}.git`) serves every repository the
// App clones and pushes, plus the reads a test needs (branch heads, file contents) and a simulated human push.
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { commitToBranch, type GitIdentity, initBare, listBranches, readTreeEntry, resolveCommit } from './bare-repo.js';

export interface GitRemoteOptions {
  /** Initial contents of the default branch (path → text). */
  files: Record<string, string>;
  defaultBranch?: string;
  owner?: string;
  repo?: string;
  /** Where `<owner>/<repo>.git` goes; a fresh temporary directory (removed by close()) when omitted. */
  baseDir?: string;
  message?: string;
  author?: GitIdentity;
}

export interface GitRemote {
  owner: string;
  repo: string;
  defaultBranch: string;
  /** The bare repository's path. */
  path: string;
  /** `file://` URL of the bare repository. */
  url: string;
  /** The directory holding `<owner>/<repo>.git`. */
  baseDir: string;
  /** `file://<baseDir>/{owner}/{repo}.git` — for the App's INFRA_AGENT_GIT_URL_TEMPLATE. */
  urlTemplate: string;
  /** SHA of a branch's head; throws when the branch does not exist. */
  headSha(branch?: string): Promise<string>;
  /** A file's text on a branch (or any ref/SHA), or undefined when absent. */
  readFile(ref: string, path: string): Promise<string | undefined>;
  /** Branch name → head SHA. */
  listBranches(): Promise<Map<string, string>>;
  /** Commit files onto a branch as a person pushing would (`null` deletes a file). Returns the new SHA. */
  commitFiles(
    branch: string,
    files: Record<string, string | null>,
    message: string,
    options?: { author?: GitIdentity; from?: string },
  ): Promise<string>;
  close(): Promise<void>;
}

/** A person's identity for simulated pushes; the stand-in links the noreply address to the `octocat` account. */
export const HUMAN_IDENTITY: GitIdentity = { name: 'Mona Lisa Octocat', email: 'octocat@users.noreply.github.com' };

/** The identity GitHub links to `login` in commits (`login@users.noreply.github.com`). */
export function identityFor(login: string, name = login): GitIdentity {
  return { name, email: `${login}@users.noreply.github.com` };
}

/** The URL template that makes `{owner}/{repo}` resolve to a remote under `baseDir`. */
export function gitUrlTemplate(baseDir: string): string {
  return `${pathToFileURL(baseDir).href}/{owner}/{repo}.git`;
}

export async function createGitRemote(options: GitRemoteOptions): Promise<GitRemote> {
  const owner = options.owner ?? 'acme';
  const repo = options.repo ?? 'infra';
  const defaultBranch = options.defaultBranch ?? 'main';
  const ownsBase = options.baseDir === undefined;
  const baseDir = options.baseDir ?? (await mkdtemp(join(tmpdir(), 'infra-agent-remotes-')));
  const path = join(baseDir, owner, `${repo}.git`);
  await mkdir(dirname(path), { recursive: true });
  await initBare(path, defaultBranch);
  await commitToBranch(path, defaultBranch, {
    message: options.message ?? 'Initial commit',
    author: options.author ?? HUMAN_IDENTITY,
    files: options.files,
  });

  return {
    owner,
    repo,
    defaultBranch,
    path,
    url: pathToFileURL(path).href,
    baseDir,
    urlTemplate: gitUrlTemplate(baseDir),
    async headSha(branch = defaultBranch) {
      const sha = await resolveCommit(path, `refs/heads/${branch}`);
      if (!sha) throw new Error(`branch ${branch} does not exist in ${owner}/${repo}`);
      return sha;
    },
    async readFile(ref, file) {
      const full = /^[0-9a-f]{40}$/.test(ref) || ref.startsWith('refs/') ? ref : `refs/heads/${ref}`;
      const entry = await readTreeEntry(path, full, file);
      return entry?.type === 'file' ? entry.content.toString('utf8') : undefined;
    },
    listBranches: () => listBranches(path),
    commitFiles: (branch, files, message, opts = {}) =>
      commitToBranch(path, branch, {
        files,
        message,
        author: opts.author ?? HUMAN_IDENTITY,
        ...(opts.from === undefined ? {} : { from: opts.from }),
      }),
    async close() {
      await rm(ownsBase ? baseDir : path, { recursive: true, force: true });
    },
  };
}
