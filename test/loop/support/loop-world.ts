import { openTestGraph } from '../../kit/graph.js';
import { createHash } from 'node:crypto';
import { Redis } from 'ioredis';
import type { Registry } from 'prom-client';
import type { EmbeddedGraphStore } from '../../../src/graph/embedded/embedded-store.js';
import type { GraphStore } from '../../../src/graph/store.js';
import { k8sId, serviceId } from '../../../src/graph/ids.js';
import type { EntityRef, Severity, Signal } from '../../../src/ingest/signal.js';
import { signalId } from '../../../src/ingest/signal.js';
import { createPipeline, type LoopSettings, type Pipeline } from '../../../src/loop/pipeline.js';
import type { Decision, LoopDeps, Proposal } from '../../../src/loop/pipeline-types.js';
import { placeholderSignalWriter } from '../../../src/loop/signal-writer.js';
import { startStageWorker, type StageWorker } from '../../../src/loop/stage.js';
import { systemClock } from '../../../src/shared/clock.js';
import { silentLogger, type Logger } from '../../../src/shared/logger.js';

/** The effectful dependencies whose calls are counted. */
export const EFFECTS = ['investigate', 'respond', 'execute', 'verify', 'escalate', 'learn'] as const;
export type Effect = (typeof EFFECTS)[number];

/** How the scripted dependencies behave; everything has a default (one autonomous restart that works). */
export interface Script {
  proposals?: Proposal[];
  decide?: (proposal: Proposal, index: number) => Decision;
  outcome?: 'done' | 'skipped' | 'failed';
  verifyOk?: boolean;
  /** Throw this many times before succeeding, per dependency. */
  failFirst?: Partial<Record<Effect, number>>;
  /** Always throw in this dependency. */
  alwaysFail?: Effect;
  /** Runs after execute's effect and before it returns (crash tests hold the process there). */
  afterExecuteEffect?: (incidentKey: string) => Promise<void>;
}

export const restartProposal: Proposal = {
  action: 'rollout-restart',
  target: { kind: 'Deployment', namespace: 'shop', name: 'checkout' },
  params: {},
  rationale: 'the pods are wedged',
};

/**
 * Loop dependencies that do nothing real but count every call in Redis
 * (`<prefix>:effects`, field `<dependency>:<incidentKey>`), so tests and child processes can
 * assert how often each effect ran.
 */
export function scriptedDeps(redis: Redis, prefix: string, graph: GraphStore, script: Script = {}): LoopDeps {
  const failures = new Map<string, number>();
  const fail = (effect: Effect, incidentId: string): void => {
    const key = `${effect}:${incidentId}`;
    if (script.alwaysFail === effect) throw new Error(`${effect} failed (scripted)`);
    const failed = failures.get(key) ?? 0;
    if (failed < (script.failFirst?.[effect] ?? 0)) {
      failures.set(key, failed + 1);
      throw new Error(`${effect} failed (scripted, ${failed + 1})`);
    }
  };
  const count = async (effect: Effect, incidentId: string, failFirst = true): Promise<void> => {
    if (failFirst) fail(effect, incidentId);
    await redis.hincrby(`${prefix}:effects`, `${effect}:${incidentId.replace(/^incident:/, '')}`, 1);
  };
  return {
    persistSignal: placeholderSignalWriter(graph),
    async investigate(input) {
      const firstToolCallAt = Date.now();
      await count('investigate', input.incidentId);
      return {
        rootCause: {
          category: 'deploy',
          suspect: 'deploy:checkout@7',
          confidence: 0.8,
          statement: 'the deploy broke it',
        },
        proposals: script.proposals ?? [restartProposal],
        report: { markdown: '# report', json: { ok: true } },
        firstToolCallAt,
      };
    },
    async respond(incident, proposal) {
      await count('respond', incident.id);
      return (
        script.decide?.(proposal, 0) ?? { mode: 'autonomous', rule: 'restart-is-safe', reason: 'low risk' }
      );
    },
    async execute(incident, _proposal, _decision, step) {
      // Every call is counted; the effect happens once per idempotency key, as the action log does.
      const key = incident.id.replace(/^incident:/, '');
      await redis.hincrby(`${prefix}:calls`, `execute:${key}`, 1);
      fail('execute', incident.id);
      if (step?.inDoubt) await redis.hset(`${prefix}:in-doubt`, `execute:${key}`, step.idempotencyKey);
      if (step && (await redis.hsetnx(`${prefix}:action-log`, step.idempotencyKey, '1')) === 0)
        return { outcome: 'done', detail: { alreadyDone: step.idempotencyKey } };
      await count('execute', incident.id, false);
      await script.afterExecuteEffect?.(key);
      return { outcome: script.outcome ?? 'done', detail: { restarted: true } };
    },
    async verify(incident) {
      await count('verify', incident.id);
      return { ok: script.verifyOk ?? true, detail: {} };
    },
    async escalate(incident) {
      await count('escalate', incident.id);
    },
    async learn(incident) {
      await count('learn', incident.id);
    },
  };
}

