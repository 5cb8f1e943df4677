/**
 * Loop benchmark: `npx tsx bench/loop.ts [--rate 200] [--seconds 10] [--concurrency 8]
 * [--redis-url redis://127.0.0.1:6379] [--json]`.
 *
 * Drives `rate` signals per second for `seconds` through the whole loop (ingest → detect →
 * investigate → respond → execute → verify → learn, seven BullMQ jobs per signal) on an
 * embedded graph, each signal opening its own incident. The dependencies are trivial: the
 * graph writer is the placeholder writer, investigate only records when it was first called
 * (that time stands in for the first diagnostic tool call), the policy says autonomous, and
 * execute, verify and learn succeed at once. So the figures measure the loop's own cost:
 * queues, the graph, locks and the step ledger.
 *
 * The raw baseline, in the same run on the same Redis: plain BullMQ `add` + a worker that does
 * nothing, as many jobs as the loop ran, same concurrency. With `--json`, stdout is exactly one
 * JSON object; details go to stderr.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { Queue, Worker } from 'bullmq';
import { Registry } from 'prom-client';
import { Redis } from 'ioredis';
import { EmbeddedGraphStore } from '../src/graph/embedded/embedded-store.js';
import { k8sId } from '../src/graph/ids.js';
import { createQueueSink } from '../src/ingest/queue-sink.js';
import { signalId, type Signal } from '../src/ingest/signal.js';
import { createPipeline } from '../src/loop/pipeline.js';
import type { LoopDeps } from '../src/loop/pipeline-types.js';
import { placeholderSignalWriter } from '../src/loop/signal-writer.js';
import { startStageWorker } from '../src/loop/stage.js';
import { systemClock } from '../src/shared/clock.js';
import { silentLogger } from '../src/shared/logger.js';

interface Options {
  rate: number;
  seconds: number;
  concurrency: number;
  redisUrl: string;
  json: boolean;
}

function options(): Options {
  const { values } = parseArgs({
    options: {
      rate: { type: 'string', default: '200' },
      seconds: { type: 'string', default: '10' },
      concurrency: { type: 'string', default: '8' },
      'redis-url': { type: 'string', default: 'redis://127.0.0.1:6379' },
      json: { type: 'boolean', default: false },
    },
  });
  const number = (name: string, text: string): number => {
    const value = Number(text);
    if (!Number.isInteger(value) || value < 1) throw new Error(`--${name} must be a positive whole number`);
    return value;
  };
  return {
    rate: number('rate', values.rate),
    seconds: number('seconds', values.seconds),
    concurrency: number('concurrency', values.concurrency),
    redisUrl: values['redis-url'],
    json: values.json,
  };
}

function log(message: string): void {
  process.stderr.write(`${message}\n`);
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const index = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[Math.max(0, index)] ?? Number.NaN;
}

function signal(index: number, now: number, run: string): Signal {
  const fingerprint = `bench-${run}-${index}`;
  const pod = `bench-${index}`;
  return {
    v: 1,
    id: signalId('alertmanager', fingerprint, 'firing', now),
    source: 'alertmanager',
    kind: 'alert',
    fingerprint,
    status: 'firing',
    severity: 'warning',
    entities: [
      { kind: 'Pod', id: k8sId('bench', 'shop', 'Pod', pod), name: pod, namespace: 'shop', cluster: 'bench' },
    ],
    observedAt: now,
    receivedAt: now,
    summary: `${pod} is down`,
    attributes: { labels: { alertname: 'PodDown' } },
    raw: { source: 'bench', digest: `sha256:${createHash('sha256').update(fingerprint).digest('hex')}` },
  };
}

async function raw(redisUrl: string, prefix: string, jobs: number, concurrency: number): Promise<number> {
  const connection = new Redis(redisUrl, { maxRetriesPerRequest: null });
  const queue = new Queue('raw', { connection, prefix });
  let done = 0;
  let finished: () => void = () => undefined;
  const all = new Promise<void>((resolve) => {
    finished = resolve;
  });
  const worker = new Worker(
    'raw',
    async () => {
      done += 1;
      if (done === jobs) finished();
      return Promise.resolve();
    },
    { connection: new Redis(redisUrl, { maxRetriesPerRequest: null }), prefix, concurrency },
  );
  await worker.waitUntilReady();
  const started = performance.now();
  const adds: Array<Promise<unknown>> = [];
  for (let index = 0; index < jobs; index++) {
    adds.push(queue.add('raw', { v: 1, index }, { jobId: `raw-${index}`, removeOnComplete: true }));
    if (adds.length >= 200) await Promise.all(adds.splice(0));
  }
  await Promise.all(adds);
  await all;
  const seconds = (performance.now() - started) / 1000;
  await worker.close();
  await queue.obliterate({ force: true });
  await queue.close();
  connection.disconnect();
  return jobs / seconds;
}

async function main(): Promise<void> {
  const settings = options();
  const run = Date.now().toString(36);
  const prefix = `nsbench:loop:${run}`;
  const dataDir = mkdtempSync(join(tmpdir(), 'nightshift-bench-loop-'));
  const logger = silentLogger();
  const graph = await EmbeddedGraphStore.open({ dataDir, fsync: 'never', logger, clock: systemClock });
  const connection = new Redis(settings.redisUrl, { maxRetriesPerRequest: null });
  const workerConnection = new Redis(settings.redisUrl, { maxRetriesPerRequest: null });
  const total = settings.rate * settings.seconds;
  const firstCall = new Map<string, number>();
  let learned = 0;
  let lastLearnAt = 0;
  let allLearned: () => void = () => undefined;
  const finished = new Promise<void>((resolve) => {
    allLearned = resolve;
  });
  const deps: LoopDeps = {
    persistSignal: placeholderSignalWriter(graph),
    investigate: (input) => {
      const at = Date.now();
      if (!firstCall.has(input.incidentId)) firstCall.set(input.incidentId, at);
      return Promise.resolve({
        proposals: [
          {
            action: 'rollout-restart',
            target: { kind: 'Deployment', name: 'bench' },
            params: {},
            rationale: 'bench',
          },
        ],
        report: { markdown: '', json: null },
        firstToolCallAt: at,
      });
    },
    respond: () => Promise.resolve({ mode: 'autonomous', reason: 'bench' }),
    execute: () => Promise.resolve({ outcome: 'done', detail: null }),
    verify: () => Promise.resolve({ ok: true, detail: null }),
    escalate: () => Promise.resolve(),
    learn: () => {
      learned += 1;
      lastLearnAt = performance.now();
      if (learned === total) allLearned();
      return Promise.resolve();
    },
  };
  const registry = new Registry();
  const pipeline = createPipeline({
    connection,
    prefix,
    graph,
    logger,
    clock: systemClock,
    deps,
    settings: { verifyDelayMs: 0, digestEveryMs: 0 },
    registry,
  });
  const workers = pipeline.stages.map((stage) =>
    startStageWorker(stage, {
      connection: workerConnection,
      prefix,
      concurrency: settings.concurrency,
      logger,
    }),
  );
  await Promise.all(workers.map((one) => one.worker.waitUntilReady()));
  const sink = createQueueSink({ connection, prefix, logger });

  log(`driving ${settings.rate} signals/s for ${settings.seconds} s (${total} signals, 7 jobs each)`);
  const receivedAt = new Map<string, number>();
  const tickMs = 50;
  const perTick = Math.max(1, Math.round((settings.rate * tickMs) / 1000));
  const started = performance.now();
  let sent = 0;
  while (sent < total) {
    const due = Math.min(total, Math.floor(((performance.now() - started) / 1000) * settings.rate) + perTick);
    const batch: Signal[] = [];
    for (; sent < due; sent++) {
      const now = Date.now();
      const one = signal(sent, now, run);
      receivedAt.set(one.id, now);
      batch.push(one);
    }
    if (batch.length > 0) await sink.accept(batch, { channel: 'bench' });
    await new Promise((resolve) => setTimeout(resolve, tickMs));
  }
  const submittedAfter = (performance.now() - started) / 1000;
  const timeout = setTimeout(() => allLearned(), 120_000);
  await finished;
  clearTimeout(timeout);
  const elapsed = (lastLearnAt - started) / 1000;
  const signalsPerSec = learned / elapsed;

  const incidents = await pipeline.incidents.list({ limit: total + 10 });
  const latencies = incidents
    .map((incident) => {
      const at = firstCall.get(incident.id);
      const first = incident.signalIds[0];
      const received = first ? receivedAt.get(first) : undefined;
      return at !== undefined && received !== undefined ? at - received : undefined;
    })
    .filter((value): value is number => value !== undefined)
    .sort((a, b) => a - b);
  log(
    `loop: ${learned}/${total} incidents learned in ${elapsed.toFixed(2)} s (submitting took ${submittedAfter.toFixed(2)} s)`,
  );

  const durations = await registry.getSingleMetric('nightshift_loop_job_duration_seconds')?.get();
  const sums = new Map<string, { sum: number; count: number }>();
  for (const value of durations?.values ?? []) {
    const stage = String(value.labels.stage);
    const entry = sums.get(stage) ?? { sum: 0, count: 0 };
    if ((value as { metricName?: string }).metricName?.endsWith('_sum')) entry.sum += value.value;
    if ((value as { metricName?: string }).metricName?.endsWith('_count')) entry.count += value.value;
    sums.set(stage, entry);
  }
  for (const [stage, { sum, count }] of sums)
    log(`  ${stage}: ${count} jobs, mean ${((sum / Math.max(count, 1)) * 1000).toFixed(1)} ms`);
  await Promise.all(workers.map((one) => one.close(5_000)));
  await pipeline.stop();
  await sink.close();
  await graph.close();

  log(`raw: plain BullMQ add + no-op worker, ${total * 7} jobs, concurrency ${settings.concurrency}`);
  const rawJobsPerSec = await raw(settings.redisUrl, prefix, total * 7, settings.concurrency);
  const keys = await connection.keys(`${prefix}:*`);
  for (let index = 0; index < keys.length; index += 500)
    await connection.del(...keys.slice(index, index + 500));
  connection.disconnect();
  workerConnection.disconnect();
  rmSync(dataDir, { recursive: true, force: true });

  const result = {
    signalsPerSec: Number(signalsPerSec.toFixed(1)),
    rawBullmqJobsPerSec: Number(rawJobsPerSec.toFixed(1)),
    ratioToRaw: Number((signalsPerSec / rawJobsPerSec).toFixed(4)),
    interventionLatencyP50Ms: percentile(latencies, 50),
    interventionLatencyP99Ms: percentile(latencies, 99),
    offeredSignalsPerSec: settings.rate,
    signals: total,
    incidentsCompleted: learned,
    jobsPerSignal: 7,
    loopJobsPerSec: Number(((learned * 7) / elapsed).toFixed(1)),
    ratioOfJobsToRaw: Number(((learned * 7) / elapsed / rawJobsPerSec).toFixed(4)),
    concurrencyPerStage: settings.concurrency,
    note: 'investigate is a trivial dependency that records the time of its first call; intervention latency is that time minus the signal receipt time',
  };
  if (settings.json) process.stdout.write(`${JSON.stringify(result)}\n`);
  else log(JSON.stringify(result, null, 2));
}

await main();
