import { describe, expect, it } from 'vitest';
import {
  MINUTE,
  NOW,
  eventAbout,
  evicted,
  podFrom,
  type Manifest,
} from '../../../test/fixtures/detect/cluster.js';
import {
  crashPodScenario,
  memoryPressureScenario,
  preemptionScenario,
} from '../../../test/fixtures/detect/scenarios.js';
import { analyze } from './analyze.js';
import { evictionAnalyzer, parseEvictionMessage } from './eviction.js';
import type { ClusterSnapshot } from './snapshot.js';

const run = (snapshot: ClusterSnapshot) => analyze(snapshot, NOW, { analyzers: [evictionAnalyzer] });

describe('eviction analyzer', () => {
  it('memory_pressure_evictions: both evicted nginx pods, pod status and event merged', () => {
    const { snapshot } = memoryPressureScenario();
    const findings = run(snapshot);
    expect(findings).toHaveLength(2);
    for (const finding of findings) {
      expect(finding).toMatchObject({
        kind: 'Evicted',
        reason: 'NodePressure',
        severity: 'warning',
        owner: { kind: 'Deployment', name: 'nginx-deployment' },
        evidence: {
          resource: 'memory',
          threshold: '100Mi',
          available: '87232Ki',
          containers: [{ name: 'nginx', usage: '2936Ki', request: '0' }],
          node: 'your-host-name',
          events: 1,
          at: NOW - 3 * MINUTE,
        },
      });
      expect(finding.message).toContain('node low on memory');
    }
  });

  it.each([{ victimDeleted: false }, { victimDeleted: true }])(
    'evictions (victim deleted: $victimDeleted): analytics-worker preempted for payment-processor',
    ({ victimDeleted }) => {
      const findings = run(preemptionScenario({ victimDeleted }).snapshot);
      expect(findings).toEqual([
        expect.objectContaining({
          kind: 'Preempted',
          reason: 'PreemptionByScheduler',
          object: { kind: 'Pod', name: 'analytics-worker', namespace: 'default' },
        }),
      ]);
      expect(findings[0]?.evidence['message']).toMatch(
        victimDeleted ? /^Preempted by pod .* on node worker-1$/ : /preempting to accommodate/,
      );
    },
  );

  it('the preemption fingerprint is the same from status or from the event alone', () => {
    const [fromStatus] = run(preemptionScenario({ victimDeleted: false }).snapshot);
    const [fromEvent] = run(preemptionScenario({ victimDeleted: true }).snapshot);
    expect(fromEvent?.fingerprint).toBe(fromStatus?.fingerprint);
  });

  it('treats an Eviction API eviction (a drain) as info', () => {
    const manifest: Manifest = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'api-0', namespace: 'shop' },
      spec: { containers: [{ name: 'api', image: 'shop/api:5' }] },
    };
    const base = podFrom(manifest, { node: 'worker-1' });
    const pod = {
      ...base,
      status: {
        phase: 'Running',
        conditions: [
          {
            type: 'DisruptionTarget',
            status: 'True',
            reason: 'EvictionByEvictionAPI',
            message: 'Eviction API: evicting',
            lastTransitionTime: new Date(NOW - MINUTE).toISOString(),
          },
        ],
      },
    };
    expect(run({ pods: [pod] })).toEqual([
      expect.objectContaining({ kind: 'Evicted', reason: 'EvictionByEvictionAPI', severity: 'info' }),
    ]);
  });

  it('forgets evictions older than recentTerminationWindowMs', () => {
    const manifest: Manifest = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'old', namespace: 'shop' },
      spec: { containers: [{ name: 'nginx', image: 'nginx' }] },
    };
    const pod = evicted(
      podFrom(manifest, { node: 'worker-1' }),
      'The node was low on resource: ephemeral-storage. Threshold quantity: 10Gi, available: 9Gi. ',
      2 * 60 * MINUTE,
    );
    expect(run({ pods: [pod] })).toEqual([]);
    expect(
      analyze({ pods: [pod] }, NOW, {
        analyzers: [evictionAnalyzer],
        recentTerminationWindowMs: 3 * 60 * MINUTE,
      }),
    ).toEqual([
      expect.objectContaining({
        evidence: expect.objectContaining({ resource: 'ephemeral-storage' }) as unknown,
      }),
    ]);
  });

  it('ignores cancelled taint-manager evictions', () => {
    const manifest: Manifest = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'db-0', namespace: 'data' },
      spec: {},
    };
    const pod = podFrom(manifest);
    const cancelled = eventAbout(pod, {
      reason: 'TaintManagerEviction',
      component: 'taint-eviction-controller',
      message: 'Cancelling deletion of Pod data/db-0',
    });
    const marked = eventAbout(pod, {
      reason: 'TaintManagerEviction',
      component: 'taint-eviction-controller',
      message: 'Marking for deletion Pod data/db-0',
    });
    expect(run({ events: [cancelled] })).toEqual([]);
    expect(run({ events: [marked] })).toEqual([
      expect.objectContaining({ kind: 'Evicted', reason: 'TaintManagerEviction' }),
    ]);
  });

  it('finds nothing for crashpod/healthy', () => {
    expect(run(crashPodScenario('healthy').snapshot)).toEqual([]);
  });
});

describe('parseEvictionMessage', () => {
  it('reads a multi-container memory eviction', () => {
    expect(
      parseEvictionMessage(
        'The node was low on resource: memory. Threshold quantity: 750Mi, available: 520188Ki. Container app was using 1782080Ki, request is 1Gi, has larger consumption of memory. Container sidecar was using 10240Ki, request is 0, has larger consumption of memory. ',
      ),
    ).toEqual({
      resource: 'memory',
      threshold: '750Mi',
      available: '520188Ki',
      containers: [
        { name: 'app', usage: '1782080Ki', request: '1Gi' },
        { name: 'sidecar', usage: '10240Ki', request: '0' },
      ],
    });
  });

  it('reads an ephemeral-storage limit eviction', () => {
    expect(
      parseEvictionMessage('Container writer exceeded its local ephemeral storage limit "1Gi". '),
    ).toEqual({
      resource: 'ephemeral-storage',
      containers: [],
    });
  });
});
