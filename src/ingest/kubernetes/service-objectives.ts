import type { PropertiesInput } from '../../graph/schema.js';
import { OBJECTIVE_PROPERTIES } from '../pollers/objectives.js';
import type { KubeObject } from './resources.js';

/**
 * Annotations on a Kubernetes Service that declare its objectives; the pollers derive SLO queries
 * from them. The error rate is a fraction (`0.01` is 1 %), the latency in milliseconds.
 */
export const SLO_ANNOTATIONS = {
  errorRate: 'nightshift.dev/slo-error-rate',
  latencyP99Ms: 'nightshift.dev/slo-latency-p99-ms',
  tier: 'nightshift.dev/tier',
} as const;

function positiveNumber(value: string | undefined): number | null {
  if (value === undefined || !/^\s*\d+(\.\d+)?([eE]-?\d+)?\s*$/.test(value)) return null;
  const parsed = Number(value);
  return Number.isFinite(parsed) && parsed > 0 ? parsed : null;
}

/**
 * The objective properties of a Service's graph entity, from its annotations (the tier also from
 * its `tier` label). Absent or unreadable values are `null`, so removing an annotation removes
 * the objective; an error rate must lie in (0, 1].
 */
export function serviceObjectiveProperties(object: KubeObject): PropertiesInput {
  const annotations = object.metadata?.annotations ?? {};
  const errorRate = positiveNumber(annotations[SLO_ANNOTATIONS.errorRate]);
  const tier = annotations[SLO_ANNOTATIONS.tier] ?? object.metadata?.labels?.tier;
  return {
    [OBJECTIVE_PROPERTIES.errorRate]: errorRate !== null && errorRate <= 1 ? errorRate : null,
    [OBJECTIVE_PROPERTIES.latencyP99Ms]: positiveNumber(annotations[SLO_ANNOTATIONS.latencyP99Ms]),
    [OBJECTIVE_PROPERTIES.tier]: tier && tier.length <= 63 ? tier : null,
  };
}
