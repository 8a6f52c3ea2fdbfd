// `infra-agent doctor`: what is installed, where, which version, and what is missing — the first thing to run when
// something does not work. Exit 1 when a required tool is missing, naming the one setup command that fixes it.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { bwrapPath } from '../sandbox/bwrap.js';
import { run } from '../sandbox/exec.js';
import { sandboxStatus, UNSANDBOXED_ENV } from '../sandbox/status.js';
import { cliConfigFile } from '../terraform/engine.js';
import { findTool, SETUP_COMMAND, type ToolName, toolsDir } from '../toolchain/tools.js';

interface ToolCheck {
  name: string;
  path?: string;
  version?: string;
  status: 'ok' | 'missing' | 'broken' | 'unsupported';
  note?: string;
}

const VERSION_ARGS: Record<ToolName, string[]> = {
  terraform: ['version', '-json'],
  tfsec: ['--version', '--no-color'],
  trivy: ['--version'],
  checkov: ['--version'],
  opa: ['version'],
  git: ['--version'],
};

const TOOLS: ToolName[] = ['terraform', 'tfsec', 'checkov', 'opa', 'git'];
const MIN_NODE: [number, number] = [20, 12];

/** The pinned version setup recorded, for binaries that cannot tell their own (a locally built tfsec says "dev"). */
function stampedVersion(name: ToolName): string | undefined {
  try {
    const stamp = readdirSync(join(toolsDir(), 'stamps')).find((f) => f.startsWith(`${name}-`));
    return stamp?.slice(name.length + 1);
  } catch {
    return undefined;
  }
}

function parseVersion(name: ToolName, stdout: string): string | undefined {
  if (name === 'terraform') {
    const m = /"terraform_version"\s*:\s*"([^"]+)"/.exec(stdout);
    return m?.[1];
  }
  return /\bv?(\d+\.\d+\.\d+[\w.+-]*)/.exec(stdout)?.[0];
}

async function checkTool(name: ToolName): Promise<ToolCheck> {
  const path = findTool(name);
  if (!path) return { name, status: 'missing', note: `run \`${SETUP_COMMAND}\`` };
  try {
    const res = await run(path, VERSION_ARGS[name], { timeoutMs: 60_000 });
    const version = parseVersion(name, `${res.stdout}\n${res.stderr}`) ?? stampedVersion(name);
    const check: ToolCheck = { name, path, status: 'ok' };
    if (version) check.version = version;
    if (name === 'terraform' && version) {
      const [major, minor] = version.split('.').map(Number);
      if (major !== 1 || (minor ?? 0) < 5) {
        check.status = 'unsupported';
        check.note = `terraform >= 1.5, < 2 is needed: run \`${SETUP_COMMAND}\``;
      }
    }
    return check;
  } catch (err) {
    return {
      name,
      path,
      status: 'broken',
      note: err instanceof Error ? (err.message.split('\n')[0] ?? '') : String(err),
    };
  }
}

/**
 * bubblewrap, and whether a sandbox really starts here (the same namespaces a run uses). Without it the App refuses
 * to plan and apply, unless the operator set INFRA_AGENT_UNSANDBOXED=1 (then it is reported, loudly, as such).
 */
async function checkSandbox(): Promise<ToolCheck> {
  const status = await sandboxStatus();
  const path = bwrapPath();
  const check: ToolCheck = { name: 'bubblewrap', status: 'ok' };
  if (path) {
    check.path = path;
    try {
      const res = await run(path, ['--version'], { timeoutMs: 10_000 });
      const version = /(\d+\.\d+(?:\.\d+)?)/.exec(res.stdout)?.[1];
      if (version) check.version = version;
    } catch {
      // reported through the status below
    }
  }
  if (status.mode === 'sandboxed') {
    check.note = 'sandbox starts (pid/net/ipc/uts/mount namespaces)';
  } else if (status.mode === 'unsandboxed') {
    check.status = 'unsupported';
    check.note = `UNSANDBOXED: ${UNSANDBOXED_ENV}=1 is set — repository code runs without isolation, every report says so`;
  } else {
    check.status = path ? 'broken' : 'missing';
    check.note = `the sandbox could not start: ${status.reason}. Plans and applies are refused.`;
  }
  return check;
}

/** Providers in the offline filesystem mirror: host/namespace/type/version/platform. */
function mirrorProviders(): string[] {
  const root = join(toolsDir(), 'providers');
  const out: string[] = [];
  const list = (dir: string) => {
    try {
      return readdirSync(dir, { withFileTypes: true })
        .filter((d) => d.isDirectory())
        .map((d) => d.name)
        .sort();
    } catch {
      return [];
    }
  };
  for (const host of list(root))
    for (const ns of list(join(root, host)))
      for (const type of list(join(root, host, ns)))
        for (const version of list(join(root, host, ns, type))) {
          const platforms = list(join(root, host, ns, type, version));
          out.push(`${ns}/${type} ${version}${platforms.length > 0 ? ` (${platforms.join(', ')})` : ''}`);
        }
  return out;
}

export async function main(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { format: { type: 'string', default: 'text' } },
    allowPositionals: false,
  });
  const checks = await Promise.all([...TOOLS.map(checkTool), checkSandbox()]);
  const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
  const nodeOk = major > MIN_NODE[0] || (major === MIN_NODE[0] && minor >= MIN_NODE[1]);
  const node: ToolCheck = {
    name: 'node',
    path: process.execPath,
    version: process.versions.node,
    status: nodeOk ? 'ok' : 'unsupported',
  };
  if (!nodeOk) node.note = `node >= ${MIN_NODE.join('.')} is needed`;
  const rc = cliConfigFile();
  const providers = mirrorProviders();
  const all = [node, ...checks];
  const failing = all.filter((c) => c.status !== 'ok');

  if (values.format === 'json') {
    const report = { tools: all, terraformCliConfig: rc ?? null, providerMirror: providers, ok: failing.length === 0 };
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    return failing.length === 0 ? 0 : 1;
  }

  const rows = all.map((c) => [
    c.name,
    c.version ?? '-',
    c.status === 'ok' ? 'ok' : c.status.toUpperCase(),
    c.path ?? '',
    c.note ?? '',
  ]);
  const widths = [0, 1, 2].map((i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  const lines = ['infra-agent doctor', ''];
  for (const r of rows) {
    const [name = '', version = '', status = '', path = '', note = ''] = r;
    lines.push(
      `  ${name.padEnd(widths[0] ?? 0)}  ${version.padEnd(widths[1] ?? 0)}  ${status.padEnd(widths[2] ?? 0)}  ${path}${note ? `  — ${note}` : ''}`,
    );
  }
  lines.push('');
  lines.push(
    rc
      ? `  terraform CLI config: ${rc}${existsSync(rc) ? '' : ' (missing)'}`
      : `  terraform CLI config: none (terraform init needs the internet) — run \`${SETUP_COMMAND}\``,
  );
  lines.push(
    providers.length > 0
      ? `  offline provider mirror (${join(toolsDir(), 'providers')}):\n${providers.map((p) => `    ${p}`).join('\n')}`
      : `  offline provider mirror: empty — run \`${SETUP_COMMAND}\``,
  );
  lines.push('');
  if (failing.length > 0) {
    lines.push(
      `${failing.map((c) => c.name).join(', ')}: not ready. Run \`${SETUP_COMMAND}\` to install the pinned tools.`,
    );
  } else {
    lines.push('All tools are installed.');
  }
  process.stdout.write(`${lines.join('\n')}\n`);
  return failing.length === 0 ? 0 : 1;
}
