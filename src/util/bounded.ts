// Run async work over a list with at most `limit` at once, in list order, results in list order. A PR touching 60
// projects plans them a few at a time (the machine has a few cores; each plan is several processes), never all at
// once. A rejection is the caller's: `fn` is expected to turn failures into results.
export async function mapBounded<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i] as T, i);
    }
  };
  const n = Math.max(1, Math.min(Math.floor(limit), items.length));
  await Promise.all(Array.from({ length: n }, worker));
  return results;
}
