import type { Redis } from 'ioredis';
import type { Mode } from '../../policy/index.js';
import type { Logger } from '../../shared/logger.js';

/** The runtime switches every replica reads before each decision. */
export interface RuntimeControls {
  /** What the executor reads: the kill switch and the global cap. */
  current(): { killSwitch: boolean; maxMode?: Mode };
  /** Turns the kill switch on or off for every replica (Slack `/nightshift pause|resume`, the API). */
  setKillSwitch(on: boolean, by: string): Promise<void>;
  /** Reads the shared state now (it is also refreshed on an interval). */
  refresh(): Promise<void>;
  stop(): void;
}

/**
 * The kill switch lives in Redis (`<prefix>:controls:kill-switch`) so that pausing on one replica
 * pauses all of them; each replica re-reads it every `refreshMs` and right after it sets it. The
 * configured switch (`policy.killSwitch`) can only add to it: with it on, nothing turns it off.
 * When Redis cannot be read, the last known state stays.
 */
export function createRuntimeControls(options: {
  redis: Redis;
  prefix: string;
  configured: { killSwitch: boolean; maxMode: Mode };
  logger: Logger;
  refreshMs?: number;
}): RuntimeControls {
  const key = `${options.prefix}:controls:kill-switch`;
  let shared = false;
  const refresh = async (): Promise<void> => {
    if (options.redis.status !== 'ready') return;
    try {
      shared = (await options.redis.get(key)) !== null;
    } catch (error) {
      options.logger.warn({ err: error }, 'could not read the shared kill switch; keeping the last state');
    }
  };
  const timer = setInterval(() => void refresh(), options.refreshMs ?? 2_000);
  timer.unref();
  void refresh();
  return {
    current: () => ({
      killSwitch: options.configured.killSwitch || shared,
      ...(options.configured.maxMode === 'autonomous' ? {} : { maxMode: options.configured.maxMode }),
    }),
    async setKillSwitch(on, by) {
      if (on) await options.redis.set(key, JSON.stringify({ by, at: Date.now() }));
      else await options.redis.del(key);
      options.logger.warn(
        { by, killSwitch: on },
        on ? 'kill switch ON: every decision is shadow' : 'kill switch off',
      );
      await refresh();
    },
    refresh,
    stop: () => clearInterval(timer),
  };
}
