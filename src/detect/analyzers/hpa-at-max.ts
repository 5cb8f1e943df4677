import type { V2MetricStatus } from '@kubernetes/client-node';
import type { Analyzer } from './analyzer.js';
import { timeOf } from './api-object.js';
import type { ApiObject } from './api-object.js';
import type { AnalysisContext } from './context.js';
import { createFinding, type Finding } from './finding.js';
import { displayName, referenceTo } from './owner.js';

/**
 * HorizontalPodAutoscalers (autoscaling/v2) pinned at their ceiling: current replicas at or above
 * `maxReplicas` with the `ScalingLimited` condition True (except reason `TooFewReplicas`, which
 * is the floor). Evidence has min/max/current/desired, the condition, the scale target and the
 * current metric values, so the investigation can tell load from a too-low ceiling.
 */
export const hpaAtMaxAnalyzer: Analyzer = {
  name: 'hpa-at-max',
  analyze(context: AnalysisContext): Finding[] {
    const findings: Finding[] = [];
    for (const hpa of context.snapshot.hpas ?? []) {
      const object = referenceTo('HorizontalPodAutoscaler', hpa);
      const max = hpa.spec?.maxReplicas;
      const current = hpa.status?.currentReplicas;
      if (!object || max === undefined || current === undefined || current < max) continue;
      const limited = hpa.status?.conditions?.find((condition) => condition.type === 'ScalingLimited');
      if (limited?.status !== 'True' || limited.reason === 'TooFewReplicas') continue;
      const target = hpa.spec?.scaleTargetRef;
      findings.push(
        createFinding({
          analyzer: 'hpa-at-max',
          kind: 'HpaAtMaxReplicas',
          severity: 'warning',
          object,
          reason: limited.reason,
          message: `HPA ${displayName(object)} is at its maximum of ${max} replicas${
            target?.name ? ` for ${target.kind ?? 'target'} ${target.name}` : ''
          } and wants ${hpa.status?.desiredReplicas ?? 'more'}${limited.message ? ` (${limited.message})` : ''}`,
          evidence: {
            minReplicas: hpa.spec?.minReplicas ?? 1,
            maxReplicas: max,
            currentReplicas: current,
            desiredReplicas: hpa.status?.desiredReplicas,
            conditionReason: limited.reason,
            conditionMessage: limited.message,
            since: timeOf(limited.lastTransitionTime),
            target: target ? { kind: target.kind, name: target.name } : undefined,
            metrics: (hpa.status?.currentMetrics ?? []).map(describeMetric),
          },
        }),
      );
    }
    return findings;
  },
};

function describeMetric(metric: ApiObject<V2MetricStatus>): Record<string, unknown> {
  const source =
    metric.resource ?? metric.containerResource ?? metric.pods ?? metric.object ?? metric.external;
  const name =
    metric.resource?.name ??
    metric.containerResource?.name ??
    metric.pods?.metric?.name ??
    metric.object?.metric?.name ??
    metric.external?.metric?.name;
  return {
    type: metric.type,
    name,
    averageUtilization: source?.current?.averageUtilization,
    averageValue: source?.current?.averageValue,
    value: source?.current?.value,
  };
}
