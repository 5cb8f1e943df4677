import { z } from 'zod';
import { SEVERITIES } from '../../signal.js';

/** How a value is compared with its threshold: the SLO is breached when `value <comparator> threshold`. */
export const COMPARATORS = ['>', '>=', '<', '<='] as const;
export type Comparator = (typeof COMPARATORS)[number];

/**
 * One scheduled metric query for a service: the series is `query` (divided point by point by
 * `denominator` when given, then multiplied by `scale`), compared with `threshold`, and scanned
 * for anomalies. `query` is in the source's language (Datadog metric query or PromQL).
 */
export const sloQuerySchema = z.strictObject({
  /** Stable key, unique per poller (default `<service>/<metric>`); the signals' fingerprints use it. */
  id: z.string().min(1).max(200).optional(),
  service: z.string().min(1).max(253),
  /** What is measured, e.g. `error_rate`, `latency_p99_ms`. */
  metric: z.string().min(1).max(100),
  query: z.string().min(1).max(4000),
  denominator: z.string().min(1).max(4000).optional(),
  scale: z.number().positive().optional(),
  threshold: z.number(),
  comparator: z.enum(COMPARATORS).default('>'),
  /** How long every point must breach before the SLO signal fires. Default 60 s. */
  forMs: z.number().int().nonnegative().optional(),
  /** Anomaly detector over the series. Default `mad`. */
  anomaly: z.enum(['mad', 'ewma', 'off']).optional(),
  /** Deviations from the baseline no larger than this are never anomalous. Default a tenth of the threshold. */
  minDeviation: z.number().nonnegative().optional(),
  /**
   * The robust z-score (MAD) or deviation in standard deviations (EWMA) a point must exceed to be
   * an anomaly: lower flags smaller departures. Default 3.5.
   */
  sensitivity: z.number().positive().max(100).optional(),
  /** Severity of the breach signal. Default `error`. */
  severity: z.enum(SEVERITIES).optional(),
});
export type SloQueryInput = z.input<typeof sloQuerySchema>;
export type SloQuery = z.output<typeof sloQuerySchema> & { id: string };

/** Validates queries and fills in ids; throws `ZodError` for a bad one. */
export function parseSloQueries(inputs: readonly SloQueryInput[]): SloQuery[] {
  const queries = inputs.map((input) => {
    const parsed = sloQuerySchema.parse(input);
    return { ...parsed, id: parsed.id ?? `${parsed.service}/${parsed.metric}` };
  });
  const seen = new Set<string>();
  for (const query of queries) {
    if (seen.has(query.id)) throw new Error(`two SLO queries share the id "${query.id}"; give one an id`);
    seen.add(query.id);
  }
  return queries;
}

/** A service and its objectives, as an estate declares them. */
export interface ServiceObjectives {
  name: string;
  tier?: string;
  slo?: { errorRate?: number; latencyP99Ms?: number };
}

/**
 * Query templates for deriving SLO queries from objectives; `{service}` is replaced with the
 * service name. The error rate is `errors / requests` when `errorRateDenominator` is set.
 */
export interface SloTemplates {
  errorRate?: string;
  errorRateDenominator?: string;
  latencyP99?: string;
  /** Multiplies latency values into milliseconds (1000 when the metric is in seconds). */
  latencyScale?: number;
}

/** Datadog APM trace metrics; the latency percentile metric is in seconds. */
export const DATADOG_APM_TEMPLATES: Readonly<SloTemplates> = Object.freeze({
  errorRate: 'sum:trace.http.request.errors{service:{service}}',
  errorRateDenominator: 'sum:trace.http.request.hits{service:{service}}',
  latencyP99: 'max:trace.http.request.duration.by.service.99p{service:{service}}',
  latencyScale: 1000,
});

function fill(template: string, service: string): string {
  return template.replaceAll('{service}', service);
}

/**
 * One error-rate and one p99-latency query per service objective, breached above the objective;
 * critical-tier services breach with severity `critical`, others `error`.
 */
export function deriveSloQueries(
  services: readonly ServiceObjectives[],
  templates: SloTemplates,
): SloQueryInput[] {
  const queries: SloQueryInput[] = [];
  for (const service of services) {
    const severity = service.tier === 'critical' ? 'critical' : 'error';
    const errorRate = service.slo?.errorRate;
    if (errorRate !== undefined && templates.errorRate) {
      queries.push({
        service: service.name,
        metric: 'error_rate',
        query: fill(templates.errorRate, service.name),
        ...(templates.errorRateDenominator
          ? { denominator: fill(templates.errorRateDenominator, service.name) }
          : {}),
        threshold: errorRate,
        comparator: '>',
        severity,
      });
    }
    const latency = service.slo?.latencyP99Ms;
    if (latency !== undefined && templates.latencyP99) {
      queries.push({
        service: service.name,
        metric: 'latency_p99_ms',
        query: fill(templates.latencyP99, service.name),
        ...(templates.latencyScale ? { scale: templates.latencyScale } : {}),
        threshold: latency,
        comparator: '>',
        severity,
      });
    }
  }
  return queries;
}
