// What the DEFAULT branch says, read from the default branch and never from the PR head: the module sources and
// providers it already uses (the guard's baseline: a platform team has accepted those) and the repo's own Rego
// (`policy.custom_policy_dir`). A PR can change neither what is allowed nor the policy that judges it.
// The snapshot is taken with git from the run's clone (`origin/<default>`): only regular files are written (no
// symlinks, no submodules), into a private folder outside the checkout.
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, posix } from 'node:path';
import { parseHclFile } from '../../repo/hcl.js';
import { parseTfJson } from '../tf-json.js';
import { bodies, eachBlock, isBody } from './blocks.js';
import { normalizeProvider, providerSource } from './exec.js';
import { type Baseline, emptyBaseline, normalizeModuleSource } from './sources.js';

const SKIP = new Set(['.git', '.terraform', 'node_modules']);
const MAX_FILES = 5000;

function addBody(baseline: Baseline, body: Record<string, unknown>): void {
  for (const ref of eachBlock(body)) {
    if (ref.kind === 'module' && typeof ref.body['source'] === 'string') {
      const source = normalizeModuleSource(ref.body['source']);
      const version = typeof ref.body['version'] === 'string' ? ref.body['version'].trim() : '';
      const set = baseline.modules.get(source) ?? new Set<string>();
      set.add(version);
      baseline.modules.set(source, set);
    } else if (ref.kind === 'terraform') {
      for (const rp of bodies(ref.body['required_providers']))
        for (const [local, spec] of Object.entries(rp)) baseline.providers.add(providerSource(local, spec));
    } else if (ref.kind === 'provider' && ref.labels[0]) {
      baseline.providers.add(`hashicorp/${ref.labels[0]}`);
    }
  }
}

/** The baseline of a tree of Terraform files (every `.tf`, `.tf.json` and lock file under `root`). */
export async function baselineFromDir(root: string): Promise<Baseline> {
  const baseline = emptyBaseline();
  let count = 0;
  const walk = async (dir: string): Promise<void> => {
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
    for (const e of entries) {
      if (count >= MAX_FILES) return;
      const path = join(dir, e.name);
      if (e.isDirectory()) {
        if (!SKIP.has(e.name)) await walk(path);
        continue;
      }
      if (!e.isFile()) continue;
      const isTf = e.name.endsWith('.tf') || e.name.endsWith('.tf.json');
      const isLock = e.name === '.terraform.lock.hcl';
      if (!isTf && !isLock) continue;
      count++;
      const text = await readFile(path, 'utf8').catch(() => undefined);
      if (text === undefined) continue;
      try {
        const parsed = e.name.endsWith('.json') ? parseTfJson(path, text) : await parseHclFile(path, text);
        if (isLock) {
          const group = parsed.body['provider'];
          for (const raw of isBody(group) ? Object.keys(group) : []) baseline.providers.add(normalizeProvider(raw));
        } else addBody(baseline, parsed.body);
      } catch {
        // A file the default branch cannot parse allows nothing.
      }
    }
  };
  await walk(root);
  return baseline;
}

export interface DefaultBranchSnapshot {
  /** Where the default branch's Terraform files and policies were written. */
  dir: string;
  baseline: Baseline;
  /**
   * `policy.custom_policy_dir` as the default branch has it: an absolute folder, or an error when the config names
   * one that the default branch does not have. Undefined when the config names none.
   */
  customPolicies?: { dir: string } | { error: string };
}

/** Runs git in the clone and returns stdout (the Workspace's `exec`). */
export type GitRunner = (args: string[]) => Promise<string>;

const WANTED = (path: string, policyDir: string | undefined): boolean =>
  path.endsWith('.tf') ||
  path.endsWith('.tf.json') ||
  posix.basename(path) === '.terraform.lock.hcl' ||
  (policyDir !== undefined && path.startsWith(`${policyDir}/`) && path.endsWith('.rego'));

/** Writes the default branch's Terraform files (and custom policy folder) at `ref` into `outDir`. */
export async function snapshotDefaultBranch(
  git: GitRunner,
  ref: string,
  outDir: string,
  customPolicyDir?: string,
): Promise<DefaultBranchSnapshot> {
  const policyDir = customPolicyDir ? posix.normalize(customPolicyDir).replace(/\/+$/, '') : undefined;
  const listing = await git(['ls-tree', '-r', '-z', '--full-tree', ref]);
  let written = 0;
  let policies = 0;
  for (const entry of listing.split('\0')) {
    if (written >= MAX_FILES) break;
    const m = /^(\d{6}) (\w+) ([0-9a-f]{40,64})\t(.+)$/s.exec(entry);
    if (!m) continue;
    const [, mode, type, sha, path] = m;
    // Regular files only: a symlink on the default branch is not followed, a submodule not entered.
    if (type !== 'blob' || (mode !== '100644' && mode !== '100755') || !sha || !path) continue;
    if (path.split('/').some((s) => s === '..' || s === '' || s === '.git')) continue;
    if (!WANTED(path, policyDir)) continue;
    const content = await git(['cat-file', 'blob', sha]);
    const target = join(outDir, ...path.split('/'));
    await mkdir(dirname(target), { recursive: true, mode: 0o700 });
    await writeFile(target, content, { mode: 0o600 });
    written++;
    if (policyDir && path.startsWith(`${policyDir}/`)) policies++;
  }
  await mkdir(outDir, { recursive: true, mode: 0o700 });
  const snapshot: DefaultBranchSnapshot = { dir: outDir, baseline: await baselineFromDir(outDir) };
  if (policyDir)
    snapshot.customPolicies =
      policies > 0
        ? { dir: join(outDir, ...policyDir.split('/')) }
        : {
            error: `policy.custom_policy_dir "${policyDir}" holds no .rego file on the default branch (policies are read from the default branch, never from the pull request)`,
          };
  return snapshot;
}
