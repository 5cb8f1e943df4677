/**
 * How many of the `waiting` calls the next group takes: in order, at most `maxItems`, while their
 * `weight`s add up to at most `maxWeight`; always at least one, so a single heavier call goes alone.
 */
export function takeWithin<T>(
  waiting: readonly T[],
  limits: { maxItems?: number; weight?: (item: T) => number; maxWeight?: number },
): number {
  const most = Math.min(waiting.length, limits.maxItems ?? Number.POSITIVE_INFINITY);
  const { weight, maxWeight = Number.POSITIVE_INFINITY } = limits;
  if (!weight) return most;
  let total = 0;
  for (let index = 0; index < most; index++) {
    total += weight(waiting[index] as T);
    if (total > maxWeight) return Math.max(1, index);
  }
  return most;
}

/** A call waiting in a `GroupQueue`, settled by whoever runs its group. */
export interface Queued<T, R> {
  item: T;
  resolve: (value: R) => void;
  reject: (error: unknown) => void;
}

/**
 * The queue behind group commit and grouped reads: calls made while a group runs wait and go
 * together in the next group. One group runs at a time; `take` says how many of the waiting
 * calls the next group takes (at least one), and `run` must settle every call of its group.
 */
export class GroupQueue<T, R> {
  readonly #run: (group: ReadonlyArray<Queued<T, R>>) => Promise<void>;
  readonly #take: (waiting: readonly T[]) => number;
  #pending: Array<Queued<T, R>> = [];
  #running = false;

  constructor(options: {
    run: (group: ReadonlyArray<Queued<T, R>>) => Promise<void>;
    take: (waiting: readonly T[]) => number;
  }) {
    this.#run = options.run;
    this.#take = options.take;
  }

  /** Settles as the group that takes `item` settles it. */
  submit(item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.#pending.push({ item, resolve, reject });
      if (!this.#running) void this.#drain();
    });
  }

  async #drain(): Promise<void> {
    this.#running = true;
    try {
      while (this.#pending.length > 0) {
        const size = Math.max(1, this.#take(this.#pending.map((entry) => entry.item)));
        const group = this.#pending.splice(0, size);
        try {
          await this.#run(group);
        } catch (error) {
          for (const entry of group) entry.reject(error);
        }
      }
    } finally {
      this.#running = false;
    }
  }
}
