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
