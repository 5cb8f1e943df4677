import { Queue, type JobsOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import { describeError } from '../shared/errors.js';
import { silentLogger, type Logger } from '../shared/logger.js';
import type { Signal } from './signal.js';
import {
  dedupeKey,
  INGEST_QUEUE,
  sinkUnavailable,
  type AcceptReport,
  type IngestJob,
  type SignalSink,
  type SinkContext,
} from './sink.js';

export interface QueueSinkOptions {
  /** A producer connection (`createRedisConnection(…, 'producer', …)`): it fails fast while Redis is away. */
  connection: Redis;
  /** BullMQ key prefix (`redis.prefix`). */
  prefix: string;
  /** Default `ingest`. */
  queueName?: string;
  /** Repeats of the same fingerprint and status within this window are queued once. Default 10 minutes. */
  dedupeWindowMs?: number;
  /** `accept` rejects when Redis has not confirmed the batch within this time. Default 3 s. */
  timeoutMs?: number;
  /** Options every job gets (attempts, backoff, retention); merged over the defaults. */
  jobOptions?: JobsOptions;
  logger?: Logger;
}

/** A `SignalSink` on a BullMQ queue; `close()` stops it (the connection stays the caller's). */
export interface QueueSink extends SignalSink {
  /** Safe to call twice. */
  close(): Promise<void>;
}

/** Attempts, backoff and retention of ingest jobs unless `jobOptions` says otherwise. */
export const DEFAULT_INGEST_JOB_OPTIONS: Readonly<JobsOptions> = {
  attempts: 10,
  backoff: { type: 'exponential', delay: 1_000 },
  removeOnComplete: { age: 24 * 3600, count: 50_000 },
  removeOnFail: { age: 7 * 24 * 3600 },
};

function withTimeout<T>(work: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took longer than ${timeoutMs} ms`)), timeoutMs);
  });
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}

/**
 * A sink that adds each batch to the BullMQ queue `ingest` in one atomic `addBulk` (MULTI/EXEC):
 * all of a batch is queued or none is. Job payload: `{v: 1, signal}`; job id: the signal id, so a
 * retried or redelivered batch never queues a signal twice; BullMQ deduplication
 * (`deduplication: {id, ttl}`) on `dedupeKey(signal)` drops repeats within `dedupeWindowMs`. Both
 * count as `deduplicated` (whether a job id is already present is read just before the add, so
 * two simultaneous deliveries of one signal may both count it as accepted; there is still one
 * job). Before an alert is queued, the deduplication key of its opposite status is cleared, so
 * firing → resolved → firing within the window queues all three; this runs first, so a failure
 * can only let a repeat through, never drop a transition.
 *
 * The BullMQ queue is opened on first use once the connection is up (BullMQ gives up for good on
 * a queue whose first connection attempt failed), so a sink built while Redis is down starts
 * working when Redis comes back; until then `accept` rejects.
 */
export function createQueueSink(options: QueueSinkOptions): QueueSink {
  const logger = (options.logger ?? silentLogger()).child({ component: 'ingest-sink' });
  const ttl = options.dedupeWindowMs ?? 10 * 60_000;
  const timeoutMs = options.timeoutMs ?? 3_000;
  const { connection } = options;
  let queue: Queue<IngestJob> | undefined;
  let opening: Promise<Queue<IngestJob>> | undefined;
  let closed = false;
  let lastError = '';

  /** Resolves once the connection is ready; fails fast while it is reconnecting or closed. */
  async function connected(): Promise<void> {
    const status = connection.status;
    if (status === 'ready') return;
    if (status === 'wait') {
      await connection.connect();
      return;
    }
    if (status !== 'connecting' && status !== 'connect')
      throw new Error(`Redis is not connected (${status})`);
    await new Promise<void>((resolve, reject) => {
      const settle = (error?: Error): void => {
        connection.off('ready', onReady);
        connection.off('error', onError);
        connection.off('close', onClose);
        if (error) reject(error);
        else resolve();
      };
      const onReady = (): void => settle();
      const onError = (error: Error): void => settle(error);
      const onClose = (): void => settle(new Error('the Redis connection closed'));
      connection.once('ready', onReady);
      connection.once('error', onError);
      connection.once('close', onClose);
    });
  }

  async function open(): Promise<Queue<IngestJob>> {
    await connected();
    const created = new Queue<IngestJob>(options.queueName ?? INGEST_QUEUE, {
      connection,
      prefix: options.prefix,
      defaultJobOptions: { ...DEFAULT_INGEST_JOB_OPTIONS, ...options.jobOptions },
    });
    created.on('error', (error: Error) => {
      if (error.message !== lastError) logger.warn({ err: error.message }, 'ingest queue error');
      lastError = error.message;
    });
    try {
      await created.waitUntilReady();
    } catch (error) {
      await created.close().catch(() => undefined);
      throw error;
    }
    return created;
  }

  function ready(): Promise<Queue<IngestJob>> {
    if (closed) return Promise.reject(new Error('the sink is closed'));
    if (queue) return Promise.resolve(queue);
    opening ??= open().then(
      (created) => {
        queue = created;
        return created;
      },
      (error: unknown) => {
        opening = undefined;
        throw error;
      },
    );
    return opening;
  }

  /** Which of these job ids already have a job; one round trip. */
  async function jobsPresent(target: Queue<IngestJob>, ids: readonly string[]): Promise<boolean[]> {
    const replies = await connection.pipeline(ids.map((id) => ['exists', target.toKey(id)])).exec();
    return (replies ?? []).map(([error, reply]) => {
      if (error) throw error;
      return reply === 1;
    });
  }

  async function enqueue(signals: readonly Signal[]): Promise<AcceptReport> {
    const target = await ready();
    const transitions = new Set<string>();
    for (const signal of signals) {
      if (signal.kind !== 'alert' || !signal.status) continue;
      transitions.add(dedupeKey({ ...signal, status: signal.status === 'firing' ? 'resolved' : 'firing' }));
    }
    const [present] = await Promise.all([
      jobsPresent(
        target,
        signals.map((signal) => signal.id),
      ),
      ...[...transitions].map((key) => target.removeDeduplicationKey(key)),
    ]);
    const jobs = await target.addBulk(
      signals.map((signal) => ({
        name: `${signal.source}.${signal.kind}`,
        data: { v: 1 as const, signal },
        opts: { jobId: signal.id, deduplication: { id: dedupeKey(signal), ttl } },
      })),
    );
    let deduplicated = 0;
    jobs.forEach((job, index) => {
      if (job.id !== signals[index]?.id || present[index] === true) deduplicated += 1;
    });
    return { accepted: signals.length - deduplicated, deduplicated };
  }

  return {
    async accept(signals: readonly Signal[], context: SinkContext): Promise<AcceptReport> {
      if (signals.length === 0) return { accepted: 0, deduplicated: 0 };
      try {
        return await withTimeout(enqueue(signals), timeoutMs, 'queueing the signals');
      } catch (error) {
        logger.warn(
          {
            err: describeError(error),
            channel: context.channel,
            requestId: context.requestId,
            signals: signals.length,
          },
          'could not queue signals; the sender is told to retry',
        );
        throw sinkUnavailable(`the ingest queue is unavailable: ${describeError(error)}`, error);
      }
    },
    async close() {
      closed = true;
      const current = queue ?? (await opening?.catch(() => undefined));
      queue = undefined;
      await current?.close();
    },
  };
}
