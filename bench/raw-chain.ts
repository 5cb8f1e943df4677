/**
 * A second baseline for the loop bench: plain BullMQ chained through the loop's seven queues in
 * a case's job pattern, with handlers that do nothing but add the next job. Per alert group: one
 * ingest job carrying its signals, one detect job carrying them again, then one job per later
 * stage. What the loop costs beyond it is the loop's own work (graph, locks, ledger, checks).
 */
import { performance } from 'node:perf_hooks';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { LOOP_STAGES } from '../src/loop/payloads.js';
import { benchSignals } from './loop-kit.js';

/** Signals a second through the chain, all `signals` submitted at once in groups of `perIncident`. */
export async function rawChained(options: {
  redisUrl: string;
  prefix: string;
  signals: number;
  perIncident: number;
  concurrency: number;
}): Promise<number> {
  const { prefix } = options;
  const connection = new Redis(options.redisUrl, { maxRetriesPerRequest: null });
  const workerConnection = new Redis(options.redisUrl, { maxRetriesPerRequest: null });
  const queues = new Map(LOOP_STAGES.map((stage) => [stage, new Queue(stage, { connection, prefix })]));
  const queue = (stage: string): Queue => {
    const found = queues.get(stage as (typeof LOOP_STAGES)[number]);
    if (!found) throw new Error(`no queue ${stage}`);
    return found;
  };
  const groups = Math.ceil(options.signals / options.perIncident);
  let learned = 0;
  let finished: () => void = () => undefined;
  const all = new Promise<void>((resolve) => {
    finished = resolve;
  });
  const workers = LOOP_STAGES.map(
    (stage, index) =>
      new Worker(
        stage,
        async (job) => {
          const next = LOOP_STAGES[index + 1];
          if (!next) {
            learned += 1;
            if (learned === groups) finished();
            return;
          }
          const data =
            stage === 'ingest'
              ? {
                  v: 2,
                  items: (job.data as { signals: unknown[] }).signals.map((signal) => ({
                    signal,
                    entityIds: [],
                  })),
                }
              : { v: 1, incidentKey: job.id, round: 1 };
          await queue(next).add(next, data, { jobId: `${job.id}-${next}`, removeOnComplete: true });
        },
        { connection: workerConnection, prefix, concurrency: options.concurrency },
      ),
  );
  await Promise.all(workers.map((worker) => worker.waitUntilReady()));
  const started = performance.now();
  const adds: Array<Promise<unknown>> = [];
  for (let group = 0; group < groups; group++) {
    const from = group * options.perIncident;
    const signals = benchSignals(
      'chain',
      from,
      Math.min(options.signals, from + options.perIncident),
      options.perIncident,
    );
    adds.push(
      queue('ingest').add('ingest', { v: 2, signals }, { jobId: `g${group}`, removeOnComplete: true }),
    );
  }
  await Promise.all(adds);
  const timer = setTimeout(() => finished(), 300_000);
  await all;
  clearTimeout(timer);
  if (learned < groups)
    throw new Error(`raw chain: only ${learned} of ${groups} groups went through within 5 minutes`);
  const seconds = (performance.now() - started) / 1000;
  await Promise.all(workers.map((worker) => worker.close()));
  for (const queue of queues.values()) {
    await queue.obliterate({ force: true });
    await queue.close();
  }
  connection.disconnect();
  workerConnection.disconnect();
  return options.signals / seconds;
}
