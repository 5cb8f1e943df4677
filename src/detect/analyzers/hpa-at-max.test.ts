import { describe, expect, it } from 'vitest';
import { MINUTE, NOW } from '../../../test/fixtures/detect/cluster.js';
import { analyze } from './analyze.js';
import { hpaAtMaxAnalyzer } from './hpa-at-max.js';
import type { HorizontalPodAutoscaler } from './snapshot.js';

const at = (agoMs: number) => new Date(NOW - agoMs).toISOString();

/** An autoscaling/v2 HPA as the controller reports it, CPU target 70%. */
function hpa(
  current: number,
  desired: number,
  limited?: { status: string; reason: string; message: string },
): HorizontalPodAutoscaler {
  return {
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata: { name: 'checkout', namespace: 'shop' },
    spec: {
      minReplicas: 2,
      maxReplicas: 10,
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'checkout' },
      metrics: [
        {
          type: 'Resource',
          resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 70 } },
        },
      ],
    },
    status: {
      currentReplicas: current,
      desiredReplicas: desired,
      currentMetrics: [
        {
          type: 'Resource',
          resource: { name: 'cpu', current: { averageUtilization: 164, averageValue: '821m' } },
        },
      ],
      conditions: [
        {
          type: 'AbleToScale',
          status: 'True',
          reason: 'ReadyForNewScale',
          message: 'recommended size matches current size',
          lastTransitionTime: at(60 * MINUTE),
        },
        {
          type: 'ScalingActive',
          status: 'True',
          reason: 'ValidMetricFound',
          message:
            'the HPA was able to successfully calculate a replica count from cpu resource utilization (percentage of request)',
          lastTransitionTime: at(60 * MINUTE),
        },
        ...(limited ? [{ type: 'ScalingLimited', ...limited, lastTransitionTime: at(12 * MINUTE) }] : []),
      ],
    },
  };
}

const tooMany = {
  status: 'True',
  reason: 'TooManyReplicas',
  message: 'the desired replica count is more than the maximum replica count',
};

describe('hpa-at-max analyzer', () => {
  it('reports an HPA pinned at maxReplicas with ScalingLimited', () => {
    const findings = analyze({ hpas: [hpa(10, 10, tooMany)] }, NOW, { analyzers: [hpaAtMaxAnalyzer] });
    expect(findings).toEqual([
      expect.objectContaining({
        kind: 'HpaAtMaxReplicas',
        reason: 'TooManyReplicas',
        object: { kind: 'HorizontalPodAutoscaler', name: 'checkout', namespace: 'shop' },
        evidence: {
          minReplicas: 2,
          maxReplicas: 10,
          currentReplicas: 10,
          desiredReplicas: 10,
          conditionReason: 'TooManyReplicas',
          conditionMessage: tooMany.message,
          since: NOW - 12 * MINUTE,
          target: { kind: 'Deployment', name: 'checkout' },
          metrics: [{ type: 'Resource', name: 'cpu', averageUtilization: 164, averageValue: '821m' }],
        },
      }),
    ]);
    expect(findings[0]?.message).toContain('maximum of 10 replicas for Deployment checkout');
  });

  it.each([
    {
      name: 'below max',
      object: () =>
        hpa(6, 8, {
          status: 'True',
          reason: 'ScaleUpLimit',
          message: 'the desired replica count is increasing faster than the maximum scale rate',
        }),
    },
    {
      name: 'at max without ScalingLimited',
      object: () =>
        hpa(10, 10, {
          status: 'False',
          reason: 'DesiredWithinRange',
          message: 'the desired count is within the acceptable range',
        }),
    },
    { name: 'at max and no ScalingLimited condition yet', object: () => hpa(10, 10) },
    {
      name: 'limited at the floor',
      object: () => ({
        ...hpa(10, 10, {
          status: 'True',
          reason: 'TooFewReplicas',
          message: 'the desired replica count is less than the minimum replica count',
        }),
        spec: { ...hpa(10, 10).spec, minReplicas: 10 },
      }),
    },
  ])('finds nothing: $name', ({ object }) => {
    expect(analyze({ hpas: [object()] }, NOW, { analyzers: [hpaAtMaxAnalyzer] })).toEqual([]);
  });
});
