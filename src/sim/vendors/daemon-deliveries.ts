import type { Logger } from '../../shared/logger.js';
import type { AlertmanagerSender } from './alertmanager/sender.js';
import { deliverGithub } from './github/deliver.js';
import { deploymentPayload, deploymentStatusPayload, githubDeploy, pushPayload } from './github/payloads.js';
import type { SlackServer } from './slack/server.js';
import type { VendorAlert, VendorDeploy, VendorWorld } from './source.js';

/** Where the daemon under test listens; any may be absent (that delivery is then skipped). */
export interface DaemonEndpoints {
  /** Bolt's events URL (`…/slack/events`). */
  slackEventsUrl?: string;
  /** Bolt's interactivity URL; defaults to `slackEventsUrl`. */
  slackInteractionsUrl?: string;
  alertmanagerUrl?: string;
  alertmanagerToken?: string;
  githubUrl?: string;
  githubSecret?: string;
  /** Receives timeline alerts with `source: datadog`, posted verbatim. */
  datadogWebhookUrl?: string;
  /** Receives timeline alerts with `source: pagerduty`, posted verbatim. */
  pagerdutyWebhookUrl?: string;
}

/** One webhook the sim sent to the daemon on the timeline's behalf. */
export interface DaemonDelivery {
  /** Sim time. */
  at: number;
  kind: 'slack' | 'github' | 'alert';
  /** e.g. `push`, `deployment_status`, `alertmanager`, `message`. */
  name: string;
  status?: number;
  error?: string;
  /** Why nothing was sent (no endpoint). */
  skipped?: string;
}

function isEmptyBody(body: unknown): boolean {
  return (
    body === undefined ||
    body === null ||
    (typeof body === 'object' && !Array.isArray(body) && Object.keys(body).length === 0)
  );
}

/**
 * Turns the world's timeline notifications into deliveries to the daemon: Slack messages as
 * signed events, deploys as signed GitHub push / deployment / deployment_status webhooks,
 * alerts through the Alertmanager sender (an empty body means "notify what fires now") or
 * verbatim to the Datadog / PagerDuty webhook URL. Records every delivery; never throws.
 */
export class DaemonDeliveries {
  readonly deliveries: DaemonDelivery[] = [];
  readonly #pending = new Set<Promise<void>>();
  readonly #unsubscribe: Array<() => void>;

  constructor(
    private readonly world: VendorWorld,
    private endpoints: DaemonEndpoints,
    private readonly parts: { slack: SlackServer; alertmanager: AlertmanagerSender; logger: Logger },
  ) {
    this.#unsubscribe = [
      world.on('slack', (message) => this.#track(this.#slack(message))),
      world.on('deploy', (deploy) => this.#track(this.#deploy(deploy))),
      world.on('alert', (alert) => this.#track(this.#alert(alert))),
    ];
  }

  connect(endpoints: DaemonEndpoints): void {
    this.endpoints = { ...this.endpoints, ...endpoints };
  }

  /** Resolves once every delivery started so far has finished. */
  async idle(): Promise<void> {
    while (this.#pending.size > 0) await Promise.allSettled([...this.#pending]);
  }

  close(): void {
    for (const unsubscribe of this.#unsubscribe) unsubscribe();
  }

  #track(task: Promise<void>): void {
    const tracked = task
      .catch((error: unknown) =>
        this.parts.logger.warn(
          { reason: error instanceof Error ? error.message : String(error) },
          'timeline delivery failed',
        ),
      )
      .finally(() => this.#pending.delete(tracked));
    this.#pending.add(tracked);
  }

  #record(at: number, delivery: Omit<DaemonDelivery, 'at'>): void {
    this.deliveries.push({ at, ...delivery });
  }

  async #slack(message: Parameters<SlackServer['say']>[0]): Promise<void> {
    const at = this.world.now();
    const result = await this.parts.slack.say(message);
    this.#record(
      at,
      result
        ? { kind: 'slack', name: 'message', status: result.status }
        : { kind: 'slack', name: 'message', skipped: 'no Slack events URL' },
    );
  }

  async #deploy(deploy: VendorDeploy): Promise<void> {
    const at = this.world.now();
    const url = this.endpoints.githubUrl;
    const secret = this.endpoints.githubSecret;
    if (!url || !secret) {
      this.#record(at, { kind: 'github', name: 'push', skipped: 'no GitHub webhook URL and secret' });
      return;
    }
    const service = this.world.services().find((candidate) => candidate.name === deploy.service);
    const full = githubDeploy(deploy, {
      t: this.world.now(),
      ...(service?.environment ? { environment: service.environment } : {}),
      ...(service?.repo ? { repo: service.repo } : {}),
    });
    const sends: Array<[string, unknown]> = [
      ['push', pushPayload(full)],
      ['deployment', deploymentPayload(full)],
      ['deployment_status', deploymentStatusPayload(full, 'success')],
    ];
    for (const [event, payload] of sends) {
      try {
        const result = await deliverGithub(url, secret, event, payload);
        this.#record(at, { kind: 'github', name: event, status: result.status });
      } catch (error) {
        this.#record(at, {
          kind: 'github',
          name: event,
          error: error instanceof Error ? error.message : String(error),
        });
      }
    }
  }

  async #alert(alert: VendorAlert): Promise<void> {
    const at = this.world.now();
    if (alert.source === 'alertmanager') {
      if (isEmptyBody(alert.body)) {
        await this.parts.alertmanager.evaluate({ force: true });
        this.#record(at, {
          kind: 'alert',
          name: 'alertmanager',
          skipped: 'empty body: notified the groups firing now',
        });
        return;
      }
      const notification = await this.parts.alertmanager.sendAlert(alert.body);
      this.#record(at, {
        kind: 'alert',
        name: 'alertmanager',
        ...(notification.status !== undefined ? { status: notification.status } : {}),
        ...(notification.error ? { error: notification.error } : {}),
      });
      return;
    }
    const url =
      alert.source === 'datadog'
        ? this.endpoints.datadogWebhookUrl
        : alert.source === 'pagerduty'
          ? this.endpoints.pagerdutyWebhookUrl
          : undefined;
    if (!url) {
      this.#record(at, { kind: 'alert', name: alert.source, skipped: `no webhook URL for ${alert.source}` });
      return;
    }
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(alert.body ?? {}),
      signal: AbortSignal.timeout(10_000),
    });
    await response.arrayBuffer();
    this.#record(at, { kind: 'alert', name: alert.source, status: response.status });
  }
}
