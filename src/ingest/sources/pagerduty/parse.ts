import { z } from 'zod';
import { toIssues, type Issue } from '../../../shared/errors.js';
import { alertRef } from '../../entities.js';
import {
  checkedSignals,
  invalid,
  invalidFromZod,
  parseTime,
  type ParseContext,
  type ParseResult,
  type WebhookHeaders,
} from '../../parse.js';
import { normalizeSeverity } from '../../severity.js';
import {
  clip,
  MAX_SUMMARY_LENGTH,
  signalId,
  type Severity,
  type Signal,
  type SignalKind,
} from '../../signal.js';

const reference = z.object({
  id: z.string().optional(),
  summary: z.string().optional(),
  html_url: z.string().optional(),
});

const time = z
  .string({ error: 'must be an ISO 8601 time string' })
  .refine((value) => parseTime(value) !== undefined, 'must be an ISO 8601 time');

/** The PagerDuty webhooks v3 body: one event per delivery (PagerDuty developer docs, Webhooks v3). */
export const pagerDutyBodySchema = z.object(
  {
    event: z.object(
      {
        id: z.string({ error: 'is required: the event id' }).min(1).max(256),
        event_type: z.string({ error: 'is required, e.g. incident.triggered' }).min(1),
        resource_type: z.string().optional(),
        occurred_at: time,
        agent: reference.nullish(),
        data: z.record(z.string(), z.unknown(), { error: 'is required: the event data object' }),
      },
      { error: 'is required: the webhook event object' },
    ),
  },
  { error: 'must be a JSON object (a PagerDuty webhooks v3 body)' },
);

const incidentSchema = z.object({
  id: z.string({ error: 'is required: the incident id' }).min(1).max(128),
  type: z.literal('incident').optional(),
  number: z.number().optional(),
  status: z.string().optional(),
  incident_key: z.string().nullish(),
  title: z.string().optional(),
  html_url: z.string().optional(),
  urgency: z.string().optional(),
  service: reference.nullish(),
  priority: reference.nullish(),
  teams: z.array(reference).nullish(),
  assignees: z.array(reference).nullish(),
});

const nestedSchema = z.object({
  id: z.string().max(128).optional(),
  incident: z.object(
    {
      id: z.string({ error: 'is required: the incident id' }).min(1).max(128),
      summary: z.string().optional(),
      html_url: z.string().optional(),
    },
    { error: 'is required: the incident reference' },
  ),
  content: z.string().optional(),
  message: z.string().optional(),
});

/** The incident event types that open (or reopen) and close an incident. */
const FIRING = new Set(['incident.triggered', 'incident.reopened']);
const RESOLVED = new Set(['incident.resolved']);
/** Events whose `data` is an incident; the others carry `data.incident`, a reference. */
const DATA_IS_NOTE = new Set(['incident.annotated']);

/** Issues of `event.data`, with paths from the body's root. */
function dataIssues(error: z.ZodError): Issue[] {
  return toIssues(error.issues).map((issue) => ({
    path: issue.path ? `event.data.${issue.path}` : 'event.data',
    message: issue.message,
  }));
}

function incidentSeverity(priority: string | undefined, urgency: string | undefined): Severity {
  if (priority && /^p[1-5]$/i.test(priority.trim())) return normalizeSeverity(priority, 'error');
  if (urgency === 'high') return 'critical';
  if (urgency === 'low') return 'warning';
  return 'error';
}

/**
 * Turns a PagerDuty webhooks v3 delivery into signals: `incident.triggered` and
 * `incident.reopened` → a firing alert, `incident.resolved` → a resolved alert (fingerprint: the
 * incident id, so both share it), `incident.annotated` → a message (the note), any other
 * `incident.*` (acknowledged, escalated, reassigned…) → an event. Non-incident events
 * (`pagey.ping`, `service.*`) carry nothing to ingest and give no signal. Pure; never throws.
 */
