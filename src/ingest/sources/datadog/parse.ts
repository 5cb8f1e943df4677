import type { Issue } from '../../../shared/errors.js';
import { stableHash } from '../../../shared/ids.js';
import { alertRef, kubernetesRefs, uniqueRefs } from '../../entities.js';
import {
  checkedSignals,
  DEFAULT_CLUSTER,
  invalid,
  type ParseContext,
  type ParseResult,
  type WebhookHeaders,
} from '../../parse.js';
import { normalizeSeverity } from '../../severity.js';
import { clip, MAX_SUMMARY_LENGTH, signalId, type Severity, type Signal } from '../../signal.js';
import { datadogMapping, valueAt, type DatadogField, type DatadogMapping } from './mapping.js';

/** What the Datadog parser needs besides the common context. */
export interface DatadogParseContext extends ParseContext {
  /** Paths of the fields in the body; defaults to the documented template's. */
  mapping?: Partial<DatadogMapping>;
}

/** A field's text: strings as they are, numbers as digits; empty or unsubstituted `$VARS` are absent. */
function textAt(body: unknown, mapping: DatadogMapping, field: DatadogField): string | undefined {
  const value = valueAt(body, mapping[field]);
  const text =
    typeof value === 'string'
      ? value.trim()
      : typeof value === 'number' && Number.isFinite(value)
        ? String(value)
        : undefined;
  if (!text || /^\$[A-Z_]+$/.test(text)) return undefined;
  return text;
}

/** Datadog tags: a comma-separated string (as `$TAGS` and `$ALERT_SCOPE` render) or a list. */
export function datadogTags(value: unknown): string[] {
  const parts = Array.isArray(value)
    ? value.filter((item): item is string => typeof item === 'string')
    : typeof value === 'string'
      ? value.split(',')
      : [];
  return parts
    .map((part) => part.trim())
    .filter((part) => part.length > 0 && !/^\$[A-Z_]+$/.test(part))
    .slice(0, 200);
}

function tagMap(tags: readonly string[]): Map<string, string> {
  const map = new Map<string, string>();
  for (const tag of tags) {
    const colon = tag.indexOf(':');
    if (colon > 0 && !map.has(tag.slice(0, colon))) map.set(tag.slice(0, colon), tag.slice(colon + 1));
  }
  return map;
}

/** Epoch milliseconds from `$DATE` (ms) or a seconds value; undefined when not a time. */
function epochMs(text: string | undefined): number | undefined {
  if (!text || !/^\d{1,16}(\.\d+)?$/.test(text)) return undefined;
  const value = Number(text);
  const ms = value < 1e11 ? value * 1000 : value;
  return Number.isFinite(ms) ? Math.trunc(ms) : undefined;
}

function statusOf(transition: string): 'firing' | 'resolved' {
  return /recover/i.test(transition) ? 'resolved' : 'firing';
}

function severityOf(
  transition: string,
  priority: string | undefined,
  alertType: string | undefined,
): Severity {
  if (/warn/i.test(transition) || /no ?data/i.test(transition)) return 'warning';
  if (priority && /^p[1-5]$/i.test(priority)) return normalizeSeverity(priority, 'error');
  return normalizeSeverity(alertType, 'error');
}

/**
 * Turns a Datadog monitor webhook body into one alert signal. The body is user-defined, so fields
 * are read through `context.mapping` (default: `DEFAULT_DATADOG_TEMPLATE`). `Recovered`
 * transitions resolve, every other transition fires. The fingerprint is `$AGGREG_KEY` (one per
 * monitor and group), else a hash of the monitor id and scope. Entities come from Kubernetes and
 * `service` tags in `$TAGS` and `$ALERT_SCOPE`. Pure; never throws.
 */
