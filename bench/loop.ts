/**
 * Loop benchmark: `npx tsx bench/loop.ts [--rate 200] [--seconds 10] [--concurrency 8]
 * [--per-incident 10] [--warmup 2000] [--redis-url redis://127.0.0.1:6379] [--case storm|worst|both]
 * [--backend embedded|neo4j] [--neo4j-uri bolt://…] [--investigator rules|trivial] [--json]`.
 *
 * Two cases, each on a fresh embedded graph and key prefix:
 * - storm (the headline): alert groups of `per-incident` alerts on one pod arriving together,
 *   as Alertmanager sends them. The first alert of a group opens an incident that runs the
 *   whole loop (ingest → detect → investigate → respond → execute → verify → learn); the
 *   others correlate into it and are only ingested and detected.
 * - worst case: every signal opens its own incident and passes all seven stages.
 *
 * The graph is embedded (in memory, journal without fsync) unless `--backend neo4j`: then a Neo4j
 * at `--neo4j-uri`, or one started by scripts/neo4j-local.mjs, a fresh namespace per case.
 *
 * Each case has two measured phases, after a warm-up. Latency: `rate` signals a second for
 * `seconds`; intervention latency is signal receipt → the first call of investigate. Capacity:
 * the same number of signals submitted at once; signalsPerSec is how fast the loop got through
 * them, so it can be compared with raw BullMQ, which is also measured flat out. The warm-up
 * (`--warmup` signals, submitted at once and not measured; 0 skips it) and a warm-up of raw
 * BullMQ before its run measure a daemon that has been running: without them, the first
 * seconds of a process (code not yet compiled by the JIT, heap still growing) are most of a
 * short run.
 *
 * Signals are written to the graph by the daemon's own writer (`writeSignal`). In the warm-up and
 * latency phases, investigate is the daemon's investigation with the rules planner
 * (bench/rules-investigator.ts: graph, Kubernetes and Prometheus tools against `nightshift sim
 * --estate shop` in a process of its own), and intervention latency is signal receipt → its
 * first tool call, as the target says. With `--investigator trivial`, and always in the
 * capacity phase, investigate is trivial: it records when it was called and proposes a restart.
 * The other dependencies are trivial in every phase: the policy says autonomous, execute, verify
 * and learn succeed at once. So signalsPerSec and the ratios measure the loop's own cost (queues,
 * the graph, locks and the step ledger), not what an investigation reads, which depends on the
 * estate and its tools. The raw baseline, in the same run on
 * the same Redis: plain BullMQ `add` + a worker that does nothing, seven jobs per signal, same
 * concurrency. A second baseline per case (`rawChainedSignalsPerSec`, bench/raw-chain.ts) chains
 * plain BullMQ through the seven queues in the case's job pattern with handlers that only add the
 * next job. With `--json`, stdout is exactly one JSON object; details go to stderr.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { Queue, Worker } from 'bullmq';
import { Registry } from 'prom-client';
import { Redis } from 'ioredis';
import type { Neo4jServer } from '../scripts/neo4j-local.mjs';
import { EmbeddedGraphStore } from '../src/graph/embedded/embedded-store.js';
import { Neo4jGraphStore } from '../src/graph/neo4j/neo4j-store.js';
import type { GraphStore } from '../src/graph/store.js';
import { createQueueSink } from '../src/ingest/queue-sink.js';
import { createPipeline } from '../src/loop/pipeline.js';
import { startStageWorker } from '../src/loop/stage.js';
import { systemClock } from '../src/shared/clock.js';
import { silentLogger } from '../src/shared/logger.js';
import { openBenchNeo4j } from './neo4j-kit.js';
import { rawChained } from './raw-chain.js';
import { rulesInvestigator, startBenchSim, type BenchSim } from './rules-investigator.js';
import {
  benchDeps,
  benchSignals,
  deleteKeys,
  positiveWholeNumber,
  runBench,
  UsageError,
  wholeNumber,
} from './loop-kit.js';

/** Neo4j servers started for the run, stopped at its end. */
const servers: Neo4jServer[] = [];

