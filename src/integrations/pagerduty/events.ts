import { SystemError } from '../../shared/errors.js';
import type { Logger } from '../../shared/logger.js';
import { silentLogger } from '../../shared/logger.js';
import type { Secret } from '../../shared/secret.js';
import { sleep as defaultSleep } from '../../shared/clock.js';
import { backoffDelay, retryAfterMs, type BackoffOptions } from './retry.js';

/** PagerDuty's default Events API v2 endpoint (EU accounts use events.eu.pagerduty.com). */
export const DEFAULT_EVENTS_URL = 'https://events.pagerduty.com/v2/enqueue';

/** Severity of a triggered alert, as the Events API v2 names it. */
export type PagerDutySeverity = 'critical' | 'error' | 'warning' | 'info';

/** A link shown on the PagerDuty alert (runbook, dashboard, incident console). */
export interface PagerDutyLink {
  href: string;
  text?: string;
}

/** One piece of evidence behind the root cause. */
export interface EscalationEvidence {
  summary: string;
  url?: string;
}

/**
 * What nightshift tells the on-call when it escalates an incident. The incident id becomes the
 * dedup key, so repeated triggers fold into one PagerDuty incident and acknowledge/resolve find it.
 */
export interface EscalationInput {
  incidentId: string;
  /** One line; clipped to PagerDuty's 1024 characters. */
  summary: string;
  severity: PagerDutySeverity;
  /** The affected system, e.g. `shop/checkout`. Defaults to the client's `source`. */
  source?: string;
  component?: string;
  group?: string;
  class?: string;
  /** When the problem began, ms since the epoch. */
  startedAt?: number;
  rootCause?: string;
  /** 0..1 */
  confidence?: number;
  evidence?: readonly EscalationEvidence[];
  /** The action nightshift proposes (or could not take), in words. */
  proposedAction?: string;
  /** Why nightshift escalates rather than acts (low confidence, first of its kind, high risk). */
  reason?: string;
  /** Further fields for `custom_details`; never put secrets here. */
  details?: Record<string, unknown>;
  links?: readonly PagerDutyLink[];
}

/** What PagerDuty answered for an accepted event. */
export interface PagerDutyEventResult {
  dedupKey: string;
  /** Requests made, 1 when the first one was accepted. */
  attempts: number;
}

