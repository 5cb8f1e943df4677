import type { Logger } from '../../shared/logger.js';
import { silentLogger } from '../../shared/logger.js';
import { AlertmanagerSender, type AlertmanagerSenderOptions } from './alertmanager/sender.js';
import { loadAnthropicScript, type AnthropicScriptInput } from './anthropic/script.js';
import { startAnthropicServer, type AnthropicServer } from './anthropic/server.js';
import { DaemonDeliveries, type DaemonDelivery, type DaemonEndpoints } from './daemon-deliveries.js';
import { startDatadogServer, type DatadogServer } from './datadog/server.js';
import { startPagerDutyServer, type PagerDutyServer } from './pagerduty/server.js';
import { startPrometheusServer, type PrometheusServer } from './prometheus/server.js';
import { startSlackServer, type SlackServer, type SlackServerOptions } from './slack/server.js';
import type { VendorWorld } from './source.js';

export type { DaemonDelivery, DaemonEndpoints } from './daemon-deliveries.js';
export type { VendorWorld } from './source.js';

/** Options of the whole vendor estate; every part has defaults. */
export interface VendorServersOptions {
  /** Loopback address to listen on. Default 127.0.0.1. */
  host?: string;
  logger?: Logger;
  /** Where the daemon listens; can be set later with `connectDaemon`. */
  daemon?: DaemonEndpoints;
  datadog?: { apiKey?: string; appKey?: string };
  prometheus?: { lookbackMs?: number; resolutionMs?: number };
  /** Slack server options; `approvals` defaults to the world's. The daemon URLs come from `daemon`. */
  slack?: Omit<SlackServerOptions, 'host' | 'port' | 'logger' | 'eventsUrl' | 'interactionsUrl'>;
  anthropic?: { apiKey?: string; script?: AnthropicScriptInput; scriptPath?: string };
  /** The rule evaluator; `enabled: false` leaves the loop off (explicit alerts still go out). */
  alertmanager?: Omit<AlertmanagerSenderOptions, 'url' | 'bearerToken' | 'logger'> & { enabled?: boolean };
}

/** Base URLs to give the daemon's clients. */
export interface VendorUrls {
  /** Datadog API base (`baseServer` of the Datadog client). */
  datadog: string;
  /** Prometheus base (`…/api/v1/query` lives under it). */
  prometheus: string;
  /** Slack Web API base with trailing slash (`slackApiUrl`). */
  slackApi: string;
  /** PagerDuty Events API base (`…/v2/enqueue`). */
  pagerduty: string;
  /** Anthropic base (`baseURL` of the SDK). */
  anthropic: string;
}

/** The running vendor estate. `stop()` stops everything; safe to call twice. */
export interface VendorServers {
  urls: VendorUrls;
  datadog: DatadogServer;
  prometheus: PrometheusServer;
  slack: SlackServer;
  pagerduty: PagerDutyServer;
  anthropic: AnthropicServer;
  alertmanager: AlertmanagerSender;
  /** Webhooks sent to the daemon for timeline entries (Slack messages, deploys, alerts). */
  readonly deliveries: readonly DaemonDelivery[];
  /** Points every delivery at the daemon (merged with what was given before). */
  connectDaemon(endpoints: DaemonEndpoints): void;
  /** Resolves once timeline deliveries and on-call clicks started so far are done. */
  idle(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Starts every vendor server of the simulated estate on free loopback ports (Datadog,
 * Prometheus, Slack, PagerDuty, Anthropic), the Alertmanager rule evaluator, and the
 * timeline deliveries to the daemon. Servers already started are stopped if a later one fails.
 */
export async function startVendorServers(
  world: VendorWorld,
  options: VendorServersOptions = {},
): Promise<VendorServers> {
  const logger = options.logger ?? silentLogger();
  const listen = { ...(options.host ? { host: options.host } : {}), logger };
  let endpoints: DaemonEndpoints = { ...options.daemon };
  const stops: Array<() => Promise<void>> = [];
  const stopAll = async (): Promise<void> => {
    for (const stop of stops.splice(0).reverse()) await stop().catch(() => undefined);
  };
  try {
    const script = options.anthropic?.scriptPath
      ? await loadAnthropicScript(options.anthropic.scriptPath)
      : (options.anthropic?.script ?? { steps: [] });
    const datadog = await startDatadogServer(world, { ...listen, ...options.datadog });
    stops.push(() => datadog.stop());
    const prometheus = await startPrometheusServer(world, { ...listen, ...options.prometheus });
    stops.push(() => prometheus.stop());
    const approvals = options.slack?.approvals ?? world.approvals?.();
    const slack = await startSlackServer(world, {
      ...listen,
      ...options.slack,
      ...(approvals ? { approvals } : {}),
      ...(endpoints.slackEventsUrl ? { eventsUrl: endpoints.slackEventsUrl } : {}),
      ...(endpoints.slackInteractionsUrl ? { interactionsUrl: endpoints.slackInteractionsUrl } : {}),
    });
    stops.push(() => slack.stop());
    const pagerduty = await startPagerDutyServer(world, listen);
    stops.push(() => pagerduty.stop());
    const anthropic = await startAnthropicServer(script, {
      ...listen,
      ...(options.anthropic?.apiKey ? { apiKey: options.anthropic.apiKey } : {}),
      ...(world.requestLog ? { requestLog: world.requestLog } : {}),
    });
    stops.push(() => anthropic.stop());
    const { enabled = true, ...senderOptions } = options.alertmanager ?? {};
    const alertmanager = new AlertmanagerSender(world, {
      generatorUrl: prometheus.url,
      ...senderOptions,
      ...(endpoints.alertmanagerUrl ? { url: endpoints.alertmanagerUrl } : {}),
      ...(endpoints.alertmanagerToken ? { bearerToken: endpoints.alertmanagerToken } : {}),
      logger,
    });
    if (enabled) alertmanager.start();
    stops.push(() => alertmanager.stop());
    const deliveries = new DaemonDeliveries(world, endpoints, { slack, alertmanager, logger });
    stops.push(() => Promise.resolve(deliveries.close()));

    return {
      urls: {
        datadog: datadog.url,
        prometheus: prometheus.url,
        slackApi: slack.apiUrl,
        pagerduty: pagerduty.url,
        anthropic: anthropic.url,
      },
      datadog,
      prometheus,
      slack,
      pagerduty,
      anthropic,
      alertmanager,
      deliveries: deliveries.deliveries,
      connectDaemon(next) {
        endpoints = { ...endpoints, ...next };
        if (endpoints.slackEventsUrl)
          slack.connectApp({
            eventsUrl: endpoints.slackEventsUrl,
            ...(endpoints.slackInteractionsUrl ? { interactionsUrl: endpoints.slackInteractionsUrl } : {}),
          });
        if (endpoints.alertmanagerUrl)
          alertmanager.connect({
            url: endpoints.alertmanagerUrl,
            ...(endpoints.alertmanagerToken ? { bearerToken: endpoints.alertmanagerToken } : {}),
          });
        deliveries.connect(endpoints);
      },
      async idle() {
        await deliveries.idle();
        await slack.onCall?.idle();
      },
      stop: stopAll,
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}
