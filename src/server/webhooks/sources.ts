import type { ParseContext, ParseResult, WebhookHeaders } from '../../ingest/parse.js';
import { authenticateAlertmanager } from '../../ingest/sources/alertmanager/authenticate.js';
import { parseAlertmanager } from '../../ingest/sources/alertmanager/parse.js';
import type { AuthResult } from '../../ingest/sources/authentication.js';
import { authenticateDatadog } from '../../ingest/sources/datadog/authenticate.js';
import type { DatadogMapping } from '../../ingest/sources/datadog/mapping.js';
import { parseDatadog } from '../../ingest/sources/datadog/parse.js';
import { createGithubVerifier } from '../../ingest/sources/github/authenticate.js';
import { parseGithub } from '../../ingest/sources/github/parse.js';
import { verifyPagerDutySignature } from '../../ingest/sources/pagerduty/authenticate.js';
import { parsePagerDuty } from '../../ingest/sources/pagerduty/parse.js';
import type { Secret } from '../../shared/secret.js';

/** The webhook secrets, as `webhooks.*` in the configuration holds them. */
export interface WebhookSecrets {
  alertmanagerToken?: Secret | undefined;
  githubSecret?: Secret | undefined;
  datadogSecret?: Secret | undefined;
  pagerdutySecret?: Secret | undefined;
}

/** One webhook endpoint: where it listens, how it authenticates and parses, and what enables it. */
export interface WebhookEndpoint {
  name: 'alertmanager' | 'datadog' | 'pagerduty' | 'github';
  path: string;
  /** The setting and environment variable whose secret enables the endpoint. */
  setting: string;
  env: string;
  /** `WWW-Authenticate` for a 401, when the scheme has one. */
  challenge?: string;
  /** Present only when the secret is configured. */
  authenticate?: (headers: WebhookHeaders, body: Uint8Array) => AuthResult | Promise<AuthResult>;
  parse(body: unknown, headers: WebhookHeaders, context: ParseContext): ParseResult;
  /** Which header carries the sender's delivery id, if any. */
  deliveryHeader?: string;
}

/** The four endpoints, each enabled by its secret. */
export function webhookEndpoints(
  secrets: WebhookSecrets,
  datadogMapping?: Partial<DatadogMapping>,
): WebhookEndpoint[] {
  const alertmanagerToken = secrets.alertmanagerToken?.reveal();
  const datadogSecret = secrets.datadogSecret?.reveal();
  const pagerdutySecret = secrets.pagerdutySecret?.reveal();
  const githubSecret = secrets.githubSecret?.reveal();
  const github = githubSecret ? createGithubVerifier(githubSecret) : undefined;
  return [
    {
      name: 'alertmanager',
      path: '/webhooks/alertmanager',
      setting: 'webhooks.alertmanagerToken',
      env: 'NIGHTSHIFT_ALERTMANAGER_TOKEN',
      challenge: 'Bearer realm="nightshift"',
      ...(alertmanagerToken
        ? { authenticate: (headers: WebhookHeaders) => authenticateAlertmanager(headers, alertmanagerToken) }
        : {}),
      parse: parseAlertmanager,
    },
    {
      name: 'datadog',
      path: '/webhooks/datadog',
      setting: 'webhooks.datadogSecret',
      env: 'NIGHTSHIFT_DATADOG_WEBHOOK_SECRET',
      ...(datadogSecret
        ? { authenticate: (headers: WebhookHeaders) => authenticateDatadog(headers, datadogSecret) }
        : {}),
      parse: (body, headers, context) =>
        parseDatadog(body, headers, { ...context, ...(datadogMapping ? { mapping: datadogMapping } : {}) }),
    },
    {
      name: 'pagerduty',
      path: '/webhooks/pagerduty',
      setting: 'webhooks.pagerdutySecret',
      env: 'PAGERDUTY_WEBHOOK_SECRET',
      deliveryHeader: 'x-webhook-id',
      ...(pagerdutySecret
        ? {
            authenticate: (headers: WebhookHeaders, body: Uint8Array) =>
              verifyPagerDutySignature(headers, body, pagerdutySecret),
          }
        : {}),
      parse: parsePagerDuty,
    },
    {
      name: 'github',
      path: '/webhooks/github',
      setting: 'webhooks.githubSecret',
      env: 'GITHUB_WEBHOOK_SECRET',
      deliveryHeader: 'x-github-delivery',
      ...(github
        ? {
            authenticate: (headers: WebhookHeaders, body: Uint8Array) => github.verify(headers, body),
          }
        : {}),
      parse: parseGithub,
    },
  ];
}
