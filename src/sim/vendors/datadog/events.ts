import { stableHash } from '../../../shared/ids.js';
import type { VendorEvent, VendorWorld } from '../source.js';

/** One event of the v1 events list, as on the wire. */
export interface DatadogEvent {
  id: number;
  id_str: string;
  date_happened: number;
  title: string;
  text: string;
  tags: string[];
  alert_type: 'error' | 'warning' | 'info' | 'success';
  priority: 'normal' | 'low';
  source_type_name: string;
  host: string | null;
  device_name: string | null;
  url: string;
  payload: string;
}

function alertType(severity: string | undefined): DatadogEvent['alert_type'] {
  if (severity === 'error' || severity === 'warning' || severity === 'success') return severity;
  if (severity === 'critical') return 'error';
  return 'info';
}

function toDatadogEvent(event: VendorEvent, index: number): DatadogEvent {
  const id = Number.parseInt(stableHash(event.t, event.title, index).slice(0, 13), 16);
  const tags = [...(event.service ? [`service:${event.service}`] : []), ...(event.tags ?? [])];
  return {
    id,
    id_str: String(id),
    date_happened: Math.floor(event.t / 1000),
    title: event.title,
    text: event.text,
    tags,
    alert_type: alertType(event.severity),
    priority: 'normal',
    source_type_name: event.source ?? 'kubernetes',
    host: null,
    device_name: null,
    url: `/event/event?id=${id}`,
    payload: '{}',
  };
}

/** Filters for the v1 events list; `tags` must all be present, `sources` any one. */
export interface EventsFilter {
  startSeconds: number;
  endSeconds: number;
  tags?: string[];
  sources?: string[];
  priority?: string;
}

/** The world's events in [start, end] (seconds, inclusive), newest first, as Datadog lists them. */
export function listEvents(world: VendorWorld, filter: EventsFilter): DatadogEvent[] {
  return world
    .events(filter.startSeconds * 1000, filter.endSeconds * 1000 + 999)
    .map(toDatadogEvent)
    .filter((event) => !filter.tags?.length || filter.tags.every((tag) => event.tags.includes(tag)))
    .filter((event) => !filter.sources?.length || filter.sources.includes(event.source_type_name))
    .filter((event) => !filter.priority || event.priority === filter.priority)
    .sort((a, b) => b.date_happened - a.date_happened);
}
