// Can the sandbox start here? Probed once per bwrap binary by starting a real sandbox (the same namespaces every
// run uses) around `true`. No sandbox, no untrusted code: when it cannot start, runs refuse to plan or apply and
// say why — unless the operator set INFRA_AGENT_UNSANDBOXED=1, and then every report says "unsandboxed".
import { spawn } from 'node:child_process';
import { bwrapArgs, bwrapPath } from './bwrap.js';

export const UNSANDBOXED_ENV = 'INFRA_AGENT_UNSANDBOXED';

export type SandboxStatus =
  | { mode: 'sandboxed'; bwrap: string }
  /** The operator's switch is on: tools run without isolation, and reports say so. */
  | { mode: 'unsandboxed'; reason: string }
  /** bwrap cannot start and the switch is off: refuse. */
  | { mode: 'unavailable'; reason: string };

/** The operator's explicit switch (exactly "1" or "true"; anything else is off). */
export function unsandboxedSwitch(env: NodeJS.ProcessEnv = process.env): boolean {
  const v = env[UNSANDBOXED_ENV];
  return v === '1' || v === 'true';
}

const probes = new Map<string, Promise<string | undefined>>();

/** undefined when a sandbox starts, else why not (bwrap's own words). */
function probe(bwrap: string): Promise<string | undefined> {
  const args = bwrapArgs({ readOnly: [], writable: [], network: { mode: 'none' }, cwd: '/' }, 'true', []);
  return new Promise((resolveProbe) => {
    const env = { PATH: '/usr/bin:/bin' };
    const child = spawn(bwrap, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (c: Buffer) => {
      err += c.toString('utf8');
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.on('error', (e) => {
      clearTimeout(timer);
      resolveProbe(`${bwrap}: ${e.message}`);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolveProbe(undefined);
      else resolveProbe(err.trim().split('\n').pop() || `bwrap exited with ${code ?? signal}`);
    });
  });
}

export const INSTALL_HINT =
  'install bubblewrap (`apt-get install bubblewrap`, or `npm run bootstrap` as root) and allow user namespaces ' +
  '(sysctl kernel.unprivileged_userns_clone=1) when not running as root';

export async function sandboxStatus(env: NodeJS.ProcessEnv = process.env): Promise<SandboxStatus> {
  // The operator's switch wins: it is an explicit decision (a host without namespaces, a benchmark baseline).
  if (unsandboxedSwitch(env)) return { mode: 'unsandboxed', reason: `${UNSANDBOXED_ENV}=1 is set by the operator` };
  const bwrap = bwrapPath(env);
  let reason: string | undefined;
  if (!bwrap) {
    reason = env['INFRA_AGENT_BWRAP_BIN']
      ? `bubblewrap was not found at ${env['INFRA_AGENT_BWRAP_BIN']} (INFRA_AGENT_BWRAP_BIN)`
      : 'bubblewrap (bwrap) is not installed';
  } else {
    let p = probes.get(bwrap);
    if (!p) {
      p = probe(bwrap);
      probes.set(bwrap, p);
    }
    const failure = await p;
    if (!failure) return { mode: 'sandboxed', bwrap };
    reason = `bwrap could not create a sandbox: ${failure}`;
  }
  return { mode: 'unavailable', reason: `${reason}; ${INSTALL_HINT}, or set ${UNSANDBOXED_ENV}=1 to run unsandboxed` };
}

/** The message a run shows when it refuses. */
export function refusalMessage(reason: string): string {
  return `the sandbox could not start: ${reason}`;
}

/** A run's answer in its thread when bubblewrap cannot start (plan, revise, apply alike). */
export function sandboxRefusal(reason: string): string {
  return (
    `${refusalMessage(reason)}. Nothing was planned or applied: infra-agent runs repository code only inside its ` +
    'sandbox. The operator of this App must fix the worker (`infra-agent doctor` says what is missing).'
  );
}
