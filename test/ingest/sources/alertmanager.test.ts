import { describe, expect, it } from 'vitest';
import { parseAlertmanager } from '../../../src/ingest/sources/alertmanager/parse.js';
import { authenticateAlertmanager } from '../../../src/ingest/sources/alertmanager/authenticate.js';
import { signalSchema, type Signal } from '../../../src/ingest/signal.js';
import { contextFor, fixture, fixtures, RECEIVED_AT } from '../fixtures.js';

function signalsOf(name: string, cluster?: string): Signal[] {
  const { body, text } = fixture('alertmanager', name);
  const result = parseAlertmanager(body, {}, contextFor(text, cluster));
  if ('error' in result) throw new Error(result.error.message);
  return result.ok;
}

describe('the Alertmanager parser', () => {
  it('turns every recorded body into valid signals, one per alert', () => {
    for (const { name, body, text } of fixtures('alertmanager')) {
      const result = parseAlertmanager(body, {}, contextFor(text));
      expect(result, name).toHaveProperty('ok');
      if ('ok' in result) {
        expect(result.ok).toHaveLength((body as { alerts: unknown[] }).alerts.length);
        for (const signal of result.ok) expect(signalSchema.parse(signal)).toEqual(signal);
      }
    }
  });

  it('normalizes a firing crash-loop alert with Kubernetes entities and the exporter labels left out', () => {
    const [signal] = signalsOf('kube-pod-crash-looping-firing', 'prod-eu');
    expect(signal).toMatchObject({
      v: 1,
      source: 'alertmanager',
      kind: 'alert',
      status: 'firing',
      severity: 'warning',
      fingerprint: 'a38bd979bba359db',
      observedAt: Date.parse('2024-11-29T08:40:57.669Z'),
      receivedAt: RECEIVED_AT,
      summary: 'KubePodCrashLooping: Pod is crash looping.',
      raw: { source: 'webhook/alertmanager', path: '/alerts/0' },
    });
    expect(signal?.raw.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(signal?.entities).toEqual([
      { kind: 'Alert', id: 'alert:alertmanager/a38bd979bba359db', name: 'KubePodCrashLooping' },
      { kind: 'Namespace', id: 'k8s:prod-eu/Namespace/default', name: 'default', cluster: 'prod-eu' },
      {
        kind: 'Pod',
        id: 'k8s:prod-eu/default/Pod/payment-processing-worker-747ccfb9db-pd6wz',
        name: 'payment-processing-worker-747ccfb9db-pd6wz',
        namespace: 'default',
        cluster: 'prod-eu',
      },
      {
        kind: 'Container',
        id: 'k8s:prod-eu/default/Pod/payment-processing-worker-747ccfb9db-pd6wz/Container/payment-processing-container',
        name: 'payment-processing-container',
        namespace: 'default',
        cluster: 'prod-eu',
      },
    ]);
    expect(signal?.attributes).toMatchObject({
      alertname: 'KubePodCrashLooping',
      labels: { reason: 'CrashLoopBackOff', job: 'kube-state-metrics' },
      annotations: {
        runbook_url: 'https://runbooks.prometheus-operator.dev/runbooks/kubernetes/kubepodcrashlooping',
      },
      receiver: 'sre-agent',
    });
  });

  it('gives the firing and resolved signals of one alert the same fingerprint and different ids', () => {
    const [firing] = signalsOf('kube-pod-crash-looping-firing');
    const [resolved] = signalsOf('kube-pod-crash-looping-resolved');
    expect(resolved?.status).toBe('resolved');
    expect(resolved?.fingerprint).toBe(firing?.fingerprint);
    expect(resolved?.id).not.toBe(firing?.id);
    expect(resolved?.observedAt).toBe(Date.parse('2024-11-29T09:16:27.669Z'));
    expect(signalsOf('kube-pod-crash-looping-firing')[0]?.id).toBe(firing?.id);
  });

  it('maps severity words, with none as info', () => {
    expect(signalsOf('watchdog-firing')[0]?.severity).toBe('info');
    expect(signalsOf('watchdog-firing')[0]?.entities).toEqual([
      { kind: 'Alert', id: 'alert:alertmanager/f482596675d33088', name: 'Watchdog' },
    ]);
  });

  it('splits a group into one signal per alert and reads workload, node, service and cluster labels', () => {
    const body = {
      version: '4',
      status: 'firing',
      alerts: [
        {
          status: 'firing',
          labels: {
            alertname: 'HighLatency',
            severity: 'page',
            namespace: 'shop',
            deployment: 'checkout',
            service: 'checkout',
            cluster: 'prod-us',
          },
          annotations: { summary: 'p99 above 800ms' },
          startsAt: '2026-01-01T11:00:00.123456789Z',
          endsAt: '0001-01-01T00:00:00Z',
        },
        {
          status: 'resolved',
          labels: {
            alertname: 'NodeDiskPressure',
            node: 'node-3',
            workload: 'redis-session',
            workload_type: 'statefulset',
            namespace: 'shop',
          },
          startsAt: '2026-01-01T10:00:00Z',
          endsAt: '2026-01-01T10:30:00Z',
        },
      ],
    };
    const result = parseAlertmanager(body, {}, contextFor(JSON.stringify(body)));
    if (!('ok' in result)) throw new Error(result.error.message);
    const [latency, disk] = result.ok;
    expect(latency?.severity).toBe('critical');
    expect(latency?.summary).toBe('HighLatency: p99 above 800ms');
    expect(latency?.entities.map((entity) => entity.id)).toEqual([
      `alert:alertmanager/${latency?.fingerprint}`,
      'k8s:prod-us/Namespace/shop',
      'k8s:prod-us/shop/Deployment/checkout',
      'service:checkout',
    ]);
    expect(latency?.fingerprint).toMatch(/^[0-9a-f]{16}$/);
    expect(disk?.status).toBe('resolved');
    expect(disk?.observedAt).toBe(Date.parse('2026-01-01T10:30:00Z'));
    expect(disk?.entities.map((entity) => entity.id)).toContain('k8s:default/shop/StatefulSet/redis-session');
    expect(disk?.entities.map((entity) => entity.id)).toContain('k8s:default/Node/node-3');
    expect(disk?.raw.path).toBe('/alerts/1');
  });

  it('accepts an empty group as no signal', () => {
    expect(parseAlertmanager({ version: '4', alerts: [] }, {}, contextFor('{}'))).toEqual({ ok: [] });
  });

  it('names the field paths of a malformed body', () => {
    const result = parseAlertmanager(
      { version: '5', alerts: [{ status: 'burning', labels: { severity: 3 }, startsAt: 'yesterday' }] },
      {},
      contextFor('{}'),
    );
    expect(result).toHaveProperty('error');
    if ('error' in result) {
      expect(result.error.code).toBe('invalid_payload');
      expect(result.error.issues.map((issue) => issue.path).sort()).toEqual([
        'alerts.0.labels.severity',
        'alerts.0.startsAt',
        'alerts.0.status',
        'version',
      ]);
      expect(result.error.message).toContain('alerts.0.status');
    }
    for (const body of [null, [], 'text', 42, {}, { alerts: 'none' }]) {
      const refused = parseAlertmanager(body, {}, contextFor('x'));
      expect(refused, JSON.stringify(body)).toHaveProperty('error.code', 'invalid_payload');
    }
  });
});

describe('Alertmanager authentication', () => {
  const token = 'am-token-0123456789';
  const basic = (user: string, password: string) =>
    `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

  it('accepts the bearer token and basic auth with the token as password', () => {
    expect(authenticateAlertmanager({ authorization: `Bearer ${token}` }, token)).toEqual({ ok: true });
    expect(authenticateAlertmanager({ authorization: `bearer   ${token}` }, token)).toEqual({ ok: true });
    expect(authenticateAlertmanager({ authorization: basic('alertmanager', token) }, token)).toEqual({
      ok: true,
    });
    expect(authenticateAlertmanager({ authorization: basic('', token) }, token)).toEqual({ ok: true });
  });

  it('refuses missing, wrong and malformed credentials with a reason', () => {
    const cases = [
      {},
      { authorization: '' },
      { authorization: `Bearer ${token}x` },
      { authorization: 'Bearer' },
      { authorization: basic(token, 'wrong') },
      { authorization: `Basic ${Buffer.from(token).toString('base64')}` },
      { authorization: 'Basic !!!' },
      { authorization: `Token ${token}` },
    ];
    for (const headers of cases) {
      const result = authenticateAlertmanager(headers, token);
      expect(result.ok, JSON.stringify(headers)).toBe(false);
      if (!result.ok) expect(result.message).not.toContain(token);
    }
  });
});
