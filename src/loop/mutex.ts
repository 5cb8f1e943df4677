import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { SystemError } from '../shared/errors.js';
import { luaScript } from '../shared/lua-script.js';

/** Mutual exclusion by name. `run` holds the named lock while `work` runs; never holds two at once per call. */
export interface Mutex {
  run<T>(name: string, work: () => Promise<T>): Promise<T>;
}

/** A mutex within one process: calls for one name run one after another, in call order. */
export function localMutex(): Mutex {
  const tails = new Map<string, Promise<unknown>>();
  return {
    run<T>(name: string, work: () => Promise<T>): Promise<T> {
      const previous = tails.get(name) ?? Promise.resolve();
      const result = previous.then(work, work);
      const tail = result.catch(() => undefined);
      tails.set(name, tail);
      void tail.then(() => {
        if (tails.get(name) === tail) tails.delete(name);
      });
      return result;
    },
  };
}

const sharedMutexes = new WeakMap<object, Mutex>();

/**
 * The one local mutex of `owner`: every call with the same owner gets the same mutex. For a
 * resource only this process can write (the embedded graph, whose data directory is locked to
 * one process), where several loops in the process must still serialise on it.
 */
export function localMutexOf(owner: object): Mutex {
  let found = sharedMutexes.get(owner);
  if (!found) {
    found = localMutex();
    sharedMutexes.set(owner, found);
  }
  return found;
}

const RELEASE = luaScript(
  `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end`,
);

const RENEW = luaScript(
  `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) else return 0 end`,
);

/**
 * A mutex shared by every replica on one Redis: `SET key token NX PX ttl`, retried every few
 * milliseconds until `waitMs`, released by compare-and-delete. The lease (`ttlMs`) bounds how
 * long a crashed holder blocks others; a live holder renews it every third of `ttlMs` (compare
 * and `PEXPIRE`), for up to ten leases, so work slowed by a stalled graph keeps the lock. Calls
 * within this process are queued locally first, so they do not spin against each other.
 */
export function redisMutex(options: {
  connection: Redis;
  prefix: string;
  ttlMs?: number;
  waitMs?: number;
}): Mutex {
  const ttlMs = options.ttlMs ?? 30_000;
  const waitMs = options.waitMs ?? 60_000;
  const local = localMutex();
  const acquire = async (key: string, token: string): Promise<void> => {
    const deadline = Date.now() + waitMs;
    let pause = 2;
    for (;;) {
      const reply = await options.connection.set(key, token, 'PX', ttlMs, 'NX');
      if (reply === 'OK') return;
      if (Date.now() > deadline)
        throw new SystemError('lock_timeout', `could not take the lock ${key} within ${waitMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, pause));
      pause = Math.min(pause * 2, 50);
    }
  };
  return {
    run<T>(name: string, work: () => Promise<T>): Promise<T> {
      return local.run(name, async () => {
        const key = `${options.prefix}:loop:lock:${name}`;
        const token = randomUUID();
        await acquire(key, token);
        // Renewed for at most ten leases: work that hangs longer lets the lock go.
        const renewUntil = Date.now() + ttlMs * 10;
        const renewal = setInterval(
          () => {
            if (Date.now() > renewUntil) clearInterval(renewal);
            else RENEW.run(options.connection, [key], [token, String(ttlMs)]).catch(() => 0);
          },
          Math.max(1, Math.floor(ttlMs / 3)),
        );
        renewal.unref();
        try {
          return await work();
        } finally {
          clearInterval(renewal);
          await RELEASE.run(options.connection, [key], [token]).catch(() => 0);
        }
      });
    },
  };
}
