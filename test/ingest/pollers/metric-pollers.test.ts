import { describe, expect, it } from 'vitest';
import { serviceId } from '../../../src/graph/ids.js';
import { datadogConfiguration } from '../../../src/ingest/pollers/datadog/datadog-api.js';
import { datadogPoller } from '../../../src/ingest/pollers/datadog/datadog-poller.js';
import { evaluateSlo, EMPTY_QUERY_STATE } from '../../../src/ingest/pollers/metrics/slo-evaluate.js';
import {
  DATADOG_APM_TEMPLATES,
  deriveSloQueries,
  parseSloQueries,
} from '../../../src/ingest/pollers/metrics/slo-query.js';
import {
  prometheusPoller,
  SIM_PROMETHEUS_TEMPLATES,
} from '../../../src/ingest/pollers/prometheus/prometheus-poller.js';
import type { Signal } from '../../../src/ingest/signal.js';
import { Secret } from '../../../src/shared/secret.js';
import { pollerWorld, pollOnce, START } from './poller-kit.js';

const text = (value: unknown): string => (typeof value === 'string' ? value : JSON.stringify(value));

function summary(signals: readonly Signal[]): string[] {
  return signals
    .map(
      (signal) =>
        `${signal.kind}${signal.status ? `:${signal.status}` : ''} ${text(signal.attributes.service)} ${text(signal.attributes.metric)}`,
    )
    .sort();
}

/**
 * The bad checkout deploy: checkout breaches its error-rate objective and so does frontend,
 * which calls it; nothing else is touched, and each series gives at most one anomaly episode.
 */
function expectFaultSignals(signals: readonly Signal[]): void {
  const kinds = summary(signals);
  expect(kinds).toContain('alert:firing checkout error_rate');
  expect(kinds).toContain('anomaly checkout error_rate');
  expect(kinds).toContain('alert:firing frontend error_rate');
  const services = new Set(signals.map((signal) => signal.attributes.service));
  expect([...services].sort()).toEqual(['checkout', 'frontend']);
  expect(new Set(kinds).size).toBe(kinds.length);
}

