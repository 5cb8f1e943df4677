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
  initCrashLoopScenario,
  oomKillDeploymentScenario,
} from '../../../test/fixtures/detect/scenarios.js';
import { analyze } from './analyze.js';
import { crashLoopAnalyzer } from './crash-loop.js';
import type { ClusterSnapshot } from './snapshot.js';

const run = (snapshot: ClusterSnapshot) => analyze(snapshot, NOW, { analyzers: [crashLoopAnalyzer] });

const twoContainers: Manifest = {
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'web', namespace: 'shop' },
  spec: {
    containers: [
      { name: 'app', image: 'shop/web:1.4.2' },
      { name: 'proxy', image: 'envoyproxy/envoy:v1.31.0' },
    ],
  },
};

describe('crash-loop analyzer', () => {
  it.each([
    {
      name: 'crashloop_backoff: missing command, StartError 128',
      snapshot: () => crashLoopBackOffScenario().snapshot,
      expected: { reason: 'StartError', exitCode: 128, restarts: 6, owner: undefined, backOffEvents: 41 },
    },
    {
      name: 'crashpod/broken: the script exits 0 under restartPolicy Always',
      snapshot: () => crashPodScenario('broken').snapshot,
      expected: {
        reason: 'Completed',
        exitCode: 0,
        restarts: 9,
        owner: { kind: 'Deployment', name: 'payment-processing-worker' },
        backOffEvents: 110,
      },
    },
    {
      name: 'oomkill deployment: the last termination is OOMKilled 137',
      snapshot: () => oomKillDeploymentScenario().snapshot,
      expected: {
        reason: 'OOMKilled',
        exitCode: 137,
        restarts: 7,
        owner: { kind: 'Deployment', name: 'analytics-exporter' },
        backOffEvents: 60,
      },
    },
  ])('$name', ({ snapshot, expected }) => {
    const findings = run(snapshot());
    expect(findings).toHaveLength(1);
    const [finding] = findings;
    expect(finding).toMatchObject({
      analyzer: 'crash-loop',
      kind: 'CrashLoopBackOff',
      severity: 'warning',
      reason: expected.reason,
      evidence: { lastTerminationReason: expected.reason, exitCode: expected.exitCode },
    });
    expect(finding?.owner).toEqual(expected.owner);
    expect(finding?.evidence['containers']).toEqual([
      expect.objectContaining({
        restartCount: expected.restarts,
        backOffEvents: expected.backOffEvents,
        lastTermination: expect.objectContaining({
          reason: expected.reason,
          exitCode: expected.exitCode,
        }) as unknown,
      }),
    ]);
    expect(finding?.message).toContain(`exit code ${expected.exitCode}, ${expected.reason}`);
  });

  it.each([
    { name: 'crashpod/healthy', snapshot: () => crashPodScenario('healthy').snapshot },
    {
      name: 'an init container crash loop belongs to the init-container analyzer',
      snapshot: () => initCrashLoopScenario().snapshot,
    },
    { name: 'a running pod', snapshot: () => ({ pods: [running(podFrom(twoContainers))] }) },
    { name: 'no pods watched', snapshot: () => ({}) },
  ])('finds nothing: $name', ({ snapshot }) => {
    expect(run(snapshot())).toEqual([]);
  });

  it('reports one finding per pod naming only the crashing container', () => {
    const pod = crashLooping(podFrom(twoContainers), {
      container: 'proxy',
      termination: { exitCode: 1, reason: 'Error', message: 'invalid bootstrap config' },
      restarts: 3,
      lastFinishedAgoMs: 2 * MINUTE,
    });
    const findings = run({ pods: [pod] });
    expect(findings).toHaveLength(1);
    expect(findings[0]?.evidence['containers']).toEqual([
      expect.objectContaining({
        name: 'proxy',
        lastTermination: expect.objectContaining({
          message: 'invalid bootstrap config',
          exitCode: 1,
        }) as unknown,
      }),
    ]);
    expect(findings[0]?.message).toContain('container proxy restarted 3 times');
    expect(findings[0]?.message).not.toContain('container app');
  });

  it('covers a native sidecar (init container with restartPolicy Always)', () => {
    const manifest: Manifest = {
      ...twoContainers,
      spec: {
        initContainers: [{ name: 'log-shipper', image: 'fluent/fluent-bit:3.1', restartPolicy: 'Always' }],
        containers: [{ name: 'app', image: 'shop/web:1.4.2' }],
      },
    };
    const base = running(podFrom(manifest));
    const pod = {
      ...base,
      status: {
        ...base.status,
        initContainerStatuses: [
          {
            name: 'log-shipper',
            image: 'fluent/fluent-bit:3.1',
            imageID: '',
            ready: false,
            restartCount: 4,
            state: {
              waiting: { reason: 'CrashLoopBackOff', message: 'back-off 1m20s restarting failed container' },
            },
            lastState: { terminated: { exitCode: 2, reason: 'Error' } },
          },
        ],
      },
    };
    expect(run({ pods: [pod] })).toEqual([
      expect.objectContaining({
        kind: 'CrashLoopBackOff',
        reason: 'Error',
        evidence: expect.objectContaining({ exitCode: 2 }) as unknown,
      }),
    ]);
  });
});
