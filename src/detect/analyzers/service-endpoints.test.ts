import { describe, expect, it } from 'vitest';
import { NOW, podFrom, running, type Manifest } from '../../../test/fixtures/detect/cluster.js';
import { pvcScenario } from '../../../test/fixtures/detect/scenarios.js';
import { analyze } from './analyze.js';
import { serviceEndpointsAnalyzer } from './service-endpoints.js';
import type { ClusterSnapshot, EndpointSlice, Service } from './snapshot.js';

const run = (snapshot: ClusterSnapshot) => analyze(snapshot, NOW, { analyzers: [serviceEndpointsAnalyzer] });

const service: Service = {
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name: 'catalog', namespace: 'shop' },
  spec: { selector: { app: 'catalog' }, ports: [{ port: 80, targetPort: 8080 }], type: 'ClusterIP' },
};

const catalogPod: Manifest = {
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'catalog-0', namespace: 'shop', labels: { app: 'catalog' } },
  spec: { containers: [{ name: 'catalog', image: 'shop/catalog:2' }] },
};

function slice(ready: boolean[]): EndpointSlice {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    addressType: 'IPv4',
    metadata: {
      name: 'catalog-x7k2p',
      namespace: 'shop',
      labels: { 'kubernetes.io/service-name': 'catalog' },
    },
    endpoints: ready.map((isReady, index) => ({
      addresses: [`10.244.1.${index + 10}`],
      conditions: { ready: isReady, serving: isReady, terminating: false },
    })),
  };
}

describe('service-endpoints analyzer', () => {
  it('pvc-misconfiguration: the redis Service selects only the pending pod', () => {
    expect(run(pvcScenario('broken').snapshot)).toEqual([
      expect.objectContaining({
        kind: 'ServiceWithoutEndpoints',
        reason: 'NoReadyPods',
        severity: 'critical',
        object: { kind: 'Service', name: 'redis', namespace: 'default' },
        evidence: expect.objectContaining({
          source: 'endpoints',
          ready: 0,
          matchingPods: 1,
          podPhases: { Pending: 1 },
        }) as unknown,
      }),
    ]);
  });

  it('pvc-misconfiguration fixed: redis has an address', () => {
    expect(run(pvcScenario('fixed').snapshot)).toEqual([]);
  });

  it.each([
    {
      name: 'slices with only not-ready endpoints',
      snapshot: { services: [service], endpointSlices: [slice([false, false])] },
      reason: 'NoReadyPods',
      evidence: { source: 'endpoint-slices', ready: 0, notReady: 2 },
    },
    {
      name: 'an empty slice and no pods watched',
      snapshot: { services: [service], endpointSlices: [slice([])] },
      reason: 'NoMatchingPods',
      evidence: { source: 'endpoint-slices', ready: 0, notReady: 0 },
    },
    {
      name: 'no endpoint objects, pods with other labels',
      snapshot: {
        services: [service],
        pods: [
          running(
            podFrom({ ...catalogPod, metadata: { ...catalogPod.metadata, labels: { app: 'catalogue' } } }),
          ),
        ],
      },
      reason: 'NoMatchingPods',
      evidence: { source: 'pods', matchingPods: 0 },
    },
    {
      name: 'no endpoint objects, the matching pod is not ready',
      snapshot: { services: [service], pods: [running(podFrom(catalogPod), { notReady: ['catalog'] })] },
      reason: 'NoReadyPods',
      evidence: { source: 'pods', matchingPods: 1, podPhases: { Running: 1 } },
    },
  ])('$name → $reason', ({ snapshot, reason, evidence }) => {
    const findings = run(snapshot);
    expect(findings).toEqual([
      expect.objectContaining({ reason, evidence: expect.objectContaining(evidence) as unknown }),
    ]);
    if (reason === 'NoMatchingPods')
      expect(findings[0]?.message).toContain('no pod matches selector app=catalog');
  });

  it.each([
    {
      name: 'a ready endpoint in one of the slices',
      snapshot: {
        services: [service],
        endpointSlices: [
          slice([false]),
          { ...slice([true]), metadata: { ...slice([]).metadata, name: 'catalog-b' } },
        ],
      },
    },
    { name: 'a ready matching pod', snapshot: { services: [service], pods: [running(podFrom(catalogPod))] } },
    {
      name: 'a service without selector',
      snapshot: { services: [{ ...service, spec: { ports: [{ port: 5432 }] } }], endpoints: [] },
    },
    {
      name: 'an ExternalName service',
      snapshot: {
        services: [
          {
            ...service,
            spec: { type: 'ExternalName', externalName: 'db.example.com', selector: { app: 'catalog' } },
          },
        ],
        pods: [],
      },
    },
    { name: 'nothing to count with', snapshot: { services: [service] } },
  ])('finds nothing: $name', ({ snapshot }) => {
    expect(run(snapshot)).toEqual([]);
  });
});
