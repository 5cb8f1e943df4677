import type { client } from '@datadog/datadog-api-client';
import type { Secret } from '../../shared/secret.js';
import type { ErrorBurstOptions } from './datadog/error-bursts.js';
import { datadogMetricSource } from './datadog/datadog-api.js';
import { datadogPoller } from './datadog/datadog-poller.js';
import type { MonitorOptions } from './datadog/monitors.js';
import { gitPoller, type GitRepoConfig } from './git/git-poller.js';
import { logPatternPoller } from './logs/log-pattern-poller.js';
import { datadogLogSource } from './logs/log-source.js';
import {
  DATADOG_APM_TEMPLATES,
  deriveSloQueries,
  type ServiceObjectives,
  type SloQueryInput,
  type SloTemplates,
} from './metrics/slo-query.js';
import {
  combineSloQueries,
  resolvePerPoll,
  servicesWithObjectives,
  type ObjectivesSource,
  type PerPoll,
} from './objectives.js';
import type { JsonValue, Poller } from './poller.js';
import { headroomPoller, type HeadroomOptions } from './metrics/headroom-poller.js';
import { prometheusMetricSource } from './prometheus/prometheus-api.js';
import { prometheusPoller } from './prometheus/prometheus-poller.js';
import type { PollSchedule } from './run-poll.js';
import { slackMentionsPoller, type SlackMessageFeed } from './slack/slack-mentions.js';

const MINUTE = 60_000;

/** The pollers' settings, as `docs/ingest.md` (Pollers) proposes them; absent parts are off. */
export interface PollerSettings {
  git?: {
    repos: readonly GitRepoConfig[];
    intervalMs?: number;
    initialCommits?: number;
    linkWindowMs?: number;
  };
  datadog?: {
    intervalMs?: number;
    /** Derive SLO queries from the services' objectives with the APM templates. Default true. */
    deriveSlos?: boolean;
    sloQueries?: readonly SloQueryInput[];
    lookbackMs?: number;
    /** Error bursts; `services` defaults to the services with objectives. */
    errorBursts?: Omit<ErrorBurstOptions, 'services'> & { services?: readonly string[]; enabled?: boolean };
    monitors?: MonitorOptions;
  };
  prometheus?: {
    url: string;
    bearerToken?: Secret;
    intervalMs?: number;
    stepMs?: number;
    lookbackMs?: number;
    sloQueries?: readonly SloQueryInput[];
    /** Derive SLO queries from the objectives with these templates. */
    templates?: SloTemplates;
  };
  logs?: {
    /** Default: the services with objectives. */
    services?: readonly string[];
    intervalMs?: number;
    query?: string;
    deployWindowMs?: number;
    minBaselineMs?: number;
    delayMs?: number;
  };
  slack?: { workspaceUrl?: string; intervalMs?: number };
  /** Memory forecasts against each workload's limit, read from `prometheus` when set, else from Datadog. */
  headroom?: Omit<HeadroomOptions, 'metrics' | 'memoryQuery'> & {
    intervalMs?: number;
    prometheus?: { url: string; bearerToken?: Secret };
    prometheusQuery: string;
    datadogQuery: string;
  };
}

/** Clients and knowledge the pollers are built from. */
export interface PollerResources {
  /** A Datadog client configuration (`datadogConfiguration`) when Datadog is enabled. */
  datadog?: client.Configuration;
  /**
   * The services and their objectives: a fixed list (the estate's), or a lookup read at each poll
   * (`graphObjectivesLookup`: the graph's Services, as they are watched).
   */
  objectives: ObjectivesSource;
  /** Where Slack message signals are read from, when mentions are extracted by polling. */
  slackFeed?: SlackMessageFeed;
}

/** The pollers to run, their schedules, and why configured ones were left out. */
export interface BuiltPollers {
  pollers: Array<Poller<JsonValue>>;
  schedules: PollSchedule[];
  skipped: string[];
}

/**
 * Builds the configured pollers and their schedules (every poller defaults to once a minute).
 * A part that needs a client it was not given is left out and named in `skipped` (for the log and
 * health), never silently replaced.
 */
