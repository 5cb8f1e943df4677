import { Queue, UnrecoverableError, Worker, type Job, type JobsOptions } from 'bullmq';
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
  /**
   * On a first attempt, how long the job waited in its queue: from when it was due (added, or
   * its delay over) to when a worker took it. Undefined on retries (their wait is backoff).
   */
  waitedMs?: number;
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
  /**
   * How long a worker's lock on a running job lasts without renewal (BullMQ default 30 s). After a
   * crash the job returns to the queue once the lock has expired and a stalled check has run.
   */
  lockDurationMs?: number;
  /** How often workers look for stalled jobs (BullMQ default 30 s). */
  stalledIntervalMs?: number;
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
 * abort, so each fails its attempt and returns to the queue for another worker. A job whose lock
 * this worker could not renew is aborted at once.
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
      const attempt = job.attemptsMade + 1;
      const due = job.timestamp + (job.opts.delay ?? 0);
      try {
        return await stage.handle(parsed.data, {
          jobId,
          attempt,
          signal: controller.signal,
          logger: logger.child({ jobId }),
          ...(attempt === 1 ? { waitedMs: Math.max(0, (job.processedOn ?? Date.now()) - due) } : {}),
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
      ...(options.lockDurationMs === undefined ? {} : { lockDuration: options.lockDurationMs }),
      ...(options.stalledIntervalMs === undefined ? {} : { stalledInterval: options.stalledIntervalMs }),
    },
  );
  worker.on('error', (error) => logger.warn({ err: describeError(error) }, 'worker error'));
  // A job whose lock could not be renewed may already be another worker's (the stalled check
  // hands it on): its handler here is aborted rather than left to run beside the other.
  worker.on('lockRenewalFailed', (jobIds) => {
    for (const jobId of jobIds) {
      const controller = active.get(jobId);
      if (!controller) continue;
      logger.warn({ jobId }, 'lost the lock of a running job; aborting it here');
      controller.abort(new Error('lost the job lock'));
    }
  });
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

/**
 * Work a loop stage hands on: the next stage's queue, its payload (carrying `v`) and a job id
 * that is the same on every delivery of the step that produced it (`<incidentKey>:<stage>:<step>`),
 * so a replayed step adds nothing new.
 */
export interface NextJob {
  stage: string;
  payload: { v: number; [field: string]: unknown };
  jobId: string;
  /** Run no earlier than this many ms from now (verification windows). */
  delayMs?: number;
}

/**
 * A stage of the detect-respond-learn loop as its domain writes it: a pure-ish function of its
 * payload, its dependencies and an abort signal, returning what comes next (or nothing). It knows
 * nothing of BullMQ; `loopStageDefinition` adapts it to a worker.
 */
export interface LoopStage<Schema extends z.ZodType, Deps> {
  name: string;
  payload: Schema;
  handle(
    payload: z.output<Schema>,
    deps: Deps,
    signal: AbortSignal,
  ): Promise<NextJob | readonly NextJob[] | undefined>;
}

/** Attempts, exponential backoff and retention of loop jobs: failed jobs are kept a week. */
export const DEFAULT_LOOP_JOB_OPTIONS: Readonly<JobsOptions> = {
  attempts: 8,
  backoff: { type: 'exponential', delay: 1_000 },
  removeOnComplete: { age: 24 * 3600, count: 100_000 },
  removeOnFail: { age: 7 * 24 * 3600 },
};

/** Job counts of one queue. */
export interface QueueCounts {
  waiting: number;
  active: number;
  delayed: number;
  failed: number;
  completed: number;
}

/** The producer side of the loop's queues. `close()` is safe to call twice; the connection stays the caller's. */
export interface LoopQueues {
  /** Adds the job unless one with its id exists (BullMQ ignores a duplicate id). */
  add(next: NextJob): Promise<void>;
  counts(names: readonly string[]): Promise<Record<string, QueueCounts>>;
  /** Adds a job to `stage` every `everyMs` (a BullMQ job scheduler: idempotent across replicas). */
  schedule(
    stage: string,
    id: string,
    everyMs: number,
    payload: { v: number; [field: string]: unknown },
  ): Promise<void>;
  close(): Promise<void>;
}

/** Opens queues on demand on `connection` (a producer or worker connection) under `prefix`. */
export function createLoopQueues(options: {
  connection: Redis;
  prefix: string;
  jobOptions?: JobsOptions;
  logger: Logger;
}): LoopQueues {
  const queues = new Map<string, Queue>();
  const logger = options.logger.child({ component: 'loop-queues' });
  const queue = (name: string): Queue => {
    let found = queues.get(name);
    if (!found) {
      found = new Queue(name, {
        connection: options.connection,
        prefix: options.prefix,
        defaultJobOptions: { ...DEFAULT_LOOP_JOB_OPTIONS, ...options.jobOptions },
      });
      found.on('error', (error: Error) => logger.warn({ queue: name, err: error.message }, 'queue error'));
      queues.set(name, found);
    }
    return found;
  };
  return {
    async add(next) {
      await queue(next.stage).add(next.stage, next.payload, {
        jobId: next.jobId,
        ...(next.delayMs ? { delay: next.delayMs } : {}),
      });
    },
    async schedule(stage, id, everyMs, payload) {
      await queue(stage).upsertJobScheduler(
        id,
        { every: everyMs },
        { name: id, data: payload, opts: { removeOnComplete: 10, removeOnFail: 50 } },
      );
    },
    async counts(names) {
      const entries = await Promise.all(
        names.map(async (name) => {
          const counts = await queue(name).getJobCounts(
            'waiting',
            'active',
            'delayed',
            'failed',
            'completed',
          );
          return [
            name,
            {
              waiting: counts.waiting ?? 0,
              active: counts.active ?? 0,
              delayed: counts.delayed ?? 0,
              failed: counts.failed ?? 0,
              completed: counts.completed ?? 0,
            },
          ] as const;
        }),
      );
      return Object.fromEntries(entries);
    },
    async close() {
      const open = [...queues.values()];
      queues.clear();
      await Promise.all(open.map((one) => one.close().catch(() => undefined)));
    },
  };
}

/**
 * Told about every attempt of a loop stage, with the handler's time and, on a first attempt, the
 * time the job waited in its queue: for metrics. Must not throw.
 */
export type StageObserver = (
  stage: string,
  outcome: 'completed' | 'failed',
  ms: number,
  waitedMs: number | undefined,
) => void;

/**
 * Adapts a `LoopStage` to a `StageDefinition` for `startStageWorker`: runs the handler with
 * `deps` and the job's abort signal, then adds what it returned to the next queues before the
 * job completes. A crash after the add and before completion redelivers the job; the add is then
 * a no-op because the next job's id is the same.
 */
export function loopStageDefinition<Schema extends z.ZodType, Deps>(
  stage: LoopStage<Schema, Deps>,
  deps: Deps,
  queues: LoopQueues,
  observe?: StageObserver,
): StageDefinition<Schema> {
  return {
    name: stage.name,
    payload: stage.payload,
    handle: async (payload, context) => {
      const started = performance.now();
      try {
        const next = await stage.handle(payload, deps, context.signal);
        const list: readonly NextJob[] =
          next === undefined ? [] : Array.isArray(next) ? next : [next as NextJob];
        for (const job of list) await queues.add(job);
        observe?.(stage.name, 'completed', performance.now() - started, context.waitedMs);
        return list.map((job) => job.jobId);
      } catch (error) {
        observe?.(stage.name, 'failed', performance.now() - started, context.waitedMs);
        throw error;
      }
    },
  };
}
