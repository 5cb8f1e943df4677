import { writeFileSync } from 'node:fs';
import type { Redis } from 'ioredis';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { build, type App } from '../../src/app/build.js';
import { loadConfig, secretValues } from '../../src/config/index.js';
import { k8sId } from '../../src/graph/ids.js';
import type { GraphStore } from '../../src/graph/store.js';
import { loadScenario } from '../../src/sim/scenario/load.js';
import { startSim, type Sim } from '../../src/sim/sim.js';
import { createLogger } from '../../src/shared/logger.js';
import { waitFor } from '../kit/daemon.js';
import { EVALS_DIR, START } from '../sim/world-kit.js';

export { START };

/** A Datadog monitor the fake monitor API answers with; change `state` between polls. */
export interface FakeMonitor {
  id: number;
  service: string;
  state: string;
  priority?: number;
}

/** The whole daemon, built in process against a paused `bad-deploy-checkout` sim. */
export interface PollingDaemon {
  sim: Sim;
  app: App;
  url: string;
  prefix: string;
  dataDir: string;
  alertmanagerToken: string;
  monitors: Map<number, FakeMonitor>;
  /** Every line the daemon logged (pino JSON lines). */
  logLines: string[];
  /** The last warnings and errors the daemon logged, for failure messages. */
  problems(): string;
  /** Moves sim time to `seconds` after the start (timeline entries run on the way). */
  at(seconds: number): Promise<void>;
  /** Stops the daemon (its graph is closed and flushed), then the sim and the proxy. */
  stop(): Promise<void>;
}

async function body(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/**
 * The sim's Datadog serves metrics, logs and events but no monitor API. This loopback server
 * answers `GET /api/v1/monitor` in Datadog's documented shape (snake_case, `overall_state`, paged
 * by `page`/`page_size`) from `monitors`, and forwards everything else to the sim's Datadog.
 */
function datadogWithMonitors(
  simDatadog: string,
  monitors: Map<number, FakeMonitor>,
): Promise<{ url: string; server: Server }> {
  const server = createServer((request, response) => {
    void (async () => {
      const url = new URL(request.url ?? '/', 'http://localhost');
      if (url.pathname === '/api/v1/monitor' && request.method === 'GET') {
        if (!request.headers['dd-api-key'] || !request.headers['dd-application-key']) {
          response.writeHead(403, { 'content-type': 'application/json' }).end('{"errors":["Forbidden"]}');
          return;
        }
        const page = Number(url.searchParams.get('page') ?? 0);
        const size = Number(url.searchParams.get('page_size') ?? 100);
        const all = [...monitors.values()].map((monitor) => ({
          id: monitor.id,
          name: `High error rate on ${monitor.service}`,
          type: 'query alert',
          query: `avg(last_5m):sum:trace.http.request.errors{service:${monitor.service}} > 5`,
          message: 'Notify @webhook-nightshift',
          overall_state: monitor.state,
          priority: monitor.priority ?? null,
          tags: [`service:${monitor.service}`, 'team:shop'],
          options: {},
          multi: false,
        }));
        response
          .writeHead(200, { 'content-type': 'application/json' })
          .end(JSON.stringify(all.slice(page * size, page * size + size)));
        return;
      }
      const headers = new Headers();
      for (const [name, value] of Object.entries(request.headers))
        if (typeof value === 'string' && !['host', 'content-length', 'connection'].includes(name))
          headers.set(name, value);
      const payload = request.method === 'GET' || request.method === 'HEAD' ? undefined : await body(request);
      const answer = await fetch(`${simDatadog}${url.pathname}${url.search}`, {
        method: request.method ?? 'GET',
        headers,
        ...(payload ? { body: payload } : {}),
      });
      const text = Buffer.from(await answer.arrayBuffer());
      response
        .writeHead(answer.status, {
          'content-type': answer.headers.get('content-type') ?? 'application/json',
        })
        .end(text);
    })().catch((error: unknown) => {
      response
        .writeHead(502, { 'content-type': 'application/json' })
        .end(JSON.stringify({ errors: [String(error)] }));
    });
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      resolve({ url: `http://127.0.0.1:${port}`, server });
    }),
  );
}

/**
 * Starts the `bad-deploy-checkout` sim paused (vendors on, its Alertmanager rules off), a Datadog
 * front with a monitor API, and the daemon (`build`) with the sim's clock, watching the sim's
 * Kubernetes, reading Datadog through the front, logging at trace level into `logLines`. Resolves
 * once the watchers have written the checkout Deployment.
 * `env` and `file` (the YAML configuration) are added to the defaults.
 */
