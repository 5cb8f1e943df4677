/** One alert of an Alertmanager webhook body (version 4). */
export interface WebhookAlert {
  status: 'firing' | 'resolved';
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt: string;
  generatorURL: string;
  fingerprint: string;
}

/** An Alertmanager webhook body, version 4, as Alertmanager's webhook receiver posts it. */
export interface WebhookBody {
  version: '4';
  groupKey: string;
  truncatedAlerts: number;
  status: 'firing' | 'resolved';
  receiver: string;
  groupLabels: Record<string, string>;
  commonLabels: Record<string, string>;
  commonAnnotations: Record<string, string>;
  externalURL: string;
  alerts: WebhookAlert[];
}

/** Alertmanager's zero time, the `endsAt` of an alert still firing. */
export const ZERO_TIME = '0001-01-01T00:00:00Z';

function common(maps: Array<Record<string, string>>): Record<string, string> {
  const [first, ...rest] = maps;
  if (!first) return {};
  return Object.fromEntries(
    Object.entries(first).filter(([key, value]) => rest.every((map) => map[key] === value)),
  );
}

/** The group key Alertmanager builds for a route with no matchers: `{}:{name="value",…}`. */
export function groupKey(groupLabels: Record<string, string>): string {
  const pairs = Object.keys(groupLabels)
    .sort()
    .map((name) => `${name}=${JSON.stringify(groupLabels[name])}`);
  return `{}:{${pairs.join(', ')}}`;
}

/** Assembles a webhook body for one group's alerts (firing if any alert fires). */
export function webhookBody(input: {
  receiver: string;
  externalUrl: string;
  groupLabels: Record<string, string>;
  alerts: WebhookAlert[];
}): WebhookBody {
  return {
    version: '4',
    groupKey: groupKey(input.groupLabels),
    truncatedAlerts: 0,
    status: input.alerts.some((alert) => alert.status === 'firing') ? 'firing' : 'resolved',
    receiver: input.receiver,
    groupLabels: input.groupLabels,
    commonLabels: common(input.alerts.map((alert) => alert.labels)),
    commonAnnotations: common(input.alerts.map((alert) => alert.annotations)),
    externalURL: input.externalUrl,
    alerts: input.alerts,
  };
}
