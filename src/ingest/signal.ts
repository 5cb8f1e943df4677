import { z } from 'zod';
import { ENTITY_KINDS } from '../graph/schema.js';
import { stableId } from '../shared/ids.js';

/**
 * The one shape every source is turned into before anything else sees it. Version 1: a change
 * that alters how a stored or queued signal is read bumps `v`, and readers keep accepting every
 * version still in a queue (old payload fixtures stay in the repo as evidence).
 */
export const SIGNAL_VERSION = 1;

/** Where a signal came from. */
export const SIGNAL_SOURCES = [
  'alertmanager',
  'datadog',
  'pagerduty',
  'github',
  'kubernetes',
  'slack',
  'git',
  'logs',
  'prometheus',
  'flags',
  'sim',
] as const;
export type SignalSource = (typeof SIGNAL_SOURCES)[number];

/**
 * What a signal says:
 * - `alert`: something is (`firing`) or is no longer (`resolved`) wrong; the only kind with a status;
 * - `change`: someone or something changed the estate (a push, a deploy, a merged pull request);
 * - `event`: something happened that is neither (an incident was acknowledged);
 * - `message`: people talking (a Slack message, an incident note);
 * - `anomaly`: a detector saw a metric leave its normal range;
 * - `log_pattern`: a log template appeared or surged.
 */
export const SIGNAL_KINDS = ['alert', 'change', 'event', 'message', 'anomaly', 'log_pattern'] as const;
export type SignalKind = (typeof SIGNAL_KINDS)[number];

export const ALERT_STATUSES = ['firing', 'resolved'] as const;
export type AlertStatus = (typeof ALERT_STATUSES)[number];

/** Severity, most severe first. */
export const SEVERITIES = ['critical', 'error', 'warning', 'info'] as const;
export type Severity = (typeof SEVERITIES)[number];

/** Longest `summary`; parsers cut longer text and end it with `…`. */
export const MAX_SUMMARY_LENGTH = 1024;
/** Most entity references on one signal. */
export const MAX_ENTITY_REFS = 64;

const text = (what: string, max: number) =>
  z
    .string({ error: `${what} must be a string` })
    .min(1, `${what} must not be empty`)
    .max(max);

/**
 * A reference to a graph entity. `id` is the graph id built with the graph's id helpers
 * (`src/graph/ids.ts`), so a writer can upsert it as is; an entity not in the graph yet is
 * created as a low-confidence placeholder by whoever writes the signal to the graph.
 */
export const entityRefSchema = z.strictObject({
  kind: z.enum(ENTITY_KINDS, { error: `must be one of ${ENTITY_KINDS.join(', ')}` }),
  id: text('id', 1024),
  name: text('name', 512),
  namespace: z.string().min(1).max(253).optional(),
  cluster: z.string().min(1).max(253).optional(),
});
export type EntityRef = z.infer<typeof entityRefSchema>;

/**
 * Where the raw body is: its SHA-256 (`sha256:<hex>` of the exact bytes received), the channel it
 * arrived on (`source`, e.g. `webhook/alertmanager`), the sender's delivery id when it sends one
 * (GitHub `X-GitHub-Delivery`, PagerDuty `X-Webhook-Id`), and a JSON pointer (RFC 6901) to the
 * part of the body this signal was made from when a body holds several (`/alerts/3`).
 */
export const rawPointerSchema = z.strictObject({
  source: text('raw.source', 128),
  digest: z.string().regex(/^sha256:[0-9a-f]{64}$/, 'must be sha256:<64 hex digits>'),
  deliveryId: z.string().min(1).max(256).optional(),
  path: z.string().max(256).optional(),
});
export type RawPointer = z.infer<typeof rawPointerSchema>;

const timestamp = z
  .number({ error: 'must be milliseconds since the epoch' })
  .int('must be whole milliseconds since the epoch')
  .nonnegative('must be milliseconds since the epoch');

/** The signal as queued and stored. Times are milliseconds since the Unix epoch. */
export const signalSchema = z
  .strictObject({
    v: z.literal(SIGNAL_VERSION),
    /** Deterministic: the same occurrence reported twice gets the same id. */
    id: text('id', 128),
    source: z.enum(SIGNAL_SOURCES),
    kind: z.enum(SIGNAL_KINDS),
    /**
     * Identity of what the signal is about, stable across repeats: an alert's fingerprint (the
     * same for its firing and resolved signals), a commit, a deployment status, a message. The
     * queue deduplicates by `(source, fingerprint, status or kind)` within a window.
     */
    fingerprint: text('fingerprint', 768),
    status: z.enum(ALERT_STATUSES).optional(),
    severity: z.enum(SEVERITIES),
    entities: z.array(entityRefSchema).max(MAX_ENTITY_REFS),
    /** When it happened at the source. */
    observedAt: timestamp,
    /** When nightshift received it. */
    receivedAt: timestamp,
    summary: text('summary', MAX_SUMMARY_LENGTH),
    /** Source-specific details (labels, annotations, links), redacted like everything else. */
    attributes: z.record(z.string(), z.json()),
    raw: rawPointerSchema,
  })
  .superRefine((signal, context) => {
    if (signal.kind === 'alert' && signal.status === undefined) {
      context.addIssue({
        code: 'custom',
        path: ['status'],
        message: 'an alert needs a status (firing or resolved)',
      });
    }
    if (signal.kind !== 'alert' && signal.status !== undefined) {
      context.addIssue({
        code: 'custom',
        path: ['status'],
        message: `a ${signal.kind} signal has no status`,
      });
    }
  });
export type Signal = z.infer<typeof signalSchema>;

/**
 * The id of a signal: the same source, fingerprint, status (or kind) and occurrence always give the
 * same id. `occurrence` tells apart separate episodes of one fingerprint (an alert's `startsAt`,
 * a Datadog alert cycle, a PagerDuty event id).
 */
export function signalId(
  source: SignalSource,
  fingerprint: string,
  statusOrKind: string,
  occurrence: string | number,
): string {
  return stableId('sig', source, fingerprint, statusOrKind, occurrence);
}

/** Cuts `value` to `max` characters (ending it with `…`), trims it, and gives `fallback` when empty. */
export function clip(value: string | undefined, max: number, fallback: string): string {
  const trimmed = (value ?? '').trim();
  if (!trimmed) return fallback;
  return trimmed.length <= max ? trimmed : `${trimmed.slice(0, max - 1)}…`;
}
