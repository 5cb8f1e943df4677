import { describe, expect, it } from 'vitest';
import {
  MINUTE,
  NOW,
  crashLooping,
  podFrom,
  running,
  type Manifest,
} from '../../../test/fixtures/detect/cluster.js';
import {
  crashLoopBackOffScenario,
  crashPodScenario,
  oomKillDeploymentScenario,
  oomKillJobScenario,
} from '../../../test/fixtures/detect/scenarios.js';
import { analyze } from './analyze.js';
import { oomKilledAnalyzer } from './oom-killed.js';
import type { ClusterSnapshot, Pod } from './snapshot.js';

const run = (snapshot: ClusterSnapshot) => analyze(snapshot, NOW, { analyzers: [oomKilledAnalyzer] });

const worker: Manifest = {
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'cache-warmer', namespace: 'batch' },
  spec: {
    containers: [{ name: 'warmer', image: 'shop/warmer:2.0', resources: { limits: { memory: '512Mi' } } }],
  },
};

/** A container that was OOM-killed `finishedAgoMs` ago and has been running since. */
function recovered(finishedAgoMs: number): Pod {
  const pod = running(podFrom(worker), { startedAgoMs: finishedAgoMs - 10_000 });
  return {
    ...pod,
    status: {
      ...pod.status,
      containerStatuses: (pod.status?.containerStatuses ?? []).map((status) => ({
        ...status,
        restartCount: 1,
        lastState: {
          terminated: {
            exitCode: 137,
            reason: 'OOMKilled',
            finishedAt: new Date(NOW - finishedAgoMs).toISOString(),
          },
        },
      })),
    },
  };
}

describe('oom-killed analyzer', () => {
  it.each([
    {
      name: 'oomkill deployment: previous attempt OOMKilled while crash-looping',
      snapshot: () => oomKillDeploymentScenario().snapshot,
      current: false,
      owner: { kind: 'Deployment', name: 'analytics-exporter' },
    },
    {
      name: 'oomkill job: the only attempt is terminated OOMKilled',
      snapshot: () => oomKillJobScenario().snapshot,
      current: true,
      owner: { kind: 'Job', name: 'analytics-exporter' },
    },
  ])('$name', ({ snapshot, current, owner }) => {
    const findings = run(snapshot());
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({ kind: 'OOMKilled', reason: 'OOMKilled', severity: 'warning', owner });
    expect(findings[0]?.evidence['containers']).toEqual([
      expect.objectContaining({
        name: 'memory-eater',
        exitCode: 137,
        current,
        memoryLimit: '100Mi',
        memoryRequest: '100Mi',
      }),
    ]);
    expect(findings[0]?.message).toContain('memory limit 100Mi');
  });

  it.each([
    { name: 'crashloop_backoff (StartError, not OOM)', snapshot: () => crashLoopBackOffScenario().snapshot },
    { name: 'crashpod/broken (exit 0)', snapshot: () => crashPodScenario('broken').snapshot },
    {
      name: 'an OOM kill 3 hours ago, healthy since',
      snapshot: () => ({ pods: [recovered(3 * 60 * MINUTE)] }),
    },
  ])('finds nothing: $name', ({ snapshot }) => {
    expect(run(snapshot())).toEqual([]);
  });

  it('reports a recent OOM kill of a container that is running again', () => {
    const findings = run({ pods: [recovered(20 * MINUTE)] });
    expect(findings).toHaveLength(1);
    expect(findings[0]?.evidence['containers']).toEqual([
      expect.objectContaining({ current: false, memoryLimit: '512Mi', finishedAt: NOW - 20 * MINUTE }),
    ]);
  });

  it('respects recentTerminationWindowMs', () => {
    const pods = [recovered(20 * MINUTE)];
    expect(
      analyze({ pods }, NOW, { analyzers: [oomKilledAnalyzer], recentTerminationWindowMs: 10 * MINUTE }),
    ).toEqual([]);
  });

  it('reports an OOM kill on a crash-looping container with the restart count', () => {
    const pod = crashLooping(podFrom(worker), {
      termination: { exitCode: 137, reason: 'OOMKilled' },
      restarts: 12,
    });
    expect(run({ pods: [pod] })[0]?.evidence['containers']).toEqual([
      expect.objectContaining({ restartCount: 12 }),
    ]);
  });
});
