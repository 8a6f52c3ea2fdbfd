// A sandbox policy as a bubblewrap argv. The root is an empty tmpfs; onto it go the system dirs read-only, a few
// /etc files (certificates, name resolution, users), a fresh /proc (its own pid namespace: the App's processes do
// not exist inside), a minimal /dev, private tmpfs /tmp and HOME, then exactly the policy's paths. New pid, ipc,
// uts, net and mount namespaces (a user namespace too when not root: bwrap needs one to work unprivileged);
// --die-with-parent and a pid namespace take every process inside down with the App; --new-session keeps a child
// from pushing keystrokes into a terminal. The environment is not in the argv (other users see argv): bwrap is
// started with the allow-listed environment and passes exactly that on.
import { existsSync, lstatSync, readlinkSync, realpathSync } from 'node:fs';
import { basename, delimiter, join, resolve } from 'node:path';
import { protectedPathList, type SandboxPolicy } from './policy.js';

export class SandboxError extends Error {
  override readonly name = 'SandboxError';
}

/** The bubblewrap binary: INFRA_AGENT_BWRAP_BIN (operator), else `bwrap` on PATH or /usr/bin/bwrap. */
export function bwrapPath(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const override = env['INFRA_AGENT_BWRAP_BIN'];
  if (override) return existsSync(override) ? resolve(override) : undefined;
  for (const dir of [...(env['PATH'] ?? '').split(delimiter), '/usr/bin', '/bin']) {
    if (!dir) continue;
    const p = join(dir, 'bwrap');
    if (existsSync(p)) return p;
  }
  return undefined;
}

/** HOME inside the sandbox: a private tmpfs, empty at every start. */
export const SANDBOX_HOME = '/home/infra-agent';
/** Where the proxy's socket and forwarder are mounted inside, when the policy allows hosts. */
export const SANDBOX_NET_DIR = '/run/infra-agent-net';

const SYSTEM_DIRS = ['/usr', '/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32'];
/** /etc entries a tool may need; nothing else of /etc (shadow, ssh keys, the App's own config) is visible. */
const ETC_ENTRIES = [
  '/etc/ssl',
  '/etc/ca-certificates',
  '/etc/pki',
  '/etc/resolv.conf',
  '/etc/hosts',
  '/etc/nsswitch.conf',
  '/etc/host.conf',
  '/etc/gai.conf',
  '/etc/passwd',
  '/etc/group',
  '/etc/localtime',
  '/etc/ld.so.cache',
  '/etc/ld.so.conf',
  '/etc/ld.so.conf.d',
  '/etc/alternatives',
  '/etc/mime.types',
];

function real(path: string): string | undefined {
  try {
    return realpathSync(path);
  } catch {
    return undefined;
  }
}

function within(child: string, parent: string): boolean {
  return child === parent || child.startsWith(parent.endsWith('/') ? parent : `${parent}/`);
}

/** Refuse to expose the App's protected paths, whichever side of the bind they are on. */
function assertNotProtected(source: string): void {
  for (const p of protectedPathList()) {
    if (within(p, source) || within(source, p)) {
      throw new SandboxError(`refusing to expose ${source} in the sandbox: it is or holds the App's ${p}`);
    }
  }
}

/** The first component of `abs` that is a symlink, and where it really points. */
function firstSymlink(abs: string): { link: string; target: string } | undefined {
  const parts = abs.split('/').filter(Boolean);
  let prefix = '';
  for (const part of parts) {
    prefix = `${prefix}/${part}`;
    try {
      if (lstatSync(prefix).isSymbolicLink()) {
        const target = real(prefix);
        return target ? { link: prefix, target } : undefined;
      }
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/** A file for the private /tmp: a regular file (not a link), with a plain name, not one of the App's. */
function tmpFileSource(file: string): string {
  const name = basename(file);
  if (!/^[A-Za-z0-9._-]+$/.test(name) || name === '.' || name === '..') {
    throw new SandboxError(`refusing to place ${file} in the sandbox's /tmp: not a plain file name`);
  }
  let st: ReturnType<typeof lstatSync>;
  try {
    st = lstatSync(file);
  } catch {
    throw new SandboxError(`refusing to place ${file} in the sandbox's /tmp: it does not exist`);
  }
  if (!st.isFile()) throw new SandboxError(`refusing to place ${file} in the sandbox's /tmp: not a regular file`);
  const src = real(file) ?? resolve(file);
  assertNotProtected(src);
  return src;
}

export interface BwrapArgvOptions {
  /** The proxy dir (socket + forwarder) on the host, for an allow-list network. */
  netDir?: string;
  uid?: number;
}

/** bwrap's arguments (without the binary) for running `command args` under `policy`. */
export function bwrapArgs(
  policy: SandboxPolicy,
  command: string,
  args: readonly string[],
  opts: BwrapArgvOptions = {},
): string[] {
  const uid = opts.uid ?? process.getuid?.() ?? 0;
  const out: string[] = [
    '--unshare-pid',
    '--unshare-ipc',
    '--unshare-uts',
    '--unshare-net',
    '--unshare-cgroup-try',
    ...(uid === 0 ? [] : ['--unshare-user']),
    '--die-with-parent',
    '--new-session',
    '--cap-drop',
    'ALL',
    '--hostname',
    'sandbox',
  ];
  for (const dir of SYSTEM_DIRS) {
    let st: ReturnType<typeof lstatSync>;
    try {
      st = lstatSync(dir);
    } catch {
      continue;
    }
    if (st.isSymbolicLink()) out.push('--symlink', readlinkSync(dir), dir);
    else out.push('--ro-bind', dir, dir);
  }
  for (const entry of ETC_ENTRIES) if (existsSync(entry)) out.push('--ro-bind', entry, entry);
  out.push('--proc', '/proc', '--dev', '/dev', '--tmpfs', '/tmp', '--tmpfs', SANDBOX_HOME);
  for (const file of policy.tmpFiles ?? []) out.push('--ro-bind', tmpFileSource(file), `/tmp/${basename(file)}`);

  const aliases = new Set<string>();
  const bind = (flag: '--ro-bind' | '--bind', path: string) => {
    const abs = resolve(path);
    const src = real(abs);
    if (!src) return;
    assertNotProtected(src);
    out.push(flag, src, src);
    // The path as the caller named it, when a symlink is on the way (a symlinked tools dir): the same link inside.
    const alias = abs === src ? undefined : firstSymlink(abs);
    if (alias && !aliases.has(alias.link)) {
      aliases.add(alias.link);
      out.push('--symlink', alias.target, alias.link);
    }
  };
  for (const p of policy.readOnly) bind('--ro-bind', p);
  for (const p of policy.writable) bind('--bind', p);
  for (const p of policy.readOnlyOverlays ?? []) bind('--ro-bind', p);
  if (opts.netDir) out.push('--bind', opts.netDir, SANDBOX_NET_DIR);
  const cwd = policy.cwd ?? policy.writable[0];
  if (cwd) out.push('--chdir', real(cwd) ?? cwd);
  out.push('--', command, ...args);
  return out;
}
