// Reading and writing a bare git repository directly, for the offline GitHub stand-in and the test git remote: what
// GitHub's servers do to a repository (serve a file from a branch, list a PR's files, merge a PR, take a human's
// push) done with the real `git` through the one process runner. Commits are written with plumbing (a private index
// file, commit-tree, a compare-and-swap update-ref), so no working tree is needed except for a merge.
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ExecError, run } from '../src/sandbox/exec.js';
import { requireTool } from '../src/toolchain/tools.js';

export interface GitIdentity {
  name: string;
  email: string;
}

export const STANDIN_IDENTITY: GitIdentity = { name: 'GitHub', email: 'noreply@github.com' };

const GIT_TIMEOUT_MS = 60_000;

function identityEnv(who: GitIdentity): Record<string, string> {
  return {
    GIT_AUTHOR_NAME: who.name,
    GIT_AUTHOR_EMAIL: who.email,
    GIT_COMMITTER_NAME: who.name,
    GIT_COMMITTER_EMAIL: who.email,
    // The developer's own ~/.gitconfig (hooks, signing, templates) must not change what these repositories hold.
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_CONFIG_NOSYSTEM: '1',
  };
}

export async function git(
  cwd: string,
  args: string[],
  options: { env?: Record<string, string>; input?: string; okExitCodes?: number[] } = {},
) {
  return run(requireTool('git'), args, {
    cwd,
    timeoutMs: GIT_TIMEOUT_MS,
    env: { ...identityEnv(STANDIN_IDENTITY), ...options.env },
    ...(options.input === undefined ? {} : { input: options.input }),
    ...(options.okExitCodes === undefined ? {} : { okExitCodes: options.okExitCodes }),
  });
}

export async function initBare(path: string, defaultBranch: string): Promise<void> {
  await git(process.cwd(), ['init', '--quiet', '--bare', `--initial-branch=${defaultBranch}`, path]);
}

/** The commit SHA a ref (branch name, full ref or SHA) points at, or undefined when there is none. */
export async function resolveCommit(bare: string, ref: string): Promise<string | undefined> {
  if (ref.startsWith('-')) return undefined;
  const r = await git(bare, ['rev-parse', '--verify', '--quiet', '--end-of-options', `${ref}^{commit}`], {
    okExitCodes: [1, 128],
  });
  const sha = r.stdout.trim();
  return r.exitCode === 0 && /^[0-9a-f]{40}$/.test(sha) ? sha : undefined;
}

export async function listBranches(bare: string): Promise<Map<string, string>> {
  const r = await git(bare, ['for-each-ref', '--format=%(refname:short) %(objectname)', 'refs/heads']);
  const out = new Map<string, string>();
  for (const line of r.stdout.split('\n')) {
    const [name, sha] = line.trim().split(' ');
    if (name && sha) out.set(name, sha);
  }
  return out;
}

export type TreeEntry =
  | { type: 'file'; path: string; sha: string; size: number; content: Buffer }
  | {
      type: 'dir';
      path: string;
      sha: string;
      entries: { type: 'file' | 'dir'; name: string; path: string; sha: string; size: number }[];
    };

/** What `ref:path` is (a file with its bytes, a directory with its entries), or undefined when absent. */
/** Every entry under a commit's tree (blobs and trees, recursively), as `git ls-tree -r -t -l` lists them. */
export async function listTree(
  bare: string,
  ref: string,
): Promise<
  { tree: string; entries: Array<{ path: string; mode: string; type: string; sha: string; size: number }> } | undefined
> {
  const commit = await resolveCommit(bare, ref);
  if (!commit) return undefined;
  const tree = (await git(bare, ['rev-parse', `${commit}^{tree}`])).stdout.trim();
  const ls = await git(bare, ['ls-tree', '-r', '-t', '-l', '-z', '--full-tree', commit]);
  const entries = [];
  for (const rec of ls.stdout.split('\0')) {
    const m = /^(\d+) (\w+) ([0-9a-f]{40})\s+(-|\d+)\t(.+)$/s.exec(rec);
    if (!m) continue;
    const [, mode = '', type = '', sha = '', size = '-', path = ''] = m;
    entries.push({ path, mode, type, sha, size: size === '-' ? 0 : Number(size) });
  }
  return { tree, entries };
}

