/**
 * Group commit for a store whose every commit costs a round trip: writes that arrive while a
 * group is being committed wait and go together in the next group, so a burst of small writes
 * costs one commit, not one each. One group is committed at a time.
 *
 * A group of several writes is committed by `together`; if that fails for any reason but the
 * store being unreachable (`isUnavailable`), each of its writes is committed again alone by
 * `alone`, so one bad write fails only its own call, with its own error. A write alone is
 * committed by `alone` directly.
 */
interface Pending<T> {
  item: T;
  resolve: () => void;
  reject: (error: unknown) => void;
}

export class WriteGroups<T> {
  readonly #together: (items: readonly T[]) => Promise<void>;
  readonly #alone: (item: T) => Promise<void>;
  readonly #isUnavailable: (error: unknown) => boolean;
  readonly #weight: (item: T) => number;
  readonly #maxWeight: number;
  #pending: Array<Pending<T>> = [];
  #running = false;
  #commits = 0;
  #writes = 0;

  constructor(options: {
    together: (items: readonly T[]) => Promise<void>;
    alone: (item: T) => Promise<void>;
    isUnavailable: (error: unknown) => boolean;
    /** How much a write adds to a group (items), and the most a group holds; one write always fits. */
    weight: (item: T) => number;
    maxWeight: number;
  }) {
    this.#together = options.together;
    this.#alone = options.alone;
    this.#isUnavailable = options.isUnavailable;
    this.#weight = options.weight;
    this.#maxWeight = options.maxWeight;
  }

  /** Commits done and writes they carried (a write retried alone counts one more commit). */
  get counts(): { commits: number; writes: number } {
    return { commits: this.#commits, writes: this.#writes };
  }

  /** Resolves once `item` is committed; rejects with the error of its own commit. */
  submit(item: T): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#pending.push({ item, resolve, reject });
      if (!this.#running) void this.#drain();
    });
  }

  async #drain(): Promise<void> {
    this.#running = true;
    try {
      while (this.#pending.length > 0) {
        let weight = 0;
        let size = 0;
        for (const { item } of this.#pending) {
          const next = this.#weight(item);
          if (size > 0 && weight + next > this.#maxWeight) break;
          weight += next;
          size += 1;
        }
        await this.#commit(this.#pending.splice(0, size));
      }
    } finally {
      this.#running = false;
    }
  }

  async #commit(group: ReadonlyArray<Pending<T>>): Promise<void> {
    this.#writes += group.length;
    if (group.length > 1) {
      this.#commits += 1;
      try {
        await this.#together(group.map((entry) => entry.item));
        for (const entry of group) entry.resolve();
        return;
      } catch (error) {
        if (this.#isUnavailable(error)) {
          for (const entry of group) entry.reject(error);
          return;
        }
      }
    }
    for (const entry of group) {
      this.#commits += 1;
      try {
        await this.#alone(entry.item);
        entry.resolve();
      } catch (error) {
        entry.reject(error);
      }
    }
  }
}