export async function startPollingDaemon(options: {
  redisUrl: string;
  prefix: string;
  dataDir: string;
  env?: Record<string, string>;
  file?: Record<string, unknown>;
  monitors?: FakeMonitor[];
  /** Slack on, against the sim's Slack, which delivers its messages to the daemon. */
  slack?: boolean;
}): Promise<PollingDaemon> {
  const scenario = loadScenario('bad-deploy-checkout', { evalsDir: EVALS_DIR });
  const sim = await startSim({
    estate: scenario.estate,
    scenario,
    dataDir: join(options.dataDir, 'sim'),
    startMs: START,
    paused: true,
    vendors: { alertmanager: { enabled: false } },
  });
  const monitors = new Map((options.monitors ?? []).map((monitor) => [monitor.id, monitor]));
  let front: { url: string; server: Server } | undefined;
  let app: App | undefined;
  const stop = async (): Promise<void> => {
    await app?.stop();
    await sim.stop();
    const server = front?.server;
    if (server) await new Promise((resolve) => server.close(resolve));
  };
  try {
    front = await datadogWithMonitors(sim.vendors?.urls.datadog ?? '', monitors);
    const alertmanagerToken = 'canary-test-alertmanager-token';
    const env: Record<string, string> = {
      NIGHTSHIFT_PORT: '0',
      NIGHTSHIFT_DATA_DIR: join(options.dataDir, 'daemon'),
      NIGHTSHIFT_LOG_LEVEL: 'trace',
      NIGHTSHIFT_GRAPH_FSYNC: 'never',
      REDIS_URL: options.redisUrl,
      NIGHTSHIFT_QUEUE_PREFIX: options.prefix,
      NIGHTSHIFT_KUBERNETES_MODE: 'kubeconfig',
      KUBECONFIG: sim.kubernetes.kubeconfigPath,
      NIGHTSHIFT_CLUSTER_NAME: sim.world.clusterName(),
      NIGHTSHIFT_DATADOG_ENABLED: 'true',
      DD_API_KEY: 'sim-api-key',
      DD_APP_KEY: 'sim-app-key',
      NIGHTSHIFT_DATADOG_BASE_URL: front.url,
      NIGHTSHIFT_ALERTMANAGER_TOKEN: alertmanagerToken,
      NIGHTSHIFT_POLICY_DIR: join(import.meta.dirname, '../../policies'),
      NIGHTSHIFT_INVESTIGATE_PLANNER: 'rules',
      NIGHTSHIFT_INVESTIGATE_RETRIES: '0',
      NIGHTSHIFT_POLL_INTERVAL_MS: '500',
      NIGHTSHIFT_HEARTBEAT_MS: '1000',
      ...(options.slack
        ? {
            NIGHTSHIFT_SLACK_ENABLED: 'true',
            SLACK_BOT_TOKEN: 'xoxb-sim-token',
            SLACK_SIGNING_SECRET: 'sim-signing-secret',
            SLACK_API_URL: sim.vendors?.urls.slackApi ?? '',
          }
        : {}),
      ...options.env,
    };
    const configFile = join(options.dataDir, 'nightshift.yaml');
    writeFileSync(configFile, stringify(options.file ?? {}));
    const config = loadConfig({ env, cwd: options.dataDir, file: configFile });
    const logLines: string[] = [];
    const logger = createLogger({
      level: 'trace',
      destination: { write: (line: string) => void logLines.push(line) },
      secrets: () => secretValues(config),
    });
    app = build(config, { logger, clock: { now: () => sim.world.now() } });
    const { url } = await app.start();
    if (options.slack) sim.vendors?.connectDaemon({ slackEventsUrl: `${url}/slack/events` });
    // Deploys are only seen as deploys by a watcher that saw the workload before them.
    const started = app;
    const checkout = k8sId(sim.world.clusterName(), 'shop', 'Deployment', 'checkout');
    await waitFor(async () => (await started.graph().get(checkout)) !== null, 20_000);
    return {
      sim,
      app,
      url,
      prefix: options.prefix,
      dataDir: options.dataDir,
      alertmanagerToken,
      monitors,
      logLines,
      problems: () =>
        logLines
          .filter((line) => /"level":"(warn|error|fatal)"/.test(line))
          .slice(-20)
          .join(''),
      at: (seconds) => sim.world.advanceTo(START + seconds * 1000),
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** Waits until the log-pattern poller has stored a baseline for `service`. */
export async function logBaselineRead(redis: Redis, prefix: string, service: string): Promise<void> {
  await waitFor(async () => {
    const stored = await redis.hget(`${prefix}:poll-state:logs`, 'state');
    return stored !== null && stored.includes(`"${service}"`);
  }, 20_000);
}

/** Waits until the graph holds a Deploy of `image`. */
export async function deployRecorded(graph: GraphStore, image: string): Promise<void> {
  await waitFor(
    async () =>
      (await graph.find({ kind: 'Deploy', limit: 1000 })).some((deploy) => deploy.properties.image === image),
    20_000,
  );
}
