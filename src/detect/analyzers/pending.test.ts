import { describe, expect, it } from 'vitest';
import {
  MINUTE,
  NOW,
  SECOND,
  eventAbout,
  podFrom,
  unschedulable,
  type Manifest,
} from '../../../test/fixtures/detect/cluster.js';
import {
  crashLoopBackOffScenario,
  memoryPressureScenario,
  pendingNodeSelectorScenario,
  pendingResourcesScenario,
  pvcScenario,
} from '../../../test/fixtures/detect/scenarios.js';
import { analyze } from './analyze.js';
import { pendingAnalyzer } from './pending.js';
import type { ClusterSnapshot } from './snapshot.js';

const run = (snapshot: ClusterSnapshot) => analyze(snapshot, NOW, { analyzers: [pendingAnalyzer] });

const api: Manifest = {
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'api', namespace: 'shop' },
  spec: { containers: [{ name: 'api', image: 'shop/api:5', resources: { requests: { cpu: '4' } } }] },
};

describe('pending analyzer', () => {
  it('pending_pods/resources: 3 CPUs, 5Gi and 5 GPUs fit no node', () => {
    const { snapshot, message } = pendingResourcesScenario();
    expect(message).toBe(
      '0/3 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }, 2 Insufficient cpu, 2 Insufficient memory, 2 Insufficient nvidia.com/gpu. preemption: 0/3 nodes are available: 1 Preemption is not helpful for scheduling, 2 No preemption victims found for incoming pod.',
    );
    const findings = run(snapshot);
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({
      kind: 'Pending',
      reason: 'InsufficientResources',
      owner: { kind: 'Deployment', name: 'user-profile-resources' },
      evidence: {
        availableNodes: 0,
        totalNodes: 3,
        insufficientResources: ['cpu', 'memory', 'nvidia.com/gpu'],
        untoleratedTaints: ['node-role.kubernetes.io/control-plane'],
        requests: { cpu: ['3'], memory: ['5Gi'], 'nvidia.com/gpu': ['5'] },
        failedSchedulingEvents: 4,
        pendingSince: NOW - 10 * MINUTE,
      },
    });
  });

  it('pending_pods/node_selector: no node has label=someLabel', () => {
    const { snapshot } = pendingNodeSelectorScenario();
    expect(run(snapshot)).toEqual([
      expect.objectContaining({
        reason: 'NodeSelectorMismatch',
        object: { kind: 'Pod', name: 'user-profile-import', namespace: 'default' },
        evidence: expect.objectContaining({ nodeSelector: { label: 'someLabel' } }) as unknown,
      }),
    ]);
  });

  it('pvc-misconfiguration: the claim is unbound and its ProvisioningFailed event is attached', () => {
    const findings = run(pvcScenario('broken').snapshot);
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({
      reason: 'UnboundPersistentVolumeClaim',
      owner: { kind: 'Deployment', name: 'redis' },
      evidence: {
        volumeClaims: [
          {
            name: 'redis-standard-pvc',
            volume: 'redis-storage',
            events: [
              {
                reason: 'ProvisioningFailed',
                message: 'storageclass.storage.k8s.io "standard-v2" not found',
              },
            ],
          },
        ],
      },
    });
  });

  it('memory_pressure_evictions: replacements cannot tolerate the memory-pressure taint', () => {
    const findings = run(memoryPressureScenario().snapshot);
    expect(findings).toHaveLength(2);
    for (const finding of findings) {
      expect(finding).toMatchObject({
        reason: 'UntoleratedTaint',
        owner: { kind: 'Deployment', name: 'nginx-deployment' },
        evidence: { untoleratedTaints: ['node.kubernetes.io/memory-pressure'] },
      });
    }
  });

  it.each([
    { name: 'a scheduled pod', snapshot: () => crashLoopBackOffScenario().snapshot },
    { name: 'pvc-misconfiguration fixed', snapshot: () => pvcScenario('fixed').snapshot },
    {
      name: 'unschedulable for less than the grace period',
      snapshot: () => ({
        pods: [unschedulable(podFrom(api), '0/3 nodes are available: 3 Insufficient cpu.', 20 * SECOND)],
      }),
    },
  ])('finds nothing: $name', ({ snapshot }) => {
    expect(run(snapshot())).toEqual([]);
  });

  it('falls back to the FailedScheduling event when the condition has no message yet', () => {
    const created = podFrom(api, { createdAgoMs: 5 * MINUTE });
    const pod = { ...created, status: { phase: 'Pending' } };
    const event = eventAbout(pod, {
      reason: 'FailedScheduling',
      type: 'Warning',
      component: 'default-scheduler',
      message:
        '0/3 nodes are available: 3 Insufficient cpu. preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod.',
      firstAgoMs: 5 * MINUTE,
      lastAgoMs: 30 * SECOND,
    });
    expect(run({ pods: [pod], events: [event] })).toEqual([
      expect.objectContaining({
        reason: 'InsufficientResources',
        evidence: expect.objectContaining({ insufficientResources: ['cpu'] }) as unknown,
      }),
    ]);
  });

  it('ignores FailedScheduling events about an earlier pod with the same name', () => {
    const pod = { ...podFrom(api, { createdAgoMs: 5 * MINUTE }), status: { phase: 'Pending' } };
    const stale = eventAbout(
      { ...pod, metadata: { ...pod.metadata, uid: 'an-earlier-pod' } },
      {
        reason: 'FailedScheduling',
        type: 'Warning',
        component: 'default-scheduler',
        message: '0/3 nodes are available: 3 Insufficient cpu.',
        lastAgoMs: 4 * MINUTE,
      },
    );
    expect(run({ pods: [pod], events: [stale] })).toEqual([]);
  });
});
