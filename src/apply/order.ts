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

export type ScheduledResult<R> =
  | { state: 'done'; value: R; ok: boolean }
  /** Not started: a project it depends on did not succeed (named), or the run stopped. */
  | { state: 'blocked'; by: string | undefined };

/**
 * Runs `work` for every project with its dependencies (in this list) first, independent ones in parallel up to
 * `concurrency`. A project starts only once every project of each name it depends on succeeded (`ok`); one that failed
 * or was blocked blocks its dependants, while projects that do not depend on it carry on. `stop()` true (checked
 * before each start) starts nothing more. Results are in the input order. The input must have no cycle
 * (orderByDependencies first).
 */
export async function runInDependencyOrder<T extends { name: string; dependsOn: string[] }, R>(
  projects: T[],
  work: (p: T, index: number) => Promise<{ value: R; ok: boolean }>,
  opts: { concurrency: number; stop?: () => boolean },
): Promise<ScheduledResult<R>[]> {
  const names = new Set(projects.map((p) => p.name));
  const results: (ScheduledResult<R> | undefined)[] = projects.map(() => undefined);
  const running = new Map<number, Promise<void>>();
  /** Name → 'ok' once every project of that name succeeded, 'bad' once one of them did not. */
  const status = (name: string): 'ok' | 'bad' | 'pending' => {
    let pending = false;
    for (const [i, p] of projects.entries()) {
      if (p.name !== name) continue;
      const r = results[i];
      if (r === undefined) pending = true;
      else if (r.state === 'blocked' || !r.ok) return 'bad';
    }
    return pending ? 'pending' : 'ok';
  };
  const limit = Math.max(1, opts.concurrency);
  // An exception stops new starts; the ones running finish (their bookkeeping matters) before it propagates.
  let thrown: { err: unknown } | undefined;
  for (;;) {
    let progressed = false;
    for (const [i, p] of projects.entries()) {
      if (results[i] !== undefined || running.has(i)) continue;
      const deps = p.dependsOn.filter((d) => names.has(d) && d !== p.name);
      const failed = deps.find((d) => status(d) === 'bad');
      if (failed !== undefined || thrown !== undefined || opts.stop?.()) {
        results[i] = { state: 'blocked', by: failed };
        progressed = true;
        continue;
      }
      if (running.size >= limit || deps.some((d) => status(d) !== 'ok')) continue;
      running.set(
        i,
        work(p, i).then(
          (r) => {
            results[i] = { state: 'done', value: r.value, ok: r.ok };
            running.delete(i);
          },
          (err: unknown) => {
            results[i] = { state: 'blocked', by: undefined };
            running.delete(i);
            thrown ??= { err };
          },
        ),
      );
      progressed = true;
    }
    if (results.every((r) => r !== undefined) && running.size === 0) break;
    if (running.size === 0) {
      if (progressed) continue;
      throw new Error('dependency scheduling made no progress (a cycle?)');
    }
    await Promise.race(running.values());
  }
  if (thrown) throw thrown.err;
  return results.map((r) => r ?? { state: 'blocked', by: undefined });
}
