import { describe, expect, it } from 'vitest';
import { configMapHash, stripConfigMap } from './config-maps.js';
import { hostsIn, isExternalHost, resolveService } from './dependencies.js';
import { compareWorkload, deployChanges, describeWorkload, type WorkloadState } from './workload-state.js';

describe('hostsIn', () => {
  it.each([
    ['REDIS_HOST', 'redis-session', [{ host: 'redis-session', explicit: false }]],
    [
      'DB_URL',
      'postgres://app:[REDACTED:password]@postgres-orders:5432/orders',
      [{ host: 'postgres-orders', explicit: true }],
    ],
    ['DB_URL', 'postgres://postgres-orders:5432/x', [{ host: 'postgres-orders', explicit: true }]],
    [
      'CACHE',
      'redis-a:6379,redis-b:6379',
      [
        { host: 'redis-a', explicit: true },
        { host: 'redis-b', explicit: true },
      ],
    ],
    [
      'KAFKA_BROKERS',
      'kafka-0.kafka.shop.svc.cluster.local:9092',
      [{ host: 'kafka-0.kafka.shop.svc.cluster.local', explicit: true }],
    ],
    ['LOG_LEVEL', 'info', []],
    ['PORT', '8080', []],
    ['UPSTREAM_ADDR', '10.0.0.1:80', []],
    ['FEATURE', 'true', []],
  ])('%s=%s', (variable, value, expected) => {
    expect(hostsIn(variable, value)).toEqual(expected);
  });
});

describe('resolveService', () => {
  const services = new Set(['shop/redis-session', 'data/kafka']);
  const has = (namespace: string, name: string): boolean => services.has(`${namespace}/${name}`);
  it('resolves as cluster DNS does from the pod namespace', () => {
    expect(resolveService('redis-session', 'shop', has)).toEqual({
      namespace: 'shop',
      name: 'redis-session',
    });
    expect(resolveService('redis-session', 'other', has)).toBeUndefined();
    expect(resolveService('kafka.data', 'shop', has)).toEqual({ namespace: 'data', name: 'kafka' });
    expect(resolveService('kafka.data.svc.cluster.local', 'shop', has)).toEqual({
      namespace: 'data',
      name: 'kafka',
    });
    expect(resolveService('api.example.com', 'shop', has)).toBeUndefined();
  });
  it('tells outside hosts', () => {
    expect(isExternalHost('api.payments.example')).toBe(true);
    expect(isExternalHost('redis-session')).toBe(false);
    expect(isExternalHost('kafka.data.svc.cluster.local')).toBe(false);
  });
});

describe('stripConfigMap', () => {
  it('keeps metadata, a content hash and the hosts named, never the values', () => {
    const object = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'checkout-config', namespace: 'shop' },
      data: {
        DB_URL: 'postgres://postgres-orders:5432/orders',
        SECRET_SAUCE: 'do-not-keep',
        'app.properties': 'cache.host = redis-session\nlevel=info',
      },
    };
    const stripped = stripConfigMap(object);
    expect(JSON.stringify(stripped.object)).not.toContain('do-not-keep');
    expect(JSON.stringify(stripped.object)).not.toContain('postgres://');
    expect(stripped.object.metadata?.annotations?.['nightshift.dev/data-sha256']).toBe(configMapHash(object));
    expect(stripped.keyCount).toBe(3);
    expect(stripped.hosts).toEqual([
      { key: 'DB_URL', hosts: [{ host: 'postgres-orders', explicit: true }] },
      { key: 'app.properties', hosts: [{ host: 'redis-session', explicit: false }] },
    ]);
    const reordered = { ...object, data: Object.fromEntries(Object.entries(object.data).reverse()) };
    expect(configMapHash(reordered)).toBe(configMapHash(object));
    expect(configMapHash({ ...object, data: { ...object.data, SECRET_SAUCE: 'x' } })).not.toBe(
      configMapHash(object),
    );
  });
});

describe('compareWorkload', () => {
  const deployment = (image: string, revision: string, extra: Record<string, string> = {}) =>
    describeWorkload({
      kind: 'Deployment',
      metadata: { name: 'web', annotations: { 'deployment.kubernetes.io/revision': revision } },
      spec: {
        replicas: 2,
        template: {
          metadata: { labels: { app: 'web', 'pod-template-hash': `h${revision}` }, annotations: extra },
          spec: { containers: [{ name: 'web', image }] },
        },
      },
    });
  const known: WorkloadState = deployment('web:1', '4');

  it('waits for a Deployment revision before calling a template change a deploy', () => {
    const pending = compareWorkload('Deployment', known, deployment('web:2', '4'));
    expect(pending.changes).toEqual([]);
    expect(pending.next.templateHash).toBe(known.templateHash);
    const done = compareWorkload('Deployment', pending.next, deployment('web:2', '5'));
    expect(done.changes).toMatchObject([
      { kind: 'deploy', from: { images: ['web:1'] }, to: { images: ['web:2'], revision: '5' } },
    ]);
  });

  it('ignores the pod-template-hash label, tells restarts and scaling apart', () => {
    expect(compareWorkload('Deployment', known, deployment('web:1', '4')).changes).toEqual([]);
    const restart = compareWorkload(
      'Deployment',
      known,
      deployment('web:1', '5', { 'kubectl.kubernetes.io/restartedAt': 'now' }),
    );
    expect(restart.changes.map((change) => change.kind)).toEqual(['restart']);
    const scaled = compareWorkload('Deployment', known, { ...known, replicas: 5 });
    expect(scaled.changes).toEqual([{ kind: 'scale', from: 2, to: 5 }]);
  });
});

describe('deployChanges', () => {
  const workload = (image: string, configMap: string, env: Record<string, string> = {}) =>
    describeWorkload({
      kind: 'Deployment',
      metadata: { name: 'cart' },
      spec: {
        template: {
          spec: {
            containers: [
              {
                name: 'cart',
                image,
                env: Object.entries(env).map(([name, value]) => ({ name, value })),
                envFrom: [{ configMapRef: { name: configMap } }],
              },
            ],
            volumes: [{ name: 'extra', emptyDir: {} }],
          },
        },
      },
    });

  it('tells a new image from a new configuration from something else in the template', () => {
    const before = workload('cart:1', 'cart-config-a');
    expect(deployChanges(before, workload('cart:2', 'cart-config-a'))).toEqual(['image']);
    expect(deployChanges(before, workload('cart:1', 'cart-config-b'))).toEqual(['config']);
    expect(deployChanges(before, workload('cart:1', 'cart-config-a', { POOL: '-1' }))).toEqual(['config']);
    expect(deployChanges(before, workload('cart:2', 'cart-config-b'))).toEqual(['image', 'config']);
    const resources = { ...before, templateHash: 'other', codeHash: 'other' };
    expect(deployChanges(before, resources)).toEqual(['template']);
  });

  it('does not call a configuration changed when the remembered state predates the hash', () => {
    const { configHash: _dropped, ...old } = workload('cart:1', 'cart-config-a');
    expect(deployChanges(old, workload('cart:1', 'cart-config-b'))).toEqual(['template']);
  });
});
