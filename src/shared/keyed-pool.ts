/**
 * Runs `work` for every item, at most `limit` at a time, in item order wherever it matters: an
 * item starts only once every earlier item sharing one of its keys has settled. Items with no key
 * in common run side by side. Resolves when all have settled, with their outcomes in item order
 * (as `Promise.allSettled`); `work` throwing settles only its own item.
 */
export async function settleKeyed<T, R>(
  items: readonly T[],
  keysOf: (item: T) => readonly string[],
  limit: number,
  work: (item: T) => Promise<R>,
): Promise<Array<PromiseSettledResult<R>>> {
  if (!Number.isInteger(limit) || limit < 1)
    throw new RangeError(`limit must be a positive whole number, not ${limit}`);
  let running = 0;
  const waiting: Array<() => void> = [];
  const slot = async (): Promise<void> => {
    if (running < limit) {
      running += 1;
      return;
    }
    await new Promise<void>((resolve) => waiting.push(resolve));
  };
  const release = (): void => {
    const next = waiting.shift();
    // The slot passes straight to the next waiter, so `running` stays the same.
    if (next) next();
    else running -= 1;
  };
  const tails = new Map<string, Promise<unknown>>();
  const runs = items.map((item) => {
    const keys = [...new Set(keysOf(item))];
    const before = keys.flatMap((key) => {
      const tail = tails.get(key);
      return tail ? [tail] : [];
    });
    const run = (async (): Promise<R> => {
      await Promise.all(before);
      await slot();
      try {
        return await work(item);
      } finally {
        release();
      }
    })();
    const settled = run.then(
      () => undefined,
      () => undefined,
    );
    for (const key of keys) tails.set(key, settled);
    return run;
  });
  return Promise.allSettled(runs);
}
