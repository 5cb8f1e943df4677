import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startPrometheusServer, type PrometheusServer } from '../../../src/sim/vendors/prometheus/server.js';
import { FakeWorld, T0 } from './fake-world.js';

interface PromReply {
  status: 'success' | 'error';
  data?: { resultType: string; result: unknown };
  errorType?: string;
  error?: string;
}

type VectorResult = Array<{ metric: Record<string, string>; value: [number, string] }>;
type MatrixResult = Array<{ metric: Record<string, string>; values: Array<[number, string]> }>;

describe('Prometheus HTTP API server (plain fetch)', () => {
  let world: FakeWorld;
  let server: PrometheusServer;
  const faultAt = T0 + 300_000;

  beforeEach(async () => {
    world = new FakeWorld();
    world.overrides.push({ service: 'checkout', metric: 'errorRate', from: faultAt, value: 0.35 });
    world.advance(600_000);
    server = await startPrometheusServer(world);
  });

  afterEach(async () => {
    await server.stop();
  });

  async function get(
    path: string,
    params: Record<string, string>,
  ): Promise<{ status: number; body: PromReply }> {
    const response = await fetch(`${server.url}${path}?${new URLSearchParams(params).toString()}`);
    expect(response.headers.get('content-type')).toBe('application/json');
    return { status: response.status, body: (await response.json()) as PromReply };
  }

  it('answers an instant query with label matchers as a vector', async () => {
    const { status, body } = await get('/api/v1/query', {
      query: 'nightshift_sim_error_rate{service="checkout"}',
    });
    expect(status).toBe(200);
    expect(body.status).toBe('success');
    expect(body.data?.resultType).toBe('vector');
    const result = body.data?.result as VectorResult;
    expect(result).toEqual([
      {
        metric: {
          __name__: 'nightshift_sim_error_rate',
          service: 'checkout',
          namespace: 'shop',
          job: 'checkout',
          env: 'prod',
        },
        value: [(T0 + 600_000) / 1000, '0.35'],
      },
    ]);
    const before = await get('/api/v1/query', {
      query: 'nightshift_sim_error_rate{service="checkout"}',
      time: String((T0 + 120_000) / 1000),
    });
    expect((before.body.data?.result as VectorResult)[0]?.value[1]).toBe('0.002');
  });

  it('supports regex and negative matchers, aggregations, comparisons and over_time functions', async () => {
    const regex = await get('/api/v1/query', {
      query: 'nightshift_sim_rps{service=~"check.*|pay.*", service!="payments"}',
    });
    expect((regex.body.data?.result as VectorResult).map((s) => s.metric.service)).toEqual(['checkout']);
    const sum = await get('/api/v1/query', { query: 'sum(nightshift_sim_rps{namespace="shop"})' });
    expect(sum.body.data?.result).toEqual([{ metric: {}, value: [(T0 + 600_000) / 1000, '200'] }]);
    const byService = await get('/api/v1/query', {
      query: 'max by (service) (nightshift_sim_error_rate) > 0.01',
    });
    expect((byService.body.data?.result as VectorResult).map((s) => [s.metric, s.value[1]])).toEqual([
      [{ service: 'checkout' }, '0.35'],
    ]);
    const errors = await get('/api/v1/query', {
      query: 'nightshift_sim_errors{service="checkout"} / nightshift_sim_rps{service="checkout"}',
    });
    expect(Number((errors.body.data?.result as VectorResult)[0]?.value[1])).toBeCloseTo(0.35, 9);
    const avg = await get('/api/v1/query', {
      query: 'avg_over_time(nightshift_sim_error_rate{service="checkout"}[10m])',
    });
    const value = Number((avg.body.data?.result as VectorResult)[0]?.value[1]);
    expect(value).toBeGreaterThan(0.002);
    expect(value).toBeLessThan(0.35);
    const raw = await get('/api/v1/query', {
      query: 'nightshift_sim_latency_p99_ms{service="payments"}[1m]',
    });
    expect(raw.body.data?.resultType).toBe('matrix');
    expect((raw.body.data?.result as MatrixResult)[0]?.values).toHaveLength(4);
  });

  it('answers query_range as a matrix over GET and form POST', async () => {
    const params = {
      query: 'nightshift_sim_error_rate{service="checkout"}',
      start: String(T0 / 1000),
      end: new Date(T0 + 600_000).toISOString(),
      step: '60s',
    };
    const { body } = await get('/api/v1/query_range', params);
    expect(body.data?.resultType).toBe('matrix');
    const values = (body.data?.result as MatrixResult)[0]?.values ?? [];
    expect(values).toHaveLength(11);
    expect(values.map(([t, v]) => [t * 1000 >= faultAt, v])).toEqual(
      values.map(([t]) => [t * 1000 >= faultAt, t * 1000 >= faultAt ? '0.35' : '0.002']),
    );
    const posted = await fetch(`${server.url}/api/v1/query_range`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ ...params, step: '120' }),
    });
    const postedBody = (await posted.json()) as PromReply;
    expect((postedBody.data?.result as MatrixResult)[0]?.values).toHaveLength(6);
    expect(server.queries.map((q) => q.status)).toEqual([200, 200]);
  });

  it('answers errors in the Prometheus format', async () => {
    const parse = await get('/api/v1/query', { query: 'nightshift_sim_rps{service="checkout"' });
    expect(parse.status).toBe(400);
    expect(parse.body).toMatchObject({ status: 'error', errorType: 'bad_data' });
    expect(parse.body.error).toMatch(/parse error/);
    const range = await get('/api/v1/query_range', {
      query: 'nightshift_sim_rps[5m]',
      start: '0',
      end: '60',
      step: '15',
    });
    expect(range.body.error).toBe(
      'invalid expression type "range vector" for range query, must be Scalar or instant Vector',
    );
    const step = await get('/api/v1/query_range', {
      query: 'nightshift_sim_rps',
      start: '0',
      end: '100000',
      step: '1',
    });
    expect(step.body.error).toMatch(/exceeded maximum resolution of 11,000 points/);
    const time = await get('/api/v1/query', { query: 'nightshift_sim_rps', time: 'yesterday' });
    expect(time.body.error).toBe('invalid parameter "time": cannot parse "yesterday" to a valid timestamp');
  });

  it('lists label names and values', async () => {
    const services = await get('/api/v1/label/service/values', {});
    expect(services.body.data).toEqual(['checkout', 'payments', 'postgres-orders', 'redis-session']);
    const labels = await get('/api/v1/labels', {});
    expect(labels.body.data).toEqual(['__name__', 'env', 'job', 'namespace', 'service']);
  });
});
