/**
 * Runs `fn` on each item in order, at most `limit` at once: the next starts
 * as one ends (the simulations of a pool, the publishes of a run).
 */
export async function eachAtMost<T>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0
  const lane = async () => {
    while (next < items.length) await fn(items[next++] as T)
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane))
}
