// A clean workspace before anything runs. A checkout may carry files that make Terraform run or read something
// other than the code under review: a committed `.terraform/` (a provider binary that runs at validate, a
// modules.json that loads a module from outside the checkout, an `environment` that switches the workspace), state
// files (another project's secrets, or a provider named only there), CLI config (`.terraformrc`, `terraform.rc`,
// `*.tfrc*`: credentials, dev overrides that swap a provider binary) and symlinks that leave the checkout (a tool
// writing through one rewrites a file outside it). They are removed from the working tree and reported as a hard
// finding (PRE-WORKSPACE-001) of their own. Terraform's data dir lives outside the checkout anyway (TF_DATA_DIR).
import { lstat, readdir, readlink, realpath, rm } from 'node:fs/promises';
import { isAbsolute, join, relative, sep } from 'node:path';

export const WORKSPACE_RULE_ID = 'PRE-WORKSPACE-001';

export type HazardKind = 'terraform-dir' | 'state' | 'cli-config' | 'symlink';

export interface WorkspaceHazard {
  /** Relative to the checkout, `/`-separated. */
  path: string;
  kind: HazardKind;
  /** Where a symlink pointed. */
  target?: string;
}

const MAX_ENTRIES = 200_000;

function kindOf(name: string, isDir: boolean): HazardKind | undefined {
  if (isDir) {
    if (name === '.terraform') return 'terraform-dir';
    if (name === 'terraform.tfstate.d') return 'state';
    return undefined;
  }
  const lower = name.toLowerCase();
  if (lower.endsWith('.tfstate') || lower.includes('.tfstate.') || lower === '.terraform.tfstate.lock.info')
    return 'state';
  if (lower === '.terraformrc' || lower === 'terraform.rc' || /\.tfrc(\.json)?$/.test(lower)) return 'cli-config';
  return undefined;
}

function within(child: string, parent: string): boolean {
  const rel = relative(parent, child);
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel));
}

/** What in the checkout must not be used. Nothing is followed: symlinked dirs are judged as links, not walked. */
export async function findHazards(root: string): Promise<WorkspaceHazard[]> {
  const top = await realpath(root);
  const gitDir = join(top, '.git');
  const out: WorkspaceHazard[] = [];
  let seen = 0;
  const walk = async (dir: string): Promise<void> => {
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
    for (const e of entries) {
      if (++seen > MAX_ENTRIES) return;
      const abs = join(dir, e.name);
      if (abs === gitDir) continue;
      const rel = relative(top, abs).split(sep).join('/');
      if (e.isSymbolicLink()) {
        const target = await readlink(abs).catch(() => '');
        const resolved = await realpath(abs).catch(() => undefined);
        // Dangling, outside the checkout, or into .git: nothing may use it. Links within the checkout are fine.
        if (!resolved || !within(resolved, top) || within(resolved, gitDir)) {
          out.push({ path: rel, kind: 'symlink', target });
          continue;
        }
        const kind = kindOf(e.name, (await lstat(resolved).catch(() => undefined))?.isDirectory() ?? false);
        if (kind) out.push({ path: rel, kind });
        continue;
      }
      const kind = kindOf(e.name, e.isDirectory());
      if (kind) {
        out.push({ path: rel, kind });
        continue;
      }
      if (e.isDirectory()) await walk(abs);
    }
  };
  await walk(top);
  return out;
}

/** Hazards removed per checkout (real path), so every checks run of the same checkout reports them. */
const removed = new Map<string, WorkspaceHazard[]>();

/**
 * Removes every hazard from the working tree and returns all hazards removed from this checkout so far (the run
 * cleans right after cloning; each checks run cleans again and reports them all).
 */
export async function cleanCheckout(root: string): Promise<WorkspaceHazard[]> {
  const top = await realpath(root);
  const found = await findHazards(top);
  for (const h of found) await rm(join(top, h.path), { recursive: true, force: true });
  const all = [...(removed.get(top) ?? []), ...found];
  const unique = [...new Map(all.map((h) => [`${h.kind}:${h.path}`, h])).values()];
  removed.set(top, unique);
  return unique;
}

/** Drops the record of a checkout that is gone. */
export async function forgetCheckout(root: string): Promise<void> {
  removed.delete(await realpath(root).catch(() => root));
}
