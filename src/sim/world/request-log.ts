import type { SimRequest, SimRequestLog } from './types.js';

/** An in-memory SimRequestLog; `now` stamps entries recorded without a time. */
export class MemoryRequestLog implements SimRequestLog {
  readonly #entries: SimRequest[] = [];
  readonly #now: () => number;
  readonly #limit: number;

  constructor(now: () => number, limit = 100_000) {
    this.#now = now;
    this.#limit = limit;
  }

  record(request: Omit<SimRequest, 't'> & { t?: number }): void {
    this.#entries.push({ ...request, t: request.t ?? this.#now() });
    if (this.#entries.length > this.#limit) this.#entries.splice(0, this.#entries.length - this.#limit);
  }

  entries(filter: { server?: string; write?: boolean } = {}): readonly SimRequest[] {
    return this.#entries.filter(
      (entry) =>
        (filter.server === undefined || entry.server === filter.server) &&
        (filter.write === undefined || entry.write === filter.write),
    );
  }

  writes(server?: string): readonly SimRequest[] {
    return this.entries({ write: true, ...(server ? { server } : {}) });
  }

  clear(): void {
    this.#entries.length = 0;
  }
}