export async function readTreeEntry(bare: string, ref: string, path: string): Promise<TreeEntry | undefined> {
  const commit = await resolveCommit(bare, ref);
  if (!commit) return undefined;
  const clean = path.replace(/^\/+|\/+$/g, '');
  const parse = (rec: string) => {
    const m = /^(\d+) (\w+) ([0-9a-f]{40})\s+(-|\d+)\t(.+)$/s.exec(rec);
    if (!m) return undefined;
    const [, , kind = '', sha = '', size = '-', name = ''] = m;
    return { kind, sha, size: size === '-' ? 0 : Number(size), name };
  };
  let self: { kind: string; sha: string; size: number } | undefined;
  if (clean === '') {
    self = { kind: 'tree', sha: (await git(bare, ['rev-parse', `${commit}^{tree}`])).stdout.trim(), size: 0 };
  } else {
    // One ls-tree answers whether the path exists, what it is, its object id and its size.
    const ls = await git(bare, ['ls-tree', '-l', '-z', '--full-tree', commit, '--', clean]);
    self = ls.stdout
      .split('\0')
      .map(parse)
      .find((e) => e?.name === clean);
  }
  if (!self) return undefined;
  if (self.kind === 'blob') {
    const content = await readBlob(bare, commit, clean, self.sha, self.size);
    return { type: 'file', path: clean, sha: self.sha, size: content.length, content };
  }
  if (self.kind !== 'tree') return undefined;
  const ls = await git(bare, ['ls-tree', '-l', '-z', self.sha]);
  const entries: Extract<TreeEntry, { type: 'dir' }>['entries'] = [];
  for (const rec of ls.stdout.split('\0')) {
    const e = parse(rec);
    if (!e) continue;
    entries.push({
      type: e.kind === 'tree' ? 'dir' : 'file',
      name: e.name,
      path: clean ? `${clean}/${e.name}` : e.name,
      sha: e.sha,
      size: e.size,
    });
  }
  return { type: 'dir', path: clean, sha: self.sha, entries };
}

/**
 * The exact bytes of a file. The process runner hands output back as UTF-8 text with terminal escapes stripped: when
 * that text has exactly the blob's size and no replacement character it is the file; otherwise (binary, escapes)
 * the blob is checked out into a scratch directory through a private index and read from disk.
 */
