import { createHmac } from 'node:crypto';
import type { Hono } from 'hono';
import { HealthRegistry } from '../../src/app/health.js';
import { createMetrics } from '../../src/app/metrics.js';
import type { SignalSink } from '../../src/ingest/sink.js';
import { createHttpApp, type ServerEnv } from '../../src/server/http.js';
import type { WebhookSecrets } from '../../src/server/webhooks/sources.js';
import { webhookRoutes, type WebhookRoutesOptions } from '../../src/server/webhooks/webhook-routes.js';
import { ManualClock } from '../../src/shared/clock.js';
import { silentLogger } from '../../src/shared/logger.js';
import { Secret } from '../../src/shared/secret.js';

/** The secrets every test app is configured with. */
export const TEST_SECRETS = {
  alertmanagerToken: 'am-token-3f9a8c2e71',
  datadogSecret: 'dd-shared-9c1b2a7e44',
  pagerdutySecret: 'pd-signing-5e8d3c1f02',
  githubSecret: 'gh-hook-7a6b5c4d3e',
} as const;

export type WebhookName = 'alertmanager' | 'datadog' | 'pagerduty' | 'github';

export const WEBHOOK_NAMES: readonly WebhookName[] = ['alertmanager', 'datadog', 'pagerduty', 'github'];

export function secretsFrom(
  values: Partial<Record<keyof typeof TEST_SECRETS, string>> = TEST_SECRETS,
): WebhookSecrets {
  const secrets: WebhookSecrets = {};
  for (const [key, value] of Object.entries(values) as Array<[keyof typeof TEST_SECRETS, string]>)
    secrets[key] = new Secret(value);
  return secrets;
}

/** The HTTP app the daemon serves, with the webhook routes installed in front of `sink`. */
export function webhookApp(options: {
  sink: SignalSink;
  secrets?: WebhookSecrets;
  bodyLimitBytes?: number;
  extra?: Partial<WebhookRoutesOptions>;
}): Hono<ServerEnv> {
  return createHttpApp({
    bodyLimitBytes: options.bodyLimitBytes ?? 1_048_576,
    health: new HealthRegistry(),
    metrics: createMetrics(),
    logger: silentLogger(),
    routes: [
      webhookRoutes({
        sink: options.sink,
        secrets: options.secrets ?? secretsFrom(),
        logger: silentLogger(),
        clock: new ManualClock(Date.UTC(2026, 0, 1, 12)),
        ...options.extra,
      }),
    ],
  });
}

/** The headers a genuine sender of `name` would send with `body`. */
export function genuineHeaders(
  name: WebhookName,
  body: string | Uint8Array,
  githubEvent = 'push',
): Record<string, string> {
  const json = { 'content-type': 'application/json' };
  switch (name) {
    case 'alertmanager':
      return { ...json, authorization: `Bearer ${TEST_SECRETS.alertmanagerToken}` };
    case 'datadog':
      return { ...json, 'x-nightshift-secret': TEST_SECRETS.datadogSecret };
    case 'pagerduty':
      return {
        ...json,
        'x-pagerduty-signature': `v1=${createHmac('sha256', TEST_SECRETS.pagerdutySecret).update(body).digest('hex')}`,
        'x-webhook-id': 'whk-test',
      };
    case 'github':
      return {
        ...json,
        'x-github-event': githubEvent,
        'x-github-delivery': '72d3162e-cc78-11e3-81ab-4c9367dc0958',
        'x-hub-signature-256': `sha256=${createHmac('sha256', TEST_SECRETS.githubSecret).update(body).digest('hex')}`,
      };
  }
}

/** POSTs `body` to `/webhooks/<name>` with `headers`. */
export function post(
  app: Hono<ServerEnv>,
  name: WebhookName,
  body: string | Uint8Array,
  headers: Record<string, string>,
): Promise<Response> {
  return Promise.resolve(app.request(`/webhooks/${name}`, { method: 'POST', body, headers }));
}

/** The JSON error every refusal answers with. */
export interface ErrorBody {
  error: {
    code: string;
    message: string;
    details?: { issues?: Array<{ path: string; message: string }>; requestId?: string };
  };
}
