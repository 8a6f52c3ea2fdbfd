// Polls until a probe yields a value (a run recorded, a comment posted): the one wait loop of the App-level suites.
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined> | T | undefined,
  ms = 240_000,
): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/**
 * At least `n` runs of thread `#number` recorded, all finished, and nothing left in the queue; `runtime` is the App's
 * store and queue (an AppWorld's `server.runtime`).
 */
export function waitForFinishedRuns<R extends { number: number; status: string }>(
  runtime: { store: { listRuns(q: { repo: string }): Promise<R[]> }; queue: { depth(): Promise<{ queued: number }> } },
  repo: string,
  number: number,
  n: number,
  ms = 400_000,
): Promise<R[]> {
  return waitFor(
    `${n} finished run(s) of #${number}`,
    async () => {
      const mine = (await runtime.store.listRuns({ repo })).filter((r) => r.number === number);
      const queued = (await runtime.queue.depth()).queued;
      return mine.length >= n &&
        queued === 0 &&
        mine.every((r) => ['succeeded', 'failed', 'needs-human'].includes(r.status))
        ? mine
        : undefined;
    },
    ms,
  );
}
