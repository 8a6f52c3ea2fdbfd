// What a sandboxed process may see and do. A policy is data: paths it may read, paths it may write, and its network
// (none, or an allow-list of hosts reached through the App's filtering proxy). bwrap.ts turns it into an argv;
// sandbox/exec applies it. Callers describe what a tool needs (`scannerPolicy`, `terraformPolicy`); nothing else of the
// machine is visible inside: no App data dir, no key file, no other run's workspace, no state file of another project.
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { toolsDir } from '../toolchain/tools.js';

export type SandboxNetwork = { mode: 'none' } | { mode: 'allowlist'; hosts: string[] };

export interface SandboxPolicy {
  /** Visible read-only (bound at the same path inside). Missing paths are skipped. */
  readOnly: string[];
  /** Visible and writable. Missing paths are skipped. */
  writable: string[];
  /** Bound read-only on top of a writable bind (e.g. the checkout's `.git`, which the App's git later trusts). */
  readOnlyOverlays?: string[];
  network: SandboxNetwork;
  /** Working directory inside (default: the first writable path). */
  cwd?: string;
  /**
   * Regular files bound read-only into the private /tmp under their own names: caches a trusted warm-up built from
   * the pinned tool alone (sandbox/tool-cache.ts), never anything a run wrote.
   */
  tmpFiles?: string[];
}

/**
 * Paths the sandbox must never expose, whatever a policy asks: the App's data dir and key file. A bind whose
 * source is one of these, or contains one, is refused (the run fails with a clear error instead of leaking).
 */
const protectedPaths = new Set<string>();

export function protectPath(path: string | undefined): void {
  if (!path || path.startsWith('memory://')) return;
  const abs = resolve(path);
  protectedPaths.add(abs);
  try {
    protectedPaths.add(realpathSync(abs));
  } catch {
    // not there yet: the absolute path is enough
  }
}

export function protectedPathList(): string[] {
  return [...protectedPaths];
}

/** Extra state dirs an OPERATOR lets terraform read and write (INFRA_AGENT_SANDBOX_STATE_DIRS, `:`-separated). */
export const STATE_DIRS_ENV = 'INFRA_AGENT_SANDBOX_STATE_DIRS';

export function operatorStateDirs(env: NodeJS.ProcessEnv = process.env): string[] {
  return (env[STATE_DIRS_ENV] ?? '')
    .split(':')
    .map((p) => p.trim())
    .filter((p) => p.length > 0 && isAbsolute(p));
}

const SYSTEM_PREFIXES = ['/usr/', '/bin/', '/lib/', '/lib64/', '/sbin/'];

function isSystemPath(path: string): boolean {
  return SYSTEM_PREFIXES.some((p) => path.startsWith(p));
}

function realOrSelf(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}

/**
 * What a tool binary needs to start besides the system dirs: the tools dir, and for a script its interpreter's
 * installation. A Python venv (checkov) links to a python elsewhere (e.g. /root/.pyenv/versions/3.12.x): that one
 * installation is bound, never its parents.
 */
export function toolReadPaths(tool: string): string[] {
  const out = new Set<string>();
  const add = (p: string) => {
    if (!isSystemPath(`${p}/`)) out.add(p);
  };
  const tools = toolsDir();
  if (existsSync(tools)) add(tools);
  const real = realOrSelf(tool);
  if (!isSystemPath(real)) add(dirname(real));
  let head = '';
  try {
    head = readFileSync(real).subarray(0, 256).toString('latin1');
  } catch {
    return [...out];
  }
  const shebang = /^#!\s*(\S+)/.exec(head)?.[1];
  if (shebang) {
    const interpreter = realOrSelf(shebang);
    // <venv>/bin/python → <venv>; the python it links to → <prefix> (bin/.. of the real binary).
    const venv = dirname(dirname(shebang));
    if (existsSync(join(venv, 'pyvenv.cfg'))) {
      add(realOrSelf(venv));
      const home = /^home\s*=\s*(.+)$/m.exec(readFileSync(join(venv, 'pyvenv.cfg'), 'utf8'))?.[1]?.trim();
      if (home) add(dirname(realOrSelf(home)));
    }
    add(dirname(dirname(interpreter)));
  }
  return [...out];
}

/** A scanner (tfsec, checkov, OPA): reads the code (and plan JSON), writes only its own temp dir, no network. */
export function scannerPolicy(opts: {
  tool: string;
  read: string[];
  scratch: string;
  /** The tool's warm /tmp cache files (sandbox/tool-cache.ts). */
  tmpFiles?: string[];
}): SandboxPolicy {
  return {
    readOnly: [...toolReadPaths(opts.tool), ...opts.read],
    writable: [opts.scratch],
    network: { mode: 'none' },
    cwd: opts.scratch,
    ...(opts.tmpFiles && opts.tmpFiles.length > 0 ? { tmpFiles: opts.tmpFiles } : {}),
  };
}

/** Hosts terraform may reach by default when a call needs the network: registries and the big clouds' APIs. */
export const DEFAULT_ALLOWED_HOSTS = [
  'registry.terraform.io',
  'releases.hashicorp.com',
  'registry.opentofu.org',
  'github.com',
  'objects.githubusercontent.com',
  'release-assets.githubusercontent.com',
  '*.amazonaws.com',
  '*.googleapis.com',
  'management.azure.com',
  'login.microsoftonline.com',
  'graph.microsoft.com',
  'app.terraform.io',
];

export interface TerraformPolicyOptions {
  /** The terraform binary. */
  tool: string;
  /** The run's checkout (writable, its `.git` read-only). */
  checkout: string;
  /** The project's TF_DATA_DIR, outside the checkout (writable unless dataReadOnly). */
  dataDir: string;
  /** A data dir reused across runs: writable only while terraform's own init/workspace run. */
  dataReadOnly?: boolean;
  /** More dirs it writes (the plan dir for `plan -out`). */
  writable?: string[];
  /** More dirs it reads (the saved plan's dir for show/apply). */
  readOnly?: string[];
  /** Hosts for init/plan/apply; undefined → no network. */
  allowedHosts?: string[];
}

export function terraformPolicy(opts: TerraformPolicyOptions): SandboxPolicy {
  const gitDir = join(opts.checkout, '.git');
  return {
    readOnly: [...toolReadPaths(opts.tool), ...(opts.readOnly ?? []), ...(opts.dataReadOnly ? [opts.dataDir] : [])],
    writable: [
      opts.checkout,
      ...(opts.dataReadOnly ? [] : [opts.dataDir]),
      ...(opts.writable ?? []),
      ...operatorStateDirs(),
    ],
    readOnlyOverlays: existsSync(gitDir) ? [gitDir] : [],
    network: opts.allowedHosts ? { mode: 'allowlist', hosts: opts.allowedHosts } : { mode: 'none' },
    cwd: opts.checkout,
  };
}
