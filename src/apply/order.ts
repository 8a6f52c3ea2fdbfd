// The order projects of one PR are applied in: dependencies first (config `depends_on`), otherwise the order the
// plan listed them. Only dependencies between projects of the same PR matter: a project the PR does not touch is
// not changing. A dependency names a project; when one name has several workspaces, all of them come first.
// A cycle is a config error, reported with the cycle spelled out.

export class DependencyCycleError extends Error {
  override readonly name = 'DependencyCycleError';
  constructor(readonly cycle: string[]) {
    super(`projects depend on each other in a cycle: ${cycle.join(' → ')}; fix depends_on in .github/infra-agent.yml`);
  }
}

/** Kahn's algorithm, stable: among projects ready at the same time, the input order wins. */
export function orderByDependencies<T extends { name: string; dependsOn: string[] }>(projects: T[]): T[] {
  const names = new Set(projects.map((p) => p.name));
  for (const p of projects) {
    if (p.dependsOn.includes(p.name)) throw new DependencyCycleError([p.name, p.name]);
  }
  const remaining = new Map<string, number>();
  for (const p of projects) remaining.set(p.name, (remaining.get(p.name) ?? 0) + 1);
  const ordered: T[] = [];
  const done = new Set<number>();
  while (ordered.length < projects.length) {
    const index = projects.findIndex(
      (p, i) => !done.has(i) && p.dependsOn.every((d) => !names.has(d) || (remaining.get(d) ?? 0) === 0),
    );
    const ready = projects[index];
    if (!ready)
      throw new DependencyCycleError(
        findCycle(
          projects.filter((_, i) => !done.has(i)),
          names,
        ),
      );
    ordered.push(ready);
    done.add(index);
    remaining.set(ready.name, (remaining.get(ready.name) ?? 1) - 1);
  }
  return ordered;
}

function findCycle(rest: { name: string; dependsOn: string[] }[], names: Set<string>): string[] {
  const deps = new Map<string, string[]>();
  for (const p of rest) deps.set(p.name, [...(deps.get(p.name) ?? []), ...p.dependsOn.filter((d) => names.has(d))]);
  // Every remaining project waits on another remaining one: walk until a name repeats.
  let at = rest[0]?.name ?? '';
  const path: string[] = [];
  while (!path.includes(at)) {
    path.push(at);
    at = (deps.get(at) ?? []).find((d) => deps.has(d)) ?? at;
  }
  return [...path.slice(path.indexOf(at)), at];
}
