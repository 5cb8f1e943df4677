import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { secretValues, type Config } from '../config/index.js';
import { createRedisConnection, pingRedis } from '../integrations/redis.js';
import { openGraphStore } from '../graph/factory.js';
import type { GraphStore } from '../graph/store.js';
import { createQueueSink } from '../ingest/queue-sink.js';
import { Heartbeat } from '../loop/heartbeat.js';
import { startStageWorker, type StageDefinition, type StageWorker } from '../loop/stage.js';
import { webhookRoutes } from '../server/webhooks/webhook-routes.js';
import { createHttpApp, listen, type RouteInstaller, type RunningServer } from '../server/http.js';
import { systemClock, type Clock } from '../shared/clock.js';
import { describeError } from '../shared/errors.js';
import { createLogger, type Logger } from '../shared/logger.js';
import { createAgent, type Agent } from './agent/agent.js';
import { CleanupStack } from './cleanup.js';
import { graphConfig } from './graph-config.js';
import { HealthRegistry } from './health.js';
import { createMetrics } from './metrics.js';

/** Pieces a caller may supply instead of the defaults built from config (tests, the sim). */
export interface BuildDependencies {
  logger?: Logger;
  clock?: Clock;
  /** Extra loop stages to run beside the built-in ones. */
  stages?: ReadonlyArray<StageDefinition<never>>;
  routes?: readonly RouteInstaller[];
  /** A graph store to use instead of opening the configured one (it is still closed on stop). */
  graph?: GraphStore;
  /** Run the loop's stages and the agent (default true; off for a daemon that only ingests). */
  agent?: boolean;
  /** Verify windows shorter than the actions' own (the demo and evals run on sim time). */
  verifyWindow?: { windowMs?: number; intervalMs?: number; healthyChecks?: number };
}

/** The running daemon. */
export interface App {
  readonly config: Config;
  readonly logger: Logger;
  readonly health: HealthRegistry;
  /** The knowledge graph; set once `start()` resolved. */
  graph(): GraphStore;
  /** The agent (loop, policy, actions); set once `start()` resolved, unless turned off. */
  agent(): Agent | undefined;
  /** Starts every component; resolves once the HTTP server listens. Call once. */
  start(): Promise<{ url: string }>;
  /**
   * Stops intake first (HTTP), then drains workers within `shutdown.timeoutMs`, then closes
   * connections. Idempotent; resolves true when everything finished inside the bound.
   */
  stop(): Promise<boolean>;
}

/** The composition root: turns a validated config into an `App`. Performs no I/O until `start()`. */
export function build(config: Config, dependencies: BuildDependencies = {}): App {
  const logger =
    dependencies.logger ?? createLogger({ level: config.log.level, secrets: () => secretValues(config) });
  const clock = dependencies.clock ?? systemClock;
  const health = new HealthRegistry();
  const cleanup = new CleanupStack(logger.child({ component: 'shutdown' }));
  let stopping = false;
  let graphStore: GraphStore | undefined;
  let agent: Agent | undefined;

  const start = async (): Promise<{ url: string }> => {
    const metrics = createMetrics();
    const redisSettings = { url: config.redis.url, password: config.redis.password };
    const connections: Redis[] = [];
    const connect = (role: 'worker' | 'producer' | 'client'): Redis => {
      const connection = createRedisConnection(redisSettings, role, logger.child({ component: 'redis' }));
      connections.push(connection);
      connection.connect().catch(() => undefined);
      return connection;
    };
    cleanup.push('redis', async () => {
      await Promise.all(
        connections.map((connection) => connection.quit().catch(() => connection.disconnect())),
      );
    });

    const client = connect('client');
    health.register('redis', {
      required: true,
      check: async () => ((await pingRedis(client)) ? 'ok' : 'down'),
    });

    const graph =
      dependencies.graph ??
      (await openGraphStore(graphConfig(config), { logger: logger.child({ component: 'graph' }), clock }));
    graphStore = graph;
    cleanup.push('graph', () => graph.close());
    health.register('graph', { required: true, check: () => graph.health() });

    const heartbeat = new Heartbeat(clock, config.loop.heartbeatMs);
    health.register('loop', { required: false, check: () => Promise.resolve(heartbeat.state()) });

    const producer = connect('producer');
    let heartbeatQueue: Queue | undefined;
    const scheduleHeartbeat = async (): Promise<void> => {
      while (!stopping && !heartbeatQueue) {
        try {
          heartbeatQueue = await heartbeat.schedule(producer, config.redis.prefix);
        } catch (error) {
          logger.warn({ err: describeError(error) }, 'could not schedule the loop heartbeat yet; retrying');
          await new Promise((resolve) => setTimeout(resolve, 1_000).unref());
        }
      }
    };
    void scheduleHeartbeat();
    cleanup.push('queues', () => heartbeatQueue?.close());

    const sink = createQueueSink({
      connection: producer,
      prefix: config.redis.prefix,
      dedupeWindowMs: config.ingest.dedupeWindowMs,
      timeoutMs: config.ingest.queueTimeoutMs,
      logger,
    });
    cleanup.push('ingest-sink', () => sink.close());
    if (dependencies.agent !== false) {
      agent = await createAgent({
        config,
        graph,
        redis: producer,
        sink,
        logger,
        clock,
        registry: metrics.registry,
        ...(dependencies.verifyWindow ? { verifyWindow: dependencies.verifyWindow } : {}),
      });
      const running = agent;
      cleanup.push('agent', () => running.stop());
    }

    const workerConnection = connect('worker');
    const workers: StageWorker[] = [
      heartbeat.stage,
      ...(agent?.stages ?? []),
      ...(dependencies.stages ?? []),
    ].map((stage) =>
      startStageWorker(stage as StageDefinition<never>, {
        connection: workerConnection,
        prefix: config.redis.prefix,
        concurrency: config.loop.concurrency,
        logger,
      }),
    );
    const drainMs = Math.floor(config.shutdown.timeoutMs * 0.8);
    cleanup.push('workers', async () => {
      await Promise.all(workers.map((worker) => worker.close(drainMs)));
    });

    const webhooks = webhookRoutes({
      sink,
      secrets: config.webhooks,
      cluster: config.ingest.cluster,
      retryAfterSeconds: config.ingest.retryAfterSeconds,
      logger,
      clock,
    });

    const app = createHttpApp({
      bodyLimitBytes: config.server.bodyLimitBytes,
      health,
      metrics,
      logger,
      routes: [webhooks, ...(agent?.routes ?? []), ...(dependencies.routes ?? [])],
    });
    const server: RunningServer = await listen(app, config.server.host, config.server.port);
    cleanup.push('http', () => server.close());
    await agent?.start();
    logger.info({ url: server.url }, 'nightshift listening');
    return { url: server.url };
  };

  return {
    config,
    logger,
    health,
    agent: () => agent,
    graph: () => {
      if (!graphStore) throw new Error('the graph is open only once start() has resolved');
      return graphStore;
    },
    start,
    stop: () => {
      stopping = true;
      return cleanup.run(config.shutdown.timeoutMs);
    },
  };
}
