/** The outcome of an async step, caught so that a prefetched failure never becomes an unhandled rejection. */
export type Settled<R> = { ok: true; value: R } | { ok: false; error: unknown };

/**
 * Yield `load(item)` for each item in order while keeping up to `depth` later loads in flight. Decoding runs on
 * libvips' own threads, so it overlaps with model inference on the JS thread.
 */
export async function* prefetched<T, R>(
  items: Iterable<T>,
  load: (item: T) => Promise<R>,
  depth = 2,
): AsyncGenerator<[T, Settled<R>]> {
  const settle = (item: T): Promise<Settled<R>> =>
    load(item).then((value) => ({ ok: true as const, value }), (error: unknown) => ({ ok: false as const, error }));
  const queue: [T, Promise<Settled<R>>][] = [];
  const iterator = items[Symbol.iterator]();
  const refill = () => {
    while (queue.length <= depth) {
      const next = iterator.next();
      if (next.done) return;
      queue.push([next.value, settle(next.value)]);
    }
  };
  refill();
  while (queue.length > 0) {
    const [item, pending] = queue.shift()!;
    refill();
    yield [item, await pending];
  }
}
