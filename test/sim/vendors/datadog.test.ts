import { client, v1, v2 } from '@datadog/datadog-api-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startDatadogServer, type DatadogServer } from '../../../src/sim/vendors/datadog/server.js';
import { FakeWorld, T0 } from './fake-world.js';

function configuration(
  url: string,
  keys: { apiKeyAuth?: string; appKeyAuth?: string } = { apiKeyAuth: 'dd-api', appKeyAuth: 'dd-app' },
): client.Configuration {
  return client.createConfiguration({
    authMethods: keys,
    baseServer: new client.BaseServerConfiguration(url, {}),
    enableRetry: false,
  });
}

describe('Datadog API server with the real @datadog/datadog-api-client', () => {
  let world: FakeWorld;
  let server: DatadogServer;
  const faultAt = T0 + 300_000;

  beforeEach(async () => {
    world = new FakeWorld();
    world.overrides.push({ service: 'checkout', metric: 'errorRate', from: faultAt, value: 0.35 });
    world.extraEvents.push(
      {
        t: T0 + 20_000,
        title: 'Deployed catalog shop/catalog:2.0.1',
        text: 'rollout complete',
        service: 'catalog',
        source: 'deploy',
        severity: 'info',
      },
      {
        t: faultAt,
        title: 'Deployed checkout shop/checkout:3.1.0',
        text: 'rollout complete',
        service: 'checkout',
        source: 'deploy',
        severity: 'info',
      },
    );
    world.advance(600_000);
    server = await startDatadogServer(world, { apiKey: 'dd-api', appKey: 'dd-app' });
  });

  afterEach(async () => {
    await server.stop();
  });

  it('answers a metrics query per the metric mapping, before and after a fault', async () => {
    const api = new v1.MetricsApi(configuration(server.url));
    const reply = await api.queryMetrics({
      from: T0 / 1000,
      to: (T0 + 600_000) / 1000,
      query: 'avg:trace.http.request.errors{service:checkout}',
    });
    expect(reply.status).toBe('ok');
    expect(reply.series).toHaveLength(1);
    const series = reply.series?.[0];
    expect(series?.metric).toBe('trace.http.request.errors');
    expect(series?.scope).toBe('service:checkout');
    expect(series?.interval).toBe(10);
    const points = series?.pointlist ?? [];
    expect(points.length).toBeGreaterThan(20);
    for (const [t, value] of points) {
      expect(value).toBeCloseTo(t < faultAt ? 120 * 0.002 : 120 * 0.35, 6);
    }
  });

  it('groups by a tag and aggregates across services without one', async () => {
    const api = new v1.MetricsApi(configuration(server.url));
    const from = (T0 + 540_000) / 1000;
    const to = (T0 + 600_000) / 1000;
    const grouped = await api.queryMetrics({
      from,
      to,
      query: 'max:nightshift.sim.error_rate{kube_namespace:shop} by {service}',
    });
    const byService = Object.fromEntries(
      (grouped.series ?? []).map((s): [string, number | undefined] => [
        s.tagSet?.[0] ?? '',
        s.pointlist?.at(-1)?.[1],
      ]),
    );
    expect(byService).toEqual({ 'service:checkout': 0.35, 'service:payments': 0.001 });
    const summed = await api.queryMetrics({ from, to, query: 'sum:trace.http.request.hits{*}' });
    expect(summed.series?.[0]?.pointlist?.at(-1)?.[1]).toBe(200);
    const latency = await api.queryMetrics({
      from,
      to,
      query: 'avg:trace.http.request.duration.by.service.99p{service:payments}',
    });
    expect(latency.series?.[0]?.pointlist?.at(-1)?.[1]).toBeCloseTo(0.12, 9);
    const unknown = await api.queryMetrics({ from, to, query: 'avg:no.such.metric{*}' });
    expect(unknown.series).toEqual([]);
  });

  it('refuses a request without keys with 403 Forbidden, and a malformed query with 400', async () => {
    const noKeys = new v1.MetricsApi(configuration(server.url, {}));
    const forbidden = await noKeys
      .queryMetrics({ from: 1, to: 2, query: 'avg:x{*}' })
      .catch((error: unknown) => error);
    expect(forbidden).toBeInstanceOf(client.ApiException);
    expect((forbidden as client.ApiException<unknown>).code).toBe(403);
    expect((forbidden as client.ApiException<unknown>).body).toEqual({ errors: ['Forbidden'] });
    const wrongKey = new v1.MetricsApi(
      configuration(server.url, { apiKeyAuth: 'dd-api', appKeyAuth: 'wrong' }),
    );
    await expect(wrongKey.queryMetrics({ from: 1, to: 2, query: 'avg:x{*}' })).rejects.toMatchObject({
      code: 403,
    });
    const api = new v1.MetricsApi(configuration(server.url));
    await expect(
      api.queryMetrics({ from: 1, to: 2, query: 'avg:trace.http.request.errors{service:checkout' }),
    ).rejects.toMatchObject({ code: 400 });
    expect(server.requests.map((r) => r.status)).toEqual([403, 403, 400]);
  });

  it('searches logs with a query subset and pages with cursors until the end', async () => {
    const api = new v2.LogsApi(configuration(server.url));
    const from = new Date(T0).toISOString();
    const to = new Date(T0 + 600_000).toISOString();
    const first = await api.listLogs({
      body: { filter: { query: 'service:checkout status:error', from, to }, page: { limit: 7 } },
    });
    expect(first.data).toHaveLength(7);
    expect(first.meta?.page?.after).toBeTruthy();
    expect(first.data?.[0]?.attributes?.timestamp).toEqual(new Date(T0 + 600_000));
    const seen: v2.Log[] = [];
    for await (const log of api.listLogsWithPagination({
      body: { filter: { query: 'service:checkout status:error', from, to }, page: { limit: 7 } },
    }))
      seen.push(log);
    // error lines every 10 s from the fault (300 s) to 600 s inclusive
    expect(seen).toHaveLength(31);
    expect(new Set(seen.map((log) => log.id)).size).toBe(31);
    expect(
      seen.every((log) => log.attributes?.service === 'checkout' && log.attributes.status === 'error'),
    ).toBe(true);
    expect(seen.every((log) => (log.attributes?.timestamp?.getTime() ?? 0) >= faultAt)).toBe(true);

    const healthy = await api.listLogs({
      body: {
        filter: {
          query: '-status:error service:(checkout OR payments) "GET /health"',
          from: 'now-1m',
          to: 'now',
        },
        page: { limit: 100 },
        sort: 'timestamp',
      },
    });
    expect(healthy.data?.map((log) => log.attributes?.service)).toEqual(Array(7).fill('payments'));
    const times = healthy.data?.map((log) => log.attributes?.timestamp?.getTime() ?? 0) ?? [];
    expect(times).toEqual([...times].sort((a, b) => a - b));
  });

  it('lists events in a window, filtered by tags', async () => {
    const api = new v1.EventsApi(configuration(server.url));
    const all = await api.listEvents({ start: T0 / 1000, end: (T0 + 600_000) / 1000 });
    expect(all.events?.map((event) => event.title)).toEqual([
      'Deployed checkout shop/checkout:3.1.0',
      'Deployed catalog shop/catalog:2.0.1',
    ]);
    const checkout = await api.listEvents({
      start: T0 / 1000,
      end: (T0 + 600_000) / 1000,
      tags: 'service:checkout',
    });
    expect(checkout.events).toHaveLength(1);
    expect(checkout.events?.[0]?.dateHappened).toBe(faultAt / 1000);
    expect(checkout.events?.[0]?.alertType).toBe('info');
    const early = await api.listEvents({ start: T0 / 1000, end: (T0 + 60_000) / 1000 });
    expect(early.events?.map((event) => event.title)).toEqual(['Deployed catalog shop/catalog:2.0.1']);
  });
});
