import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { stringify } from 'yaml';
import { join, resolve } from 'node:path';
import { build, type App } from '../app/build.js';
import type { IncidentJournalEntry } from '../app/agent/journal.js';
import { loadConfig } from '../config/index.js';
import type { GraphStore } from '../graph/store.js';
import type { Incident } from '../loop/pipeline-types.js';
import type { Logger } from '../shared/logger.js';
import { describeError } from '../shared/errors.js';
import { silentLogger } from '../shared/logger.js';
import type { Scenario } from '../sim/scenario/load.js';
import { startSim, type Sim } from '../sim/sim.js';
import { scenarioGraph, type ScenarioGraphOptions } from './scenario-graph.js';
import type { ObservedAction, ObservedCause, ObservedIncident, ObservedRun } from './observed.js';

/** Something that happened during a run, for a live view (the demo) or a log. */
export type StoryEvent =
  | { kind: 'ready'; simUrl: string; daemonUrl: string }
  | { kind: 'incident'; incident: Incident }
  | { kind: 'transition'; incident: Incident; from: string; to: string; by: string; reason: string }
  | { kind: 'note'; incident: Incident; what: string; reason: string }
  | { kind: 'investigation'; incident: Incident; journal: NonNullable<IncidentJournalEntry['investigation']> }
  | { kind: 'learned'; incident: Incident; patternKey: string; cause?: string; fix?: string }
  | { kind: 'done'; observed: ObservedRun };

/** How to run one scenario. */
export interface RunScenarioOptions {
  scenario: Scenario;
  redisUrl: string;
  /** A fresh directory for the sim's repositories, the graph and the audit log. */
  dataDir: string;
  /** BullMQ prefix; default a random one, so runs never share queues. */
  prefix?: string;
  /** Default embedded; on Neo4j the run has a namespace of its own, emptied after it. */
  graph?: ScenarioGraphOptions;
  planner?: 'rules' | 'claude';
  /** Anthropic key for `planner: claude` (the real API, or the sim's scripted one when `anthropicUrl` is set). */
  anthropic?: { apiKey: string; baseUrl?: string };
  /** Sim seconds per wall second; default the scenario's. */
  speed?: number;
  /** Policies; default the scenario's `policy`, else the shipped `policies/`. */
  policyDir?: string;
  /** Longest wall time to wait for the story to end; default from the scenario. */
  timeoutMs?: number;
  logger?: Logger;
  onEvent?: (event: StoryEvent) => void;
  signal?: AbortSignal;
}

/** Everything a run left behind, for scoring and for the demo's closing lines. */
export interface ScenarioRun {
  observed: ObservedRun;
  incidents: Incident[];
  journals: Record<string, IncidentJournalEntry>;
  /** What reached the sim's PagerDuty: `action dedupKey`, in order. */
  pages: string[];
  dataDir: string;
}

const TERMINAL = new Set(['resolved', 'escalated']);

/** The name of the service, workload or node a graph id points at; flags resolve to their service. */
export async function suspectName(id: string, graph: GraphStore): Promise<string> {
  // A Job's name carries its run; the app it belongs to is what a scenario names.
  if (/\/(?:Job|CronJob)\//.test(id)) {
    const app = (await graph.get(id).catch(() => undefined))?.properties.app;
    if (typeof app === 'string' && app) return app;
  }
  const k8s = /\/(?:Deployment|StatefulSet|DaemonSet|Job|Pod|Node)\/([^/]+)/.exec(id);
  if (k8s?.[1]) return k8s[1];
  const service = /^service:(.+)$/.exec(id);
  if (service?.[1]) return service[1];
  const entity = await graph.get(id).catch(() => undefined);
  const owner = entity?.properties.service;
  if (typeof owner === 'string') return owner;
  return entity?.name ?? id.split(/[/:]/).pop() ?? id;
}

function defaultTimeout(scenario: Scenario, speed: number): number {
  const last = Math.max(0, ...scenario.timeline.map((entry) => entry.at));
  const settle = scenario.expect.mitigatedWithin ?? 300_000;
  return Math.min(240_000, Math.max(60_000, (last + settle + 120_000) / speed));
}

/**
 * Runs one scenario end to end: starts the sim with its estate and timeline, then the whole
 * daemon against it (real Redis and BullMQ, the chosen graph, webhooks from the sim's
 * Alertmanager, the sim's Slack on-call answering approvals), and watches until every incident
 * has ended and the timeline is over, or the time is up. The daemon's clock is the sim's.
 */
