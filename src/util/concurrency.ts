/**
 * Runs `fn` on every item, at most `limit` at a time, and returns the results in the items' order. When one
 * fails, nothing more is started; the calls already running are waited for, and the failure of the earliest
 * item is thrown: the error running them one by one would have stopped at.
 */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const failure: { index: number; error: unknown }[] = [];
  const worker = async () => {
    while (next < items.length && failure.length === 0) {
      const index = next++;
      try {
        results[index] = await fn(items[index]!, index);
      } catch (error) {
        failure.push({ index, error });
      }
    }
  };
  const workers: Promise<void>[] = [];
  for (let w = 0; w < Math.max(1, Math.min(limit, items.length)); w++) workers.push(worker());
  await Promise.all(workers);
  if (failure.length) throw failure.reduce((a, b) => (b.index < a.index ? b : a)).error;
  return results;
}