describe('SLO pollers against the sim', () => {
  it('Datadog: the bad checkout deploy breaches its error-rate SLO, is an anomaly, and bursts errors in the logs', async () => {
    const world = await pollerWorld({ vendors: true });
    try {
      const url = world.sim.vendors?.urls.datadog ?? '';
      const sloQueries = deriveSloQueries(world.sim.world.services(), DATADOG_APM_TEMPLATES);
      expect(sloQueries.map((query) => `${query.service}/${query.metric}`)).toContain('checkout/error_rate');
      const poller = datadogPoller({
        configuration: datadogConfiguration({
          baseUrl: url,
          apiKey: new Secret('api'),
          appKey: new Secret('app'),
        }),
        sloQueries,
        errorBursts: { services: ['checkout', 'catalog', 'cart'] },
      });
      await world.at(50);
      const before = await pollOnce(poller, poller.initialState(), world.context);
      expect(before.signals).toEqual([]);
      expect(before.nextState.logs.counts.checkout).toEqual([0, 0, 0, 0, 0]);

      await world.at(180);
      const during = await pollOnce(poller, before.nextState, world.context);
      expectFaultSignals(during.signals);
      expect(summary(during.signals)).toContain('anomaly checkout log_errors');
      const firing = during.signals.find(
        (signal) => signal.kind === 'alert' && signal.attributes.service === 'checkout',
      );
      expect(firing).toMatchObject({
        source: 'datadog',
        severity: 'critical',
        fingerprint: 'datadog/slo/checkout/error_rate',
        entities: [{ kind: 'Service', id: serviceId('checkout'), name: 'checkout' }],
      });
      expect(Number(firing?.attributes.value)).toBeGreaterThan(0.3);
      expect(Number(firing?.attributes.since)).toBeGreaterThanOrEqual(START + 60_000);
      const anomaly = during.signals.find(
        (signal) =>
          signal.kind === 'anomaly' &&
          signal.attributes.service === 'checkout' &&
          signal.attributes.metric === 'error_rate',
      );
      expect(anomaly?.observedAt).toBeGreaterThanOrEqual(START + 60_000);
      expect(anomaly?.observedAt).toBeLessThan(START + 90_000);
      expect(anomaly?.attributes.direction).toBe('up');
      const burst = during.signals.find((signal) => signal.attributes.metric === 'log_errors');
      expect(burst?.observedAt).toBe(START + 60_000);
      expect(Number(burst?.attributes.count)).toBeGreaterThanOrEqual(10);
      expect(during.nextState.slo['checkout/error_rate']?.breachedSince).toBe(firing?.attributes.since);

      // Nothing new while the fault goes on: the breach and the episodes are already reported.
      await world.at(240);
      const later = await pollOnce(poller, during.nextState, world.context);
      expect(summary(later.signals)).toEqual([]);
      const requests = world.sim.vendors?.datadog.requests ?? [];
      // Each distinct metric query is read once per poll, ten to a call.
      const distinct = new Set(sloQueries.flatMap((query) => [query.query, query.denominator ?? query.query]))
        .size;
      const metricCalls = requests.filter((request) => request.path === '/api/v1/query').length;
      expect(metricCalls).toBe(3 * Math.ceil(distinct / 10));
      expect(requests.some((request) => request.path === '/api/v2/logs/events/search')).toBe(true);
      expect(requests.every((request) => request.status === 200)).toBe(true);
    } finally {
      await world.close();
    }
  });

  it('Datadog: a refused query in a batch does not cost the others their answer', async () => {
    const world = await pollerWorld({ vendors: true });
    try {
      const poller = datadogPoller({
        configuration: datadogConfiguration({
          baseUrl: world.sim.vendors?.urls.datadog ?? '',
          apiKey: new Secret('api'),
          appKey: new Secret('app'),
        }),
        sloQueries: [
          {
            service: 'checkout',
            metric: 'rps',
            query: 'sum:trace.http.request.hits{service:checkout}',
            threshold: 1e6,
          },
          { service: 'checkout', metric: 'bad', query: 'this is not a query', threshold: 1 },
        ],
      });
      await world.at(30);
      const result = await pollOnce(poller, poller.initialState(), world.context);
      expect(result.nextState.slo['checkout/rps']?.evaluatedTo).toBeGreaterThan(START);
      expect(result.nextState.slo['checkout/bad']?.evaluatedTo).toBe(0);
      const statuses = (world.sim.vendors?.datadog.requests ?? []).map((request) => request.status);
      expect(statuses).toEqual([400, 200, 400]);
    } finally {
      await world.close();
    }
  });

  it('Prometheus: the same objectives through query_range', async () => {
    const world = await pollerWorld({ vendors: true });
    try {
      const poller = prometheusPoller({
        url: world.sim.vendors?.urls.prometheus ?? '',
        sloQueries: deriveSloQueries(world.sim.world.services(), SIM_PROMETHEUS_TEMPLATES),
      });
      await world.at(50);
      const before = await pollOnce(poller, poller.initialState(), world.context);
      expect(before.signals).toEqual([]);
      await world.at(180);
      const during = await pollOnce(poller, before.nextState, world.context);
      expectFaultSignals(during.signals);
      expect(during.signals.every((signal) => signal.source === 'prometheus')).toBe(true);
      expect(world.sim.world.requestLog).toBeDefined();
    } finally {
      await world.close();
    }
  });

  it('Prometheus: a refused query is logged and skipped; all refused fails the poll', async () => {
    const world = await pollerWorld({ vendors: true });
    try {
      const url = world.sim.vendors?.urls.prometheus ?? '';
      const good = {
        service: 'checkout',
        metric: 'rps',
        query: 'sum(nightshift_sim_rps{service="checkout"})',
        threshold: 1e6,
      };
      const bad = { service: 'checkout', metric: 'bad', query: 'rate(nightshift_sim_rps[5m])', threshold: 1 };
      const mixed = prometheusPoller({ url, sloQueries: [good, bad] });
      const result = await pollOnce(mixed, mixed.initialState(), world.context);
      expect(Object.keys(result.nextState.slo).sort()).toEqual(['checkout/bad', 'checkout/rps']);
      expect(result.nextState.slo['checkout/rps']?.evaluatedTo).toBeGreaterThan(0);
      const broken = prometheusPoller({ url, sloQueries: [bad] });
      await expect(broken.poll(broken.initialState(), world.context)).rejects.toThrow(/bad_data|400/);
    } finally {
      await world.close();
    }
  });
});

