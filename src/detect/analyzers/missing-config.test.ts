import { describe, expect, it } from 'vitest';
import {
  MINUTE,
  NOW,
  eventAbout,
  podFrom,
  running,
  type Manifest,
} from '../../../test/fixtures/detect/cluster.js';
import { crashPodScenario } from '../../../test/fixtures/detect/scenarios.js';
import { analyze } from './analyze.js';
import { missingConfigAnalyzer, parseMissingReferences } from './missing-config.js';
import type { ClusterSnapshot, Pod } from './snapshot.js';

const run = (snapshot: ClusterSnapshot) => analyze(snapshot, NOW, { analyzers: [missingConfigAnalyzer] });

const app: Manifest = {
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'orders', namespace: 'shop' },
  spec: {
    containers: [
      {
        name: 'orders',
        image: 'shop/orders:3',
        envFrom: [{ configMapRef: { name: 'orders-config' } }],
        env: [
          { name: 'DB_PASSWORD', valueFrom: { secretKeyRef: { name: 'orders-db', key: 'password' } } },
          {
            name: 'FEATURE',
            valueFrom: { configMapKeyRef: { name: 'flags', key: 'feature', optional: true } },
          },
        ],
        volumeMounts: [{ name: 'tls', mountPath: '/etc/tls' }],
      },
    ],
    volumes: [{ name: 'tls', secret: { secretName: 'orders-tls' } }],
  },
};

/** The kubelet's view of a container it cannot create because of its config. */
function configError(pod: Pod, message: string): Pod {
  return {
    ...pod,
    status: {
      phase: 'Pending',
      containerStatuses: [
        {
          name: 'orders',
          image: 'shop/orders:3',
          imageID: '',
          ready: false,
          restartCount: 0,
          state: { waiting: { reason: 'CreateContainerConfigError', message } },
        },
      ],
    },
  };
}

describe('missing-config analyzer', () => {
  it.each([
    {
      message: 'configmap "orders-config" not found',
      kind: 'MissingConfigMap',
      reason: 'ConfigMapNotFound',
      reference: { name: 'orders-config' },
    },
    {
      message: 'secret "orders-db" not found',
      kind: 'MissingSecret',
      reason: 'SecretNotFound',
      reference: { name: 'orders-db' },
    },
    {
      message: "couldn't find key password in Secret shop/orders-db",
      kind: 'MissingSecret',
      reason: 'SecretKeyNotFound',
      reference: { name: 'orders-db', key: 'password' },
    },
  ])('CreateContainerConfigError: $message', ({ message, kind, reason, reference }) => {
    const pod = configError(podFrom(app, { node: 'worker-1' }), message);
    expect(run({ pods: [pod] })).toEqual([
      expect.objectContaining({
        kind,
        reason,
        evidence: {
          names: [reference.name],
          references: [{ ...reference, via: 'container-status', container: 'orders' }],
        },
      }),
    ]);
  });

  it('FailedMount events name the missing secret and the volume', () => {
    const created = podFrom(app, { node: 'worker-1', createdAgoMs: 4 * MINUTE });
    const pod = { ...created, status: { phase: 'Pending' } };
    const event = eventAbout(pod, {
      reason: 'FailedMount',
      type: 'Warning',
      host: 'worker-1',
      message: 'MountVolume.SetUp failed for volume "tls" : secret "orders-tls" not found',
      count: 9,
      lastAgoMs: 30_000,
    });
    expect(run({ pods: [pod], events: [event] })).toEqual([
      expect.objectContaining({
        kind: 'MissingSecret',
        reason: 'SecretNotFound',
        evidence: {
          names: ['orders-tls'],
          references: [{ name: 'orders-tls', via: 'event', volume: 'tls' }],
        },
      }),
    ]);
  });

  it('with ConfigMaps in the snapshot, names required ConfigMaps a pending pod references', () => {
    const pod = { ...podFrom(app, { node: 'worker-1' }), status: { phase: 'Pending' } };
    const findings = run({
      pods: [pod],
      configMaps: [{ metadata: { name: 'kube-root-ca.crt', namespace: 'shop' } }],
    });
    expect(findings).toEqual([
      expect.objectContaining({
        kind: 'MissingConfigMap',
        evidence: {
          names: ['orders-config'],
          references: [{ name: 'orders-config', via: 'spec', container: 'orders' }],
        },
      }),
    ]);
  });

  it.each([
    {
      name: 'ConfigMaps not watched',
      snapshot: (): ClusterSnapshot => ({ pods: [{ ...podFrom(app), status: { phase: 'Pending' } }] }),
    },
    {
      name: 'the ConfigMap exists',
      snapshot: (): ClusterSnapshot => ({
        pods: [{ ...podFrom(app), status: { phase: 'Pending' } }],
        configMaps: [{ metadata: { name: 'orders-config', namespace: 'shop' } }],
      }),
    },
    {
      name: 'the pod runs',
      snapshot: (): ClusterSnapshot => ({ pods: [running(podFrom(app))], configMaps: [] }),
    },
    { name: 'crashpod/healthy', snapshot: () => crashPodScenario('healthy').snapshot },
  ])('finds nothing: $name', ({ snapshot }) => {
    expect(run(snapshot())).toEqual([]);
  });
});

describe('parseMissingReferences', () => {
  it('reads every reference in a message', () => {
    expect(
      parseMissingReferences(
        'MountVolume.SetUp failed for volume "cfg" : [configmap "a" not found, configmaps "b" not found, secrets "c" not found]',
      ),
    ).toEqual([
      ['ConfigMap', { name: 'a' }],
      ['ConfigMap', { name: 'b' }],
      ['Secret', { name: 'c' }],
    ]);
  });
});
