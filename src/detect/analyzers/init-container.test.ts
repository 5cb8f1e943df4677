import { describe, expect, it } from 'vitest';
import { MINUTE, NOW, failed, podFrom, type Manifest } from '../../../test/fixtures/detect/cluster.js';
import { crashLoopBackOffScenario, initCrashLoopScenario } from '../../../test/fixtures/detect/scenarios.js';
import { analyze } from './analyze.js';
import { initContainerAnalyzer } from './init-container.js';
import type { ClusterSnapshot } from './snapshot.js';

const run = (snapshot: ClusterSnapshot) => analyze(snapshot, NOW, { analyzers: [initContainerAnalyzer] });

describe('init-container analyzer', () => {
  it('init_crashloop_backoff: the downloader init container cannot start', () => {
    const findings = run(initCrashLoopScenario().snapshot);
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({
      kind: 'InitContainerCrash',
      reason: 'StartError',
      severity: 'warning',
      object: { kind: 'Pod', name: 'logging-agent', namespace: 'default' },
      evidence: {
        exitCode: 128,
        lastTerminationReason: 'StartError',
        initialized: {
          status: 'False',
          reason: 'ContainersNotInitialized',
          message: 'containers with incomplete status: [downloader]',
        },
      },
    });
    expect(findings[0]?.evidence['containers']).toEqual([
      expect.objectContaining({
        name: 'downloader',
        state: 'CrashLoopBackOff',
        restartCount: 6,
        image: 'busybox:1.28',
        lastTermination: expect.objectContaining({
          message: expect.stringContaining('exec: "wge"') as unknown,
        }) as unknown,
      }),
    ]);
    expect(findings[0]?.message).toContain('init container downloader is in CrashLoopBackOff');
  });

  it('reports a failed init container of a restartPolicy Never pod (Init:Error)', () => {
    const manifest: Manifest = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'report', namespace: 'batch' },
      spec: {
        restartPolicy: 'Never',
        initContainers: [{ name: 'fetch', image: 'curlimages/curl:8.9.1' }],
        containers: [{ name: 'render', image: 'shop/report:3' }],
      },
    };
    const base = podFrom(manifest);
    const terminated = failed(
      { ...base, spec: { ...base.spec, containers: base.spec?.initContainers } },
      { exitCode: 6, reason: 'Error' },
      3 * MINUTE,
    );
    const pod = {
      ...base,
      status: {
        ...terminated.status,
        initContainerStatuses: terminated.status?.containerStatuses,
        containerStatuses: [],
      },
    };
    expect(run({ pods: [pod] })).toEqual([
      expect.objectContaining({
        kind: 'InitContainerCrash',
        reason: 'Error',
        evidence: expect.objectContaining({ exitCode: 6 }) as unknown,
      }),
    ]);
  });

  it('ignores regular containers', () => {
    expect(run(crashLoopBackOffScenario().snapshot)).toEqual([]);
  });
});