describe('evaluateSlo', () => {
  const [query] = parseSloQueries([{ service: 'api', metric: 'error_rate', query: 'q', threshold: 0.05 }]);
  if (!query) throw new Error('no query');
  const series = (values: number[], start = 0) =>
    values.map((value, index) => [start + index * 10_000, value] as const);

  it('fires once the breach lasted forMs, resolves when the newest point is fine, with paired ids', () => {
    const short = evaluateSlo({
      source: 'prometheus',
      query,
      series: series([0.01, 0.2, 0.2]),
      state: { ...EMPTY_QUERY_STATE },
      receivedAt: 1,
    });
    expect(short.signals.filter((signal) => signal.kind === 'alert')).toEqual([]);
    const long = evaluateSlo({
      source: 'prometheus',
      query,
      series: series([0.01, ...Array.from({ length: 8 }, () => 0.2)]),
      state: short.state,
      receivedAt: 1,
    });
    const firing = long.signals.find((signal) => signal.kind === 'alert');
    expect(firing?.status).toBe('firing');
    expect(long.state.breachedSince).toBe(10_000);
    const again = evaluateSlo({
      source: 'prometheus',
      query,
      series: series([0.01, ...Array.from({ length: 9 }, () => 0.2)]),
      state: long.state,
      receivedAt: 1,
    });
    expect(again.signals.filter((signal) => signal.kind === 'alert')).toEqual([]);
    const fine = evaluateSlo({
      source: 'prometheus',
      query,
      series: series([0.2, 0.01]),
      state: again.state,
      receivedAt: 1,
    });
    const resolved = fine.signals.find((signal) => signal.kind === 'alert');
    expect(resolved?.status).toBe('resolved');
    expect(resolved?.fingerprint).toBe(firing?.fingerprint);
    expect(fine.state.breachedSince).toBeNull();
  });

  it('does not flag deviations below a tenth of the threshold, nor drops of a ">" objective', () => {
    const flat = Array.from({ length: 60 }, (_, index) => 0.001 + (index % 3) * 0.0001);
    const small = evaluateSlo({
      source: 'datadog',
      query,
      series: series([...flat, 0.004]),
      state: { ...EMPTY_QUERY_STATE },
      receivedAt: 1,
    });
    expect(small.signals).toEqual([]);
    const drop = evaluateSlo({
      source: 'datadog',
      query: { ...query, threshold: 0.0001 },
      series: series([...flat, 0]),
      state: { ...EMPTY_QUERY_STATE },
      receivedAt: 1,
    });
    expect(drop.signals.filter((signal) => signal.kind === 'anomaly')).toEqual([]);
    const jump = evaluateSlo({
      source: 'datadog',
      query,
      series: series([...flat, 0.04]),
      state: { ...EMPTY_QUERY_STATE },
      receivedAt: 1,
    });
    expect(jump.signals.map((signal) => signal.kind)).toEqual(['anomaly']);
  });

  it('sensitivity sets how far a point must depart from the baseline to be an anomaly', () => {
    // A baseline of 0.010–0.012 and a last point of 0.015: a robust z-score of about 2.7.
    const flat = Array.from({ length: 60 }, (_, index) => 0.01 + (index % 3) * 0.001);
    const judged = (sensitivity?: number, anomaly?: 'mad' | 'ewma') =>
      evaluateSlo({
        source: 'prometheus',
        query: {
          ...query,
          minDeviation: 0,
          ...(sensitivity !== undefined ? { sensitivity } : {}),
          ...(anomaly ? { anomaly } : {}),
        },
        series: series([...flat, 0.015]),
        state: { ...EMPTY_QUERY_STATE },
        receivedAt: 1,
      }).signals.map((signal) => signal.kind);
    expect(judged()).toEqual([]);
    expect(judged(2)).toEqual(['anomaly']);
    expect(judged(2, 'ewma')).toEqual(['anomaly']);
    expect(judged(6, 'ewma')).toEqual([]);
    expect(() =>
      parseSloQueries([{ service: 'api', metric: 'm', query: 'q', threshold: 1, sensitivity: 0 }]),
    ).toThrow(/sensitivity/);
  });
});