export function parseDatadog(
  body: unknown,
  _headers: WebhookHeaders,
  context: DatadogParseContext,
): ParseResult {
  const mapping = datadogMapping(context.mapping);
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    return invalid('not a Datadog webhook body', [{ path: '(body)', message: 'must be a JSON object' }]);
  }
  const field = (name: DatadogField) => textAt(body, mapping, name);
  const issues: Issue[] = [];
  const transition = field('transition');
  if (!transition) {
    issues.push({
      path: mapping.transition,
      message: 'is required: the template must send $ALERT_TRANSITION here',
    });
  }
  const monitorId = field('monitorId');
  const aggregationKey = field('aggregationKey');
  const scopeText = field('scope');
  if (!aggregationKey && !monitorId) {
    issues.push({
      path: mapping.aggregationKey,
      message: `is required (or ${mapping.monitorId}): the template must send $AGGREG_KEY or $ALERT_ID to tell alerts apart`,
    });
  }
  const title = field('title');
  const message = field('message');
  if (!title && !message) {
    issues.push({
      path: mapping.title,
      message: 'is required (or the message): the template must send $EVENT_TITLE',
    });
  }
  if (issues.length > 0 || !transition)
    return invalid('the Datadog webhook body does not fit the field mapping', issues);

  const fingerprint =
    aggregationKey && /^[\w.:-]{1,128}$/.test(aggregationKey)
      ? aggregationKey
      : stableHash('datadog', aggregationKey ?? '', monitorId ?? '', scopeText ?? '').slice(0, 32);
  const status = statusOf(transition);
  const tags = [...datadogTags(valueAt(body, mapping.tags)), ...datadogTags(scopeText)];
  const byName = tagMap(datadogTags(scopeText).concat(datadogTags(valueAt(body, mapping.tags))));
  const cluster =
    byName.get('kube_cluster_name') ?? byName.get('cluster_name') ?? context.cluster ?? DEFAULT_CLUSTER;
  const inKubernetes = [...byName.keys()].some((name) => name.startsWith('kube_') || name === 'pod_name');
  const priority = field('priority');
  const alertType = field('alertType');
  const cycleKey = field('cycleKey');
  const date = epochMs(field('date'));
  const eventId = field('id');
  const summary = clip(title ?? message, MAX_SUMMARY_LENGTH, 'Datadog monitor');

  const attributes: Signal['attributes'] = { transition, tags: [...new Set(tags)] };
  const optional: Array<[string, string | undefined]> = [
    ['monitorId', monitorId],
    ['aggregationKey', aggregationKey],
    ['cycleKey', cycleKey],
    ['alertType', alertType],
    ['priority', priority],
    ['scope', scopeText],
    ['metric', field('metric')],
    ['query', field('query')],
    ['hostname', field('hostname')],
    ['link', field('link')],
    ['eventId', eventId],
    ['message', message === undefined ? undefined : clip(message, 4000, '')],
  ];
  for (const [name, value] of optional) if (value) attributes[name] = value;

  const signal: Signal = {
    v: 1,
    id: signalId('datadog', fingerprint, status, cycleKey ?? date ?? eventId ?? transition),
    source: 'datadog',
    kind: 'alert',
    fingerprint,
    status,
    severity: severityOf(transition, priority, alertType),
    entities: uniqueRefs([
      alertRef('datadog', fingerprint, title ?? fingerprint),
      ...kubernetesRefs({
        cluster,
        namespace: byName.get('kube_namespace'),
        pod: byName.get('pod_name'),
        container: byName.get('kube_container_name') ?? byName.get('container_name'),
        node:
          byName.get('kube_node') ?? (inKubernetes ? (byName.get('host') ?? field('hostname')) : undefined),
        replicaSet: byName.get('kube_replica_set'),
        workloads: [
          { kind: 'Deployment', name: byName.get('kube_deployment') },
          { kind: 'StatefulSet', name: byName.get('kube_stateful_set') },
          { kind: 'DaemonSet', name: byName.get('kube_daemon_set') },
          { kind: 'Job', name: byName.get('kube_job') },
          { kind: 'CronJob', name: byName.get('kube_cronjob') },
        ],
        services: [byName.get('service')],
      }),
    ]),
    observedAt: date ?? context.receivedAt,
    receivedAt: context.receivedAt,
    summary,
    attributes,
    raw: {
      source: 'webhook/datadog',
      digest: context.digest,
      ...(eventId && eventId.length <= 256 ? { deliveryId: eventId } : {}),
    },
  };
  return checkedSignals('the Datadog body does not form a valid signal', [signal]);
}
