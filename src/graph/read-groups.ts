import { GroupQueue, takeWithin } from './group-queue.js';

/**
 * Grouped reads for a store whose every query costs a round trip: reads asked while a group is
 * being read wait and go together in the next group, as one query (at most `maxItems` reads, and
 * at most `maxWeight` in all when reads have a `weight`; a single heavier read goes alone). One
 * group is read at a time. A group that fails fails each of its reads with the same error.
 */
export class ReadGroups<T, R> {
  readonly #queue: GroupQueue<T, R>;
  #queries = 0;
  #reads = 0;

  /** `read` returns one result per item, in item order. */
  constructor(options: {
    read: (items: readonly T[]) => Promise<R[]>;
    maxItems: number;
    weight?: (item: T) => number;
    maxWeight?: number;
  }) {
    this.#queue = new GroupQueue<T, R>({
      take: (waiting) => takeWithin(waiting, options),
      run: async (group) => {
        this.#queries += 1;
        this.#reads += group.length;
        const results = await options.read(group.map((entry) => entry.item));
        group.forEach((entry, index) => entry.resolve(results[index] as R));
      },
    });
  }

  /** Queries run and reads they answered. */
  get counts(): { queries: number; reads: number } {
    return { queries: this.#queries, reads: this.#reads };
  }

  load(item: T): Promise<R> {
    return this.#queue.submit(item);
  }
}
