import { stableHash } from '../../../shared/ids.js';
import type { PagerDutyEvent } from './validate.js';

/** An incident as the sim's PagerDuty keeps it, per dedup key. */
export interface PagerDutyIncident {
  /** 1, 2, … in order of opening. */
  number: number;
  dedupKey: string;
  routingKey: string;
  status: 'triggered' | 'acknowledged' | 'resolved';
  summary: string;
  severity: string;
  source: string;
  component?: string;
  customDetails?: unknown;
  /** Trigger events folded into this incident (1 + deduplicated repeats). */
  triggers: number;
  openedAt: number;
  acknowledgedAt?: number;
  resolvedAt?: number;
}

/** An accepted event. `effect` says what it did to the incident. */
export interface PagerDutyEventRecord {
  at: number;
  action: PagerDutyEvent['event_action'];
  dedupKey: string;
  routingKey: string;
  effect: 'opened' | 'deduplicated' | 'acknowledged' | 'resolved' | 'ignored';
  event: PagerDutyEvent;
}

/**
 * Incident state by dedup key, as PagerDuty applies Events API v2 events: a trigger opens an
 * incident or folds into the open one; acknowledge and resolve move an open incident; events
 * for unknown or resolved keys are accepted and change nothing; a trigger after a resolve
 * opens a new incident.
 */
export class IncidentBook {
  readonly events: PagerDutyEventRecord[] = [];
  /** Every incident ever opened, oldest first. */
  readonly incidents: PagerDutyIncident[] = [];
  #generated = 0;

  /** The latest incident for a dedup key. */
  current(dedupKey: string): PagerDutyIncident | undefined {
    return this.incidents.filter((incident) => incident.dedupKey === dedupKey).at(-1);
  }

  /** Applies a valid event; answers the dedup key (generated for a trigger without one). */
  apply(event: PagerDutyEvent, at: number): string {
    const dedupKey =
      event.dedup_key ?? stableHash('pagerduty', event.routing_key, ++this.#generated).slice(0, 32);
    const open = this.current(dedupKey);
    const isOpen = open !== undefined && open.status !== 'resolved';
    let effect: PagerDutyEventRecord['effect'] = 'ignored';
    if (event.event_action === 'trigger') {
      if (isOpen) {
        open.triggers++;
        effect = 'deduplicated';
      } else {
        const payload = event.payload;
        this.incidents.push({
          number: this.incidents.length + 1,
          dedupKey,
          routingKey: event.routing_key,
          status: 'triggered',
          summary: payload?.summary ?? '',
          severity: payload?.severity ?? 'error',
          source: payload?.source ?? '',
          ...(payload?.component ? { component: payload.component } : {}),
          ...(payload?.custom_details !== undefined ? { customDetails: payload.custom_details } : {}),
          triggers: 1,
          openedAt: at,
        });
        effect = 'opened';
      }
    } else if (isOpen && event.event_action === 'acknowledge' && open.status === 'triggered') {
      open.status = 'acknowledged';
      open.acknowledgedAt = at;
      effect = 'acknowledged';
    } else if (isOpen && event.event_action === 'resolve') {
      open.status = 'resolved';
      open.resolvedAt = at;
      effect = 'resolved';
    }
    this.events.push({
      at,
      action: event.event_action,
      dedupKey,
      routingKey: event.routing_key,
      effect,
      event,
    });
    return dedupKey;
  }
}
