import { GroupQueue, takeWithin, type Queued } from './group-queue.js';

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
export class WriteGroups<T> {
  readonly #together: (items: readonly T[]) => Promise<void>;
  readonly #alone: (item: T) => Promise<void>;
  readonly #isUnavailable: (error: unknown) => boolean;
  readonly #queue: GroupQueue<T, void>;
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
    this.#queue = new GroupQueue<T, void>({
      run: (group) => this.#commit(group),
      take: (waiting) => takeWithin(waiting, options),
    });
  }

  /** Commits done and writes they carried (a write retried alone counts one more commit). */
  get counts(): { commits: number; writes: number } {
    return { commits: this.#commits, writes: this.#writes };
  }

  /** Resolves once `item` is committed; rejects with the error of its own commit. */
  submit(item: T): Promise<void> {
    return this.#queue.submit(item);
  }

  async #commit(group: ReadonlyArray<Queued<T, void>>): Promise<void> {
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