export async function runScenario(options: RunScenarioOptions): Promise<ScenarioRun> {
  const { scenario } = options;
  const logger = options.logger ?? silentLogger();
  const speed = options.speed ?? scenario.speed;
  const started = Date.now();
  const sim: Sim = await startSim({
    estate: scenario.estate,
    scenario,
    dataDir: join(options.dataDir, 'sim'),
    speed,
    paused: true,
    logger,
  });
  let app: App | undefined;
  const runGraph = scenarioGraph(options.graph);
  try {
    const alertmanagerToken = randomBytes(16).toString('hex');
    const vendors = sim.vendors;
    if (!vendors) throw new Error('the sim started without its vendor servers');
    const env: Record<string, string> = {
      NIGHTSHIFT_PORT: '0',
      NIGHTSHIFT_DATA_DIR: join(options.dataDir, 'daemon'),
      NIGHTSHIFT_LOG_LEVEL: 'silent',
      REDIS_URL: options.redisUrl,
      NIGHTSHIFT_QUEUE_PREFIX: options.prefix ?? `nseval:${randomBytes(4).toString('hex')}`,
      NIGHTSHIFT_KUBERNETES_MODE: 'kubeconfig',
      KUBECONFIG: sim.kubernetes.kubeconfigPath,
      NIGHTSHIFT_CLUSTER_NAME: sim.world.clusterName(),
      NIGHTSHIFT_ENVIRONMENT: scenario.estate.environment ?? 'prod',
      PROMETHEUS_URL: vendors.urls.prometheus,
      NIGHTSHIFT_PROMETHEUS_ERRORS_QUERY: 'sum(nightshift_sim_errors{service="$service"})',
      NIGHTSHIFT_PROMETHEUS_REQUESTS_QUERY: 'sum(nightshift_sim_rps{service="$service"})',
      NIGHTSHIFT_FLAGS_URL: sim.flags.url,
      NIGHTSHIFT_SLACK_ENABLED: 'true',
      SLACK_BOT_TOKEN: 'xoxb-sim-token',
      SLACK_SIGNING_SECRET: 'sim-signing-secret',
      SLACK_API_URL: vendors.urls.slackApi,
      NIGHTSHIFT_PAGERDUTY_ENABLED: 'true',
      PAGERDUTY_ROUTING_KEY: 'simroutingkey0000000000000000000',
      PAGERDUTY_EVENTS_URL: `${vendors.urls.pagerduty}/v2/enqueue`,
      NIGHTSHIFT_ALERTMANAGER_TOKEN: alertmanagerToken,
      NIGHTSHIFT_VERIFY_DELAY_MS: String(Math.max(500, Math.round(60_000 / speed))),
      // Warnings that clear within 150 s (sim) are transients: longer than the flapping alerts of the
      // scenarios stay up, as docs/loop.md recommends for noisy warning sources.
      NIGHTSHIFT_LOOP_TRANSIENT_HOLD_MS: String(Math.round(150_000 / speed)),
      NIGHTSHIFT_POLICY_DIR:
        options.policyDir ??
        (scenario.policy ? resolve(scenario.policy) : resolve(import.meta.dirname, '../../policies')),
      NIGHTSHIFT_INVESTIGATE_PLANNER: options.planner ?? 'rules',
      NIGHTSHIFT_POLL_INTERVAL_MS: String(Math.max(500, Math.round(60_000 / speed))),
      NIGHTSHIFT_INVESTIGATE_RETRY_DELAY_MS: String(Math.round(60_000 / speed)),
      ...runGraph.env,
      ...(options.anthropic
        ? {
            ANTHROPIC_API_KEY: options.anthropic.apiKey,
            ...(options.anthropic.baseUrl ? { ANTHROPIC_BASE_URL: options.anthropic.baseUrl } : {}),
          }
        : {}),
    };
    // The sim keeps a real git repository per service: the daemon follows them like local clones.
    const gitRepos = sim.world
      .services()
      .flatMap((service) =>
        service.repo && service.repoPath
          ? [{ name: service.repo, path: service.repoPath, services: [service.name] }]
          : [],
      );
    const configFile = join(options.dataDir, 'nightshift.yaml');
    // The sim's Prometheus names its series after the world's metrics (docs/sim.md).
    const investigate = {
      queries: {
        latency: 'max(nightshift_sim_latency_p99_ms{service="$service"})',
        cpu: 'sum(nightshift_sim_cpu{service="$service"})',
        memory: 'sum(nightshift_sim_memory_mi{service="$service"})',
      },
    };
    // The sim's leaks fill a container in minutes, not hours: the forecast fits a shorter window.
    const headroom = {
      prometheusQuery: 'max(container_memory_working_set_bytes{service="$service"})',
      fitWindowMs: 180_000,
      horizonMs: 1_800_000,
    };
    writeFileSync(configFile, stringify({ ingest: { gitRepos, headroom }, investigate }));
    const config = loadConfig({ env, cwd: options.dataDir, file: configFile });
    app = build(config, {
      logger,
      clock: { now: () => sim.world.now() },
      verifyWindow: {
        windowMs: 300_000,
        intervalMs: Math.max(200, Math.round(10_000 / speed)),
        healthyChecks: 2,
      },
    });
    const { url } = await app.start();
    vendors.connectDaemon({
      slackEventsUrl: `${url}/slack/events`,
      slackInteractionsUrl: `${url}/slack/interactions`,
      alertmanagerUrl: `${url}/webhooks/alertmanager`,
      alertmanagerToken,
    });
    const agent = app.agent();
    if (!agent) throw new Error('the daemon started without its agent');
    // The estate's clock starts once the watchers hold the first picture: a fault injected before
    // that would be part of the picture, not a change the daemon saw happen.
    const watchDeadline = Date.now() + 30_000;
    while (!agent.watchersReady()) {
      if (Date.now() > watchDeadline)
        throw new Error("the daemon's Kubernetes watchers did not sync within 30 s");
      await new Promise((done) => setTimeout(done, 50));
    }
    options.onEvent?.({ kind: 'ready', simUrl: sim.kubernetes.url, daemonUrl: url });
    sim.world.clock.start();

    const graph = app.graph();
    const seen = new Map<
      string,
      { transitions: number; notes: number; investigated: boolean; learned: boolean }
    >();
    const timelineEnd = sim.world.startedAt() + Math.max(0, ...scenario.timeline.map((entry) => entry.at));
    const deadline = Date.now() + (options.timeoutMs ?? defaultTimeout(scenario, speed));
    let incidents: Incident[] = [];
    let quietSince: number | undefined;
    while (Date.now() < deadline && !options.signal?.aborted) {
      incidents = await agent.pipeline.incidents.list({});
      for (const incident of incidents) {
        let known = seen.get(incident.id);
        if (!known) {
          known = { transitions: 0, notes: 0, investigated: false, learned: false };
          seen.set(incident.id, known);
          options.onEvent?.({ kind: 'incident', incident });
        }
        if (!known.investigated) {
          const journal = await agent.journal.get(incident.id);
          if (journal.investigation) {
            known.investigated = true;
            options.onEvent?.({ kind: 'investigation', incident, journal: journal.investigation });
          }
        }
        for (const transition of incident.transitions.slice(known.transitions))
          options.onEvent?.({
            kind: 'transition',
            incident,
            from: transition.from,
            to: transition.to,
            by: `${transition.by.kind}:${transition.by.id}`,
            reason: transition.reason,
          });
        known.transitions = incident.transitions.length;
        for (const note of incident.notes.slice(known.notes))
          options.onEvent?.({ kind: 'note', incident, what: note.what, reason: note.reason });
        known.notes = incident.notes.length;
        if (!known.learned && TERMINAL.has(incident.state)) {
          const entity = await graph.get(incident.id);
          const patternKey = entity?.properties.patternKey;
          if (typeof patternKey === 'string') {
            known.learned = true;
            const { cause, fix } = entity?.properties ?? {};
            options.onEvent?.({
              kind: 'learned',
              incident,
              patternKey,
              ...(typeof cause === 'string' ? { cause } : {}),
              ...(typeof fix === 'string' ? { fix } : {}),
            });
          }
        }
      }
      const settled =
        // A fault late in the timeline gets the time the scenario allows for detecting it.
        sim.world.now() > timelineEnd + Math.max(60_000, scenario.expect.detectWithin ?? 300_000) &&
        incidents.every((incident) => TERMINAL.has(incident.state)) &&
        (incidents.length > 0 || scenario.expect.incident === false);
      if (settled) {
        quietSince ??= Date.now();
        const learned = [...seen.values()].every((known) => known.learned);
        if (Date.now() - quietSince > (learned ? 500 : 6_000)) break;
      } else quietSince = undefined;
      await new Promise((done) => setTimeout(done, 200));
    }

    const journals: Record<string, IncidentJournalEntry> = {};
    for (const incident of incidents) journals[incident.id] = await agent.journal.get(incident.id);
    const firstFault = scenario.timeline.find((entry) => 'fault' in entry && entry.fault);
    const faultAt = sim.world.startedAt() + (firstFault?.at ?? 0);
    // Oldest first: the first incident's causes and decisions are what a scenario expects.
    const inOrder = [...incidents].sort((a, b) => a.firstReceivedAt - b.firstReceivedAt);
    const first = inOrder[0];
    const causes: ObservedCause[] = [];
    const actions: ObservedAction[] = [];
    let toolCalls = 0;
    const tokens = { input: 0, output: 0 };
    let diagnoseWallMs: number | undefined;
    for (const incident of inOrder) {
      const journal = journals[incident.id] ?? {};
      if (journal.investigation) {
        toolCalls += journal.investigation.toolCalls;
        tokens.input += journal.investigation.tokens.input;
        tokens.output += journal.investigation.tokens.output;
        if (incident === first || causes.length === 0)
          for (const cause of journal.investigation.causes)
            causes.push({
              category: cause.category,
              suspect: await suspectName(cause.suspect, graph),
              confidence: cause.confidence,
            });
        diagnoseWallMs ??= Math.max(0, (journal.investigation.at - incident.firstReceivedAt) / speed);
      }
      for (const decision of journal.decisions ?? []) {
        const executed =
          journal.execution?.action === decision.action &&
          journal.execution.target === decision.target &&
          (journal.execution.status === 'executed' || journal.execution.status === 'duplicate');
        const name = decision.target.split('/').pop() ?? decision.target;
        // A flag is set on behalf of the service that reads it: that is the target scenarios name.
        const flag =
          decision.action === 'flags.set'
            ? (await graph.find({ kind: 'FeatureFlag', where: { key: name }, limit: 1 }))[0]
            : undefined;
        const owner = flag?.properties.service;
        actions.push({
          action: decision.action,
          target: typeof owner === 'string' ? owner : name,
          mode: decision.decision.mode,
          executed,
        });
      }
    }
    const perIncident: ObservedIncident[] = inOrder.map((incident) => {
      const journal = journals[incident.id] ?? {};
      const investigation = journal.investigation;
      const top = investigation?.causes[0];
      const mode = journal.decisions?.[0]?.decision.mode;
      return {
        openedSimMs: Math.max(0, incident.firstReceivedAt - faultAt),
        ...(investigation ? { diagnoseSimMs: Math.max(0, investigation.at - incident.firstReceivedAt) } : {}),
        toolCalls: investigation?.toolCalls ?? 0,
        ...(top ? { category: top.category } : {}),
        ...(mode ? { mode } : {}),
      };
    });
    const faults = sim.world.faults().filter((fault) => fault.kind !== 'flapping');
    const mitigated = faults.length > 0 && faults.every((fault) => fault.mitigated);
    const cleared = faults.flatMap((fault) => (fault.clearedAt !== undefined ? [fault.clearedAt] : []));
    const observed: ObservedRun = {
      incidents: incidents.length,
      ...(first ? { detectSimMs: Math.max(0, first.firstReceivedAt - faultAt) } : {}),
      causes,
      actions,
      escalated:
        incidents.some((incident) => incident.state === 'escalated') ||
        Object.values(journals).some((journal) => (journal.escalations ?? []).length > 0),
      mitigated,
      ...(mitigated && cleared.length > 0 ? { mitigateSimMs: Math.max(...cleared) - faultAt } : {}),
      toolCalls,
      tokens,
      wallMs: Date.now() - started,
      ...(diagnoseWallMs !== undefined ? { diagnoseWallMs } : {}),
      perIncident,
    };
    options.onEvent?.({ kind: 'done', observed });
    const pages = vendors.pagerduty.events.map((event) => `${event.action} ${event.dedupKey}`);
    return { observed, incidents, journals, pages, dataDir: options.dataDir };
  } finally {
    await app?.stop();
    await sim.stop();
    // The namespace is the run's alone: failing to empty it leaves data behind, not a wrong result.
    await runGraph
      .dispose()
      .catch((error: unknown) =>
        logger.warn(
          { namespace: runGraph.namespace, error: describeError(error) },
          "could not empty the run's graph namespace",
        ),
      );
  }
}
