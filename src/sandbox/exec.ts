// The one way infra-agent runs a process. Everything that shells out (terraform, scanners, git) goes through here so
// that these hold everywhere: argv only (never a shell), a timeout and an AbortSignal that kill the whole process
// tree, output capped in memory, ANSI escapes stripped, and an environment built from an allowlist so the app's own
// secrets (GitHub private key, webhook secret, model key, database URL) never reach a child. A `sandbox` policy runs
// the process inside bubblewrap (src/sandbox/): every tool that reads repository content goes through it. Every
// child dies with the App: sandboxed ones through bwrap's --die-with-parent and their pid namespace, the others
// (git) through a parent-death signal set by `setpriv --pdeathsig KILL` before they exec.
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { execa } from 'execa';
import { bwrapArgs, SANDBOX_HOME } from './bwrap.js';
import type { SandboxPolicy } from './policy.js';
import { type SandboxProxy, startSandboxProxy } from './proxy.js';
import { refusalMessage, sandboxStatus } from './status.js';

/** Variables a child may inherit from our environment. Everything else must be passed explicitly in `env`. */
const INHERITED_ENV = [
  'PATH',
  'HOME',
  'LANG',
  'LC_ALL',
  'LC_CTYPE',
  'TZ',
  'TMPDIR',
  'USER',
  'SSL_CERT_FILE',
  'SSL_CERT_DIR',
];

/**
 * Names that are never passed to a child, even when a caller asks: the app's credentials. Provider credentials
 * (AWS_*, GOOGLE_*) are not here on purpose: terraform needs them, and config decides which ones it gets.
 */
const FORBIDDEN_ENV = [
  /^PRIVATE_KEY(_PATH)?$/,
  /^WEBHOOK_SECRET$/,
  /^GITHUB_(TOKEN|APP_PRIVATE_KEY|CLIENT_SECRET)$/,
  /^GH_TOKEN$/,
  /^APP_ID$/,
  /^ANTHROPIC_(API_KEY|AUTH_TOKEN)$/,
  /^DATABASE_URL$/,
  /^INFRA_AGENT_(PLAN_KEY|ENCRYPTION_KEY|SECRET.*)$/,
];

export const DEFAULT_OUTPUT_CAP = 4 * 1024 * 1024;
const KILL_GRACE_MS = 3_000;

export interface ExecOptions {
  cwd?: string;
  /** Extra variables for the child (validated against FORBIDDEN_ENV). */
  env?: Record<string, string | undefined>;
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Bytes kept per stream; the rest is counted and dropped. */
  outputCap?: number;
  input?: string;
  /** Exit codes that are not failures (e.g. `terraform plan -detailed-exitcode` uses 2 for "changes"). */
  okExitCodes?: number[];
  /** Run inside the sandbox with this policy (required for anything that reads repository content). */
  sandbox?: SandboxPolicy;
}

export interface ExecResult {
  command: string;
  args: string[];
  exitCode: number;
  stdout: string;
  stderr: string;
  /** True when a stream went over the cap and was cut. */
  truncated: boolean;
  durationMs: number;
  /** False when a sandbox was asked for but the operator switched it off (INFRA_AGENT_UNSANDBOXED=1). */
  sandboxed: boolean;
}

export type ExecFailure = 'exit' | 'timeout' | 'aborted' | 'not-found' | 'spawn' | 'sandbox';

/** A failed process, carrying what a human needs to see why. */
export class ExecError extends Error {
  override readonly name = 'ExecError';
  constructor(
    message: string,
    readonly reason: ExecFailure,
    readonly command: string,
    readonly args: string[],
    readonly exitCode: number | undefined,
    readonly signal: string | undefined,
    readonly stdout: string,
    readonly stderr: string,
    readonly durationMs: number,
  ) {
    super(message);
  }

  /** The last lines of stderr (or stdout when stderr is empty), for messages shown to users. */
  tail(lines = 20): string {
    const text = (this.stderr.trim() || this.stdout.trim()).split('\n');
    return text.slice(-lines).join('\n');
  }
}

// CSI, OSC and single-character escapes, as terminals print them.
const ANSI =
  /[\u001B\u009B][[\]()#;?]*(?:(?:(?:;[-a-zA-Z\d/#&.:=?%@~_]+)*|[a-zA-Z\d]+(?:;[-a-zA-Z\d/#&.:=?%@~_]*)*)?\u0007|(?:\d{1,4}(?:;\d{0,4})*)?[\dA-PR-TZcf-nq-uy=><~])/g;

export function stripAnsi(text: string): string {
  return text.replace(ANSI, '');
}

export function isForbiddenEnv(name: string): boolean {
  return FORBIDDEN_ENV.some((re) => re.test(name));
}

/** The child's whole environment: the allowlist from ours, plus what the caller passes, minus our secrets. */
export function buildChildEnv(extra: Record<string, string | undefined> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of INHERITED_ENV) {
    const value = process.env[name];
    if (value !== undefined) env[name] = value;
  }
  for (const [name, value] of Object.entries(extra)) {
    if (value === undefined) continue;
    if (isForbiddenEnv(name))
      throw new Error(`refusing to pass ${name} to a child process: it is one of the app's secrets`);
    env[name] = value;
  }
  return env;
}

