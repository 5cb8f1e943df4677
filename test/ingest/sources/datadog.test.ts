import { describe, expect, it } from 'vitest';
import { authenticateDatadog } from '../../../src/ingest/sources/datadog/authenticate.js';
import {
  DATADOG_FIELDS,
  datadogMappingSchema,
  DEFAULT_DATADOG_MAPPING,
  DEFAULT_DATADOG_TEMPLATE,
  valueAt,
} from '../../../src/ingest/sources/datadog/mapping.js';
import { parseDatadog, type DatadogParseContext } from '../../../src/ingest/sources/datadog/parse.js';
import type { Signal } from '../../../src/ingest/signal.js';
import { contextFor, fixture, RECEIVED_AT } from '../fixtures.js';

function parse(body: unknown, extra: Partial<DatadogParseContext> = {}) {
  return parseDatadog(body, {}, { ...contextFor(JSON.stringify(body)), ...extra });
}

function one(body: unknown, extra: Partial<DatadogParseContext> = {}): Signal {
  const result = parse(body, extra);
  if ('error' in result) throw new Error(result.error.message);
  expect(result.ok).toHaveLength(1);
  return result.ok[0] as Signal;
}

describe('the Datadog parser', () => {
  it('reads a triggered monitor rendered from the documented template', () => {
    const signal = one(fixture('datadog', 'monitor-triggered').body);
    expect(signal).toMatchObject({
      source: 'datadog',
      kind: 'alert',
      status: 'firing',
      severity: 'error',
      fingerprint: '0b1b3e5a4f8b8f0e9d7c6b5a4f3e2d1c',
      observedAt: 1767261600000,
      receivedAt: RECEIVED_AT,
      summary: '[Triggered on {kube_namespace:shop,kube_deployment:checkout}] Checkout p99 latency is high',
      raw: { source: 'webhook/datadog', deliveryId: '7654321098765432109' },
    });
    expect(signal.entities.map((entity) => entity.id)).toEqual([
      'alert:datadog/0b1b3e5a4f8b8f0e9d7c6b5a4f3e2d1c',
      'k8s:prod-eu/Namespace/shop',
      'k8s:prod-eu/shop/Deployment/checkout',
      'service:checkout',
    ]);
    expect(signal.attributes).toMatchObject({ monitorId: '123456', transition: 'Triggered', priority: 'P2' });
    expect(signal.attributes.tags).toContain('team:payments');
  });

  it('resolves on Recovered with the same fingerprint, and warns on Warn with pod, container and node', () => {
    const triggered = one(fixture('datadog', 'monitor-triggered').body);
    const recovered = one(fixture('datadog', 'monitor-recovered').body);
    expect(recovered.status).toBe('resolved');
    expect(recovered.fingerprint).toBe(triggered.fingerprint);
    expect(recovered.id).not.toBe(triggered.id);
    const warn = one(fixture('datadog', 'monitor-warn').body);
    expect(warn.severity).toBe('warning');
    expect(warn.status).toBe('firing');
    expect(warn.entities.map((entity) => entity.id)).toEqual([
      'alert:datadog/9f8e7d6c5b4a39281706f5e4d3c2b1a0',
      'k8s:prod-eu/Namespace/shop',
      'k8s:prod-eu/shop/StatefulSet/redis-session',
      'k8s:prod-eu/shop/Pod/redis-session-0',
      'k8s:prod-eu/shop/Pod/redis-session-0/Container/redis',
      'k8s:prod-eu/Node/node-eu-3',
      'service:redis-session',
    ]);
  });

  it('reads a custom template through a mapping of paths', () => {
    const body = {
      alert: {
        name: '$EVENT_TITLE',
        state: 'Re-Triggered',
        monitor: 987,
        tags: ['service:cart', 'kube_namespace:shop'],
      },
      when: '1767261600',
    };
    body.alert.name = 'Cart errors high';
    const mapping = {
      title: 'alert.name',
      transition: 'alert.state',
      monitorId: 'alert.monitor',
      tags: 'alert.tags',
      date: 'when',
    };
    expect(datadogMappingSchema.parse(mapping)).toEqual(mapping);
    const signal = one(body, { mapping });
    expect(signal.summary).toBe('Cart errors high');
    expect(signal.status).toBe('firing');
    expect(signal.observedAt).toBe(1767261600000);
    expect(signal.fingerprint).toMatch(/^[0-9a-f]{32}$/);
    expect(signal.entities.map((entity) => entity.id)).toEqual([
      `alert:datadog/${signal.fingerprint}`,
      'k8s:default/Namespace/shop',
      'service:cart',
    ]);
  });

  it('treats empty and unsubstituted variables as absent and names the mapping paths it misses', () => {
    const result = parse({
      title: '$EVENT_TITLE',
      transition: '',
      aggregationKey: '',
      monitorId: '$ALERT_ID',
    });
    expect(result).toHaveProperty('error');
    if ('error' in result) {
      expect(result.error.issues.map((issue) => issue.path)).toEqual([
        'transition',
        'aggregationKey',
        'title',
      ]);
      expect(result.error.message).toContain('$ALERT_TRANSITION');
    }
    for (const body of [null, [], 'x', 3])
      expect(parse(body)).toHaveProperty('error.issues.0.path', '(body)');
  });

  it('documents a template whose every variable the default mapping reads', () => {
    for (const field of DATADOG_FIELDS) {
      expect(valueAt(DEFAULT_DATADOG_TEMPLATE, DEFAULT_DATADOG_MAPPING[field]), field).toMatch(/^\$[A-Z_]+$/);
    }
    expect(datadogMappingSchema.safeParse({ title: 'a..b' }).success).toBe(false);
    expect(datadogMappingSchema.safeParse({ colour: 'x' }).success).toBe(false);
  });

  it('reads only own properties along a path', () => {
    expect(valueAt({ a: { b: 1 } }, 'a.b')).toBe(1);
    expect(valueAt({ a: [5, 6] }, 'a.1')).toBe(6);
    expect(valueAt({}, 'constructor')).toBeUndefined();
    expect(valueAt({ a: 'text' }, 'a.length')).toBeUndefined();
  });
});

describe('Datadog authentication', () => {
  it('accepts the shared secret header and refuses a missing or wrong one', () => {
    expect(authenticateDatadog({ 'x-nightshift-secret': 'dd-secret-1' }, 'dd-secret-1')).toEqual({
      ok: true,
    });
    expect(authenticateDatadog({}, 'dd-secret-1').ok).toBe(false);
    expect(authenticateDatadog({ 'x-nightshift-secret': 'dd-secret-2' }, 'dd-secret-1').ok).toBe(false);
    expect(authenticateDatadog({ 'x-nightshift-secret': 'dd-secret-1x' }, 'dd-secret-1').ok).toBe(false);
  });
});