export function parsePagerDuty(body: unknown, headers: WebhookHeaders, context: ParseContext): ParseResult {
  const parsed = pagerDutyBodySchema.safeParse(body);
  if (!parsed.success) return invalidFromZod('not a PagerDuty webhooks v3 body', parsed.error);
  const { event } = parsed.data;
  if (!event.event_type.startsWith('incident.')) return { ok: [] };

  const occurredAt = parseTime(event.occurred_at) ?? context.receivedAt;
  const deliveryId = headers['x-webhook-id'];
  const raw = {
    source: 'webhook/pagerduty',
    digest: context.digest,
    ...(deliveryId && deliveryId.length <= 256 ? { deliveryId } : {}),
  };
  const agent = event.agent?.summary;
  const attributes: Signal['attributes'] = { eventType: event.event_type, eventId: event.id };
  if (agent) attributes.agent = agent;

  let incidentIdentity: string;
  let title: string;
  let kind: SignalKind;
  let status: 'firing' | 'resolved' | undefined;
  let severity: Severity = 'info';
  let summary: string;
  let fingerprint: string;

  if (
    !DATA_IS_NOTE.has(event.event_type) &&
    (event.data.type === 'incident' || event.data.incident === undefined)
  ) {
    const incident = incidentSchema.safeParse(event.data);
    if (!incident.success) {
      return invalid('not a PagerDuty incident event', dataIssues(incident.error));
    }
    const data = incident.data;
    incidentIdentity = data.id;
    title = data.title?.trim() || `PagerDuty incident ${data.number ?? data.id}`;
    const priority = data.priority?.summary;
    Object.assign(attributes, {
      incidentId: data.id,
      ...(data.number !== undefined ? { incidentNumber: data.number } : {}),
      ...(data.incident_key ? { incidentKey: data.incident_key } : {}),
      ...(data.status ? { incidentStatus: data.status } : {}),
      ...(data.urgency ? { urgency: data.urgency } : {}),
      ...(priority ? { priority } : {}),
      ...(data.html_url ? { htmlUrl: data.html_url } : {}),
      ...(data.service?.summary ? { service: data.service.summary } : {}),
      ...(data.service?.id ? { serviceId: data.service.id } : {}),
      ...(data.teams?.length
        ? { teams: data.teams.map((team) => team.summary ?? team.id ?? '').filter(Boolean) }
        : {}),
      ...(data.assignees?.length
        ? { assignees: data.assignees.map((person) => person.summary ?? person.id ?? '').filter(Boolean) }
        : {}),
    });
    const incidentSeverityLevel = incidentSeverity(priority, data.urgency);
    if (FIRING.has(event.event_type) || RESOLVED.has(event.event_type)) {
      kind = 'alert';
      status = FIRING.has(event.event_type) ? 'firing' : 'resolved';
      severity = incidentSeverityLevel;
      fingerprint = data.id;
      summary = title;
    } else {
      kind = 'event';
      fingerprint = `${data.id}/${event.id}`;
      const verb = event.event_type.slice('incident.'.length).replaceAll('_', ' ').replaceAll('.', ' ');
      summary = `${verb}${agent ? ` by ${agent}` : ''}: ${title}`;
    }
  } else {
    const nested = nestedSchema.safeParse(event.data);
    if (!nested.success) {
      return invalid('not a PagerDuty incident event', dataIssues(nested.error));
    }
    const data = nested.data;
    incidentIdentity = data.incident.id;
    title = data.incident.summary?.trim() || `PagerDuty incident ${data.incident.id}`;
    attributes.incidentId = data.incident.id;
    if (data.incident.html_url) attributes.htmlUrl = data.incident.html_url;
    const text = data.content ?? data.message;
    if (DATA_IS_NOTE.has(event.event_type)) {
      if (!text?.trim()) {
        return invalid('not a PagerDuty note', [
          { path: 'event.data.content', message: 'is required: the note text' },
        ]);
      }
      kind = 'message';
      fingerprint = `${data.incident.id}/note/${data.id ?? event.id}`;
      summary = text;
      attributes.incidentTitle = title;
    } else {
      kind = 'event';
      fingerprint = `${data.incident.id}/${event.id}`;
      const verb = event.event_type.slice('incident.'.length).replaceAll('_', ' ').replaceAll('.', ' ');
      summary = `${verb}${agent ? ` by ${agent}` : ''}: ${text?.trim() ? text : title}`;
    }
  }

  const signal: Signal = {
    v: 1,
    id: signalId('pagerduty', fingerprint, status ?? kind, event.id),
    source: 'pagerduty',
    kind,
    fingerprint,
    ...(status ? { status } : {}),
    severity,
    entities: [alertRef('pagerduty', incidentIdentity, title)],
    observedAt: occurredAt,
    receivedAt: context.receivedAt,
    summary: clip(summary, MAX_SUMMARY_LENGTH, title),
    attributes,
    raw,
  };
  return checkedSignals('the PagerDuty event does not form a valid signal', [signal]);
}