class CappedBuffer {
  private chunks: Buffer[] = [];
  private kept = 0;
  dropped = 0;
  constructor(private readonly cap: number) {}
  push(chunk: Buffer): void {
    const room = this.cap - this.kept;
    if (room <= 0) {
      this.dropped += chunk.length;
      return;
    }
    const part = chunk.length > room ? chunk.subarray(0, room) : chunk;
    this.chunks.push(part);
    this.kept += part.length;
    this.dropped += chunk.length - part.length;
  }
  text(): string {
    let out = stripAnsi(Buffer.concat(this.chunks).toString('utf8'));
    if (this.dropped > 0) out += `\n[… ${this.dropped} more bytes of output cut]`;
    return out;
  }
}

const SETPRIV = ['/usr/bin/setpriv', '/bin/setpriv'].find((p) => existsSync(p));

/** `setpriv --pdeathsig KILL -- cmd`: the child is killed by the kernel when the App dies (util-linux). */
function withParentDeathSignal(command: string, args: string[]): [string, string[]] {
  return SETPRIV ? [SETPRIV, ['--pdeathsig', 'KILL', '--', command, ...args]] : [command, args];
}

/** Kill a whole process group: the child was started detached, so it leads its own group. */
function killTree(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      // already gone
    }
  }
}

