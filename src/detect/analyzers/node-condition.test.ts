import { describe, expect, it } from 'vitest';
import { MINUTE, NOW, node } from '../../../test/fixtures/detect/cluster.js';
import { memoryPressureScenario, threeNodeCluster } from '../../../test/fixtures/detect/scenarios.js';
import { analyze } from './analyze.js';
import { nodeConditionAnalyzer } from './node-condition.js';
import type { ClusterSnapshot } from './snapshot.js';

const run = (snapshot: ClusterSnapshot) => analyze(snapshot, NOW, { analyzers: [nodeConditionAnalyzer] });

describe('node-condition analyzer', () => {
  it.each([
    {
      condition: 'Ready',
      state: {
        status: 'Unknown',
        reason: 'NodeStatusUnknown',
        message: 'Kubelet stopped posting node status.',
      },
      kind: 'NodeNotReady',
      severity: 'critical',
    },
    {
      condition: 'Ready',
      state: {
        status: 'False',
        reason: 'KubeletNotReady',
        message:
          'container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady message:Network plugin returns error: cni plugin not initialized',
      },
      kind: 'NodeNotReady',
      severity: 'critical',
    },
    {
      condition: 'MemoryPressure',
      state: {
        status: 'True',
        reason: 'KubeletHasInsufficientMemory',
        message: 'kubelet has insufficient memory available',
      },
      kind: 'NodeMemoryPressure',
      severity: 'warning',
    },
    {
      condition: 'DiskPressure',
      state: { status: 'True', reason: 'KubeletHasDiskPressure', message: 'kubelet has disk pressure' },
      kind: 'NodeDiskPressure',
      severity: 'warning',
    },
    {
      condition: 'PIDPressure',
      state: {
        status: 'True',
        reason: 'KubeletHasInsufficientPID',
        message: 'kubelet has insufficient PID available',
      },
      kind: 'NodePIDPressure',
      severity: 'warning',
    },
  ])('$condition=$state.status → $kind', ({ condition, state, kind, severity }) => {
    const sick = node('worker-3', { conditions: { [condition]: { ...state, sinceAgoMs: 7 * MINUTE } } });
    const findings = run({ nodes: [...threeNodeCluster(), sick] });
    expect(findings).toEqual([
      expect.objectContaining({
        kind,
        severity,
        reason: state.reason,
        object: { kind: 'Node', name: 'worker-3' },
        evidence: expect.objectContaining({
          condition,
          status: state.status,
          message: state.message,
          since: NOW - 7 * MINUTE,
        }) as unknown,
      }),
    ]);
    expect(findings[0]?.object).not.toHaveProperty('namespace');
  });

  it('memory_pressure_evictions: the pressured node, with its taint', () => {
    expect(run(memoryPressureScenario().snapshot)).toEqual([
      expect.objectContaining({
        kind: 'NodeMemoryPressure',
        object: { kind: 'Node', name: 'your-host-name' },
        evidence: expect.objectContaining({
          taints: [{ key: 'node.kubernetes.io/memory-pressure', effect: 'NoSchedule' }],
        }) as unknown,
      }),
    ]);
  });

  it('finds nothing on healthy nodes', () => {
    expect(run({ nodes: threeNodeCluster() })).toEqual([]);
  });
});
