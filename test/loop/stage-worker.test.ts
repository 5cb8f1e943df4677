import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { z } from 'zod';
import { startStageWorker } from '../../src/loop/stage.js';
import { silentLogger } from '../../src/shared/logger.js';
import { testPrefix } from '../kit/prefix.js';

const prefix = testPrefix(import.meta.filename);
const redis = new Redis(inject('redisUrl'), { maxRetriesPerRequest: null });
afterAll(() => redis.disconnect());

function deferred<T>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve: (value: T) => void = () => undefined;
  const promise = new Promise<T>((settle) => {
    resolve = settle;
  });
  return { promise, resolve };
}

describe('a stage worker', () => {
  it('aborts a running job whose lock it could not renew', async () => {
    const started = deferred<string>();
    const ended = deferred<string>();
    const worker = startStageWorker(
      {
        name: 'lock-lost',
        payload: z.object({ v: z.literal(1) }),
        async handle(_payload, context) {
          started.resolve(context.jobId);
          const outcome = await new Promise<string>((resolve) => {
            const timer = setTimeout(() => resolve('ran on'), 4_000);
            context.signal.addEventListener('abort', () => {
              clearTimeout(timer);
              resolve('aborted');
            });
          });
          ended.resolve(outcome);
          return outcome;
        },
      },
      { connection: redis, prefix, concurrency: 1, logger: silentLogger(), lockDurationMs: 600 },
    );
    const queue = new Queue('lock-lost', { connection: redis, prefix });
    try {
      await queue.add('lock-lost', { v: 1 }, { jobId: 'job-1', attempts: 1 });
      const jobId = await started.promise;
      // The lock vanishes, as when it expired during a stall and the stalled check took the job.
      await redis.del(`${prefix}:lock-lost:${jobId}:lock`);
      expect(await ended.promise).toBe('aborted');
    } finally {
      await worker.close(1_000);
      await queue.obliterate({ force: true });
      await queue.close();
    }
  });
});