export async function run(command: string, args: readonly string[], options: ExecOptions = {}): Promise<ExecResult> {
  const started = Date.now();
  const cap = options.outputCap ?? DEFAULT_OUTPUT_CAP;
  const argv = [...args];
  if (options.signal?.aborted) {
    throw new ExecError(
      `${command} was not started: aborted`,
      'aborted',
      command,
      argv,
      undefined,
      undefined,
      '',
      '',
      0,
    );
  }

  // What really starts: bwrap around the command (plus the proxy forwarder when the policy allows hosts), or the
  // command under a parent-death signal.
  let spawnCommand: string;
  let spawnArgs: string[];
  let env: Record<string, string>;
  let sandboxed = false;
  let proxy: SandboxProxy | undefined;
  const refuse = (message: string) =>
    new ExecError(message, 'sandbox', command, argv, undefined, undefined, '', '', Date.now() - started);
  if (options.sandbox) {
    const status = await sandboxStatus();
    if (status.mode === 'unavailable') throw refuse(refusalMessage(status.reason));
    if (status.mode === 'sandboxed') {
      sandboxed = true;
      env = buildChildEnv({ HOME: SANDBOX_HOME, TMPDIR: '/tmp', ...options.env });
      let inner: [string, string[]] = [command, argv];
      if (options.sandbox.network.mode === 'allowlist') {
        proxy = await startSandboxProxy(options.sandbox.network.hosts);
        const [node = process.execPath, ...rest] = proxy.prefix;
        inner = [node, [...rest, command, ...argv]];
      }
      try {
        // Inside, the process starts where the caller asked (the project dir), not at the policy's default.
        const policy = options.cwd === undefined ? options.sandbox : { ...options.sandbox, cwd: options.cwd };
        spawnArgs = bwrapArgs(policy, inner[0], inner[1], proxy ? { netDir: proxy.dir } : {});
      } catch (err) {
        await proxy?.close();
        throw refuse(refusalMessage(err instanceof Error ? err.message : String(err)));
      }
      spawnCommand = status.bwrap;
    } else {
      env = buildChildEnv(options.env);
      [spawnCommand, spawnArgs] = withParentDeathSignal(command, argv);
    }
  } else {
    env = buildChildEnv(options.env);
    [spawnCommand, spawnArgs] = withParentDeathSignal(command, argv);
  }

  const child = execa(spawnCommand, spawnArgs, {
    ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
    env,
    extendEnv: false,
    shell: false,
    // Its own process group, so a timeout or an abort kills the whole tree.
    detached: true,
    buffer: false,
    reject: false,
    stripFinalNewline: false,
    stdin: options.input === undefined ? 'ignore' : 'pipe',
    stdout: 'pipe',
    stderr: 'pipe',
    windowsHide: true,
  });
  const out = new CappedBuffer(cap);
  const err = new CappedBuffer(cap);
  child.stdout?.on('data', (c: Buffer) => out.push(c));
  child.stderr?.on('data', (c: Buffer) => err.push(c));
  if (options.input !== undefined) child.stdin?.end(options.input);

  let ended: ExecFailure | undefined;
  const stop = (why: ExecFailure) => {
    if (ended) return;
    ended = why;
    killTree(child.pid, 'SIGTERM');
    setTimeout(() => killTree(child.pid, 'SIGKILL'), KILL_GRACE_MS).unref();
  };
  const timer = options.timeoutMs ? setTimeout(() => stop('timeout'), options.timeoutMs) : undefined;
  const onAbort = () => stop('aborted');
  options.signal?.addEventListener('abort', onAbort, { once: true });

  const result = await child.finally(() => proxy?.close());
  if (timer) clearTimeout(timer);
  options.signal?.removeEventListener('abort', onAbort);
  // Whatever the child left behind in its group (a daemonised grandchild) goes with it.
  if (ended) killTree(child.pid, 'SIGKILL');

  const durationMs = Date.now() - started;
  const stdout = out.text();
  const stderr = err.text();
  const truncated = out.dropped > 0 || err.dropped > 0;
  const exitCode = result.exitCode;
  const signal = result.signal ?? undefined;
  const fail = (reason: ExecFailure, message: string) =>
    new ExecError(message, reason, command, argv, exitCode, signal, stdout, stderr, durationMs);

  if (ended === 'timeout') throw fail('timeout', `${command} timed out after ${options.timeoutMs} ms and was killed`);
  if (ended === 'aborted') throw fail('aborted', `${command} was cancelled`);
  const code = (result as { code?: string }).code;
  if (code === 'ENOENT' || (result.failed && exitCode === undefined && /ENOENT/.test(result.message ?? ''))) {
    throw fail('not-found', `${command} was not found (is it installed? run \`npm run bootstrap\`)`);
  }
  if (exitCode === undefined) throw fail('spawn', `${command} could not run: ${result.shortMessage ?? result.message}`);
  // The wrapper could not exec the command: it is not installed.
  if (/^(?:bwrap: execvp|setpriv: failed to execute) .*No such file or directory/m.test(stderr) && !stdout) {
    throw fail('not-found', `${command} was not found (is it installed? run \`npm run bootstrap\`)`);
  }
  // bwrap itself failed (a mount, a namespace): the tool never ran. Its messages start with "bwrap: ".
  if (sandboxed && exitCode === 1 && /^bwrap: /m.test(stderr) && !stdout) {
    const why = /^bwrap: .*$/m.exec(stderr)?.[0] ?? stderr.trim();
    throw fail('sandbox', refusalMessage(why));
  }
  const ok = exitCode === 0 || (options.okExitCodes ?? []).includes(exitCode);
  if (!ok) {
    const lastLine = stderr.trim().split('\n').pop() ?? '';
    throw fail('exit', `${command} ${argv[0] ?? ''} exited with ${exitCode}${lastLine ? `: ${lastLine}` : ''}`);
  }
  return { command, args: argv, exitCode, stdout, stderr, truncated, durationMs, sandboxed };
}

/** A long-lived process inside the sandbox, talking over its stdin/stdout (the warm checkov worker). */
export interface SandboxedChild {
  readonly child: ChildProcessWithoutNullStreams;
  /** Kills the whole process group (bwrap and everything inside). */
  kill(): void;
}

/**
 * Starts `command args` inside bubblewrap under `policy` and returns at once, pipes open. Only a network-less policy,
 * and only when the sandbox is really on: when the operator switched it off this throws (callers fall back to
 * one-shot `run`), so a long-lived process never runs unsandboxed.
 */
export async function startSandboxed(
  command: string,
  args: readonly string[],
  options: { sandbox: SandboxPolicy; env?: Record<string, string | undefined> },
): Promise<SandboxedChild> {
  if (options.sandbox.network.mode !== 'none') throw new Error('startSandboxed: only a policy without network');
  const status = await sandboxStatus();
  if (status.mode !== 'sandboxed') throw new Error(`startSandboxed: the sandbox is ${status.mode}`);
  const env = buildChildEnv({ HOME: SANDBOX_HOME, TMPDIR: '/tmp', ...options.env });
  const child = spawn(status.bwrap, bwrapArgs(options.sandbox, command, [...args]), {
    env,
    detached: true,
    stdio: ['pipe', 'pipe', 'pipe'],
    windowsHide: true,
  });
  return { child, kill: () => killTree(child.pid, 'SIGKILL') };
}
