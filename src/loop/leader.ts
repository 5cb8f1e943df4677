import type { Redis } from 'ioredis';
import { describeError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';

const RENEW = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) else return 0 end`;
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end`;
const FENCE = `local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if tonumber(ARGV[1]) >= current then redis.call('SET', KEYS[1], ARGV[1]) return 1 else return 0 end`;

export interface LeaderOptions {
  connection: Redis;
  /** What is being led, e.g. `watchers`; one leader per name and prefix. */
  name: string;
  prefix: string;
  /** Unique per process, e.g. hostname + pid. */
  owner: string;
  /** How long a lease lives without renewal; a dead leader is replaced after at most this. */
  ttlMs: number;
  logger: Logger;
  /** Called on gaining the lease, with a fencing token larger than every earlier leader's. */
  onElected(token: number): void | Promise<void>;
  /** Called when the lease is lost or released; the work it guards must stop. */
  onDeposed(): void | Promise<void>;
}

/** A running election. `stop()` releases the lease if held; safe to call twice. */
export interface LeaderElection {
  isLeader(): boolean;
  /** The fencing token of the current term, when leading. */
  token(): number | undefined;
  stop(): Promise<void>;
}

/**
 * Leader election over one Redis key: `SET NX PX` to acquire, a compare-and-renew script every
 * third of the TTL, compare-and-delete to release. Each term gets a fencing token from `INCR`,
 * so work done on behalf of a deposed leader can be refused with `acceptFencedWrite`. A leader
 * that cannot renew in time (Redis away, process paused) deposes itself before its lease ends.
 */
export function startLeaderElection(options: LeaderOptions): LeaderElection {
  const key = `${options.prefix}:leader:${options.name}`;
  const fenceKey = `${key}:fence`;
  const logger = options.logger.child({ component: 'leader', lease: options.name });
  let leading = false;
  let term: number | undefined;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  /**
   * Deposes this leader 0.8 of a lease after its last renewal unless it renews first. A timer of
   * its own, not a check in the election round: a round whose Redis call hangs (a stalled server
   * or network) never gets to run a check, and the lease would end while this process still led.
   */
  let watchdog: NodeJS.Timeout | undefined;

  const depose = async (why: string): Promise<void> => {
    clearTimeout(watchdog);
    if (!leading) return;
    leading = false;
    term = undefined;
    logger.warn({ why }, 'leadership lost');
    await options.onDeposed();
  };
  /** Arms the watchdog for a lease renewed (or taken) at `at`. */
  const renewed = (at: number): void => {
    clearTimeout(watchdog);
    watchdog = setTimeout(
      () => void depose('could not renew before the lease ends'),
      Math.max(0, Math.floor(options.ttlMs * 0.8) - (Date.now() - at)),
    );
  };

  const tick = async (): Promise<void> => {
    try {
      if (leading) {
        const sentAt = Date.now();
        const answer = await options.connection.eval(RENEW, 1, key, options.owner, String(options.ttlMs));
        // A renewal that returns after the watchdog deposed this leader does not make it lead again.
        if (answer !== 1) await depose('lease taken or expired');
        else if (leading) renewed(sentAt);
      } else {
        const sentAt = Date.now();
        const acquired = await options.connection.set(key, options.owner, 'PX', options.ttlMs, 'NX');
        if (acquired === 'OK') {
          term = await options.connection.incr(fenceKey);
          // Taken too late to lead safely: the lease may be about to end. The next round tries again.
          if (Date.now() - sentAt >= options.ttlMs * 0.8) {
            term = undefined;
            return;
          }
          leading = true;
          renewed(sentAt);
          logger.info({ token: term }, 'elected leader');
          await options.onElected(term);
        }
      }
    } catch (error) {
      logger.warn({ err: describeError(error) }, 'leader election round failed');
    }
  };

  const loop = (): void => {
    if (stopped) return;
    timer = setTimeout(
      () => {
        void tick().finally(loop);
      },
      Math.max(Math.floor(options.ttlMs / 3), 10),
    );
  };
  void tick().finally(loop);

  return {
    isLeader: () => leading,
    token: () => term,
    stop: async () => {
      if (stopped) return;
      stopped = true;
      clearTimeout(timer);
      clearTimeout(watchdog);
      if (leading) {
        await options.connection.eval(RELEASE, 1, key, options.owner).catch(() => 0);
        await depose('stopped');
      }
    },
  };
}

/**
 * Records `token` as the highest seen for `resource` and says whether a write carrying it may
 * proceed: false when a newer leader has already written. Atomic in Redis.
 */
export async function acceptFencedWrite(
  connection: Redis,
  prefix: string,
  resource: string,
  token: number,
): Promise<boolean> {
  return (await connection.eval(FENCE, 1, `${prefix}:fence:${resource}`, String(token))) === 1;
}
