import * as k8s from '@kubernetes/client-node';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Registry } from 'prom-client';
import {
  RedisActionLog,
  createHttpFlagsApi,
  createKubernetesApi,
  graphAuditMirror,
  openAuditFile,
  type ExecutorDeps,
  type FlagsApi,
  type KubernetesApi,
} from '../../act/index.js';
import type { Config } from '../../config/index.js';
import type { GraphStore } from '../../graph/store.js';
import {
  FencedOutError,
  startKubernetesIngest,
  type KubernetesIngest,
} from '../../ingest/kubernetes/index.js';
import { createPollers, type PollerSettings } from '../../ingest/pollers/build-pollers.js';
import { datadogConfiguration } from '../../ingest/pollers/datadog/datadog-api.js';
import { flagsPoller } from '../../ingest/pollers/flags/flags-poller.js';
import { sloQuerySchema, type SloQueryInput } from '../../ingest/pollers/metrics/slo-query.js';
import { graphObjectivesLookup } from '../../ingest/pollers/objectives.js';
import { RedisPollStateStore } from '../../ingest/pollers/poll-state-store.js';
import { prometheusSloTemplates } from '../../ingest/pollers/prometheus/prometheus-poller.js';
import { POLL_QUEUE, pollerStage, schedulePollers } from '../../ingest/pollers/run-poll.js';
import { redisSlackMessageLog } from '../../ingest/pollers/slack/message-feed.js';
import { redact } from '../../ingest/redact/redact.js';
import type { Signal } from '../../ingest/signal.js';
import type { SignalSink } from '../../ingest/sink.js';
import { parseSlack } from '../../ingest/sources/slack/parse.js';
import { PagerDutyEventsClient } from '../../integrations/pagerduty/events.js';
import { approvalsApiRoutes, createSlackApp, type SlackIntegration } from '../../integrations/slack/index.js';
import {
  createClaudePlanner,
  createInvestigationTools,
  createRulesPlanner,
  type Planner,
} from '../../investigate/index.js';
import { PatternStore } from '../../learn/index.js';
import { acceptFencedWrite, startLeaderElection, type LeaderElection } from '../../loop/leader.js';
import { createPipeline, type Pipeline } from '../../loop/pipeline.js';
import type { StageDefinition } from '../../loop/stage.js';
import { createPolicyWatcher, formatProblem, loadPolicies, type PolicySet } from '../../policy/index.js';
import type { RouteInstaller } from '../../server/http.js';
import type { Clock } from '../../shared/clock.js';
import { ConfigError, SystemError, describeError, toIssues } from '../../shared/errors.js';
import type { Logger } from '../../shared/logger.js';
import { controlsApiRoutes } from './controls-api.js';
import { configuredSilences, silencesApiRoutes } from './silences-api.js';
import { createRuntimeControls, type RuntimeControls } from './controls.js';
import { KUBERNETES_FENCE, createKubernetesDetector } from './kubernetes-detector.js';
import { connectExternalTools, mcpRoutes } from './mcp.js';
import { IncidentJournal } from './journal.js';
import { createLoopDeps } from './loop-deps.js';
import { prometheusSymptomCheck } from './symptoms.js';

/** What the agent needs from the composition root. */
export interface AgentOptions {
  config: Config;
  graph: GraphStore;
  /** A plain client connection (commands, Lua, queues). */
  redis: Redis;
  /** Where Slack messages become signals (the webhook sink). */
  sink: SignalSink;
  logger: Logger;
  clock: Clock;
  registry?: Registry;
  /** Verify windows shorter than the actions' own hints (the demo and evals run on sim time). */
  verifyWindow?: { windowMs?: number; intervalMs?: number; healthyChecks?: number };
}

