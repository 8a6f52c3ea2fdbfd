// Where the external tools are. Order: an explicit environment override, the project's pinned .tools/ folder
// (scripts/setup-tools.sh), then PATH. The Terraform binary may be OpenTofu's `tofu` (INFRA_AGENT_TERRAFORM_BIN).
import { accessSync, constants, existsSync } from 'node:fs';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export type ToolName = 'terraform' | 'tfsec' | 'trivy' | 'checkov' | 'opa' | 'git';

const OVERRIDE_ENV: Record<ToolName, string> = {
  terraform: 'INFRA_AGENT_TERRAFORM_BIN',
  tfsec: 'INFRA_AGENT_TFSEC_BIN',
  trivy: 'INFRA_AGENT_TRIVY_BIN',
  checkov: 'INFRA_AGENT_CHECKOV_BIN',
  opa: 'INFRA_AGENT_OPA_BIN',
  git: 'INFRA_AGENT_GIT_BIN',
};

export const SETUP_COMMAND = 'npm run bootstrap';

/** The repository root of infra-agent itself (where .tools/ lives), from this file's location in src/ or dist/. */
export function projectRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'scripts', 'setup-tools.sh'))) return dir;
    dir = dirname(dir);
  }
  return process.cwd();
}

export function toolsDir(): string {
  return process.env['INFRA_AGENT_TOOLS_DIR'] ?? join(projectRoot(), '.tools');
}

export function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function onPath(name: string): string | undefined {
  for (const dir of (process.env['PATH'] ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
}

/** Absolute path of a tool, or undefined when it is not installed anywhere we look. */
export function findTool(name: ToolName): string | undefined {
  const override = process.env[OVERRIDE_ENV[name]];
  if (override) {
    if (override.includes('/')) return isExecutable(resolve(override)) ? resolve(override) : undefined;
    return onPath(override);
  }
  const pinned = join(toolsDir(), 'bin', name);
  if (isExecutable(pinned)) return pinned;
  return onPath(name);
}

export class MissingToolError extends Error {
  override readonly name = 'MissingToolError';
  constructor(readonly tool: ToolName) {
    super(`${tool} is not installed: run \`${SETUP_COMMAND}\` (or set ${OVERRIDE_ENV[tool]} to its path)`);
  }
}

export function requireTool(name: ToolName): string {
  const path = findTool(name);
  if (!path) throw new MissingToolError(name);
  return path;
}

/** The Terraform CLI config written by setup (filesystem provider mirror + plugin cache), when present. */
export function terraformCliConfig(): string | undefined {
  // An inherited TF_CLI_CONFIG_FILE that points nowhere (some images set one) must not cost us the offline mirror.
  const fromEnv = process.env['TF_CLI_CONFIG_FILE'];
  if (fromEnv && existsSync(fromEnv)) return fromEnv;
  const pinned = join(toolsDir(), 'terraformrc');
  return existsSync(pinned) ? pinned : undefined;
}
