/**
 * Grouped reads for a store whose every query costs a round trip: reads asked while a group is
 * being read wait and go together in the next group, as one query (at most `maxItems`). One group
 * is read at a time. A group that fails fails each of its reads with the same error.
 */
export class ReadGroups<T, R> {
  readonly #read: (items: readonly T[]) => Promise<R[]>;
  readonly #maxItems: number;
  #pending: Array<{ item: T; resolve: (value: R) => void; reject: (error: unknown) => void }> = [];
  #running = false;
  #queries = 0;
  #reads = 0;

  /** `read` returns one result per item, in item order. */
  constructor(options: { read: (items: readonly T[]) => Promise<R[]>; maxItems: number }) {
    this.#read = options.read;
    this.#maxItems = options.maxItems;
  }

  /** Queries run and reads they answered. */
  get counts(): { queries: number; reads: number } {
    return { queries: this.#queries, reads: this.#reads };
  }

  load(item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.#pending.push({ item, resolve, reject });
      if (!this.#running) void this.#drain();
    });
  }

  async #drain(): Promise<void> {
    this.#running = true;
    try {
      while (this.#pending.length > 0) {
        const group = this.#pending.splice(0, this.#maxItems);
        this.#queries += 1;
        this.#reads += group.length;
        try {
          const results = await this.#read(group.map((entry) => entry.item));
          group.forEach((entry, index) => entry.resolve(results[index] as R));
        } catch (error) {
          for (const entry of group) entry.reject(error);
        }
      }
    } finally {
      this.#running = false;
    }
  }
}