/** The detect → learn loop with every domain wired in. */
export interface Agent {
  readonly pipeline: Pipeline;
  readonly stages: ReadonlyArray<StageDefinition<never>>;
  readonly routes: readonly RouteInstaller[];
  readonly controls: RuntimeControls;
  readonly journal: IncidentJournal;
  readonly slack?: SlackIntegration;
  /** Starts the Slack sweep, the loop's schedules and, on the leader, the Kubernetes watchers. */
  start(): Promise<void>;
  /** Whether this replica leads and its Kubernetes watchers have written their first picture. */
  watchersReady(): boolean;
  stop(): Promise<void>;
}

/** A Kubernetes API that refuses every call: actions fail with a clear reason when Kubernetes is off. */
const kubernetesOff: KubernetesApi = new Proxy({} as KubernetesApi, {
  get: () => () =>
    Promise.reject(
      new SystemError('not_configured', 'Kubernetes is off: set NIGHTSHIFT_KUBERNETES_MODE', {
        retryable: false,
      }),
    ),
});

/** A flag provider that refuses every call when none is configured. */
const flagsOff: FlagsApi = new Proxy({} as FlagsApi, {
  get: () => () =>
    Promise.reject(
      new SystemError('not_configured', 'no flag provider: set NIGHTSHIFT_FLAGS_URL', { retryable: false }),
    ),
});

function kubeConfigFor(config: Config): k8s.KubeConfig | undefined {
  const settings = config.integrations.kubernetes;
  if (settings.mode === 'off') return undefined;
  const kubeConfig = new k8s.KubeConfig();
  if (settings.mode === 'in-cluster') kubeConfig.loadFromCluster();
  else if (settings.kubeconfig) kubeConfig.loadFromFile(settings.kubeconfig);
  else kubeConfig.loadFromDefault();
  if (settings.context) kubeConfig.setCurrentContext(settings.context);
  return kubeConfig;
}

function sloQueries(raw: ReadonlyArray<Record<string, unknown>>, path: string): SloQueryInput[] {
  return raw.map((query, index) => {
    const parsed = sloQuerySchema.safeParse(query);
    if (!parsed.success)
      throw new ConfigError(
        toIssues(parsed.error.issues).map((issue) => ({
          path: `${path}[${index}]${issue.path ? `.${issue.path}` : ''}`,
          message: issue.message,
        })),
      );
    return query as SloQueryInput;
  });
}

/**
 * The pollers the configuration asks for: git clones; SLO queries on Prometheus and Datadog,
 * configured and derived from the services' objectives; Datadog error bursts and monitor states;
 * log patterns over Datadog logs.
 */
