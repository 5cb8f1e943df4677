import { closedBreaker, reduceBreaker, type BreakerConfig, type BreakerState } from '../policy/index.js';

/** Where an action is in its life. `executing` stays forever when the process died mid-call: never re-run. */
export type ActionState =
  'executing' | 'succeeded' | 'failed' | 'skipped' | 'verified' | 'undone' | 'escalated';

/** One action in the durable log, under its idempotency key. */
export interface ActionLogEntry {
  key: string;
  incidentId: string;
  action: string;
  /** `cluster/namespace/Kind/name`. */
  target: string;
  cluster: string;
  state: ActionState;
  /** Who claimed it: the executor instance. */
  owner: string;
  /** Epoch ms of the claim. */
  claimedAt: number;
  updatedAt: number;
  summary?: string;
  error?: string;
}

/** What the policy's `recent` facts hold: this agent's executed actions in the window. */
export interface RecentCounts {
  perTarget: number;
  perCluster: number;
  failures: number;
}

/**
 * The executor's durable memory, shared by every replica: idempotency claims, the counts behind
 * rate limits, and the circuit breaker's state.
 *
 * - `claim` is atomic across processes (Redis `SET NX`): of any number of concurrent claims of
 *   one key, exactly one resolves `{claimed: true}`; the others get the existing entry.
 * - `recordStart` counts an action against its target and cluster the moment it starts to
 *   execute (an action in flight counts: the safe side for rate limits).
 * - `reportFailure` adds a failure (the breaker and `recent.failures`) and returns the new
 *   breaker state; `breaker()` reads it. Without a breaker config only the failure is counted.
 */
export interface ActionLog {
  claim(
    entry: ActionLogEntry,
    ttlMs: number,
  ): Promise<{ claimed: true } | { claimed: false; existing?: ActionLogEntry }>;
  /** Updates a claimed entry (merging fields); a missing entry is left missing. */
  update(key: string, patch: Partial<Omit<ActionLogEntry, 'key'>>): Promise<void>;
  get(key: string): Promise<ActionLogEntry | undefined>;
  recordStart(key: string, target: string, cluster: string, at: number): Promise<void>;
  recent(target: string, cluster: string, now: number, windowMs: number): Promise<RecentCounts>;
  reportFailure(key: string, at: number, config: BreakerConfig | undefined): Promise<BreakerState>;
  breaker(): Promise<BreakerState>;
  /** Closes the breaker (an operator's reset). */
  resetBreaker(): Promise<void>;
}

/** An in-process `ActionLog` for one process and for tests; same contract, no durability. */
export class MemoryActionLog implements ActionLog {
  readonly #entries = new Map<string, { entry: ActionLogEntry; expiresAt: number }>();
  readonly #starts: Array<{ key: string; target: string; cluster: string; at: number }> = [];
  readonly #failures: number[] = [];
  #breaker: BreakerState = closedBreaker;
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  claim(
    entry: ActionLogEntry,
    ttlMs: number,
  ): Promise<{ claimed: true } | { claimed: false; existing?: ActionLogEntry }> {
    const existing = this.#live(entry.key);
    if (existing) return Promise.resolve({ claimed: false, existing: { ...existing } });
    this.#entries.set(entry.key, { entry: { ...entry }, expiresAt: this.#now() + ttlMs });
    return Promise.resolve({ claimed: true });
  }

  update(key: string, patch: Partial<Omit<ActionLogEntry, 'key'>>): Promise<void> {
    const stored = this.#entries.get(key);
    if (stored) stored.entry = { ...stored.entry, ...patch, key };
    return Promise.resolve();
  }

  get(key: string): Promise<ActionLogEntry | undefined> {
    const entry = this.#live(key);
    return Promise.resolve(entry ? { ...entry } : undefined);
  }

  recordStart(key: string, target: string, cluster: string, at: number): Promise<void> {
    this.#starts.push({ key, target, cluster, at });
    return Promise.resolve();
  }

  recent(target: string, cluster: string, now: number, windowMs: number): Promise<RecentCounts> {
    const since = now - windowMs;
    const inWindow = this.#starts.filter((start) => start.at > since && start.at <= now);
    return Promise.resolve({
      perTarget: inWindow.filter((start) => start.target === target).length,
      perCluster: inWindow.filter((start) => start.cluster === cluster).length,
      failures: this.#failures.filter((at) => at > since && at <= now).length,
    });
  }

  reportFailure(_key: string, at: number, config: BreakerConfig | undefined): Promise<BreakerState> {
    this.#failures.push(at);
    if (config) this.#breaker = reduceBreaker(this.#breaker, { type: 'action-failed', at }, config);
    return Promise.resolve(this.#breaker);
  }

  breaker(): Promise<BreakerState> {
    return Promise.resolve(this.#breaker);
  }

  resetBreaker(): Promise<void> {
    this.#breaker = closedBreaker;
    return Promise.resolve();
  }

  #live(key: string): ActionLogEntry | undefined {
    const stored = this.#entries.get(key);
    if (!stored) return undefined;
    if (stored.expiresAt <= this.#now()) {
      this.#entries.delete(key);
      return undefined;
    }
    return stored.entry;
  }
}
