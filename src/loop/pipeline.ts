import type { Redis } from 'ioredis';
import type { Registry } from 'prom-client';
import type { GraphStore } from '../graph/store.js';
import { createQueueSink } from '../ingest/queue-sink.js';
import type { Signal } from '../ingest/signal.js';
import type { Clock } from '../shared/clock.js';
import type { Logger } from '../shared/logger.js';
import { Correlator, type CorrelationOptions } from './correlation.js';
import { incidentStates } from './incident-lifecycle.js';
import { IncidentStore } from './incident-store.js';
import { createLoopMetrics, type LoopMetrics } from './loop-metrics.js';
import { localMutexOf, redisMutex, type Mutex } from './mutex.js';
import { NoiseFilter, type NoiseOptions, type SuppressionDigest } from './noise.js';
import { NoiseLearner } from './noise-learning.js';
import { DIGEST_QUEUE, LOOP_STAGES } from './payloads.js';
import type { Decision, LoopDeps } from './pipeline-types.js';
import type { SeverityOptions } from './severity.js';
import { createLoopQueues, loopStageDefinition, type LoopStage, type StageDefinition } from './stage.js';
import { executeJob, type LoopContext } from './stages/context.js';
import { detectStage } from './stages/detect.js';
import { digestStage } from './stages/digest.js';
import { executeStage } from './stages/execute.js';
import { ingestStage } from './stages/ingest.js';
import { investigateStage } from './stages/investigate.js';
import { learnStage } from './stages/learn.js';
import { respondStage } from './stages/respond.js';
import { verifyStage } from './stages/verify.js';
import { StepLedger } from './step-ledger.js';

/** Tunables of the loop; every field has a default (see docs/loop.md for the config keys). */
export interface LoopSettings {
  correlation?: CorrelationOptions;
  noise?: NoiseOptions;
  severity?: SeverityOptions;
  /** Wait after an action before verifying. Default 60 s. */
  verifyDelayMs?: number;
  /** How often the suppression digest is logged and the correlation index swept; 0 turns both off. Default 1 hour. */
  digestEveryMs?: number;
  /**
   * A firing warning (or info) alert that would open a new incident waits this long first; if it
   * has resolved by then, it opens nothing (a transient). 0 opens at once. Default 0.
   */
  transientHoldMs?: number;
  /** Attempts per loop job. Default 8. */
  attempts?: number;
  /** First retry delay; doubles per attempt. Default 1 s. */
  backoffMs?: number;
  /**
   * Lease of the loop's Redis locks (per-incident writes on Neo4j; the embedded graph's writers
   * lock within the process): how long a crashed holder blocks the others. The work under a lock
   * takes milliseconds. Default 10 s.
   */
  lockTtlMs?: number;
  /** How long completed steps are remembered per incident. Default 30 days. */
  ledgerRetentionMs?: number;
}

/** What `createPipeline` needs. */
export interface PipelineOptions {
  /** A Redis connection for the loop's queues. */
  connection: Redis;
  /**
   * A Redis connection for the loop's own keys: the step ledger, noise state, locks and the
   * correlation index. Keep BullMQ off it: ioredis copies every script defined on a connection
   * into each MULTI and pipeline made on it, and BullMQ defines dozens, which made those the
   * loop's costliest calls. Default: a duplicate of `connection`, closed by `stop()`.
   */
  state?: Redis;
  /** BullMQ key prefix (`redis.prefix`); the loop's own keys live under `<prefix>:loop:`. */
  prefix: string;
  graph: GraphStore;
  logger: Logger;
  clock: Clock;
  deps: LoopDeps;
  settings?: LoopSettings;
  /** The process metrics registry; the loop's metrics are registered on it when given. */
  registry?: Registry;
  /** Runs after each effectful step is recorded and before the job goes on: tracing, crash tests. */
  onStepRecorded?: (incidentKey: string, step: string) => Promise<void>;
}

