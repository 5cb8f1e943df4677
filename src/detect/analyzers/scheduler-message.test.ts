import { describe, expect, it } from 'vitest';
import { parseSchedulerMessage, primaryCause, schedulingReasonName } from './scheduler-message.js';

describe('parseSchedulerMessage', () => {
  it.each([
    {
      message:
        '0/3 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }, 2 Insufficient cpu, 2 Insufficient memory. preemption: 0/3 nodes are available: 1 Preemption is not helpful for scheduling, 2 No preemption victims found for incoming pod..',
      causes: [
        { cause: 'untolerated-taint', nodes: 1, taint: 'node-role.kubernetes.io/control-plane' },
        { cause: 'insufficient-resource', nodes: 2, resource: 'cpu' },
        { cause: 'insufficient-resource', nodes: 2, resource: 'memory' },
      ],
      primary: 'InsufficientResources',
    },
    {
      message:
        "0/5 nodes are available: 5 node(s) didn't match Pod's node affinity/selector. preemption: 0/5 nodes are available: 5 Preemption is not helpful for scheduling.",
      causes: [{ cause: 'node-selector-mismatch', nodes: 5 }],
      primary: 'NodeSelectorMismatch',
    },
    {
      message:
        '0/3 nodes are available: pod has unbound immediate PersistentVolumeClaims. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.',
      causes: [{ cause: 'unbound-pvc' }],
      primary: 'UnboundPersistentVolumeClaim',
    },
    {
      message: '0/3 nodes are available: persistentvolumeclaim "data-postgres-0" not found.',
      causes: [{ cause: 'missing-pvc', claim: 'data-postgres-0' }],
      primary: 'MissingPersistentVolumeClaim',
    },
    {
      message:
        "0/4 nodes are available: 1 node(s) had taint {node-role.kubernetes.io/master: }, that the pod didn't tolerate, 3 node(s) had volume node affinity conflict.",
      causes: [
        { cause: 'untolerated-taint', nodes: 1, taint: 'node-role.kubernetes.io/master' },
        { cause: 'volume-node-affinity', nodes: 3 },
      ],
      primary: 'VolumeNodeAffinityConflict',
    },
    {
      message:
        "0/6 nodes are available: 2 node(s) didn't match pod anti-affinity rules, 1 node(s) were unschedulable, 3 Too many pods.",
      causes: [
        { cause: 'pod-anti-affinity', nodes: 2 },
        { cause: 'node-unschedulable', nodes: 1 },
        { cause: 'too-many-pods', nodes: 3 },
      ],
      primary: 'TooManyPods',
    },
    {
      message: "0/2 nodes are available: 2 node(s) didn't have free ports for the requested pod ports.",
      causes: [{ cause: 'host-port', nodes: 2 }],
      primary: 'HostPortConflict',
    },
    {
      message: 'Scheduling is blocked due to non-empty scheduling gates',
      causes: [{ cause: 'scheduling-gated' }],
      primary: 'SchedulingGated',
    },
    {
      message: 'running PreBind plugin "VolumeBinding": binding volumes: timed out waiting for the condition',
      causes: [{ cause: 'other' }],
      primary: 'Unschedulable',
    },
  ])('$primary: $message', ({ message, causes, primary }) => {
    const failure = parseSchedulerMessage(message);
    expect(failure.causes).toEqual(causes.map((cause) => expect.objectContaining(cause) as unknown));
    const cause = primaryCause(failure);
    expect(cause && schedulingReasonName(cause.cause)).toBe(primary);
  });

  it('a pod-level cause (no node count) counts as every node', () => {
    const failure = parseSchedulerMessage(
      '0/3 nodes are available: 2 Insufficient cpu, pod has unbound immediate PersistentVolumeClaims.',
    );
    expect(primaryCause(failure)?.cause).toBe('unbound-pvc');
  });

  it('reads the node counts and the preemption tail', () => {
    const failure = parseSchedulerMessage(
      '1/4 nodes are available: 3 Insufficient nvidia.com/gpu. preemption: 0/4 nodes are available: 3 No preemption victims found for incoming pod.',
    );
    expect(failure).toMatchObject({
      availableNodes: 1,
      totalNodes: 4,
      preemption: '0/4 nodes are available: 3 No preemption victims found for incoming pod.',
    });
    expect(failure.causes[0]?.detail).toBe('3 Insufficient nvidia.com/gpu');
  });
});
