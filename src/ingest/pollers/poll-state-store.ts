import type { Redis } from 'ioredis';
import { SystemError } from '../../shared/errors.js';

/** A stored poll state and the version it was saved as (0: never saved). */
export interface StoredPollState {
  version: number;
  state: unknown;
}

/**
 * Where poll states live between runs. `save` is a compare-and-set on the version `load` gave:
 * it answers false (and stores nothing) when another run saved in between, so two replicas that
 * polled at once never overwrite a newer state with an older one.
 */
export interface PollStateStore {
  load(poller: string): Promise<StoredPollState>;
  save(poller: string, expectedVersion: number, state: unknown): Promise<boolean>;
}

/** A store in memory, for tests and single runs. */
export class MemoryPollStateStore implements PollStateStore {
  readonly #states = new Map<string, { version: number; json: string }>();

  load(poller: string): Promise<StoredPollState> {
    const stored = this.#states.get(poller);
    return Promise.resolve(
      stored
        ? { version: stored.version, state: JSON.parse(stored.json) as unknown }
        : { version: 0, state: undefined },
    );
  }

  save(poller: string, expectedVersion: number, state: unknown): Promise<boolean> {
    const current = this.#states.get(poller)?.version ?? 0;
    if (current !== expectedVersion) return Promise.resolve(false);
    this.#states.set(poller, { version: current + 1, json: JSON.stringify(state) });
    return Promise.resolve(true);
  }
}

const SAVE_SCRIPT = `
local current = redis.call('HGET', KEYS[1], 'version')
if (current or '0') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'version', tostring(tonumber(ARGV[1]) + 1), 'state', ARGV[2])
return 1
`;

/** States in Redis hashes `<prefix>:poll-state:<poller>` (`version`, `state` as JSON). */
export class RedisPollStateStore implements PollStateStore {
  readonly #redis: Redis;
  readonly #prefix: string;

  constructor(redis: Redis, prefix: string) {
    this.#redis = redis;
    this.#prefix = prefix;
  }

  #key(poller: string): string {
    return `${this.#prefix}:poll-state:${poller}`;
  }

  async load(poller: string): Promise<StoredPollState> {
    try {
      const [version, state] = await this.#redis.hmget(this.#key(poller), 'version', 'state');
      if (!version || !state) return { version: 0, state: undefined };
      return { version: Number(version), state: JSON.parse(state) as unknown };
    } catch (error) {
      throw new SystemError('poll_state_unavailable', `could not read the ${poller} poll state`, {
        cause: error,
        retryable: true,
      });
    }
  }

  async save(poller: string, expectedVersion: number, state: unknown): Promise<boolean> {
    try {
      const saved = await this.#redis.eval(
        SAVE_SCRIPT,
        1,
        this.#key(poller),
        String(expectedVersion),
        JSON.stringify(state),
      );
      return saved === 1;
    } catch (error) {
      throw new SystemError('poll_state_unavailable', `could not save the ${poller} poll state`, {
        cause: error,
        retryable: true,
      });
    }
  }
}