interface Options {
  rate: number;
  seconds: number;
  concurrency: number;
  perIncident: number;
  /** Signals run through each case before it is measured (and raw jobs: seven times as many). */
  warmup: number;
  redisUrl: string;
  json: boolean;
  /** Which cases run; a figure of a case not run is absent. */
  cases: ReadonlySet<'storm' | 'worst'>;
  backend: 'embedded' | 'neo4j';
  neo4jUri: string | undefined;
  /** Who investigates in the warm-up and latency phases (the capacity phase: always the trivial one). */
  investigator: 'rules' | 'trivial';
}

function options(): Options {
  const { values } = parseArgs({
    options: {
      rate: { type: 'string', default: '200' },
      seconds: { type: 'string', default: '10' },
      concurrency: { type: 'string', default: '8' },
      'per-incident': { type: 'string', default: '10' },
      warmup: { type: 'string', default: '2000' },
      'redis-url': { type: 'string', default: 'redis://127.0.0.1:6379' },
      json: { type: 'boolean', default: false },
      case: { type: 'string', default: 'both' },
      backend: { type: 'string', default: 'embedded' },
      'neo4j-uri': { type: 'string' },
      investigator: { type: 'string', default: 'rules' },
    },
  });
  const backend = values.backend;
  if (backend !== 'embedded' && backend !== 'neo4j')
    throw new UsageError('--backend must be embedded or neo4j');
  const cases = { both: ['storm', 'worst'], storm: ['storm'], worst: ['worst'] } as const;
  if (!(values.case in cases)) throw new UsageError('--case must be storm, worst or both');
  const investigator = values.investigator;
  if (investigator !== 'rules' && investigator !== 'trivial')
    throw new UsageError('--investigator must be rules or trivial');
  return {
    rate: positiveWholeNumber('rate', values.rate),
    seconds: positiveWholeNumber('seconds', values.seconds),
    concurrency: positiveWholeNumber('concurrency', values.concurrency),
    perIncident: positiveWholeNumber('per-incident', values['per-incident']),
    warmup: wholeNumber('warmup', values.warmup),
    redisUrl: values['redis-url'],
    json: values.json,
    cases: new Set(cases[values.case as keyof typeof cases]),
    backend,
    neo4jUri: values['neo4j-uri'],
    investigator,
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

async function raw(redisUrl: string, prefix: string, jobs: number, concurrency: number): Promise<number> {
  const connection = new Redis(redisUrl, { maxRetriesPerRequest: null });
  const queue = new Queue('raw', { connection, prefix });
  let done = 0;
  let finished: () => void = () => undefined;
  const all = new Promise<void>((resolve) => {
    finished = resolve;
  });
  const workerConnection = new Redis(redisUrl, { maxRetriesPerRequest: null });
  const worker = new Worker(
    'raw',
    async () => {
      done += 1;
      if (done === jobs) finished();
      return Promise.resolve();
    },
    { connection: workerConnection, prefix, concurrency },
  );
  await worker.waitUntilReady();
  const started = performance.now();
  const adds: Array<Promise<unknown>> = [];
  for (let index = 0; index < jobs; index++) {
    adds.push(queue.add('raw', { v: 1, index }, { jobId: `raw-${index}`, removeOnComplete: true }));
    if (adds.length >= 200) await Promise.all(adds.splice(0));
  }
  await Promise.all(adds);
  const timer = setTimeout(() => finished(), 300_000);
  await all;
  clearTimeout(timer);
  if (done < jobs) throw new Error(`raw: only ${done} of ${jobs} jobs ran within 5 minutes`);
  const seconds = (performance.now() - started) / 1000;
  await worker.close();
  await queue.obliterate({ force: true });
  await queue.close();
  connection.disconnect();
  workerConnection.disconnect();
  return jobs / seconds;
}

interface Phase {
  signals: number;
  incidents: number;
  seconds: number;
  signalsPerSec: number;
  /** Signal receipt → first call of investigate, per incident, sorted. */
  latencies: number[];
  cpuMsPerSignal: number;
  /** Loop jobs completed in the phase, every stage together. */
  jobs: number;
  timedOut: boolean;
}

interface CaseResult {
  latency: Phase;
  capacity: Phase;
  stageMeansMs: Record<string, number>;
}

/** Loop jobs completed so far, every stage together. */
async function jobsDone(registry: Registry): Promise<number> {
  const metric = await registry.getSingleMetric('nightshift_loop_job_duration_seconds')?.get();
  return (metric?.values ?? [])
    .filter(
      (value) =>
        (value as { metricName?: string }).metricName?.endsWith('_count') &&
        value.labels.outcome === 'completed',
    )
    .reduce((sum, value) => sum + value.value, 0);
}

async function counter(registry: Registry, name: string, outcome: string): Promise<number> {
  const metric = await registry.getSingleMetric(name)?.get();
  return (metric?.values ?? [])
    .filter((value) => value.labels.outcome === outcome)
    .reduce((sum, value) => sum + value.value, 0);
}

/** One case: a fresh graph and prefix, a latency phase at `rate`, then a capacity phase flat out. */
async function runCase(
  settings: Options,
  perIncident: number,
  tag: string,
  sim: BenchSim | undefined,
): Promise<CaseResult> {
  const run = `${Date.now().toString(36)}${tag}`;
  const prefix = `nsbench:loop:${run}`;
  const dataDir = mkdtempSync(join(tmpdir(), 'nightshift-bench-loop-'));
  const logger = silentLogger();
  let graph: GraphStore;
  let server: Neo4jServer | undefined;
  if (settings.backend === 'neo4j') {
    ({ store: graph, server } = await openBenchNeo4j({
      uri: settings.neo4jUri,
      namespace: `bench-loop-${run}`,
      clock: systemClock,
    }));
    // A server started here serves the later cases too.
    if (server) settings.neo4jUri = server.uri;
  } else {
    graph = await EmbeddedGraphStore.open({ dataDir, fsync: 'never', logger, clock: systemClock });
  }
  const connection = new Redis(settings.redisUrl, { maxRetriesPerRequest: null });
  const workerConnection = new Redis(settings.redisUrl, { maxRetriesPerRequest: null });
  let learned = 0;
  let latencies: number[] = [];
  const investigated = new Set<string>();
  /** The investigation of the phase running; undefined: the trivial one. */
  let investigator = sim ? rulesInvestigator(graph, sim, logger) : undefined;
  const deps = benchDeps(graph, {
    investigator: () => investigator,
    onInvestigate: (input, at) => {
      if (investigated.has(input.incidentId)) return;
      investigated.add(input.incidentId);
      const received = Math.min(...input.signals.map((one) => one.receivedAt));
      if (Number.isFinite(received)) latencies.push(at - received);
    },
    onLearn: () => {
      learned += 1;
    },
  });
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
  /** Signals detect has placed in an incident so far. */
  const detected = async (): Promise<number> =>
    (await counter(registry, 'nightshift_loop_signals_total', 'opened')) +
    (await counter(registry, 'nightshift_loop_signals_total', 'joined'));

  /** Runs `total` signals through the loop: at `rate` a second when paced, else all at once. */
  const phase = async (name: string, paced: boolean, total: number): Promise<Phase> => {
    const [detected0, learned0] = [await detected(), learned];
    const opened0 = await counter(registry, 'nightshift_loop_signals_total', 'opened');
    const jobs0 = await jobsDone(registry);
    latencies = [];
    const cpu = process.cpuUsage();
    const started = performance.now();
    const tickMs = 50;
    const perTick = paced ? Math.max(1, Math.round((settings.rate * tickMs) / 1000)) : 500;
    // Each alert group is its own delivery, as Alertmanager sends one request per group.
    const deliver = async (from: number, to: number): Promise<void> => {
      const deliveries: Array<Promise<unknown>> = [];
      for (let start = from; start < to; start += perIncident) {
        const group = benchSignals(`${run}-${name}`, start, Math.min(to, start + perIncident), perIncident);
        deliveries.push(sink.accept(group, { channel: 'bench' }));
      }
      await Promise.all(deliveries);
    };
    let sent = 0;
    while (sent < total) {
      let due = paced
        ? Math.min(total, Math.floor(((performance.now() - started) / 1000) * settings.rate) + perTick)
        : Math.min(total, sent + perTick);
      // An alert group arrives whole.
      if (due < total) due -= due % perIncident;
      if (due > sent) await deliver(sent, due);
      sent = Math.max(sent, due);
      if (paced) await new Promise((resolve) => setTimeout(resolve, tickMs));
    }
    const deadline = performance.now() + 300_000;
    let opened = 0;
    let signals = 0;
    let timedOut = false;
    for (;;) {
      opened = (await counter(registry, 'nightshift_loop_signals_total', 'opened')) - opened0;
      signals = (await detected()) - detected0;
      if (signals >= total && learned - learned0 >= opened) break;
      if (performance.now() > deadline) {
        timedOut = true;
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    const seconds = (performance.now() - started) / 1000;
    const used = process.cpuUsage(cpu);
    log(
      `  ${name}: ${signals}/${total} signals, ${opened} incidents, ${learned - learned0} learned in ${seconds.toFixed(2)} s${timedOut ? ' (timed out)' : ''}`,
    );
    return {
      signals,
      incidents: opened,
      seconds,
      signalsPerSec: signals / seconds,
      latencies: [...latencies].sort((a, b) => a - b),
      cpuMsPerSignal: (used.user + used.system) / 1000 / Math.max(signals, 1),
      jobs: (await jobsDone(registry)) - jobs0,
      timedOut,
    };
  };

  const total = settings.rate * settings.seconds;
  if (settings.warmup > 0) await phase('warm-up', false, settings.warmup);
  const latency = await phase('latency', true, total);
  investigator = undefined;
  const capacity = await phase('capacity', false, total);

  const durations = await registry.getSingleMetric('nightshift_loop_job_duration_seconds')?.get();
  const sums = new Map<string, { sum: number; count: number }>();
  for (const value of durations?.values ?? []) {
    const stage = String(value.labels.stage);
    const entry = sums.get(stage) ?? { sum: 0, count: 0 };
    if ((value as { metricName?: string }).metricName?.endsWith('_sum')) entry.sum += value.value;
    if ((value as { metricName?: string }).metricName?.endsWith('_count')) entry.count += value.value;
    sums.set(stage, entry);
  }
  const stageMeansMs: Record<string, number> = {};
  for (const [stage, { sum, count }] of sums) {
    stageMeansMs[stage] = Number(((sum / Math.max(count, 1)) * 1000).toFixed(1));
    log(`    ${stage}: ${count} jobs, mean ${stageMeansMs[stage]} ms`);
  }
  await Promise.all(workers.map((one) => one.close(5_000)));
  await pipeline.stop();
  await sink.close();
  if (graph instanceof Neo4jGraphStore) await graph.clear();
  await graph.close();
  if (server) servers.push(server);
  await deleteKeys(connection, prefix);
  connection.disconnect();
  workerConnection.disconnect();
  rmSync(dataDir, { recursive: true, force: true });
  return { latency, capacity, stageMeansMs };
}

/** The figures of one case against raw BullMQ. */
function figures(
  result: CaseResult,
  rawJobsPerSec: number,
  rawChainedSignalsPerSec: number,
  rate: number,
): Record<string, unknown> {
  const { latency, capacity } = result;
  const jobsPerSignal = capacity.jobs / Math.max(capacity.signals, 1);
  return {
    signalsPerSec: Number(capacity.signalsPerSec.toFixed(1)),
    rawBullmqJobsPerSec: Number(rawJobsPerSec.toFixed(1)),
    ratioToRaw: Number((capacity.signalsPerSec / rawJobsPerSec).toFixed(4)),
    rawChainedSignalsPerSec: Number(rawChainedSignalsPerSec.toFixed(1)),
    ratioToRawChained: Number((capacity.signalsPerSec / rawChainedSignalsPerSec).toFixed(4)),
    interventionLatencyP50Ms: percentile(latency.latencies, 50),
    interventionLatencyP99Ms: percentile(latency.latencies, 99),
    offeredSignalsPerSec: rate,
    signalsPerSecAtOfferedRate: Number(latency.signalsPerSec.toFixed(1)),
    signals: capacity.signals,
    incidents: capacity.incidents,
    jobsPerSignal: Number(jobsPerSignal.toFixed(2)),
    loopJobsPerSec: Number((capacity.signalsPerSec * jobsPerSignal).toFixed(1)),
    ratioOfJobsToRaw: Number(((capacity.signalsPerSec * jobsPerSignal) / rawJobsPerSec).toFixed(4)),
    cpuMsPerSignal: Number(capacity.cpuMsPerSignal.toFixed(2)),
    capacityLatencyP50Ms: percentile(capacity.latencies, 50),
    stageMeansMs: result.stageMeansMs,
    ...(latency.timedOut || capacity.timedOut ? { timedOut: true } : {}),
  };
}

/** The chained raw baseline of a case, logged. */
async function chained(settings: Options, signals: number, perIncident: number): Promise<number> {
  const perSec = await rawChained({
    redisUrl: settings.redisUrl,
    prefix: `nsbench:loop:${Date.now().toString(36)}chain`,
    signals,
    perIncident,
    concurrency: settings.concurrency,
  });
  log(`  raw chain (plain BullMQ through the seven queues, no-op handlers): ${perSec.toFixed(0)} signals/s`);
  return perSec;
}

async function main(): Promise<void> {
  const settings = options();
  const total = settings.rate * settings.seconds;
  const prefix = `nsbench:loop:${Date.now().toString(36)}raw`;
  log(`raw: plain BullMQ add + no-op worker, ${total * 7} jobs, concurrency ${settings.concurrency}`);
  if (settings.warmup > 0)
    await raw(settings.redisUrl, `${prefix}w`, settings.warmup * 7, settings.concurrency);
  const cpu = process.cpuUsage();
  const rawJobsPerSec = await raw(settings.redisUrl, prefix, total * 7, settings.concurrency);
  const rawCpu = process.cpuUsage(cpu);
  log(
    `  ${rawJobsPerSec.toFixed(0)} jobs/s, ${((rawCpu.user + rawCpu.system) / 1000 / (total * 7)).toFixed(3)} ms CPU per job`,
  );
  let storm: CaseResult | undefined;
  let worst: CaseResult | undefined;
  let stormChained = 0;
  let worstChained = 0;
  // Started after raw BullMQ is measured, so its process does not share the machine with that.
  const sim = settings.investigator === 'rules' ? await startBenchSim() : undefined;
  try {
    if (settings.cases.has('storm')) {
      log(`storm: alert groups of ${settings.perIncident} signals on one pod, ${total} signals per phase`);
      storm = await runCase(settings, settings.perIncident, 's', sim);
      stormChained = await chained(settings, total, settings.perIncident);
    }
    if (settings.cases.has('worst')) {
      log(`worst case: every signal opens its own incident, ${total} signals per phase`);
      worst = await runCase(settings, 1, 'w', sim);
      worstChained = await chained(settings, total, 1);
    }
  } finally {
    await sim?.stop();
  }
  const result = {
    ...(storm
      ? {
          case: `storm: alert groups of ${settings.perIncident} signals on one pod, one incident per group; signalsPerSec and ratioToRaw flat out, latency at ${settings.rate} signals/s`,
          ...figures(storm, rawJobsPerSec, stormChained, settings.rate),
        }
      : {}),
    concurrencyPerStage: settings.concurrency,
    warmupSignals: settings.warmup,
    latencyInvestigator: settings.investigator,
    backend: settings.backend,
    ...(worst
      ? {
          worstCase: {
            case: 'every signal opens its own incident and passes all seven stages',
            ...figures(worst, rawJobsPerSec, worstChained, settings.rate),
          },
        }
      : {}),
    note:
      settings.investigator === 'rules'
        ? 'intervention latency: the receipt of an incident’s first signal → the first tool call of its investigation by the rules planner (tools against a simulated estate in another process), while signals arrive at offeredSignalsPerSec; signalsPerSec and the ratios: flat out with a trivial investigate, so they measure the loop’s own cost'
        : 'investigate is a trivial dependency that records the time of its first call; intervention latency is that time minus the receipt of the incident’s first signal, measured while signals arrive at offeredSignalsPerSec',
  };
  for (const server of servers) await server.stop();
  if (settings.json) process.stdout.write(`${JSON.stringify(result)}\n`);
  else log(JSON.stringify(result, null, 2));
}

await runBench(main);
