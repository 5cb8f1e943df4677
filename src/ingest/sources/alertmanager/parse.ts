import { z } from 'zod';
import { stableHash } from '../../../shared/ids.js';
import { alertRef, kubernetesRefs, uniqueRefs } from '../../entities.js';
import {
  checkedSignals,
  DEFAULT_CLUSTER,
  invalidFromZod,
  parseTime,
  type ParseContext,
  type ParseResult,
  type WebhookHeaders,
} from '../../parse.js';
import { normalizeSeverity } from '../../severity.js';
import { clip, MAX_SUMMARY_LENGTH, signalId, type Signal } from '../../signal.js';
import type { WorkloadKind } from '../../../graph/schema.js';

const labels = z.record(z.string(), z.string({ error: 'must be a string (label values are strings)' }));

const time = z
  .string({ error: 'must be an RFC 3339 time string' })
  .refine((value) => Number.isFinite(Date.parse(value)), 'must be an RFC 3339 time');

const alertSchema = z.object({
  status: z.enum(['firing', 'resolved'], { error: 'must be "firing" or "resolved"' }),
  labels,
  annotations: labels.optional(),
  startsAt: time,
  endsAt: time.optional(),
  generatorURL: z.string().optional(),
  fingerprint: z.string().optional(),
});

/** The Alertmanager webhook body, version 4 (`webhook_config` in Alertmanager's configuration). */
export const alertmanagerBodySchema = z.object(
  {
    version: z
      .literal('4', { error: 'must be "4" (the only webhook version Alertmanager sends)' })
      .optional(),
    groupKey: z.string().optional(),
    truncatedAlerts: z.number().int().nonnegative().optional(),
    status: z.enum(['firing', 'resolved']).optional(),
    receiver: z.string().optional(),
    groupLabels: labels.optional(),
    commonLabels: labels.optional(),
    commonAnnotations: labels.optional(),
    externalURL: z.string().optional(),
    alerts: z.array(alertSchema, { error: 'is required: a list of alerts' }),
  },
  { error: 'must be a JSON object (an Alertmanager webhook body)' },
);
export type AlertmanagerBody = z.infer<typeof alertmanagerBodySchema>;

/**
 * Jobs that scrape metrics about other things: on their alerts the `job`, `service` and
 * `instance` labels name the exporter, not what is wrong, so they are not turned into entities.
 */
const EXPORTER_JOBS = new Set([
  'kube-state-metrics',
  'kubelet',
  'node-exporter',
  'prometheus-node-exporter',
  'cadvisor',
  'blackbox-exporter',
  'blackbox',
]);

const WORKLOAD_LABELS: ReadonlyArray<[string, WorkloadKind]> = [
  ['deployment', 'Deployment'],
  ['statefulset', 'StatefulSet'],
  ['daemonset', 'DaemonSet'],
  ['job_name', 'Job'],
  ['cronjob', 'CronJob'],
];

const WORKLOAD_TYPES: Readonly<Record<string, WorkloadKind>> = {
  deployment: 'Deployment',
  statefulset: 'StatefulSet',
  daemonset: 'DaemonSet',
  job: 'Job',
  cronjob: 'CronJob',
};

/** Alertmanager's own fingerprint when sent, else a stable hash of the sorted label set. */
export function alertFingerprint(alert: {
  fingerprint?: string | undefined;
  labels: Record<string, string>;
}): string {
  if (alert.fingerprint && /^[\w.:-]{1,128}$/.test(alert.fingerprint)) return alert.fingerprint;
  const pairs = Object.entries(alert.labels)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, value]) => `${name}=${value}`);
  return stableHash(...pairs).slice(0, 16);
}

function entitiesOf(alertLabels: Record<string, string>, fingerprint: string, cluster: string) {
  const exporter = EXPORTER_JOBS.has(alertLabels.job ?? '');
  const workloads: Array<{ kind: WorkloadKind; name: string | undefined }> = WORKLOAD_LABELS.map(
    ([label, kind]) => ({ kind, name: alertLabels[label] }),
  );
  const workloadType = WORKLOAD_TYPES[(alertLabels.workload_type ?? '').toLowerCase()];
  if (workloadType) workloads.push({ kind: workloadType, name: alertLabels.workload });
  const service = exporter ? undefined : alertLabels.service;
  const job = exporter || service ? undefined : alertLabels.job;
  return uniqueRefs([
    alertRef('alertmanager', fingerprint, alertLabels.alertname ?? fingerprint),
    ...kubernetesRefs({
      cluster: alertLabels.cluster || cluster,
      namespace: alertLabels.namespace,
      pod: alertLabels.pod,
      container: alertLabels.container,
      node: alertLabels.node,
      replicaSet: alertLabels.replicaset,
      workloads,
      services: [service, job],
    }),
  ]);
}

/**
 * Turns an Alertmanager v4 webhook body into one alert signal per alert, firing or resolved.
 * The fingerprint is Alertmanager's (or a hash of the labels), so an alert's firing and resolved
 * signals share it; entities come from the `namespace`, `pod`, `container`, `node`, workload,
 * `service` and `job` labels. Pure; never throws.
 */
export function parseAlertmanager(
  body: unknown,
  _headers: WebhookHeaders,
  context: ParseContext,
): ParseResult {
  const parsed = alertmanagerBodySchema.safeParse(body);
  if (!parsed.success) return invalidFromZod('not an Alertmanager webhook body', parsed.error);
  const group = parsed.data;
  const cluster = context.cluster ?? DEFAULT_CLUSTER;
  const signals: Signal[] = group.alerts.map((alert, index) => {
    const fingerprint = alertFingerprint(alert);
    const annotations = alert.annotations ?? {};
    const alertname = alert.labels.alertname?.trim() || 'unnamed alert';
    const startsAt = parseTime(alert.startsAt) ?? context.receivedAt;
    const endsAt = alert.endsAt === undefined ? undefined : parseTime(alert.endsAt);
    const detail = annotations.summary ?? annotations.description ?? annotations.message;
    const attributes: Signal['attributes'] = {
      alertname,
      labels: alert.labels,
      annotations,
      startsAt: alert.startsAt,
    };
    if (alert.endsAt !== undefined) attributes.endsAt = alert.endsAt;
    if (alert.generatorURL) attributes.generatorURL = alert.generatorURL;
    if (group.groupKey) attributes.groupKey = group.groupKey;
    if (group.receiver) attributes.receiver = group.receiver;
    if (group.externalURL) attributes.externalURL = group.externalURL;
    return {
      v: 1,
      id: signalId('alertmanager', fingerprint, alert.status, alert.startsAt),
      source: 'alertmanager',
      kind: 'alert',
      fingerprint,
      status: alert.status,
      severity: normalizeSeverity(alert.labels.severity, 'warning'),
      entities: entitiesOf(alert.labels, fingerprint, cluster),
      observedAt: alert.status === 'resolved' ? (endsAt ?? context.receivedAt) : startsAt,
      receivedAt: context.receivedAt,
      summary: clip(
        detail?.trim() ? `${alertname}: ${detail.trim()}` : alertname,
        MAX_SUMMARY_LENGTH,
        alertname,
      ),
      attributes,
      raw: { source: 'webhook/alertmanager', digest: context.digest, path: `/alerts/${index}` },
    };
  });
  return checkedSignals('the Alertmanager alerts do not form valid signals', signals);
}