/** Options of the Events API v2 client. */
export interface PagerDutyEventsOptions extends BackoffOptions {
  /** The integration (routing) key of the PagerDuty service; sent in the body, never logged. */
  routingKey: Secret;
  /** Full enqueue URL. Default {@link DEFAULT_EVENTS_URL}. */
  eventsUrl?: string;
  /** `payload.source` when an event does not name one. Default `nightshift`. */
  source?: string;
  /** `client` and `client_url` shown on the alert. */
  client?: string;
  clientUrl?: string;
  /** Requests per event, the first included. Default 5. */
  maxAttempts?: number;
  /** Per-request timeout. Default 10 s. */
  timeoutMs?: number;
  logger?: Logger;
  /** Injected in tests to observe waits without waiting. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  now?: () => number;
}

/** Options of one call. */
export interface SendOptions {
  signal?: AbortSignal;
}

const SUMMARY_LIMIT = 1024;

interface WireEvent {
  routing_key: string;
  event_action: 'trigger' | 'acknowledge' | 'resolve';
  dedup_key: string;
  payload?: Record<string, unknown>;
  client?: string;
  client_url?: string;
  links?: Array<{ href: string; text?: string }>;
}

function clip(text: string, limit: number): string {
  return text.length <= limit ? text : `${text.slice(0, limit - 1)}…`;
}

function errorsOf(body: unknown): string[] {
  if (typeof body !== 'object' || body === null) return [];
  const record = body as Record<string, unknown>;
  if (Array.isArray(record.errors)) return record.errors.map(String);
  return typeof record.message === 'string' ? [record.message] : [];
}

async function readBody(response: Response): Promise<unknown> {
  const text = await response.text().catch(() => '');
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/**
 * A PagerDuty Events API v2 client. `trigger` opens (or folds into) the alert keyed by the
 * incident id; `acknowledge` and `resolve` move it. 429, 5xx and network failures are retried
 * with backoff, honouring `Retry-After`; other 4xx fail at once with a `SystemError` whose code
 * is `pagerduty_rejected` (not retryable) and whose data holds PagerDuty's error strings.
 * Exhausted retries throw `pagerduty_unavailable` (retryable). The routing key appears in no
 * log line and no error.
 */
export class PagerDutyEventsClient {
  readonly #options: PagerDutyEventsOptions;
  readonly #url: string;
  readonly #logger: Logger;
  readonly #sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  readonly #now: () => number;

  constructor(options: PagerDutyEventsOptions) {
    this.#options = options;
    this.#url = options.eventsUrl ?? DEFAULT_EVENTS_URL;
    this.#logger = (options.logger ?? silentLogger()).child({ component: 'pagerduty' });
    this.#sleep = options.sleep ?? defaultSleep;
    this.#now = options.now ?? Date.now;
  }

  /** Triggers the alert for an incident; a repeat while it is open is deduplicated by PagerDuty. */
  trigger(input: EscalationInput, options: SendOptions = {}): Promise<PagerDutyEventResult> {
    const details: Record<string, unknown> = { incident_id: input.incidentId };
    if (input.rootCause !== undefined) details.root_cause = input.rootCause;
    if (input.confidence !== undefined) details.confidence = Math.round(input.confidence * 100) / 100;
    if (input.evidence !== undefined)
      details.evidence = input.evidence.map((item) =>
        item.url ? `${item.summary} (${item.url})` : item.summary,
      );
    if (input.proposedAction !== undefined) details.proposed_action = input.proposedAction;
    if (input.reason !== undefined) details.escalation_reason = input.reason;
    Object.assign(details, input.details);
    const payload: Record<string, unknown> = {
      summary: clip(input.summary, SUMMARY_LIMIT),
      source: input.source ?? this.#options.source ?? 'nightshift',
      severity: input.severity,
      custom_details: details,
    };
    if (input.startedAt !== undefined) payload.timestamp = new Date(input.startedAt).toISOString();
    if (input.component) payload.component = input.component;
    if (input.group) payload.group = input.group;
    if (input.class) payload.class = input.class;
    const links = [
      ...(input.links ?? []),
      ...(input.evidence ?? []).flatMap((item) => (item.url ? [{ href: item.url, text: item.summary }] : [])),
    ];
    return this.#send(
      {
        ...this.#base('trigger', input.incidentId),
        payload,
        ...(links.length > 0 ? { links: links.map((link) => ({ ...link })) } : {}),
      },
      options,
    );
  }

  /** Acknowledges the incident's alert; accepted (and a no-op) when none is open. */
  acknowledge(incidentId: string, options: SendOptions = {}): Promise<PagerDutyEventResult> {
    return this.#send(this.#base('acknowledge', incidentId), options);
  }

  /** Resolves the incident's alert; accepted (and a no-op) when none is open. */
  resolve(incidentId: string, options: SendOptions = {}): Promise<PagerDutyEventResult> {
    return this.#send(this.#base('resolve', incidentId), options);
  }

  #base(action: WireEvent['event_action'], incidentId: string): WireEvent {
    return {
      routing_key: this.#options.routingKey.reveal(),
      event_action: action,
      dedup_key: incidentId,
      ...(this.#options.client ? { client: this.#options.client } : {}),
      ...(this.#options.clientUrl ? { client_url: this.#options.clientUrl } : {}),
    };
  }

  async #send(event: WireEvent, options: SendOptions): Promise<PagerDutyEventResult> {
    const maxAttempts = Math.max(1, this.#options.maxAttempts ?? 5);
    const body = JSON.stringify(event);
    const context = { action: event.event_action, dedupKey: event.dedup_key };
    let lastFailure = '';
    for (let attempt = 1; ; attempt++) {
      options.signal?.throwIfAborted();
      let waitHint: number | undefined;
      try {
        const response = await fetch(this.#url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', accept: 'application/json' },
          body,
          signal: AbortSignal.any([
            AbortSignal.timeout(this.#options.timeoutMs ?? 10_000),
            ...(options.signal ? [options.signal] : []),
          ]),
        });
        const reply = await readBody(response);
        if (response.status === 202 || response.ok) {
          const dedupKey =
            typeof reply === 'object' &&
            reply !== null &&
            typeof (reply as Record<string, unknown>).dedup_key === 'string'
              ? ((reply as Record<string, unknown>).dedup_key as string)
              : event.dedup_key;
          this.#logger.info({ ...context, attempts: attempt }, 'pagerduty event accepted');
          return { dedupKey, attempts: attempt };
        }
        const errors = errorsOf(reply);
        if (response.status !== 429 && response.status < 500) {
          this.#logger.error({ ...context, status: response.status, errors }, 'pagerduty refused the event');
          throw new SystemError(
            'pagerduty_rejected',
            `PagerDuty refused the ${event.event_action} event for ${event.dedup_key} (HTTP ${response.status})` +
              (errors.length > 0 ? `: ${errors.join('; ')}` : '') +
              (response.status === 400 ? '' : '; check integrations.pagerduty.routingKey and eventsUrl'),
            { retryable: false, data: { status: response.status, errors, ...context } },
          );
        }
        lastFailure = `HTTP ${response.status}${errors.length > 0 ? ` (${errors.join('; ')})` : ''}`;
        waitHint = retryAfterMs(response.headers.get('retry-after'), this.#now());
      } catch (error) {
        if (error instanceof SystemError) throw error;
        if (options.signal?.aborted) throw options.signal.reason;
        lastFailure = error instanceof Error ? error.message : String(error);
      }
      if (attempt >= maxAttempts) {
        this.#logger.error({ ...context, attempts: attempt, failure: lastFailure }, 'pagerduty unavailable');
        throw new SystemError(
          'pagerduty_unavailable',
          `PagerDuty did not accept the ${event.event_action} event for ${event.dedup_key} after ${attempt} attempts: ${lastFailure}`,
          { retryable: true, data: { attempts: attempt, failure: lastFailure, ...context } },
        );
      }
      const delay =
        waitHint !== undefined
          ? Math.min(waitHint, this.#options.maxDelayMs ?? 30_000)
          : backoffDelay(attempt, this.#options);
      this.#logger.warn({ ...context, attempt, failure: lastFailure, delayMs: delay }, 'pagerduty retry');
      await this.#sleep(delay, options.signal);
    }
  }
}