/** The loop, ready for `startStageWorker` on each of `stages`. */
export interface Pipeline {
  /** One definition per queue: ingest … learn, and the noise digest. */
  readonly stages: ReadonlyArray<StageDefinition<never>>;
  /** Incidents in the graph; readers may share it. */
  readonly incidents: IncidentStore;
  /** Silences, maintenance windows, learned noise, the digest. */
  readonly noise: NoiseFilter;
  /** Queues a signal on the ingest queue (deduplicated like the webhook sink). */
  submitSignal(signal: Signal): Promise<void>;
  /**
   * A person approves proposal `proposalIndex` of an incident awaiting approval: moves it to
   * `acting` and queues the execution. Refused unless the policy asked for approval of that very
   * proposal this round. Safe to call twice (the second is refused: the incident is acting).
   */
  approve(
    incidentKey: string,
    proposalIndex: number,
    approver: string,
  ): Promise<{ ok: true } | { error: string }>;
  /** What was suppressed since the last digest, without starting a new period. */
  digest(): Promise<SuppressionDigest>;
  /**
   * Queues again the execution of every approval a stop cut short (the incident moved to `acting`
   * by a person's approval, and the process ended before the execute job was queued: the job id
   * makes this a no-op when it was), then schedules the suppression digest. Idempotent across
   * replicas. Call once the workers run.
   */
  start(): Promise<void>;
  /** Closes the loop's queues and the signal sink; the connection stays the caller's. Safe to call twice. */
  stop(): Promise<void>;
}

/** The reason of the move to `acting` a person's approval makes. */
function approvalReason(proposalIndex: number): string {
  return `approved proposal ${proposalIndex}`;
}

/** The proposal a move to `acting` approved, from its reason; undefined when it was no approval. */
function approvedIndex(reason: string): number | undefined {
  const match = /^approved proposal (\d+)$/.exec(reason);
  return match ? Number(match[1]) : undefined;
}

/**
 * What every loop stage works with: the incident store, the step ledger, the noise filter and the
 * correlation index, on the loop's own Redis connection `state` under `prefix`, with the defaults
 * of `settings`. `mutex` replaces the per-incident lock (tests that stage interleavings).
 */
export function createLoopContext(options: {
  state: Redis;
  prefix: string;
  graph: GraphStore;
  clock: Clock;
  logger: Logger;
  deps: LoopDeps;
  settings?: LoopSettings;
  mutex?: Mutex;
  metrics?: LoopMetrics;
  onStepRecorded?: (incidentKey: string, step: string) => Promise<void>;
}): LoopContext {
  const { state, prefix, graph, clock } = options;
  const settings = options.settings ?? {};
  // The per-incident lock guards the incident's read-modify-write in the graph. The embedded graph
  // is written by this process alone (its data directory is locked to one process), so a lock in
  // this process, shared by every loop over that graph, serialises all its writers without a
  // Redis round trip; Neo4j is shared by replicas, which need the Redis lock.
  const mutex =
    options.mutex ??
    (graph.backend === 'embedded'
      ? localMutexOf(graph)
      : redisMutex({ connection: state, prefix, ttlMs: settings.lockTtlMs ?? 10_000 }));
  const noise = new NoiseFilter({ connection: state, prefix, ...settings.noise });
  return {
    deps: options.deps,
    store: new IncidentStore({ graph, clock, mutex }),
    ledger: new StepLedger({
      connection: state,
      prefix,
      ...(settings.ledgerRetentionMs === undefined ? {} : { retentionMs: settings.ledgerRetentionMs }),
      ...(options.onStepRecorded ? { onRecorded: options.onStepRecorded } : {}),
    }),
    noise,
    noiseLearner: new NoiseLearner({ connection: state, prefix, noise, ...settings.noise?.learn }),
    correlator: new Correlator({ connection: state, prefix, graph, ...settings.correlation }),
    graph,
    clock,
    logger: options.logger,
    severity: settings.severity ?? {},
    verifyDelayMs: settings.verifyDelayMs ?? 60_000,
    transientHoldMs: settings.transientHoldMs ?? 0,
    ...(options.metrics ? { metrics: options.metrics } : {}),
  };
}

/**
 * Builds the detect → investigate → respond → execute → verify → learn loop over BullMQ: one
 * queue per stage, versioned payloads, job ids `<incidentKey>:<stage>:<step>`, retries with
 * exponential backoff, failed jobs kept a week. Effectful steps are recorded in a per-incident
 * ledger before the job moves on, and correlation is decided and recorded atomically in Redis,
 * so crashes and replicas neither lose nor repeat work. Performs no I/O until a stage runs or
 * `start()`.
 */