function pollerSettings(config: Config): PollerSettings {
  const { ingest, integrations } = config;
  const intervalMs = ingest.pollIntervalMs;
  const prometheusQueries = sloQueries(ingest.prometheusSloQueries, 'ingest.prometheusSloQueries');
  const datadogQueries = sloQueries(ingest.datadogSloQueries, 'ingest.datadogSloQueries');
  const { deriveSlos, errorBursts, datadogMonitors, logPatterns, headroom } = ingest;
  const prometheus = integrations.prometheus;
  return {
    ...(ingest.gitRepos.length > 0 ? { git: { repos: ingest.gitRepos, intervalMs } } : {}),
    ...(prometheus.url && (prometheusQueries.length > 0 || deriveSlos.prometheus)
      ? {
          prometheus: {
            url: prometheus.url,
            intervalMs,
            sloQueries: prometheusQueries,
            ...(deriveSlos.prometheus
              ? {
                  templates: prometheusSloTemplates({
                    errors: prometheus.errorsQuery,
                    requests: prometheus.requestsQuery,
                    latencyP99: deriveSlos.prometheusLatencyQuery,
                    latencyScale: deriveSlos.prometheusLatencyScale,
                  }),
                }
              : {}),
          },
        }
      : {}),
    ...(integrations.datadog.enabled
      ? {
          datadog: {
            intervalMs,
            deriveSlos: deriveSlos.datadog,
            sloQueries: datadogQueries,
            errorBursts: {
              enabled: errorBursts.enabled,
              minErrors: errorBursts.minErrors,
              delayMs: logPatterns.delayMs,
              ...(errorBursts.services ? { services: errorBursts.services } : {}),
            },
            ...(datadogMonitors.enabled
              ? {
                  monitors: {
                    ...(datadogMonitors.monitorTags ? { monitorTags: datadogMonitors.monitorTags } : {}),
                    ...(datadogMonitors.scopeTags ? { tags: datadogMonitors.scopeTags } : {}),
                  },
                }
              : {}),
          },
        }
      : {}),
    ...(headroom.enabled
      ? {
          headroom: {
            intervalMs,
            ...(prometheus.url ? { prometheus: { url: prometheus.url } } : {}),
            prometheusQuery: headroom.prometheusQuery,
            datadogQuery: headroom.datadogQuery,
            ratio: headroom.ratio,
            horizonMs: headroom.horizonMs,
            fitWindowMs: headroom.fitWindowMs,
          },
        }
      : {}),
    ...(integrations.slack.enabled && integrations.slack.learnFromMessages
      ? {
          slack: {
            intervalMs,
            ...(integrations.slack.workspaceUrl ? { workspaceUrl: integrations.slack.workspaceUrl } : {}),
          },
        }
      : {}),
    ...(logPatterns.enabled
      ? {
          logs: {
            intervalMs,
            deployWindowMs: logPatterns.deployWindowMs,
            delayMs: logPatterns.delayMs,
            ...(logPatterns.services ? { services: logPatterns.services } : {}),
            ...(logPatterns.query ? { query: logPatterns.query } : {}),
          },
        }
      : {}),
  };
}

async function loadPolicySet(dir: string): Promise<PolicySet> {
  const loaded = await loadPolicies(dir);
  if ('errors' in loaded)
    throw new ConfigError(
      loaded.errors.map((problem) => ({ path: 'policy.dir', message: formatProblem(problem) })),
    );
  return loaded.ok;
}

/**
 * Builds the agent: policies (refusing to start on an invalid set, hot-reloading the last good
 * one), the action catalog behind the executor, the investigator with its read-only tools and
 * planner, learning, Slack and PagerDuty when enabled, and the loop that drives them.
 */