async function readBlob(bare: string, commit: string, path: string, sha: string, size: number): Promise<Buffer> {
  const text = (await git(bare, ['cat-file', 'blob', sha])).stdout;
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length === size && !text.includes('\uFFFD')) return bytes;
  const scratch = await mkdtemp(join(tmpdir(), 'infra-agent-blob-'));
  const env = { GIT_INDEX_FILE: join(scratch, 'index') };
  const work = join(scratch, 'w');
  try {
    await mkdir(work);
    const flags = [`--git-dir=${bare}`, `--work-tree=${work}`];
    await git(work, [...flags, 'read-tree', commit], { env });
    await git(work, [...flags, 'checkout-index', '--', path], { env });
    return await readFile(join(work, path));
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

export interface CommitOptions {
  message: string;
  author?: GitIdentity;
  /** Paths mapped to new contents; `null` deletes the path. */
  files: Record<string, string | null>;
}

/**
 * Commit `files` on top of `branch` (creating it from `from` — a ref or SHA — when it does not exist yet) and move
 * the branch with a compare-and-swap, the way a push does. Returns the new commit SHA.
 */
export async function commitToBranch(
  bare: string,
  branch: string,
  options: CommitOptions & { from?: string },
): Promise<string> {
  const current = await resolveCommit(bare, `refs/heads/${branch}`);
  const parent = current ?? (options.from ? await resolveCommit(bare, options.from) : undefined);
  if (options.from && !parent) throw new Error(`cannot create ${branch}: ${options.from} does not exist`);
  const scratch = await mkdtemp(join(tmpdir(), 'infra-agent-index-'));
  const who = options.author ?? STANDIN_IDENTITY;
  const env = { ...identityEnv(who), GIT_INDEX_FILE: join(scratch, 'index') };
  try {
    if (parent) await git(bare, ['read-tree', parent], { env });
    for (const [path, content] of Object.entries(options.files)) {
      const clean = path.replace(/^\/+/, '');
      if (content === null) {
        // update-index refuses removals without a work tree; an empty scratch one does, as nothing is read from it.
        await git(bare, [`--work-tree=${scratch}`, 'update-index', '--force-remove', '--', clean], { env });
        continue;
      }
      const blob = (await git(bare, ['hash-object', '-w', '--stdin'], { env, input: content })).stdout.trim();
      await git(bare, ['update-index', '--add', '--cacheinfo', `100644,${blob},${clean}`], { env });
    }
    const tree = (await git(bare, ['write-tree'], { env })).stdout.trim();
    const commit = (
      await git(bare, ['commit-tree', tree, ...(parent ? ['-p', parent] : []), '-F', '-'], {
        env,
        input: options.message,
      })
    ).stdout.trim();
    await git(bare, ['update-ref', `refs/heads/${branch}`, commit, current ?? '0'.repeat(40)], { env });
    return commit;
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

export async function mergeBase(bare: string, a: string, b: string): Promise<string | undefined> {
  const r = await git(bare, ['merge-base', a, b], { okExitCodes: [1] });
  return r.exitCode === 0 ? r.stdout.trim() : undefined;
}

export async function isAncestor(bare: string, ancestor: string, descendant: string): Promise<boolean> {
  const r = await git(bare, ['merge-base', '--is-ancestor', ancestor, descendant], { okExitCodes: [1] });
  return r.exitCode === 0;
}

export async function countCommits(bare: string, base: string, head: string): Promise<number> {
  const r = await git(bare, ['rev-list', '--count', `${base}..${head}`]);
  return Number(r.stdout.trim()) || 0;
}

/** Whether `head` merges into `base` without conflicts, computed without touching any branch. */
export async function canMerge(bare: string, base: string, head: string): Promise<boolean> {
  if (await isAncestor(bare, base, head)) return true;
  try {
    const r = await git(bare, ['merge-tree', '--write-tree', base, head], { okExitCodes: [1] });
    return r.exitCode === 0;
  } catch (err) {
    // git older than 2.38 has no --write-tree: try the merge for real in a scratch clone.
    if (!(err instanceof ExecError) || err.reason !== 'exit') throw err;
    return (await mergeInScratch(bare, base, head, 'merge', 'probe', STANDIN_IDENTITY, false)) !== undefined;
  }
}

export interface DiffFile {
  filename: string;
  status: 'added' | 'removed' | 'modified' | 'renamed';
  previousFilename?: string;
  additions: number;
  deletions: number;
  patch: string;
}

/** The files a PR changes: the diff from the merge base of base and head to head, as GitHub shows it. */
export async function diffFiles(bare: string, base: string, head: string): Promise<DiffFile[]> {
  const from = (await mergeBase(bare, base, head)) ?? base;
  const status = await git(bare, ['diff', '--name-status', '-z', '-M', from, head]);
  const numstat = await git(bare, ['diff', '--numstat', '-z', '-M', from, head]);
  const counts = new Map<string, { additions: number; deletions: number }>();
  const ns = numstat.stdout.split('\0');
  for (let i = 0; i < ns.length; i++) {
    const rec = ns[i] ?? '';
    const m = /^(\d+|-)\t(\d+|-)\t(.*)$/s.exec(rec);
    if (!m) continue;
    let name = m[3] ?? '';
    // A rename is "adds\tdels\t" followed by two NUL-separated paths; the second is the new name.
    if (name === '') {
      i += 2;
      name = ns[i] ?? '';
    }
    counts.set(name, { additions: Number(m[1]) || 0, deletions: Number(m[2]) || 0 });
  }
  const out: DiffFile[] = [];
  const parts = status.stdout.split('\0');
  for (let i = 0; i < parts.length; i++) {
    const code = parts[i] ?? '';
    if (!code) continue;
    let filename = parts[++i] ?? '';
    let previousFilename: string | undefined;
    let kind: DiffFile['status'] = 'modified';
    if (code.startsWith('A')) kind = 'added';
    else if (code.startsWith('D')) kind = 'removed';
    else if (code.startsWith('R')) {
      kind = 'renamed';
      previousFilename = filename;
      filename = parts[++i] ?? '';
    }
    const patchOut = await git(bare, [
      'diff',
      '-M',
      from,
      head,
      '--',
      ...(previousFilename ? [previousFilename] : []),
      filename,
    ]);
    const at = patchOut.stdout.indexOf('\n@@');
    const patch = at >= 0 ? patchOut.stdout.slice(at + 1).replace(/\n$/, '') : '';
    const c = counts.get(filename) ?? { additions: 0, deletions: 0 };
    out.push({ filename, status: kind, ...(previousFilename ? { previousFilename } : {}), ...c, patch });
  }
  return out;
}

export type MergeMethod = 'merge' | 'squash' | 'rebase';

/**
 * Merge `head` into `base` the way GitHub's merge button does, in a scratch clone that then pushes to the bare
 * repository (a compare-and-swap: a concurrent push to base makes it fail rather than be lost). Returns the new base
 * SHA, or undefined when the merge conflicts.
 */
export async function mergeBranch(
  bare: string,
  baseBranch: string,
  headRef: string,
  method: MergeMethod,
  message: string,
  committer: GitIdentity = STANDIN_IDENTITY,
): Promise<string | undefined> {
  return mergeInScratch(bare, baseBranch, headRef, method, message, committer, true);
}

async function mergeInScratch(
  bare: string,
  baseRef: string,
  headRef: string,
  method: MergeMethod,
  message: string,
  committer: GitIdentity,
  push: boolean,
): Promise<string | undefined> {
  const scratch = await mkdtemp(join(tmpdir(), 'infra-agent-merge-'));
  const env = identityEnv(committer);
  const work = join(scratch, 'w');
  try {
    const baseSha = await resolveCommit(bare, baseRef);
    const headSha = await resolveCommit(bare, headRef);
    if (!baseSha || !headSha) return undefined;
    await git(scratch, ['clone', '--quiet', '--no-checkout', bare, work], { env });
    await git(work, ['checkout', '--quiet', '--detach', baseSha], { env });
    if (method === 'rebase') {
      await git(work, ['checkout', '--quiet', '--detach', headSha], { env });
      const r = await git(work, ['rebase', '--quiet', baseSha], { env, okExitCodes: [1, 128] });
      if (r.exitCode !== 0) return undefined;
    } else if (method === 'squash') {
      const r = await git(work, ['merge', '--squash', '--quiet', headSha], { env, okExitCodes: [1, 128] });
      if (r.exitCode !== 0) return undefined;
      await git(work, ['commit', '--quiet', '--allow-empty', '-F', '-'], { env, input: message });
    } else {
      const r = await git(work, ['merge', '--no-ff', '--quiet', '-m', message, headSha], {
        env,
        okExitCodes: [1, 128],
      });
      if (r.exitCode !== 0) return undefined;
    }
    const result = (await git(work, ['rev-parse', 'HEAD'], { env })).stdout.trim();
    if (!push) return result;
    const target = baseRef.startsWith('refs/') ? baseRef : `refs/heads/${baseRef}`;
    await git(work, ['push', '--quiet', `--force-with-lease=${target}:${baseSha}`, 'origin', `${result}:${target}`], {
      env,
    });
    return result;
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

export interface CommitInfo {
  sha: string;
  parents: string[];
  tree: string;
  author: GitIdentity & { date: string };
  committer: GitIdentity & { date: string };
  message: string;
}

const FIELD = '\u001f';
const RECORD = '\u001e';

/** Commits reachable from `head` but not `base` (oldest first), or just `head` when base is undefined. */
export async function listCommits(bare: string, base: string | undefined, head: string): Promise<CommitInfo[]> {
  const format = ['%H', '%P', '%T', '%an', '%ae', '%aI', '%cn', '%ce', '%cI', '%B'].join('%x1f');
  const range = base ? [`${base}..${head}`] : ['-n', '1', head];
  const r = await git(bare, ['log', '--reverse', `--format=${format}%x1e`, ...range]);
  return r.stdout
    .split(RECORD)
    .map((rec) => rec.replace(/^\n/, ''))
    .filter((rec) => rec.trim() !== '')
    .map((rec) => {
      const [sha = '', parents = '', tree = '', an = '', ae = '', ad = '', cn = '', ce = '', cd = '', message = ''] =
        rec.split(FIELD);
      return {
        sha,
        parents: parents.split(' ').filter(Boolean),
        tree,
        author: { name: an, email: ae, date: ad },
        committer: { name: cn, email: ce, date: cd },
        message: message.replace(/\n+$/, ''),
      };
    });
}
