import { z } from 'zod';
import { parseDuration } from '../../../shared/clock.js';
import { METRIC_NAMES, type MetricName, type VendorService } from '../source.js';

const duration = z
  .union([
    z.int().nonnegative(),
    z.string().regex(/^\d+(?:\.\d+)?(ms|s|m|h|d)?$/, 'a duration such as 30s, 5m'),
  ])
  .transform((value) => parseDuration(value));

/**
 * An alert rule over one service's series: fires when `metric op threshold` has held for
 * `for` of sim time. Annotations may use `{{ $value }}`, `{{ $threshold }}` and
 * `{{ $labels.<name> }}`.
 */
export const alertRuleSchema = z.strictObject({
  name: z.string().regex(/^[a-zA-Z_][a-zA-Z0-9_]*$/, 'an alert name (letters, digits, _)'),
  service: z.string().min(1),
  metric: z.enum(METRIC_NAMES as [MetricName, ...MetricName[]]),
  op: z.enum(['>', '<']),
  threshold: z.number(),
  for: duration.default(0),
  severity: z.string().default('warning'),
  labels: z.record(z.string(), z.string()).default({}),
  annotations: z.record(z.string(), z.string()).default({}),
});

export type AlertRule = z.output<typeof alertRuleSchema>;
export type AlertRuleInput = z.input<typeof alertRuleSchema>;

/**
 * The rules the sim evaluates when none are given: per service with an SLO, error rate above
 * its SLO and p99 latency above its SLO, each for 1 minute; `critical` on critical-tier services.
 */
export function defaultRules(services: readonly VendorService[]): AlertRule[] {
  const rules: AlertRuleInput[] = [];
  for (const service of services) {
    const severity = service.tier === 'critical' ? 'critical' : 'warning';
    if (service.slo?.errorRate !== undefined) {
      rules.push({
        name: 'HighErrorRate',
        service: service.name,
        metric: 'errorRate',
        op: '>',
        threshold: service.slo.errorRate,
        for: '1m',
        severity,
        annotations: {
          summary: `${service.name} error rate is above its SLO`,
          description: '{{ $labels.service }} error rate is {{ $value }} (SLO {{ $threshold }}).',
        },
      });
    }
    if (service.slo?.latencyP99Ms !== undefined) {
      rules.push({
        name: 'HighLatencyP99',
        service: service.name,
        metric: 'latencyP99Ms',
        op: '>',
        threshold: service.slo.latencyP99Ms,
        for: '1m',
        severity,
        annotations: {
          summary: `${service.name} p99 latency is above its SLO`,
          description: '{{ $labels.service }} p99 latency is {{ $value }} ms (SLO {{ $threshold }} ms).',
        },
      });
    }
  }
  return rules.map((rule) => alertRuleSchema.parse(rule));
}

/** Fills `{{ $value }}`, `{{ $threshold }}` and `{{ $labels.x }}` in an annotation. */
export function renderAnnotation(
  template: string,
  values: { value: number; threshold: number; labels: Record<string, string> },
): string {
  return template.replace(
    /\{\{\s*\$(value|threshold|labels\.([a-zA-Z_][a-zA-Z0-9_]*))\s*\}\}/g,
    (_match, what: string, label: string | undefined) => {
      if (what === 'value') return String(Number(values.value.toPrecision(6)));
      if (what === 'threshold') return String(values.threshold);
      return values.labels[label ?? ''] ?? '';
    },
  );
}
