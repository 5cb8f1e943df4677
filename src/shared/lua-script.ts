import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';

/** A Lua script run by its digest: the source crosses the wire only when Redis lacks it. */
export interface LuaScript {
  run(connection: Redis, keys: readonly string[], args: ReadonlyArray<string | number>): Promise<unknown>;
}

/**
 * Wraps a Lua script: `run` sends EVALSHA and, when Redis answers NOSCRIPT (first use, a restart,
 * SCRIPT FLUSH), EVAL with the source, which also loads it for next time. Unlike `defineCommand`,
 * it adds nothing to the connection, whose every MULTI and pipeline would otherwise copy it.
 */
export function luaScript(source: string): LuaScript {
  const sha = createHash('sha1').update(source).digest('hex');
  return {
    async run(connection, keys, args) {
      try {
        return await connection.evalsha(sha, keys.length, ...keys, ...args);
      } catch (error) {
        if (!(error instanceof Error) || !error.message.includes('NOSCRIPT')) throw error;
        return connection.eval(source, keys.length, ...keys, ...args);
      }
    },
  };
}
