import { UnrecoverableError, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { z } from 'zod';
import type { Logger } from '../shared/logger.js';
import { describeError, toIssues } from '../shared/errors.js';

/** What a stage handler receives besides its payload. Only this file knows BullMQ. */
export interface StageContext {
  jobId: string;
  /** 1 on the first try. */
  attempt: number;
  /** Aborts when the daemon stops and the handler has outlived the shutdown bound. */
  signal: AbortSignal;
  logger: Logger;
}

/**
 * One stage of the loop: a queue name, a versioned payload schema (every payload carries `v`)
 * and a handler. A handler must be safe to run again for the same payload (jobs are retried and
 * may be replayed after a crash) and must honour `context.signal`.
 */
export interface StageDefinition<Schema extends z.ZodType> {
  name: string;
  payload: Schema;
  handle(payload: z.output<Schema>, context: StageContext): Promise<unknown>;
}

export interface StageWorkerOptions {
  connection: Redis;
  prefix: string;
  concurrency: number;
  logger: Logger;
}

/** A running stage worker. `close(timeoutMs)` drains, then aborts what is left; safe to call twice. */
export interface StageWorker {
  readonly worker: Worker;
  close(timeoutMs: number): Promise<void>;
}

/**
 * Runs a stage's handler for every job of its queue. A payload that fails its schema fails the
 * job for good (retrying cannot fix it); any other error fails the attempt and BullMQ retries
 * with the queue's backoff. On close, active jobs get `timeoutMs` to finish; then their signals
 * abort, so each fails its attempt and returns to the queue for another worker.
 */
export function startStageWorker<Schema extends z.ZodType>(
  stage: StageDefinition<Schema>,
  options: StageWorkerOptions,
): StageWorker {
  const logger = options.logger.child({ component: 'loop', stage: stage.name });
  const active = new Map<string, AbortController>();
  const worker = new Worker(
    stage.name,
    async (job: Job) => {
      const parsed = stage.payload.safeParse(job.data);
      if (!parsed.success) {
        const problems = toIssues(parsed.error.issues)
          .map((issue) => `${issue.path || '(root)'}: ${issue.message}`)
          .join('; ');
        throw new UnrecoverableError(`invalid ${stage.name} payload: ${problems}`);
      }
      const controller = new AbortController();
      const jobId = job.id ?? 'unknown';
      active.set(jobId, controller);
      try {
        return await stage.handle(parsed.data, {
          jobId,
          attempt: job.attemptsMade + 1,
          signal: controller.signal,
          logger: logger.child({ jobId }),
        });
      } finally {
        active.delete(jobId);
      }
    },
    {
      connection: options.connection,
      prefix: options.prefix,
      concurrency: options.concurrency,
      autorun: true,
    },
  );
  worker.on('error', (error) => logger.warn({ err: describeError(error) }, 'worker error'));
  worker.on('failed', (job, error) =>
    logger.warn({ jobId: job?.id, attempt: job?.attemptsMade, err: error.message }, 'job attempt failed'),
  );

  let closing: Promise<void> | undefined;
  const close = (timeoutMs: number): Promise<void> => {
    closing ??= (async () => {
      let timer: NodeJS.Timeout | undefined;
      const drained = await Promise.race([
        worker.close().then(() => true),
        new Promise<false>((resolve) => {
          timer = setTimeout(() => resolve(false), timeoutMs);
        }),
      ]);
      clearTimeout(timer);
      if (!drained) {
        logger.warn(
          { active: active.size },
          'jobs still running at the shutdown bound; returning them to the queue',
        );
        for (const controller of active.values()) controller.abort(new Error('daemon stopping'));
        await worker.close(true);
      }
    })();
    return closing;
  };
  return { worker, close };
}
