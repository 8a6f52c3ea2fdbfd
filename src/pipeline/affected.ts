// Which projects a pull request affects, from the files it changes: a project is affected when a Terraform file in its
// own directory changed, when a file of a local module it calls (directly or through other local modules, from the
// index's module graph) changed, or when a changed file matches one of its `when_modified` globs (relative to the
// project dir, `!` to exclude). Pure: the caller lists the changed files and indexes the checkout.
import { posix } from 'node:path';
import { repoGlob } from '../config/projects-check.js';
import type { Project } from '../core/types.js';
import { globToRegExp } from '../repo/sandbox.js';

/** Files that are Terraform to a project: its code, variables and provider lock. */
const TERRAFORM_FILE = /(?:\.tf|\.tf\.json|\.tfvars|\.tfvars\.json|^\.terraform\.lock\.hcl)$/;

export function isTerraformFile(path: string): boolean {
  return TERRAFORM_FILE.test(posix.basename(path));
}

/** A module call as the index has it: the calling dir and the source string. */
export interface ModuleEdge {
  dir: string;
  source: string;
}

/** The repo-relative dir a local module source points at, or undefined (registry/git source, or it leaves the repo). */
export function localModuleDir(callerDir: string, source: string): string | undefined {
  if (!source.startsWith('./') && !source.startsWith('../')) return undefined;
  const joined = posix.normalize(posix.join(callerDir === '.' ? '' : callerDir, source)).replace(/\/+$/, '');
  if (joined === '..' || joined.startsWith('../')) return undefined;
  return joined === '' ? '.' : joined;
}

/** Every local module dir a project's code reaches (transitively), its own dir excluded. */
export function localModulesOf(projectDir: string, edges: ModuleEdge[]): Set<string> {
  const calls = new Map<string, Set<string>>();
  for (const e of edges) {
    const target = localModuleDir(e.dir, e.source);
    if (target === undefined || target === e.dir) continue;
    const set = calls.get(e.dir) ?? new Set<string>();
    set.add(target);
    calls.set(e.dir, set);
  }
  const seen = new Set<string>();
  const todo = [projectDir];
  while (todo.length > 0) {
    const dir = todo.pop() ?? '';
    for (const next of calls.get(dir) ?? []) {
      if (next === projectDir || seen.has(next)) continue;
      seen.add(next);
      todo.push(next);
    }
  }
  return seen;
}

function matchesWhenModified(projectDir: string, globs: string[], file: string): boolean {
  let hit = false;
  for (const g of globs) {
    const rel = repoGlob(projectDir, g);
    if (!rel) continue;
    if (globToRegExp(rel.pattern).test(file)) hit = !rel.negate;
  }
  return hit;
}

export interface AffectedInput {
  projects: Project[];
  /** `projects[].when_modified` by project name (from config; detected projects have none). */
  whenModified: Map<string, string[]>;
  /** Repo-relative posix paths the PR adds, changes, removes or renames (both names of a rename). */
  changedFiles: string[];
  modules: ModuleEdge[];
}

export interface AffectedProject {
  project: Project;
  /** Why, for the comment: the first reason found. */
  reason: string;
}

function dirOf(file: string): string {
  const d = posix.dirname(file);
  return d === '' ? '.' : d;
}

export function affectedProjects(input: AffectedInput): AffectedProject[] {
  const out: AffectedProject[] = [];
  for (const project of input.projects) {
    const modules = localModulesOf(project.dir, input.modules);
    let reason: string | undefined;
    for (const file of input.changedFiles) {
      const dir = dirOf(file);
      if (isTerraformFile(file) && dir === project.dir) reason = `\`${file}\` changed`;
      else if (isTerraformFile(file) && modules.has(dir)) reason = `module \`${dir}\` changed (\`${file}\`)`;
      else if (matchesWhenModified(project.dir, input.whenModified.get(project.name) ?? [], file))
        reason = `\`${file}\` matches \`when_modified\``;
      if (reason) break;
    }
    if (reason) out.push({ project, reason });
  }
  return out;
}
