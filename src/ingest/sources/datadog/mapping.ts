import { z } from 'zod';

/**
 * Datadog's webhook body is whatever template the user writes in the Webhooks integration. This
 * is the template nightshift documents: paste it as the webhook's Payload. Each `$VARIABLE` is
 * replaced by Datadog when the monitor notifies.
 */
export const DEFAULT_DATADOG_TEMPLATE = {
  id: '$ID',
  title: '$EVENT_TITLE',
  message: '$TEXT_ONLY_MSG',
  transition: '$ALERT_TRANSITION',
  alertType: '$ALERT_TYPE',
  priority: '$ALERT_PRIORITY',
  eventPriority: '$PRIORITY',
  monitorId: '$ALERT_ID',
  cycleKey: '$ALERT_CYCLE_KEY',
  aggregationKey: '$AGGREG_KEY',
  date: '$DATE',
  lastUpdated: '$LAST_UPDATED',
  tags: '$TAGS',
  scope: '$ALERT_SCOPE',
  metric: '$ALERT_METRIC',
  query: '$ALERT_QUERY',
  status: '$ALERT_STATUS',
  hostname: '$HOSTNAME',
  link: '$LINK',
  org: { id: '$ORG_ID', name: '$ORG_NAME' },
} as const;

/** The Signal inputs a Datadog body is read for; each is found at a path of the mapping. */
export const DATADOG_FIELDS = [
  'id',
  'title',
  'message',
  'transition',
  'alertType',
  'priority',
  'monitorId',
  'cycleKey',
  'aggregationKey',
  'date',
  'tags',
  'scope',
  'metric',
  'query',
  'hostname',
  'link',
] as const;
export type DatadogField = (typeof DATADOG_FIELDS)[number];

/**
 * Where each field is in the body: a dotted path (`org.name`, `tags.0`). A custom template
 * needs a mapping only for the fields whose paths differ from the default.
 */
export type DatadogMapping = Record<DatadogField, string>;

/** Paths of the default template; see `DEFAULT_DATADOG_TEMPLATE` for the variable behind each. */
export const DEFAULT_DATADOG_MAPPING: Readonly<DatadogMapping> = {
  id: 'id',
  title: 'title',
  message: 'message',
  transition: 'transition',
  alertType: 'alertType',
  priority: 'priority',
  monitorId: 'monitorId',
  cycleKey: 'cycleKey',
  aggregationKey: 'aggregationKey',
  date: 'date',
  tags: 'tags',
  scope: 'scope',
  metric: 'metric',
  query: 'query',
  hostname: 'hostname',
  link: 'link',
};

const path = z
  .string()
  .regex(/^[A-Za-z0-9_$-]+(\.[A-Za-z0-9_$-]+)*$/, 'must be a dotted path such as "org.name" or "tags.0"');

/** Validates a partial mapping from configuration (unknown fields are refused). */
export const datadogMappingSchema = z.strictObject(
  Object.fromEntries(DATADOG_FIELDS.map((field) => [field, path.optional()])) as Record<
    DatadogField,
    z.ZodOptional<typeof path>
  >,
);

/** The default mapping with `overrides` applied. */
export function datadogMapping(overrides: Partial<DatadogMapping> = {}): DatadogMapping {
  const mapping: DatadogMapping = { ...DEFAULT_DATADOG_MAPPING };
  for (const field of DATADOG_FIELDS) {
    const value = overrides[field];
    if (value !== undefined) mapping[field] = value;
  }
  return mapping;
}

/** The value at a dotted path of `body`, or undefined. Only own properties are read. */
export function valueAt(body: unknown, dottedPath: string): unknown {
  let current: unknown = body;
  for (const part of dottedPath.split('.')) {
    if (current === null || typeof current !== 'object') return undefined;
    if (!Object.prototype.hasOwnProperty.call(current, part)) return undefined;
    current = (current as Record<string, unknown>)[part];
  }
  return current;
}
