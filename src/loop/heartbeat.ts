import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import type { Clock } from '../shared/clock.js';
import type { DependencyState } from '../app/health.js';
import type { StageDefinition } from './stage.js';

export const HEARTBEAT_QUEUE = 'maintenance';

const heartbeatPayload = z.object({ v: z.literal(1), kind: z.literal('heartbeat') });

/**
 * The loop's pulse: a job scheduler enqueues a heartbeat every `everyMs`, a worker processes
 * it, and readiness reads how long ago one was processed. It proves end to end that jobs flow
 * through Redis and a worker, not merely that Redis answers PING.
 */
export class Heartbeat {
  #lastAt: number | undefined;
  readonly #startedAt: number;

  constructor(
    private readonly clock: Clock,
    private readonly everyMs: number,
  ) {
    this.#startedAt = clock.now();
  }

  readonly stage: StageDefinition<typeof heartbeatPayload> = {
    name: HEARTBEAT_QUEUE,
    payload: heartbeatPayload,
    handle: () => {
      this.#lastAt = this.clock.now();
      return Promise.resolve({ at: this.#lastAt });
    },
  };

  /** When a heartbeat job was last processed (epoch ms), if ever. */
  get lastAt(): number | undefined {
    return this.#lastAt;
  }

  /** `ok` within three intervals of the last beat (or of start-up), else `degraded`. */
  state(): DependencyState {
    const reference = this.#lastAt ?? this.#startedAt;
    return this.clock.now() - reference <= this.everyMs * 3 ? 'ok' : 'degraded';
  }

  /** Idempotent: a second replica upserting the same scheduler changes nothing. */
  async schedule(connection: Redis, prefix: string): Promise<Queue> {
    const queue = new Queue(HEARTBEAT_QUEUE, { connection, prefix });
    queue.on('error', () => undefined);
    await queue.upsertJobScheduler(
      'heartbeat',
      { every: this.everyMs },
      {
        name: 'heartbeat',
        data: { v: 1, kind: 'heartbeat' },
        opts: { removeOnComplete: 10, removeOnFail: 50 },
      },
    );
    return queue;
  }
}
