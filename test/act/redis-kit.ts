import type { Redis } from 'ioredis';
import { inject, onTestFinished } from 'vitest';
import { RedisActionLog } from '../../src/act/redis-action-log.js';
import { createRedisConnection } from '../../src/integrations/redis.js';
import { silentLogger } from '../../src/shared/logger.js';
import { testPrefix } from '../kit/prefix.js';

/** A connected Redis client on the test Redis, disconnected when the test finishes. */
export async function redisClient(): Promise<Redis> {
  const connection = createRedisConnection({ url: inject('redisUrl') }, 'client', silentLogger());
  await connection.connect();
  onTestFinished(() => {
    connection.disconnect();
  });
  return connection;
}

/** A fresh key prefix for one test, with its keys removed afterwards. */
export function actionLogPrefix(file: string): string {
  const prefix = testPrefix(file);
  onTestFinished(async () => {
    const cleaner = await redisClient();
    const keys = await cleaner.keys(`${prefix}:*`);
    if (keys.length > 0) await cleaner.del(...keys);
  });
  return prefix;
}

/** An action log on its own connection (as a separate replica would have). */
export async function redisActionLog(prefix: string): Promise<RedisActionLog> {
  return new RedisActionLog(await redisClient(), { prefix });
}
