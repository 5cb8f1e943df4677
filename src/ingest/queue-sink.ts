import { Queue, type JobsOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import { describeError } from '../shared/errors.js';
import { luaScript } from '../shared/lua-script.js';
import { silentLogger, type Logger } from '../shared/logger.js';
import type { Signal } from './signal.js';
import {
  batchKey,
  dedupeKey,
  INGEST_BATCH_MAX,
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
 * Sets each key (KEYS) to 1 for its own lifetime in ms (ARGV, in the same order): the marks that
 * recognise repeats. One round trip, whatever the batch size.
 */
const MARK = luaScript(
  `for i, key in ipairs(KEYS) do redis.call('SET', key, '1', 'PX', ARGV[i]) end return #KEYS`,
);

/** How long a queued signal id is remembered at least, whatever the deduplication window. */
const SEEN_MIN_MS = 10 * 60_000;

/**
 * A sink that queues each batch on the BullMQ queue `ingest` as `{v: 2, signals}` jobs of at most
 * `INGEST_BATCH_MAX` signals, in one atomic `addBulk` (MULTI/EXEC): all of a batch is queued or
 * none is. Job id: `batchKey` of its signals (the signal id for a single one), so a redelivered
 * batch adds nothing. Repeats are dropped before queueing and counted as `deduplicated`: a signal
 * id queued within the last `max(dedupeWindowMs, 10 min)`, and the same fingerprint and status
 * (`dedupeKey`) within `dedupeWindowMs`, remembered in `<prefix>:ingest:seen:*` and
 * `<prefix>:ingest:dd:*`. Before that check, an alert clears the deduplication key of its opposite
 * status, so firing → resolved → firing within the window queues all three. The marks are set
 * only once the jobs are queued, so a failure can let a repeat through (the loop is idempotent
 * per signal), never drop a signal; two simultaneous deliveries of one signal may both queue it.
 *
 * The BullMQ queue is opened on first use once the connection is up (BullMQ gives up for good on
 * a queue whose first connection attempt failed), so a sink built while Redis is down starts
 * working when Redis comes back; until then `accept` rejects.
 */
export function createQueueSink(options: QueueSinkOptions): QueueSink {
  const logger = (options.logger ?? silentLogger()).child({ component: 'ingest-sink' });
  const ttl = Math.max(1, options.dedupeWindowMs ?? 10 * 60_000);
  const seenMs = Math.max(ttl, SEEN_MIN_MS);
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

  const seenKey = (signal: Signal): string => `${options.prefix}:ingest:seen:${signal.id}`;
  const repeatKey = (key: string): string => `${options.prefix}:ingest:dd:${key}`;

  async function enqueue(signals: readonly Signal[]): Promise<AcceptReport> {
    const target = await ready();
    const opposite = new Set<string>();
    for (const signal of signals) {
      if (signal.kind !== 'alert' || !signal.status) continue;
      opposite.add(
        repeatKey(dedupeKey({ ...signal, status: signal.status === 'firing' ? 'resolved' : 'firing' })),
      );
    }
    if (opposite.size > 0) await connection.del(...opposite);
    const keys = signals.flatMap((signal) => [seenKey(signal), repeatKey(dedupeKey(signal))]);
    const marks = await connection.mget(...keys);
    const fresh: Signal[] = [];
    /** The marks of the fresh signals, set once they are queued. */
    const taken = new Set<string>();
    signals.forEach((signal, index) => {
      const [seen, repeat] = [keys[2 * index] ?? '', keys[2 * index + 1] ?? ''];
      if (marks[2 * index] !== null || marks[2 * index + 1] !== null) return;
      if (taken.has(seen) || taken.has(repeat)) return;
      taken.add(seen).add(repeat);
      fresh.push(signal);
    });
    if (fresh.length > 0) {
      const jobs: Array<{ name: string; data: IngestJob; opts: { jobId: string } }> = [];
      for (let index = 0; index < fresh.length; index += INGEST_BATCH_MAX) {
        const chunk = fresh.slice(index, index + INGEST_BATCH_MAX);
        const [first] = chunk;
        const name = chunk.length === 1 && first ? `${first.source}.${first.kind}` : 'batch';
        jobs.push({ name, data: { v: 2, signals: chunk }, opts: { jobId: batchKey(chunk) } });
      }
      await target.addBulk(jobs);
      // In the order they were added: a seen mark, then a repeat mark, per fresh signal.
      const lifetimes = fresh.flatMap(() => [String(seenMs), String(ttl)]);
      await MARK.run(connection, [...taken], lifetimes);
    }
    return { accepted: fresh.length, deduplicated: signals.length - fresh.length };
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
