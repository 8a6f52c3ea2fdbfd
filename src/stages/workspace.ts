// The run's checkout: a git clone in a fresh temporary directory, through sandbox/exec with an allowlisted environment.
// The installation token only ever appears in the URL given to `clone` and `push` (argv, never the environment of
// terraform or the agent): after cloning, `origin` is reset to a token-less URL so nothing in the checkout holds it,
// and every error message is redacted with the token added to the redactor.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { cleanCheckout, forgetCheckout, type WorkspaceHazard } from '../sandbox/clean.js';
import { ExecError, run } from '../sandbox/exec.js';
import { requireTool } from '../toolchain/tools.js';
import { Redactor } from '../util/redact.js';
import { workDirPrefix } from './work-dirs.js';

export const DEFAULT_GIT_URL_TEMPLATE = 'https://x-access-token:{token}@github.com/{owner}/{repo}.git';

export interface GitIdentity {
  name: string;
  email: string;
}

export interface WorkspaceOptions {
  owner: string;
  repo: string;
  token: string;
  urlTemplate: string;
  author: GitIdentity;
  /** Parent of the temporary checkout (default the OS temp dir). */
  workRoot?: string;
  signal?: AbortSignal;
}

const GIT_TIMEOUT_MS = 5 * 60_000;

export class GitError extends Error {
  override readonly name = 'GitError';
}

export function remoteUrl(template: string, parts: { owner: string; repo: string; token: string }): string {
  return template
    .replaceAll('{token}', encodeURIComponent(parts.token))
    .replaceAll('{owner}', encodeURIComponent(parts.owner))
    .replaceAll('{repo}', encodeURIComponent(parts.repo));
}

/** Files terraform writes next to the code that must never be committed. */
const EXCLUDES = ['.terraform/', '*.tfstate', '*.tfstate.*', '*.tfplan', '.terraform.tfstate.lock.info', 'crash.log'];

export class Workspace {
  private readonly redactor = new Redactor();
  private readonly git = requireTool('git');

  private constructor(
    readonly dir: string,
    private readonly opts: WorkspaceOptions,
  ) {
    this.redactor.add(opts.token);
    this.redactor.add(encodeURIComponent(opts.token));
  }

  /** A worker's checkout of `repo`: its URL template, commit author and work root come from the worker's deps. */
  static cloneFor(
    deps: { gitUrlTemplate: string; author: GitIdentity; workRoot?: string | undefined },
    repo: { owner: string; repo: string },
    token: string,
    signal?: AbortSignal,
  ): Promise<Workspace> {
    return Workspace.clone({
      owner: repo.owner,
      repo: repo.repo,
      token,
      urlTemplate: deps.gitUrlTemplate,
      author: deps.author,
      ...(deps.workRoot ? { workRoot: deps.workRoot } : {}),
      ...(signal ? { signal } : {}),
    });
  }

  static async clone(opts: WorkspaceOptions): Promise<Workspace> {
    const parent = await mkdtemp(workDirPrefix(opts.workRoot, 'run'));
    const ws = new Workspace(join(parent, 'repo'), opts);
    const url = remoteUrl(opts.urlTemplate, opts);
    await ws.exec(['clone', '--no-tags', '--quiet', url, ws.dir], parent);
    await ws.exec(['remote', 'set-url', 'origin', remoteUrl(opts.urlTemplate, { ...opts, token: 'redacted' })]);
    await writeFile(join(ws.dir, '.git', 'info', 'exclude'), `${EXCLUDES.join('\n')}\n`);
    return ws;
  }

  /** Run git in the checkout; errors are redacted (they may echo the URL). */
  async exec(args: string[], cwd = this.dir): Promise<string> {
    const identity = ['-c', `user.name=${this.opts.author.name}`, '-c', `user.email=${this.opts.author.email}`];
    try {
      const res = await run(this.git, [...identity, '-c', 'core.hooksPath=/dev/null', ...args], {
        cwd,
        timeoutMs: GIT_TIMEOUT_MS,
        env: {
          GIT_TERMINAL_PROMPT: '0',
          GIT_CONFIG_NOSYSTEM: '1',
          GIT_CONFIG_GLOBAL: '/dev/null',
          GIT_AUTHOR_NAME: this.opts.author.name,
          GIT_AUTHOR_EMAIL: this.opts.author.email,
          GIT_COMMITTER_NAME: this.opts.author.name,
          GIT_COMMITTER_EMAIL: this.opts.author.email,
        },
        ...(this.opts.signal ? { signal: this.opts.signal } : {}),
      });
      return res.stdout.trim();
    } catch (err) {
      if (err instanceof ExecError) {
        const what = args.find((a) => !a.startsWith('-')) ?? 'git';
        throw new GitError(this.redactor.redact(`git ${what} failed: ${err.tail(5) || err.message}`));
      }
      throw err;
    }
  }

  async headSha(ref = 'HEAD'): Promise<string> {
    return this.exec(['rev-parse', ref]);
  }