export function createPollers(settings: PollerSettings, resources: PollerResources): BuiltPollers {
  const built: BuiltPollers = { pollers: [], schedules: [], skipped: [] };
  const add = (poller: Poller<JsonValue>, intervalMs: number | undefined): void => {
    built.pollers.push(poller);
    built.schedules.push({ poller: poller.name, everyMs: intervalMs ?? MINUTE });
  };
  const objectives = resources.objectives;
  const fixed = typeof objectives === 'function' ? undefined : objectives;
  /** What `derive` makes of the objectives, fixed when they are, else read at each poll. */
  const fromObjectives = <T>(derive: (list: readonly ServiceObjectives[]) => T): PerPoll<T> =>
    fixed ? derive(fixed) : async (context) => derive(await resolvePerPoll(objectives, context));
  /** Derived SLO queries with the explicit ones laid over them (explicit win on the same id). */
  const sloQueries = (
    templates: SloTemplates | undefined,
    explicit: readonly SloQueryInput[],
  ): PerPoll<readonly SloQueryInput[]> => {
    const checked = combineSloQueries([], explicit); // a bad explicit query refuses start
    return templates
      ? fromObjectives((list) => combineSloQueries(deriveSloQueries(list, templates), checked))
      : checked;
  };
  const withObjectives = fromObjectives(servicesWithObjectives);

  if (settings.git && settings.git.repos.length > 0) {
    add(
      gitPoller({
        repos: settings.git.repos,
        ...(settings.git.initialCommits !== undefined ? { initialCommits: settings.git.initialCommits } : {}),
        ...(settings.git.linkWindowMs !== undefined ? { linkWindowMs: settings.git.linkWindowMs } : {}),
      }),
      settings.git.intervalMs,
    );
  }

  const datadog = settings.datadog;
  if (datadog && !resources.datadog) built.skipped.push('datadog: Datadog is not enabled');
  if (datadog && resources.datadog) {
    const bursts = datadog.errorBursts;
    const burstServices = bursts?.services ?? withObjectives;
    add(
      datadogPoller({
        configuration: resources.datadog,
        sloQueries: sloQueries(
          datadog.deriveSlos === false ? undefined : DATADOG_APM_TEMPLATES,
          datadog.sloQueries ?? [],
        ),
        ...(datadog.lookbackMs !== undefined ? { lookbackMs: datadog.lookbackMs } : {}),
        ...(bursts?.enabled !== false && (typeof burstServices === 'function' || burstServices.length > 0)
          ? { errorBursts: { ...bursts, services: burstServices } }
          : {}),
        ...(datadog.monitors ? { monitors: datadog.monitors } : {}),
      }),
      datadog.intervalMs,
    );
  }

  const prometheus = settings.prometheus;
  if (prometheus) {
    const queries = sloQueries(prometheus.templates, prometheus.sloQueries ?? []);
    if (Array.isArray(queries) && queries.length === 0)
      built.skipped.push('prometheus: no SLO queries and no templates to derive them');
    else
      add(
        prometheusPoller({
          url: prometheus.url,
          sloQueries: queries,
          ...(prometheus.bearerToken ? { bearerToken: prometheus.bearerToken } : {}),
          ...(prometheus.stepMs !== undefined ? { stepMs: prometheus.stepMs } : {}),
          ...(prometheus.lookbackMs !== undefined ? { lookbackMs: prometheus.lookbackMs } : {}),
        }),
        prometheus.intervalMs,
      );
  }

  const logs = settings.logs;
  if (logs && !resources.datadog)
    built.skipped.push('logs: log patterns read Datadog logs, and Datadog is not enabled');
  if (logs && resources.datadog) {
    add(
      logPatternPoller({
        services: logs.services ?? withObjectives,
        source: datadogLogSource(resources.datadog, logs.query ? { query: logs.query } : {}),
        ...(logs.deployWindowMs !== undefined ? { deployWindowMs: logs.deployWindowMs } : {}),
        ...(logs.minBaselineMs !== undefined ? { minBaselineMs: logs.minBaselineMs } : {}),
        ...(logs.delayMs !== undefined ? { delayMs: logs.delayMs } : {}),
      }),
      logs.intervalMs,
    );
  }

  const headroom = settings.headroom;
  if (headroom) {
    const { intervalMs, prometheus: server, prometheusQuery, datadogQuery, ...forecast } = headroom;
    if (server)
      add(
        headroomPoller({
          ...forecast,
          memoryQuery: prometheusQuery,
          metrics: prometheusMetricSource(server),
        }),
        intervalMs,
      );
    else if (resources.datadog)
      add(
        headroomPoller({
          ...forecast,
          memoryQuery: datadogQuery,
          metrics: datadogMetricSource(resources.datadog),
        }),
        intervalMs,
      );
    else built.skipped.push('headroom: neither Prometheus nor Datadog is configured');
  }

  if (settings.slack && !resources.slackFeed) built.skipped.push('slack-mentions: no Slack message feed');
  if (settings.slack && resources.slackFeed) {
    add(
      slackMentionsPoller({
        feed: resources.slackFeed,
        ...(settings.slack.workspaceUrl ? { workspaceUrl: settings.slack.workspaceUrl } : {}),
      }),
      settings.slack.intervalMs,
    );
  }
  return built;
}
