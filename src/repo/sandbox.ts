// The path sandbox: the only way a model-chosen path becomes a filesystem path. Every path is checked twice — as
// written (syntax: no absolute paths, no `..` escape, no NUL, no protected names) and after realpath (every
// existing ancestor's symlinks resolved, so a link that points out of the checkout or into a protected folder is
// refused). Writes must also match the configured writable globs and must not add, change or remove a Terraform
// backend: where state lives is a human decision. Error messages tell the model what it may do instead.
import { lstat, readFile, realpath } from 'node:fs/promises';
import { isAbsolute, join, posix, relative, sep } from 'node:path';

export class SandboxError extends Error {
  override readonly name = 'SandboxError';
}

/** Names the agent may never read or write, checked on every segment of both the requested and the real path. */
const PROTECTED_DIRS = ['.git', '.terraform'];
/** Folders the agent may read (they are part of the repo) but never write. */
const READ_ONLY_DIRS = ['.github'];
const PROTECTED_FILES: { test: (base: string) => boolean; why: string }[] = [
  { test: (b) => b.toLowerCase().includes('.tfstate'), why: 'state files hold secrets' },
  {
    test: (b) => b === '.terraformrc' || b === 'terraform.rc' || b.endsWith('.tfrc'),
    why: 'CLI configuration may hold credentials',
  },
  { test: (b) => /^\.env(\..*)?$/.test(b) || /\.(pem|key|p12|pfx)$/i.test(b), why: 'it looks like a secret' },
];
const NEVER_WRITE_FILES: { test: (base: string) => boolean; why: string }[] = [
  { test: (b) => b === '.terraform.lock.hcl', why: 'the lock file is updated by `terraform init`, not by hand' },
  { test: (b) => b.endsWith('.tfbackend'), why: 'backend configuration decides where state lives' },
];

/** A glob (posix, relative to the root) as a RegExp: `**` any depth (incl. none), `*` within a segment, `?` one char. */
export function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i] ?? '';
    if (c === '*') {
      if (glob[i + 1] === '*') {
        const slash = glob[i + 2] === '/';
        re += slash ? '(?:.*/)?' : '.*';
        i += slash ? 2 : 1;
      } else {
        re += '[^/]*';
      }
    } else if (c === '?') {
      re += '[^/]';
    } else if (c === '{') {
      const end = glob.indexOf('}', i);
      if (end < 0) {
        re += '\\{';
        continue;
      }
      re += `(?:${glob
        .slice(i + 1, end)
        .split(',')
        .map((alt) => alt.replace(/[.+^${}()|[\]\\*?]/g, '\\$&'))
        .join('|')})`;
      i = end;
    } else {
      re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
    }
  }
  return new RegExp(`^${re}$`);
}