  /** Fetch a branch from origin; false when it does not exist there. */
  async fetchBranch(branch: string): Promise<boolean> {
    const url = remoteUrl(this.opts.urlTemplate, this.opts);
    const found = await this.exec(['ls-remote', '--heads', url, `refs/heads/${branch}`]);
    if (!found) return false;
    await this.exec(['fetch', '--quiet', '--no-tags', url, `+refs/heads/${branch}:refs/remotes/origin/${branch}`]);
    return true;
  }

  /** Fetch any ref of origin (e.g. `refs/pull/7/head`, a fork PR's head) into `into`; false when origin lacks it. */
  async fetchRef(ref: string, into: string): Promise<boolean> {
    const url = remoteUrl(this.opts.urlTemplate, this.opts);
    const found = await this.exec(['ls-remote', url, ref]);
    if (!found) return false;
    await this.exec(['fetch', '--quiet', '--no-tags', url, `+${ref}:${into}`]);
    return true;
  }

  /** Whether `ancestor` is in the history of `head` (both fetched): `git merge-base` of the two is `ancestor`. */
  async contains(head: string, ancestor: string): Promise<boolean> {
    const full = await this.exec(['rev-parse', '--verify', `${ancestor}^{commit}`]);
    try {
      return (await this.exec(['merge-base', full, head])) === full;
    } catch (err) {
      // Exit 1 with no output: no common history at all, which certainly does not contain it.
      if (err instanceof GitError && !/fatal/i.test(err.message)) return false;
      throw err;
    }
  }

  async checkoutNew(branch: string, from = 'HEAD'): Promise<void> {
    await this.exec(['checkout', '--quiet', '-B', branch, from]);
    await this.clean();
  }

  /** Check out a commit (detached) and clean it, for the apply. */
  async checkoutDetached(sha: string): Promise<void> {
    await this.exec(['checkout', '--quiet', '--detach', sha]);
    await this.clean();
  }

  /**
   * A clean workspace before anything runs (sandbox/clean.ts): committed `.terraform/`, state, CLI config and
   * outward symlinks are removed from the working tree. Git is told to leave them be (skip-worktree), so the
   * removal never turns into a deletion in the App's own commit; the checks report them as PRE-WORKSPACE-001.
   */
  async clean(): Promise<WorkspaceHazard[]> {
    const hazards = await cleanCheckout(this.dir);
    if (hazards.length === 0) return hazards;
    const tracked = (await this.exec(['ls-files', '-z', '--', ...hazards.map((h) => h.path)]))
      .split('\0')
      .filter(Boolean);
    if (tracked.length > 0) await this.exec(['update-index', '--skip-worktree', '--', ...tracked]);
    return hazards;
  }

  /** Paths changed in the working tree (staged or not, untracked included), excluded files left out. */
  async changedPaths(): Promise<string[]> {
    const out = await this.exec(['status', '--porcelain=v1', '-z', '--untracked-files=all']);
    return out
      .split('\0')
      .filter(Boolean)
      .map((l) => l.slice(3));
  }

  /** Stage everything and commit as the app; returns the new SHA, or undefined when there was nothing to commit. */
  async commitAll(message: string): Promise<string | undefined> {
    await this.exec(['add', '--all']);
    const staged = await this.exec(['diff', '--cached', '--name-only']);
    if (!staged) return undefined;
    await this.exec(['commit', '--quiet', '--no-verify', '-m', message]);
    return this.headSha();
  }

  /** An empty commit as the app (a reconcile-revert branch: the plan is the change); returns its SHA. */
  async commitEmpty(message: string): Promise<string> {
    await this.exec(['commit', '--quiet', '--no-verify', '--allow-empty', '-m', message]);
    return this.headSha();
  }

  /**
   * Push HEAD to a branch. `expect` is the remote head this push replaces (undefined = the branch must not exist):
   * a lease, so a push never overwrites commits someone else pushed meanwhile.
   */
  async push(branch: string, expect: string | undefined): Promise<void> {
    const url = remoteUrl(this.opts.urlTemplate, this.opts);
    const lease = `--force-with-lease=refs/heads/${branch}:${expect ?? ''}`;
    await this.exec(['push', '--quiet', '--no-verify', lease, url, `HEAD:refs/heads/${branch}`]);
  }

  /** Push HEAD to `branch` only as a fast-forward (no force of any kind): a person's history is never rewritten. */
  async pushFastForward(branch: string): Promise<void> {
    const url = remoteUrl(this.opts.urlTemplate, this.opts);
    await this.exec(['push', '--quiet', '--no-verify', url, `HEAD:refs/heads/${branch}`]);
  }

  /** Authors (emails) of commits in `from..to`. */
  async authorsBetween(from: string, to: string): Promise<string[]> {
    const out = await this.exec(['log', '--format=%ae', `${from}..${to}`]);
    return out.split('\n').filter(Boolean);
  }

  async diff(base: string, head = 'HEAD'): Promise<string> {
    return this.exec(['diff', '--no-color', '--no-ext-diff', `${base}...${head}`]);
  }

  async remove(): Promise<void> {
    await forgetCheckout(this.dir);
    await rm(join(this.dir, '..'), { recursive: true, force: true });
  }
}