export function createPipeline(options: PipelineOptions): Pipeline {
  const settings = options.settings ?? {};
  const logger = options.logger.child({ component: 'loop' });
  const { connection, prefix, graph, clock } = options;
  const ownState = options.state === undefined;
  // Connects on first use; commands wait while it (re)connects, within the caller's retry limit.
  const state = options.state ?? connection.duplicate({ lazyConnect: true, enableOfflineQueue: true });
  // The caller watches `connection`; a drop shows there too, so this one only keeps quiet.
  if (ownState) state.on('error', () => undefined);
  const queues = createLoopQueues({
    connection,
    prefix,
    logger,
    jobOptions: {
      attempts: settings.attempts ?? 8,
      backoff: { type: 'exponential', delay: settings.backoffMs ?? 1_000 },
    },
  });
  let metrics: LoopMetrics | undefined;
  if (options.registry) {
    metrics = createLoopMetrics(options.registry, {
      queueCounts: () => queues.counts([...LOOP_STAGES]),
      incidentsByState: async () => {
        const counts: Record<string, number> = {};
        for (const state of incidentStates)
          counts[state] = (await graph.find({ kind: 'Incident', where: { state }, limit: 100_000 })).length;
        return counts;
      },
    });
  }
  const context = createLoopContext({
    state,
    prefix,
    graph,
    clock,
    logger,
    deps: options.deps,
    settings,
    ...(metrics ? { metrics } : {}),
    ...(options.onStepRecorded ? { onStepRecorded: options.onStepRecorded } : {}),
  });
  const { store: incidents, noise, ledger } = context;
  const observe = (
    stage: string,
    outcome: 'completed' | 'failed',
    ms: number,
    waitedMs: number | undefined,
  ): void => {
    metrics?.jobDuration.observe({ stage, outcome }, ms / 1000);
    if (waitedMs !== undefined) metrics?.jobWait.observe({ stage }, waitedMs / 1000);
    if (outcome === 'failed') metrics?.jobFailures.inc({ stage });
  };
  const handlers: ReadonlyArray<LoopStage<never, LoopContext>> = [
    ingestStage,
    detectStage,
    investigateStage,
    respondStage,
    executeStage,
    verifyStage,
    learnStage,
    digestStage,
  ] as unknown as ReadonlyArray<LoopStage<never, LoopContext>>;
  const stages: Array<StageDefinition<never>> = handlers.map((stage) =>
    loopStageDefinition<never, LoopContext>(stage, context, queues, observe),
  );
  const sink = createQueueSink({ connection, prefix, logger });

  return {
    stages,
    incidents,
    noise,
    async submitSignal(signal) {
      await sink.accept([signal], { channel: 'loop' });
    },
    async approve(incidentKey, proposalIndex, approver) {
      const incident = await incidents.get(incidentKey);
      if (!incident) return { error: `no incident ${incidentKey}` };
      if (incident.state !== 'awaiting-approval')
        return { error: `incident ${incidentKey} is ${incident.state}, not awaiting approval` };
      const step = `${incident.round}-${proposalIndex}`;
      const decision = await ledger.get<Decision>(incident.key, `decide-${step}`);
      if (decision?.mode !== 'approval')
        return { error: `proposal ${proposalIndex} of round ${incident.round} does not await approval` };
      const by = { kind: 'person' as const, id: approver };
      const { changed } = await incidents.transition(
        incident.key,
        'acting',
        by,
        approvalReason(proposalIndex),
        {
          from: ['awaiting-approval'],
        },
      );
      if (!changed) return { error: `incident ${incidentKey} is no longer awaiting approval` };
      await queues.add(executeJob(incident.key, incident.round, proposalIndex, by));
      return { ok: true };
    },
    digest: () => noise.digest(),
    async start() {
      for (const incident of await incidents.list({ states: ['acting'], limit: 10_000 })) {
        const last = incident.transitions.at(-1);
        const index = last?.to === 'acting' ? approvedIndex(last.reason) : undefined;
        if (last && index !== undefined && last.by.kind === 'person')
          await queues.add(executeJob(incident.key, incident.round, index, last.by));
      }
      const everyMs = settings.digestEveryMs ?? 3_600_000;
      if (everyMs > 0)
        await queues.schedule(DIGEST_QUEUE, 'noise-digest', everyMs, { v: 1, kind: 'noise-digest' });
    },
    async stop() {
      await Promise.all([queues.close(), sink.close()]);
      if (ownState && state.status === 'wait') state.disconnect();
      else if (ownState && state.status !== 'end') await state.quit().catch(() => state.disconnect());
    },
  };
}
