// What the schema cannot see in `projects:`: a `dir` that is not a directory of the branch, two projects with one
// name and workspace, a `depends_on` naming no project or going round in a cycle, a `when_modified` glob that leaves
// the repository or matches no file. Each problem is one line with its key path, as the schema's are, so the
// `infra-agent/config` check on the PR that changes the file says exactly what to fix. Pure: the caller lists the
// branch's files.
import { posix } from 'node:path';
import { globToRegExp } from '../repo/sandbox.js';
import type { RepoConfig } from './schema.js';

export interface BranchTree {
  /** Every file of the branch, repo-relative posix paths. */
  files: string[];
  /** Every directory of the branch. */
  dirs: Set<string>;
  /** False when the listing was cut (GitHub truncates huge trees): "matches nothing" is then not claimed. */
  complete: boolean;
}

/** A `when_modified` glob (relative to the project dir) as a repo-relative one; undefined when it climbs out. */
export function repoGlob(projectDir: string, glob: string): { pattern: string; negate: boolean } | undefined {
  const negate = glob.startsWith('!');
  const body = negate ? glob.slice(1) : glob;
  const joined = posix.normalize(posix.join(projectDir === '.' ? '' : projectDir, body));
  if (joined === '..' || joined.startsWith('../') || joined.startsWith('/')) return undefined;
  return { pattern: joined.replace(/^\.\//, ''), negate };
}

const clean = (dir: string) => dir.replace(/\/+$/, '').replace(/^\.\/(?=.)/, '') || '.';

/** The first dependency cycle among named projects, spelled out (`a → b → a`), or undefined. */
export function findDependencyCycle(projects: { name: string; dependsOn: string[] }[]): string[] | undefined {
  const deps = new Map<string, string[]>();
  for (const p of projects) deps.set(p.name, [...(deps.get(p.name) ?? []), ...p.dependsOn]);
  const state = new Map<string, 'open' | 'done'>();
  const path: string[] = [];
  const visit = (name: string): string[] | undefined => {
    if (state.get(name) === 'done' || !deps.has(name)) return undefined;
    if (state.get(name) === 'open') return [...path.slice(path.indexOf(name)), name];
    state.set(name, 'open');
    path.push(name);
    for (const d of deps.get(name) ?? []) {
      const cycle = visit(d);
      if (cycle) return cycle;
    }
    path.pop();
    state.set(name, 'done');
    return undefined;
  };
  for (const name of deps.keys()) {
    const cycle = visit(name);
    if (cycle) return cycle;
  }
  return undefined;
}

export function checkProjects(config: RepoConfig, tree: BranchTree): string[] {
  const problems: string[] = [];
  const named = config.projects.map((p) => ({ name: p.name ?? clean(p.dir), workspace: p.workspace }));
  config.projects.forEach((p, i) => {
    const dir = clean(p.dir);
    if (dir !== '.' && !tree.dirs.has(dir)) {
      problems.push(
        tree.files.includes(dir)
          ? `projects[${i}].dir: "${dir}" is a file, not a directory`
          : `projects[${i}].dir: "${dir}" does not exist on this branch`,
      );
    }
    const me = named[i];
    const twin = named.findIndex((n, j) => j < i && n.name === me?.name && n.workspace === me?.workspace);
    if (twin >= 0) {
      problems.push(
        `projects[${i}].name: "${me?.name}" (workspace ${me?.workspace}) is already projects[${twin}]; give one a distinct name`,
      );
    }
    p.depends_on.forEach((d, k) => {
      if (!named.some((n) => n.name === d)) {
        problems.push(
          `projects[${i}].depends_on[${k}]: no project is named "${d}" (names: ${named.map((n) => n.name).join(', ')})`,
        );
      }
    });
    p.when_modified.forEach((glob, k) => {
      const rel = repoGlob(dir, glob);
      if (!rel) {
        problems.push(`projects[${i}].when_modified[${k}]: "${glob}" points outside the repository`);
        return;
      }
      if (rel.negate || !tree.complete) return;
      const re = globToRegExp(rel.pattern);
      if (!tree.files.some((f) => re.test(f))) {
        problems.push(
          `projects[${i}].when_modified[${k}]: "${glob}" matches no file on this branch (it is relative to the project dir "${dir}")`,
        );
      }
    });
  });
  const cycle = findDependencyCycle(
    config.projects.map((p, i) => ({ name: named[i]?.name ?? p.dir, dependsOn: p.depends_on })),
  );
  if (cycle) {
    const first = named.findIndex((n) => n.name === cycle[0]);
    problems.push(
      `projects[${first}].depends_on: a cycle: ${cycle.join(' → ')}; one of them must not depend on the other`,
    );
  }
  return problems;
}
