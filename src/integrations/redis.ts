import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from '../shared/logger.js';
import type { Secret } from '../shared/secret.js';

/**
 * What a connection is for. BullMQ needs `maxRetriesPerRequest: null` on connections that block
 * (workers, queue events); producers instead fail fast while Redis is away, so a webhook can
 * answer 503 and the sender retries rather than hang.
 */
export type RedisRole = 'worker' | 'producer' | 'client';

export interface RedisSettings {
  url: string;
  password?: Secret | undefined;
}

/**
 * The one place Redis connections are made. Every connection reconnects forever with capped
 * backoff, never throws from its `error` event (it logs, at most once per outage), and is
 * `lazyConnect` so building one performs no I/O. Callers own `quit()`/`disconnect()`.
 */
export function createRedisConnection(settings: RedisSettings, role: RedisRole, logger: Logger): Redis {
  const options: RedisOptions = {
    lazyConnect: true,
    connectionName: `nightshift-${role}`,
    retryStrategy: (times) => Math.min(200 * 2 ** Math.min(times, 5), 5_000),
    ...(settings.password ? { password: settings.password.reveal() } : {}),
    ...(role === 'worker'
      ? { maxRetriesPerRequest: null, enableOfflineQueue: true }
      : role === 'producer'
        ? { maxRetriesPerRequest: 1, enableOfflineQueue: false, connectTimeout: 2_000 }
        : { maxRetriesPerRequest: 1, enableOfflineQueue: false, connectTimeout: 2_000 }),
  };
  const connection = new Redis(settings.url, options);
  let down = false;
  connection.on('error', (error: Error) => {
    if (!down) logger.warn({ role, err: error.message }, 'redis connection lost; reconnecting');
    down = true;
  });
  connection.on('ready', () => {
    if (down) logger.info({ role }, 'redis connection restored');
    down = false;
  });
  return connection;
}

/** PING with a deadline; resolves true when Redis answered PONG in time. Never throws. */
export async function pingRedis(connection: Redis, timeoutMs = 500): Promise<boolean> {
  if (connection.status !== 'ready') return false;
  let timer: NodeJS.Timeout | undefined;
  try {
    const reply = await Promise.race([
      connection.ping(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error('ping timed out')), timeoutMs);
      }),
    ]);
    return reply === 'PONG';
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}