export async function createAgent(options: AgentOptions): Promise<Agent> {
  const { config, graph, redis, logger, clock } = options;
  const prefix = config.redis.prefix;
  const policyDir = resolve(config.policy.dir);
  let policies = await loadPolicySet(policyDir);
  const watcher = createPolicyWatcher(policyDir, (set) => (policies = set), logger, { initial: policies });
  const controls = createRuntimeControls({
    redis,
    prefix,
    configured: { killSwitch: config.policy.killSwitch, maxMode: config.policy.maxMode },
    logger,
  });

  const kubeConfig = kubeConfigFor(config);
  const kube = kubeConfig ? createKubernetesApi(kubeConfig) : kubernetesOff;
  const flagsSettings = config.integrations.flags;
  const flags = flagsSettings.url
    ? createHttpFlagsApi({
        url: flagsSettings.url,
        ...(flagsSettings.token ? { token: flagsSettings.token.reveal() } : {}),
      })
    : flagsOff;
  const audit = openAuditFile({
    path: join(config.dataDir, 'audit.jsonl'),
    mirror: graphAuditMirror(graph),
    logger,
  });
  const executor: ExecutorDeps = {
    policy: () => policies,
    controls: () => controls.current(),
    actionLog: new RedisActionLog(redis, { prefix: `${prefix}:act` }),
    audit,
    kube,
    flags,
    actor: `nightshift/${hostname()}-${process.pid}`,
    clock,
    defaultCluster: config.ingest.cluster,
    logger: logger.child({ component: 'act' }),
  };

  const { anthropic, datadog, prometheus } = config.integrations;
  const external = await connectExternalTools(config, logger);
  const tools = createInvestigationTools({
    graph,
    extraTools: external.tools,
    ...(kubeConfig ? { kubernetes: { kubeConfig } } : {}),
    ...(datadog.enabled && datadog.apiKey && datadog.appKey
      ? {
          datadog: {
            apiKey: datadog.apiKey.reveal(),
            appKey: datadog.appKey.reveal(),
            baseUrl: datadog.baseUrl,
          },
        }
      : {}),
    ...(prometheus.url ? { prometheus: { url: prometheus.url } } : {}),
  });
  const useClaude =
    config.investigate.planner === 'claude' ||
    (config.investigate.planner === 'auto' && anthropic.apiKey !== undefined);
  if (config.investigate.planner === 'claude' && !anthropic.apiKey)
    throw new ConfigError([
      {
        path: 'investigate.planner',
        message: 'claude needs integrations.anthropic.apiKey (ANTHROPIC_API_KEY)',
      },
    ]);
  // With Prometheus as the metrics source, the planner reads the same series verify does, then
  // whatever investigate.queries sets.
  const prometheusOnly = prometheus.url && !(datadog.enabled && datadog.apiKey);
  const queries = {
    ...(prometheusOnly ? { errors: prometheus.errorsQuery, rps: prometheus.requestsQuery } : {}),
    ...Object.fromEntries(
      Object.entries(config.investigate.queries).filter(([, value]) => value !== undefined),
    ),
  };
  const rules = { now: () => clock.now(), ...(Object.keys(queries).length > 0 ? { queries } : {}) };
  const planner: Planner =
    useClaude && anthropic.apiKey
      ? createClaudePlanner({
          apiKey: anthropic.apiKey.reveal(),
          baseUrl: anthropic.baseUrl,
          fastModel: anthropic.fastModel,
          deepModel: anthropic.deepModel,
          rules,
        })
      : createRulesPlanner(rules);

  const journal = new IncidentJournal(redis, prefix);
  const patterns = new PatternStore(redis, `${prefix}:learn`);
  const pagerdutySettings = config.integrations.pagerduty;
  const pagerduty =
    pagerdutySettings.enabled && pagerdutySettings.routingKey
      ? new PagerDutyEventsClient({
          routingKey: pagerdutySettings.routingKey,
          eventsUrl: pagerdutySettings.eventsUrl,
          ...(config.server.publicUrl ? { clientUrl: config.server.publicUrl } : {}),
          logger,
        })
      : undefined;

  // Slack's callbacks reach the loop, which is built after them.
  const late: { pipeline?: Pipeline } = {};
  const slackSettings = config.integrations.slack;
  const slack =
    slackSettings.enabled && slackSettings.botToken && slackSettings.signingSecret
      ? createSlackApp({
          botToken: slackSettings.botToken,
          signingSecret: slackSettings.signingSecret,
          apiUrl: slackSettings.apiUrl,
          channel: slackSettings.channel,
          redis,
          keyPrefix: `${prefix}:`,
          logger,
          clock,
          approvalTtlMs: config.approvals.ttlMs,
          expirySweepMs: config.approvals.sweepMs,
          ...(slackSettings.messageChannels ? { messageChannels: slackSettings.messageChannels } : {}),
          ...(slackSettings.commandUsers ? { commandUsers: slackSettings.commandUsers } : {}),
          onDecision: async ({ approvalId, decision, by, incidentId }) => {
            const match = /^(.+)\.r(\d+)\.p(\d+)$/.exec(approvalId);
            const pipeline = late.pipeline;
            if (!match || !pipeline) return;
            // A person engaged with the incident: its page, if it has one, is acknowledged.
            const entry = await journal.get(incidentId);
            if (pagerduty && ((entry.escalations ?? []).length > 0 || entry.pagedAt !== undefined))
              await pagerduty
                .acknowledge(incidentId)
                .catch((error: unknown) =>
                  logger.warn({ err: describeError(error), incidentId }, 'could not acknowledge the page'),
                );
            if (decision === 'approved') {
              const answer = await pipeline.approve(match[1] as string, Number(match[3]), by);
              if ('error' in answer) logger.warn({ approvalId, error: answer.error }, 'approval not applied');
            } else {
              const incident = await pipeline.incidents.get(incidentId);
              if (incident) await deps.escalate(incident, `${by} rejected the proposed action`);
            }
          },
          onExpired: async (record) => {
            const incident = await late.pipeline?.incidents.get(record.incidentId);
            if (incident) await deps.escalate(incident, `nobody approved "${record.title}" in time`);
          },
          onKillSwitch: ({ action, by }) => controls.setKillSwitch(action === 'pause', `slack:${by}`),
          onMessage: async (delivery) => {
            const parsed = parseSlack(
              delivery.envelope,
              {},
              {
                receivedAt: delivery.receivedAt,
                digest: delivery.digest,
              },
            );
            if ('error' in parsed) return;
            if (parsed.ok.length > 0)
              await options.sink.accept(redact<Signal[]>(parsed.ok).value, { channel: 'slack/events' });
          },
        })
      : undefined;

  // The Slack messages ingested, for the mentions poller to read what they name and state.
  const slackMessages =
    slack && slackSettings.learnFromMessages
      ? redisSlackMessageLog({ connection: redis, prefix })
      : undefined;
  const deps = createLoopDeps({
    graph,
    clock,
    logger,
    journal,
    patterns,
    investigation: { tools, planner },
    executor,
    ...(prometheus.url
      ? {
          check: prometheusSymptomCheck({
            url: prometheus.url,
            graph,
            errorsQuery: prometheus.errorsQuery,
            requestsQuery: prometheus.requestsQuery,
          }),
        }
      : {}),
    ...(options.verifyWindow ? { verifyWindow: options.verifyWindow } : {}),
    ...(slack ? { slack } : {}),
    ...(slackMessages ? { slackMessages } : {}),
    ...(pagerduty ? { pagerduty } : {}),
    environment: config.policy.environment,
    cluster: config.ingest.cluster,
    reinvestigate: { times: config.investigate.retries, delayMs: config.investigate.retryDelayMs },
    postmortemDir: join(config.dataDir, 'postmortems'),
    ...(config.server.publicUrl ? { publicUrl: config.server.publicUrl } : {}),
  });
  const silences = configuredSilences(config.loop.silences);
  const pipeline = createPipeline({
    connection: redis,
    prefix,
    graph,
    logger,
    clock,
    deps,
    settings: {
      verifyDelayMs: config.loop.verifyDelayMs,
      digestEveryMs: config.loop.digestEveryMs,
      transientHoldMs: config.loop.transientHoldMs,
      correlation: { windowMs: config.loop.correlationWindowMs, hops: config.loop.correlationHops },
      severity: {
        blastRadiusDepth: config.loop.blastRadiusDepth,
        earlyWarningHorizonMs: config.loop.earlyWarningHorizonMs,
      },
      noise: {
        flapWindowMs: config.loop.flapWindowMs,
        flapThreshold: config.loop.flapThreshold,
        silences,
        learn: config.loop.learnNoise,
      },
    },
    ...(options.registry ? { registry: options.registry } : {}),
  });

  const pollers = createPollers(pollerSettings(config), {
    ...(datadog.enabled && datadog.apiKey && datadog.appKey
      ? {
          datadog: datadogConfiguration({
            apiKey: datadog.apiKey,
            appKey: datadog.appKey,
            baseUrl: datadog.baseUrl,
          }),
        }
      : {}),
    // Read at each poll: Services and their objectives appear in the graph as they are watched.
    objectives: graphObjectivesLookup(config.ingest.objectives),
    ...(slackMessages ? { slackFeed: slackMessages } : {}),
  });
  if (flagsSettings.url) {
    pollers.pollers.push(
      flagsPoller({
        url: flagsSettings.url,
        ...(flagsSettings.token ? { token: flagsSettings.token.reveal() } : {}),
      }),
    );
    pollers.schedules.push({ poller: 'flags', everyMs: config.ingest.pollIntervalMs });
  }
  for (const skipped of pollers.skipped) logger.warn({ poller: skipped }, 'poller left out');
  const stages: Array<StageDefinition<never>> = [...pipeline.stages];
  if (pollers.pollers.length > 0)
    stages.push(
      pollerStage(pollers.pollers, {
        graph,
        sink: options.sink,
        states: new RedisPollStateStore(redis, prefix),
        clock,
        logger,
      }) as unknown as StageDefinition<never>,
    );
  let pollQueue: Queue | undefined;

  const routes: RouteInstaller[] = [];
  const mcp = mcpRoutes({
    config,
    graph,
    policies: () => policies,
    policiesDir: policyDir,
    killSwitch: () => controls.current().killSwitch,
    actionLog: executor.actionLog,
    clock,
    logger,
  });
  if (mcp) routes.push(mcp);
  if (config.approvals.apiToken) {
    routes.push(controlsApiRoutes({ controls, token: config.approvals.apiToken }));
    routes.push(
      silencesApiRoutes({
        noise: pipeline.noise,
        configured: silences,
        token: config.approvals.apiToken,
        clock,
      }),
    );
  }
  if (slack) {
    routes.push(slack.routes);
    if (config.approvals.apiToken)
      routes.push(
        approvalsApiRoutes({ approvals: slack.approvals, token: config.approvals.apiToken, logger }),
      );
  }

  let leader: LeaderElection | undefined;
  let watchers: KubernetesIngest | undefined;
  const stopWatchers = async (): Promise<void> => {
    const running = watchers;
    watchers = undefined;
    await running?.stop();
  };

  late.pipeline = pipeline;
  const built = pipeline;
  return {
    pipeline: built,
    stages,
    routes,
    controls,
    journal,
    ...(slack ? { slack } : {}),
    async start() {
      await slack?.start();
      await built.start();
      if (pollers.schedules.length > 0) {
        pollQueue = new Queue(POLL_QUEUE, { connection: redis, prefix });
        await schedulePollers(pollQueue, pollers.schedules);
      }
      if (!kubeConfig) return;
      leader = startLeaderElection({
        connection: redis,
        name: 'watchers',
        prefix,
        owner: `${hostname()}-${process.pid}`,
        ttlMs: 15_000,
        logger,
        onElected: (token) => {
          // Both refuse work once a newer leader has claimed the fence (docs/loop.md).
          const detector = createKubernetesDetector({
            sink: options.sink,
            cluster: config.ingest.cluster,
            clock,
            logger,
            redis,
            prefix,
            token,
          });
          watchers = startKubernetesIngest({
            kubeConfig,
            cluster: config.ingest.cluster,
            graph,
            logger,
            clock,
            onSnapshot: (snapshot) => detector.onSnapshot(snapshot),
            fence: () => acceptFencedWrite(redis, prefix, KUBERNETES_FENCE, token),
          });
          watchers.ready.catch((error: unknown) => {
            // A failover during the first sync is routine: the newer leader's watchers carry on.
            if (error instanceof FencedOutError)
              logger.warn(
                'a newer leader took over before these Kubernetes watchers finished their first sync',
              );
            else logger.error({ err: describeError(error) }, 'the Kubernetes watchers did not start');
          });
        },
        onDeposed: stopWatchers,
      });
    },
    watchersReady: () => watchers?.stats().ready ?? false,
    async stop() {
      watcher.close();
      controls.stop();
      await leader?.stop();
      await stopWatchers();
      await slack?.stop();
      await built.stop();
      await pollQueue?.close();
      await external.connections.close();
      await audit.close();
    },
  };
}