/** How many times execute was called for one incident (the effect itself is deduplicated). */
export async function executeCalls(redis: Redis, prefix: string, incidentKey: string): Promise<number> {
  return Number((await redis.hget(`${prefix}:calls`, `execute:${incidentKey}`)) ?? 0);
}

/** Counts of every effect for one incident. */
export async function effectCounts(
  redis: Redis,
  prefix: string,
  incidentKey: string,
): Promise<Record<Effect, number>> {
  const all = await redis.hgetall(`${prefix}:effects`);
  return Object.fromEntries(
    EFFECTS.map((effect) => [effect, Number(all[`${effect}:${incidentKey}`] ?? 0)]),
  ) as Record<Effect, number>;
}

let sequence = 0;

/** A valid signal; by default a firing warning alert about the checkout pod. */
export function makeSignal(options: {
  fingerprint: string;
  status?: 'firing' | 'resolved';
  severity?: Severity;
  entities?: EntityRef[];
  observedAt?: number;
  summary?: string;
  labels?: Record<string, string>;
  attributes?: Signal['attributes'];
  kind?: Signal['kind'];
}): Signal {
  const now = options.observedAt ?? Date.now();
  const kind = options.kind ?? 'alert';
  const status = kind === 'alert' ? (options.status ?? 'firing') : undefined;
  sequence += 1;
  return {
    v: 1,
    id: signalId('alertmanager', options.fingerprint, status ?? kind, `${now}-${sequence}`),
    source: 'alertmanager',
    kind,
    fingerprint: options.fingerprint,
    ...(status ? { status } : {}),
    severity: options.severity ?? 'warning',
    entities: options.entities ?? [podRef('checkout-1')],
    observedAt: now,
    receivedAt: now,
    summary: options.summary ?? `${options.fingerprint} is ${status ?? kind}`,
    attributes: { labels: options.labels ?? { alertname: options.fingerprint }, ...options.attributes },
    raw: {
      source: 'webhook/alertmanager',
      digest: `sha256:${createHash('sha256').update(`${options.fingerprint}${sequence}`).digest('hex')}`,
    },
  };
}

export function podRef(name: string, namespace = 'shop'): EntityRef {
  return { kind: 'Pod', id: k8sId('prod', namespace, 'Pod', name), name, namespace, cluster: 'prod' };
}

export function serviceRef(name: string): EntityRef {
  return { kind: 'Service', id: serviceId(name), name };
}

/** A worker-capable Redis connection. */
export function connect(url: string): Redis {
  return new Redis(url, { maxRetriesPerRequest: null });
}

/** A pipeline with every stage's worker running, on its own connections. */
export interface LoopWorld {
  pipeline: Pipeline;
  graph: GraphStore;
  redis: Redis;
  workers: StageWorker[];
  stop(): Promise<void>;
}

/**
 * Starts a pipeline and one worker per stage. `graph` may be shared between worlds (replicas in
 * one process); each world has its own Redis connections.
 */
export async function startLoopWorld(options: {
  redisUrl: string;
  prefix: string;
  graph: GraphStore;
  script?: Script;
  settings?: LoopSettings;
  registry?: Registry;
  logger?: Logger;
  concurrency?: number;
  deps?: LoopDeps;
  onStepRecorded?: (incidentKey: string, step: string) => Promise<void>;
}): Promise<LoopWorld> {
  const redis = connect(options.redisUrl);
  const workerConnection = connect(options.redisUrl);
  const logger = options.logger ?? silentLogger();
  const pipeline = createPipeline({
    connection: redis,
    prefix: options.prefix,
    graph: options.graph,
    logger,
    clock: systemClock,
    deps: options.deps ?? scriptedDeps(redis, options.prefix, options.graph, options.script),
    settings: { verifyDelayMs: 0, backoffMs: 50, digestEveryMs: 0, lockTtlMs: 2_000, ...options.settings },
    ...(options.registry ? { registry: options.registry } : {}),
    ...(options.onStepRecorded ? { onStepRecorded: options.onStepRecorded } : {}),
  });
  const workers = pipeline.stages.map((stage) =>
    startStageWorker(stage, {
      connection: workerConnection,
      prefix: options.prefix,
      concurrency: options.concurrency ?? 4,
      logger,
      lockDurationMs: 2_000,
      stalledIntervalMs: 1_000,
    }),
  );
  await pipeline.start();
  await Promise.all(workers.map((one) => one.worker.waitUntilReady()));
  return {
    pipeline,
    graph: options.graph,
    redis,
    workers,
    async stop() {
      await Promise.all(workers.map((one) => one.close(2_000)));
      await pipeline.stop();
      redis.disconnect();
      workerConnection.disconnect();
    },
  };
}

/** Opens an embedded graph store in `dataDir`. */
export function openGraph(dataDir: string): Promise<EmbeddedGraphStore> {
  return openTestGraph({ dataDir });
}
