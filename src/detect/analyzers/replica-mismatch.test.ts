import { describe, expect, it } from 'vitest';
import {
  MINUTE,
  NOW,
  deploymentFrom,
  replicaSetFor,
  withDeploymentStatus,
  type Manifest,
} from '../../../test/fixtures/detect/cluster.js';
import {
  crashPodScenario,
  imagePullBackOffScenario,
  memoryPressureScenario,
  pendingResourcesScenario,
} from '../../../test/fixtures/detect/scenarios.js';
import { analyze } from './analyze.js';
import { replicaMismatchAnalyzer } from './replica-mismatch.js';
import type { ClusterSnapshot, Deployment } from './snapshot.js';

const run = (snapshot: ClusterSnapshot, now = NOW) =>
  analyze(snapshot, now, { analyzers: [replicaMismatchAnalyzer] });

const api: Manifest = {
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'api', namespace: 'shop' },
  spec: {
    replicas: 4,
    selector: { matchLabels: { app: 'api' } },
    template: {
      metadata: { labels: { app: 'api' } },
      spec: { containers: [{ name: 'api', image: 'shop/api:5' }] },
    },
  },
};

function apiWith(available: number, sinceAgoMs: number, createdAgoMs = 60 * MINUTE): Deployment {
  const deployment = deploymentFrom(api, { createdAgoMs });
  return withDeploymentStatus(deployment, {
    available,
    sinceAgoMs,
    replicaSet: replicaSetFor(deployment),
    rolledOutAgoMs: createdAgoMs - MINUTE,
  });
}

describe('replica-mismatch analyzer', () => {
  it.each([
    {
      name: 'image_pull_backoff: 0/3, deadline exceeded',
      snapshot: () => imagePullBackOffScenario().snapshot,
      expected: { desired: 3, available: 0, reason: 'ProgressDeadlineExceeded', severity: 'critical' },
    },
    {
      name: 'crashpod/broken: 0/1, deadline exceeded',
      snapshot: () => crashPodScenario('broken').snapshot,
      expected: { desired: 1, available: 0, reason: 'ProgressDeadlineExceeded', severity: 'critical' },
    },
    {
      name: 'pending_pods/resources: 0/1 for 10 minutes',
      snapshot: () => pendingResourcesScenario().snapshot,
      expected: { desired: 1, available: 0, reason: 'MinimumReplicasUnavailable', severity: 'critical' },
    },
  ])('$name', ({ snapshot, expected }) => {
    const findings = run(snapshot());
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({
      kind: 'ReplicaMismatch',
      reason: expected.reason,
      severity: expected.severity,
      evidence: { desired: expected.desired, available: expected.available },
    });
    expect(findings[0]?.message).toContain(`${expected.available}/${expected.desired} replicas available`);
  });

  it('waits for the grace period: memory_pressure_evictions lost 2 of 5 replicas 3 minutes ago', () => {
    const { snapshot } = memoryPressureScenario();
    expect(run(snapshot)).toEqual([]);
    const later = run(snapshot, NOW + 3 * MINUTE);
    expect(later).toEqual([
      expect.objectContaining({
        severity: 'warning',
        reason: 'MinimumReplicasUnavailable',
        object: expect.objectContaining({ name: 'nginx-deployment' }) as unknown,
      }),
    ]);
    expect(later[0]?.evidence).toMatchObject({ desired: 5, available: 3, since: NOW - 3 * MINUTE });
  });

  it.each([
    { name: 'all available', deployment: () => apiWith(4, 30 * MINUTE) },
    { name: 'short for less than the grace period', deployment: () => apiWith(2, 2 * MINUTE) },
    {
      name: 'paused',
      deployment: () => ({
        ...apiWith(0, 30 * MINUTE),
        spec: { ...apiWith(0, 30 * MINUTE).spec, paused: true },
      }),
    },
    {
      name: 'scaled to zero',
      deployment: () => ({
        ...deploymentFrom(api),
        spec: { ...deploymentFrom(api).spec, replicas: 0 },
        status: {},
      }),
    },
  ])('finds nothing: $name', ({ deployment }) => {
    expect(run({ deployments: [deployment()] })).toEqual([]);
  });

  it('honours replicaMismatchGraceMs', () => {
    const deployments = [apiWith(2, 2 * MINUTE)];
    expect(
      analyze({ deployments }, NOW, { analyzers: [replicaMismatchAnalyzer], replicaMismatchGraceMs: MINUTE }),
    ).toHaveLength(1);
  });

  it('finds nothing for crashpod/healthy', () => {
    expect(run(crashPodScenario('healthy').snapshot)).toEqual([]);
  });
});
