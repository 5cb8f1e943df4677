import type { Redis } from 'ioredis';
import { SystemError } from '../shared/errors.js';
import { closedBreaker, reduceBreaker, type BreakerConfig, type BreakerState } from '../policy/index.js';
import { breakerStateSchema } from '../policy/breaker.js';
import type { ActionLog, ActionLogEntry, RecentCounts } from './action-log.js';

/** How long start and failure records are kept for rate limits and `recent.failures`. */
const HISTORY_MS = 24 * 3_600_000;

/** Sets the breaker only if nobody changed it since it was read (compare-and-set on a version). */
const CAS_SCRIPT = `
local current = redis.call('GET', KEYS[1])
local version = 0
if current then version = tonumber(cjson.decode(current).version) or 0 end
if version ~= tonumber(ARGV[1]) then return 0 end
redis.call('SET', KEYS[1], ARGV[2])
return 1
`;

interface StoredBreaker {
  version: number;
  state: BreakerState;
}

/**
 * The `ActionLog` on Redis, shared by every replica that uses the same `prefix`:
 *
 * - `<prefix>:action:<key>`: the entry as JSON, claimed with `SET NX PX ttl`;
 * - `<prefix>:starts:target:<target>` / `<prefix>:starts:cluster:<cluster>`: sorted sets of
 *   started actions by time, for the rate limits;
 * - `<prefix>:failures`: a sorted set of failures by time;
 * - `<prefix>:breaker`: the breaker state with a version, updated by compare-and-set.
 *
 * Failures of Redis reject with a retryable `SystemError`; the executor then stops before any
 * write (without a claim an action never runs).
 */
export class RedisActionLog implements ActionLog {
  readonly #redis: Redis;
  readonly #prefix: string;

  constructor(redis: Redis, options: { prefix?: string } = {}) {
    this.#redis = redis;
    this.#prefix = options.prefix ?? 'nightshift:act';
  }

  #key(...parts: string[]): string {
    return [this.#prefix, ...parts].join(':');
  }

  async #call<T>(what: string, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      throw new SystemError('action_log_unavailable', `action log ${what} failed: ${String(error)}`, {
        cause: error,
      });
    }
  }

  async claim(
    entry: ActionLogEntry,
    ttlMs: number,
  ): Promise<{ claimed: true } | { claimed: false; existing?: ActionLogEntry }> {
    const key = this.#key('action', entry.key);
    return this.#call('claim', async () => {
      const set = await this.#redis.set(
        key,
        JSON.stringify(entry),
        'PX',
        Math.max(1, Math.round(ttlMs)),
        'NX',
      );
      if (set === 'OK') return { claimed: true as const };
      const existing = await this.#redis.get(key);
      return existing
        ? { claimed: false as const, existing: JSON.parse(existing) as ActionLogEntry }
        : { claimed: false as const };
    });
  }

  async update(key: string, patch: Partial<Omit<ActionLogEntry, 'key'>>): Promise<void> {
    const redisKey = this.#key('action', key);
    await this.#call('update', async () => {
      const current = await this.#redis.get(redisKey);
      if (!current) return;
      const next = { ...(JSON.parse(current) as ActionLogEntry), ...patch, key };
      await this.#redis.set(redisKey, JSON.stringify(next), 'KEEPTTL', 'XX');
    });
  }

  async get(key: string): Promise<ActionLogEntry | undefined> {
    return this.#call('read', async () => {
      const current = await this.#redis.get(this.#key('action', key));
      return current ? (JSON.parse(current) as ActionLogEntry) : undefined;
    });
  }

  async recordStart(key: string, target: string, cluster: string, at: number): Promise<void> {
    const targetKey = this.#key('starts', 'target', target);
    const clusterKey = this.#key('starts', 'cluster', cluster);
    await this.#call('record', async () => {
      await this.#redis
        .multi()
        .zadd(targetKey, at, key)
        .zadd(clusterKey, at, key)
        .zremrangebyscore(targetKey, '-inf', at - HISTORY_MS)
        .zremrangebyscore(clusterKey, '-inf', at - HISTORY_MS)
        .pexpire(targetKey, HISTORY_MS)
        .pexpire(clusterKey, HISTORY_MS)
        .exec();
    });
  }

  async recent(target: string, cluster: string, now: number, windowMs: number): Promise<RecentCounts> {
    const since = `(${now - windowMs}`;
    return this.#call('count', async () => {
      const replies = await this.#redis
        .multi()
        .zcount(this.#key('starts', 'target', target), since, now)
        .zcount(this.#key('starts', 'cluster', cluster), since, now)
        .zcount(this.#key('failures'), since, now)
        .exec();
      const count = (index: number): number => Number(replies?.[index]?.[1] ?? 0);
      return { perTarget: count(0), perCluster: count(1), failures: count(2) };
    });
  }

  async #readBreaker(): Promise<StoredBreaker> {
    const current = await this.#redis.get(this.#key('breaker'));
    if (!current) return { version: 0, state: closedBreaker };
    const parsed = JSON.parse(current) as { version?: unknown; state?: unknown };
    const state = breakerStateSchema.safeParse(parsed.state);
    return { version: Number(parsed.version ?? 0), state: state.success ? state.data : closedBreaker };
  }

  async #swapBreaker(next: (state: BreakerState) => BreakerState): Promise<BreakerState> {
    for (let attempt = 0; attempt < 20; attempt++) {
      const stored = await this.#readBreaker();
      const state = next(stored.state);
      const swapped = await this.#redis.eval(
        CAS_SCRIPT,
        1,
        this.#key('breaker'),
        String(stored.version),
        JSON.stringify({ version: stored.version + 1, state }),
      );
      if (Number(swapped) === 1) return state;
    }
    throw new SystemError('action_log_contended', 'the breaker state kept changing; gave up after 20 tries');
  }

  async reportFailure(key: string, at: number, config: BreakerConfig | undefined): Promise<BreakerState> {
    const failures = this.#key('failures');
    return this.#call('failure', async () => {
      await this.#redis
        .multi()
        .zadd(failures, at, `${key}@${at}`)
        .zremrangebyscore(failures, '-inf', at - HISTORY_MS)
        .pexpire(failures, HISTORY_MS)
        .exec();
      if (!config) return (await this.#readBreaker()).state;
      return this.#swapBreaker((state) => reduceBreaker(state, { type: 'action-failed', at }, config));
    });
  }

  async breaker(): Promise<BreakerState> {
    return this.#call('breaker read', async () => (await this.#readBreaker()).state);
  }

  async resetBreaker(): Promise<void> {
    await this.#call('breaker reset', () => this.#swapBreaker(() => closedBreaker));
  }
}