/** True when the HCL (or JSON) text declares a `backend "x" {}` or `cloud {}` block. Comments are ignored. */
export function declaresBackend(text: string): boolean {
  const code = text
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/(^|[^:"])\/\/.*$/gm, '$1')
    .replace(/#.*$/gm, '');
  return (
    /(^|[\s{;])backend\s+"[^"\n]*"\s*\{/m.test(code) ||
    /(^|[\s{;])backend\s+[A-Za-z_][\w-]*\s*\{/m.test(code) ||
    /(^|[\s{;])cloud\s*\{/m.test(code) ||
    /"(backend|cloud)"\s*:/.test(code)
  );
}

export interface PathSandboxOptions {
  /** Globs relative to the root (posix) the agent may write, e.g. `**\/*.tf`. */
  writable: string[];
}

export class PathSandbox {
  private readonly writable: { glob: string; re: RegExp }[];
  private rootReal: Promise<string> | undefined;

  constructor(
    readonly root: string,
    opts: PathSandboxOptions,
  ) {
    this.writable = opts.writable.map((glob) => ({ glob, re: globToRegExp(glob.replace(/^\.\//, '')) }));
  }

  /** The checkout's real path (symlinks resolved), computed once. */
  realRoot(): Promise<string> {
    this.rootReal ??= realpath(this.root);
    return this.rootReal;
  }

  /** A path the agent asked to read → the absolute real path, or a SandboxError saying why not. */
  async resolveRead(p: string): Promise<string> {
    const rel = checkSyntax(p);
    checkProtected(rel, p, 'read');
    const { abs, realRel } = await this.confine(rel, p);
    checkProtected(realRel, p, 'read');
    return abs;
  }

  /**
   * A path the agent asked to write (or delete) → the absolute real path. `content` is the new content (omit for a
   * delete): a write that adds a backend, or touches a file that declares one, is refused.
   */
  async resolveWrite(p: string, content?: string): Promise<string> {
    const rel = checkSyntax(p);
    checkWritable(rel, p, this.writable);
    const { abs, realRel } = await this.confine(rel, p);
    if (realRel !== rel) checkWritable(realRel, p, this.writable);
    if (content !== undefined && declaresBackend(content)) {
      throw new SandboxError(
        `refused to write ${p}: it declares a \`backend\` or \`cloud\` block. Where state lives is decided by humans; ` +
          'leave backend configuration out and mention the need in notes_for_reviewer.',
      );
    }
    const existing = await readFile(abs, 'utf8').catch(() => undefined);
    if (existing !== undefined && declaresBackend(existing)) {
      throw new SandboxError(
        `refused to ${content === undefined ? 'delete' : 'modify'} ${p}: it holds the backend configuration. ` +
          'Put your change in another .tf file of the same folder instead.',
      );
    }
    return abs;
  }

  /** Path relative to the real root (posix), for messages and change lists. */
  async relative(abs: string): Promise<string> {
    return toPosix(relative(await this.realRoot(), abs));
  }

  /**
   * Resolve symlinks of every existing ancestor (and the file itself when it exists) and require the result to stay
   * inside the real root. A dangling symlink is refused: writing through it would create its target.
   */
  private async confine(rel: string, asked: string): Promise<{ abs: string; realRel: string }> {
    const root = await this.realRoot();
    const segments = rel === '.' ? [] : rel.split('/');
    let existing = root;
    let i = 0;
    for (; i < segments.length; i++) {
      const next = join(existing, segments[i] ?? '');
      const st = await lstat(next).catch(() => undefined);
      if (!st) break;
      if (st.isSymbolicLink()) {
        const target = await realpath(next).catch(() => undefined);
        if (!target) {
          throw new SandboxError(`refused ${asked}: it goes through a symbolic link whose target does not exist`);
        }
        existing = target;
      } else {
        existing = next;
      }
      if (!isInside(root, existing)) {
        throw new SandboxError(
          `refused ${asked}: it resolves (through a symbolic link) to a place outside the repository checkout; ` +
            'only files inside the repository can be used',
        );
      }
    }
    const abs = join(existing, ...segments.slice(i));
    if (!isInside(root, abs)) {
      throw new SandboxError(`refused ${asked}: it is outside the repository checkout`);
    }
    return { abs, realRel: toPosix(relative(root, abs)) || '.' };
  }
}

function toPosix(p: string): string {
  return sep === '/' ? p : p.split(sep).join('/');
}

function isInside(root: string, p: string): boolean {
  const r = relative(root, p);
  return r === '' || (!r.startsWith('..') && !isAbsolute(r));
}

/** Syntax checks on the path as the model wrote it; returns the normalised posix path relative to the root. */
function checkSyntax(p: string): string {
  if (typeof p !== 'string' || p.length === 0) throw new SandboxError('a path is required (relative to the repo root)');
  if (p.includes('\0')) throw new SandboxError('refused: the path contains a NUL byte');
  if (p.length > 1024) throw new SandboxError('refused: the path is longer than 1024 characters');
  if (p.startsWith('/') || p.startsWith('\\') || /^[A-Za-z]:/.test(p) || p.startsWith('~')) {
    throw new SandboxError(
      `refused ${p}: absolute paths are not allowed; use a path relative to the repository root, e.g. "main.tf"`,
    );
  }
  const normal = posix.normalize(p.replace(/\\/g, '/')).replace(/\/+$/, '');
  if (normal === '..' || normal.startsWith('../')) {
    throw new SandboxError(`refused ${p}: it leaves the repository checkout; use a path inside the repository`);
  }
  return normal === '' ? '.' : normal;
}

/**
 * Why the agent may not read a repo-relative path (secret files, state, CLI config, .git, .terraform), or undefined.
 * The same test `resolveRead` applies, for tools that walk many files (search) and must skip what read_file refuses.
 */
export function readRefusal(rel: string): string | undefined {
  try {
    checkProtected(rel, rel, 'read');
    return undefined;
  } catch (err) {
    return err instanceof SandboxError ? err.message : String(err);
  }
}

function checkProtected(rel: string, asked: string, op: 'read' | 'write'): void {
  const segments = rel.split('/');
  for (const s of segments) {
    if (PROTECTED_DIRS.includes(s)) {
      throw new SandboxError(`refused ${asked}: ${s}/ is off limits to the agent (${op})`);
    }
  }
  const base = segments[segments.length - 1] ?? '';
  for (const f of PROTECTED_FILES) {
    if (f.test(base)) throw new SandboxError(`refused ${asked}: ${f.why}; use show_state for the state inventory`);
  }
}

function checkWritable(rel: string, asked: string, writable: { glob: string; re: RegExp }[]): void {
  checkProtected(rel, asked, 'write');
  const segments = rel.split('/');
  for (const s of segments) {
    if (READ_ONLY_DIRS.includes(s)) {
      throw new SandboxError(
        `refused ${asked}: ${s}/ (CI workflows and the app's configuration) is never written by the agent`,
      );
    }
  }
  const base = segments[segments.length - 1] ?? '';
  for (const f of NEVER_WRITE_FILES) {
    if (f.test(base)) throw new SandboxError(`refused ${asked}: ${f.why}`);
  }
  if (!writable.some((w) => w.re.test(rel))) {
    throw new SandboxError(
      `refused ${asked}: not a writable path. Writable paths are: ${writable.map((w) => w.glob).join(', ') || '(none)'}`,
    );
  }
}
