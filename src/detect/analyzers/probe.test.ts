import { describe, expect, it } from 'vitest';
import {
  MINUTE,
  NOW,
  SECOND,
  eventAbout,
  podFrom,
  running,
  type Manifest,
} from '../../../test/fixtures/detect/cluster.js';
import {
  crashPodScenario,
  livenessProbeScenario,
  readinessProbeScenario,
} from '../../../test/fixtures/detect/scenarios.js';
import { analyze } from './analyze.js';
import { probeAnalyzer } from './probe.js';
import type { ClusterSnapshot } from './snapshot.js';

const run = (snapshot: ClusterSnapshot) => analyze(snapshot, NOW, { analyzers: [probeAnalyzer] });

const web: Manifest = {
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'checkout', namespace: 'shop' },
  spec: {
    containers: [
      {
        name: 'app',
        image: 'shop/checkout:8',
        readinessProbe: { httpGet: { path: '/ready', port: 8080 }, periodSeconds: 10, failureThreshold: 3 },
        livenessProbe: { httpGet: { path: '/healthz', port: 8080 }, periodSeconds: 10, failureThreshold: 3 },
      },
    ],
  },
};

describe('probe analyzer', () => {
  it('liveness_probe_fail: Unhealthy events on a running, ready container', () => {
    const findings = run(livenessProbeScenario().snapshot);
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({
      kind: 'LivenessProbeFailed',
      severity: 'warning',
      object: { kind: 'Pod', name: 'order-processor' },
      evidence: { probe: 'liveness' },
    });
    expect(findings[0]?.evidence['containers']).toEqual([
      expect.objectContaining({
        container: 'my-container',
        failures: 119,
        lastMessage: 'Liveness probe failed:',
        ready: true,
        restartCount: 0,
        probe: expect.objectContaining({
          handler: 'exec sh -c exit 1',
          failureThreshold: 1000,
          periodSeconds: 5,
        }) as unknown,
      }),
    ]);
  });

  it.each([
    { withEvents: true, failures: 119 },
    { withEvents: false, failures: 0 },
  ])(
    'readiness_probe_fail (events: $withEvents): the container never becomes ready',
    ({ withEvents, failures }) => {
      const findings = run(readinessProbeScenario({ withEvents }).snapshot);
      expect(findings).toHaveLength(1);
      expect(findings[0]).toMatchObject({
        kind: 'ReadinessProbeFailed',
        object: { name: 'search-engine-service' },
      });
      expect(findings[0]?.evidence['containers']).toEqual([
        expect.objectContaining({ container: 'get-details', failures, ready: false }),
      ]);
    },
  );

  it('the readiness fingerprint survives the events expiring', () => {
    const [withEvents] = run(readinessProbeScenario({ withEvents: true }).snapshot);
    const [without] = run(readinessProbeScenario({ withEvents: false }).snapshot);
    expect(without?.fingerprint).toBe(withEvents?.fingerprint);
  });

  it('ignores readiness events for a container that is ready again', () => {
    const pod = running(podFrom(web, { node: 'worker-1' }));
    const event = eventAbout(pod, {
      reason: 'Unhealthy',
      type: 'Warning',
      fieldPath: 'spec.containers{app}',
      message: 'Readiness probe failed: HTTP probe failed with statuscode: 503',
      count: 4,
      lastAgoMs: 3 * MINUTE,
    });
    expect(run({ pods: [pod], events: [event] })).toEqual([]);
  });

  it('parses HTTP probe output and counts restarts caused by the liveness probe', () => {
    const pod = running(podFrom(web, { node: 'worker-1' }));
    const events = [
      eventAbout(pod, {
        reason: 'Unhealthy',
        type: 'Warning',
        fieldPath: 'spec.containers{app}',
        message:
          'Liveness probe failed: Get "http://10.244.1.17:8080/healthz": dial tcp 10.244.1.17:8080: connect: connection refused',
        count: 9,
        lastAgoMs: 20 * SECOND,
      }),
      eventAbout(pod, {
        reason: 'Killing',
        fieldPath: 'spec.containers{app}',
        message: 'Container app failed liveness probe, will be restarted',
        count: 3,
        lastAgoMs: 20 * SECOND,
      }),
    ];
    const findings = run({ pods: [pod], events });
    expect(findings).toHaveLength(1);
    expect(findings[0]?.evidence['containers']).toEqual([
      expect.objectContaining({
        failures: 9,
        restartsByProbe: 3,
        lastOutput:
          'Get "http://10.244.1.17:8080/healthz": dial tcp 10.244.1.17:8080: connect: connection refused',
        probe: expect.objectContaining({ handler: 'http-get /healthz port 8080' }) as unknown,
      }),
    ]);
  });

  it('reports probe failures of a pod the snapshot does not hold, from events alone', () => {
    const pod = podFrom(web);
    const event = eventAbout(pod, {
      reason: 'Unhealthy',
      type: 'Warning',
      fieldPath: 'spec.containers{app}',
      message: 'Startup probe failed: HTTP probe failed with statuscode: 500',
      lastAgoMs: 10 * SECOND,
    });
    expect(run({ pods: [], events: [event] })).toEqual([
      expect.objectContaining({
        kind: 'StartupProbeFailed',
        object: { kind: 'Pod', name: 'checkout', namespace: 'shop' },
      }),
    ]);
  });

  it('ignores events older than the event window', () => {
    const { snapshot } = livenessProbeScenario();
    expect(analyze(snapshot, NOW + 20 * MINUTE, { analyzers: [probeAnalyzer] })).toEqual([]);
  });

  it('reports a not-ready container without a readiness probe as ContainerNotReady, after the grace period', () => {
    const plain: Manifest = { ...web, spec: { containers: [{ name: 'app', image: 'shop/checkout:8' }] } };
    const old = running(podFrom(plain), { startedAgoMs: 10 * MINUTE, notReady: ['app'] });
    const fresh = running(podFrom({ ...plain, metadata: { ...plain.metadata, name: 'fresh' } }), {
      startedAgoMs: 30 * SECOND,
      notReady: ['app'],
    });
    expect(run({ pods: [old, fresh] })).toEqual([
      expect.objectContaining({
        kind: 'ContainerNotReady',
        severity: 'info',
        object: expect.objectContaining({ name: 'checkout' }) as unknown,
      }),
    ]);
  });

  it('finds nothing for crashpod/healthy', () => {
    expect(run(crashPodScenario('healthy').snapshot)).toEqual([]);
  });
});
