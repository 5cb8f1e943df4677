import type { Context } from 'hono';
import { rawDigest, type WebhookHeaders } from '../../ingest/parse.js';
import { redact } from '../../ingest/redact/redact.js';
import type { Signal } from '../../ingest/signal.js';
import type { SignalSink } from '../../ingest/sink.js';
import type { DatadogMapping } from '../../ingest/sources/datadog/mapping.js';
import type { Clock } from '../../shared/clock.js';
import { describeError } from '../../shared/errors.js';
import type { Logger } from '../../shared/logger.js';
import { jsonError } from '../errors.js';
import type { RouteInstaller, ServerEnv } from '../http.js';
import { readJsonBody } from './json-body.js';
import { webhookEndpoints, type WebhookEndpoint, type WebhookSecrets } from './sources.js';

export interface WebhookRoutesOptions {
  /** Where accepted signals go; a 2xx is answered only after it resolves. */
  sink: SignalSink;
  /** An endpoint whose secret is absent answers 404 `not_configured`, naming the setting. */
  secrets: WebhookSecrets;
  /** Paths of the Datadog fields when the template differs from the documented one. */
  datadogMapping?: Partial<DatadogMapping>;
  /** The cluster Kubernetes names in alerts belong to when the alert does not say. */
  cluster?: string;
  /** Seconds a 503 asks the sender to wait (`Retry-After`). Default 5. */
  retryAfterSeconds?: number;
  logger: Logger;
  clock: Clock;
}

type WebhookContext = Context<ServerEnv>;

async function deliver(
  context: WebhookContext,
  endpoint: WebhookEndpoint,
  options: WebhookRoutesOptions,
  logger: Logger,
): Promise<Response> {
  const requestId = context.get('requestId');
  if (!endpoint.authenticate) {
    return jsonError(
      context,
      404,
      'not_configured',
      `the ${endpoint.name} webhook is off: set ${endpoint.env} (${endpoint.setting}) to enable it`,
    );
  }
  const receivedAt = options.clock.now();
  const bytes = new Uint8Array(await context.req.arrayBuffer());
  const headers: WebhookHeaders = context.req.header();

  const auth = await endpoint.authenticate(headers, bytes);
  if (!auth.ok) {
    logger.warn({ requestId, reason: auth.message }, 'webhook delivery refused: unauthorized');
    if (endpoint.challenge) context.header('WWW-Authenticate', endpoint.challenge);
    return jsonError(context, 401, 'unauthorized', auth.message);
  }

  const body = readJsonBody(bytes);
  if (!body.ok) return jsonError(context, 400, 'invalid_json', body.message);

  const parsed = endpoint.parse(body.value, headers, {
    receivedAt,
    digest: rawDigest(bytes),
    ...(options.cluster ? { cluster: options.cluster } : {}),
  });
  if ('error' in parsed) {
    logger.debug(
      { requestId, issues: parsed.error.issues.slice(0, 5) },
      'webhook delivery refused: invalid payload',
    );
    return jsonError(context, 422, parsed.error.code, parsed.error.message, {
      issues: parsed.error.issues.slice(0, 50),
    });
  }
  if (parsed.ok.length === 0) return context.json({ accepted: 0, deduplicated: 0 }, 202);

  const { value: signals, counts } = redact<Signal[]>(parsed.ok);
  if (counts.total > 0)
    logger.info({ requestId, redactions: counts.byPattern }, 'secrets redacted from a webhook delivery');

  const deliveryHeader = endpoint.deliveryHeader ? headers[endpoint.deliveryHeader] : undefined;
  try {
    const report = await options.sink.accept(signals, {
      channel: `webhook/${endpoint.name}`,
      requestId,
      ...(deliveryHeader ? { deliveryId: deliveryHeader.slice(0, 256) } : {}),
    });
    logger.debug({ requestId, ...report }, 'webhook delivery accepted');
    return context.json(report, 202);
  } catch (error) {
    logger.warn(
      { requestId, err: describeError(error) },
      'webhook delivery not queued; asked the sender to retry',
    );
    context.header('Retry-After', String(options.retryAfterSeconds ?? 5));
    return jsonError(context, 503, 'unavailable', 'the signals could not be queued durably; retry later', {
      requestId,
    });
  }
}

/**
 * Installs `POST /webhooks/{alertmanager,datadog,pagerduty,github}`. Each request is, in order:
 * authenticated (401 `unauthorized`), read as JSON (400 `invalid_json`), parsed into signals (422
 * `invalid_payload` naming the field paths), redacted, and handed to the sink in one call; 202
 * `{accepted, deduplicated}` only after the sink resolves, 503 `unavailable` with `Retry-After`
 * when it rejects. Bodies over the server's limit get 413 before any of this. A bad request never
 * reaches the sink, and the sink gets all of a request's signals or none.
 */
export function webhookRoutes(options: WebhookRoutesOptions): RouteInstaller {
  const endpoints = webhookEndpoints(options.secrets, options.datadogMapping);
  return (app) => {
    for (const endpoint of endpoints) {
      const logger = options.logger.child({ component: 'webhook', source: endpoint.name });
      if (!endpoint.authenticate)
        logger.info({ setting: endpoint.setting }, `webhook off: ${endpoint.env} is not set`);
      app.post(endpoint.path, (context) => deliver(context, endpoint, options, logger));
    }
  };
}
