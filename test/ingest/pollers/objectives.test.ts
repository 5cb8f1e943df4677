import { describe, expect, it } from 'vitest';
import { serviceId } from '../../../src/graph/ids.js';
import { EmbeddedGraphStore } from '../../../src/graph/embedded/embedded-store.js';
import { serviceObjectiveProperties } from '../../../src/ingest/kubernetes/service-objectives.js';
import { createPollers } from '../../../src/ingest/pollers/build-pollers.js';
import { datadogConfiguration } from '../../../src/ingest/pollers/datadog/datadog-api.js';
import { DATADOG_APM_TEMPLATES, deriveSloQueries } from '../../../src/ingest/pollers/metrics/slo-query.js';
import {
  combineSloQueries,
  graphObjectives,
  graphObjectivesLookup,
} from '../../../src/ingest/pollers/objectives.js';
import type { JsonValue } from '../../../src/ingest/pollers/poller.js';
import {
  prometheusSloTemplates,
  SIM_PROMETHEUS_TEMPLATES,
} from '../../../src/ingest/pollers/prometheus/prometheus-poller.js';
import { ManualClock } from '../../../src/shared/clock.js';
import { silentLogger } from '../../../src/shared/logger.js';
import { Secret } from '../../../src/shared/secret.js';
import { tempDir } from '../../kit/tmp.js';
import { pollerWorld, pollOnce } from './poller-kit.js';

describe('objectives in the graph', () => {
  it('reads Services with an objective property, and lets configured objectives win', async () => {
    const clock = new ManualClock(Date.UTC(2026, 2, 2, 9));
    const graph = await EmbeddedGraphStore.open({
      dataDir: tempDir(),
      fsync: 'never',
      logger: silentLogger(),
      clock,
    });
    try {
      const service = (name: string, properties: Record<string, string | number | boolean>) => ({
        id: serviceId(name),
        kind: 'Service' as const,
        name,
        source: 'kubernetes',
        properties,
      });
      await graph.upsertEntities([
        service('checkout', { sloErrorRate: 0.01, sloLatencyP99Ms: 300, tier: 'critical' }),
        service('catalog', { sloLatencyP99Ms: 500 }),
        service('cart', { tier: 'critical' }),
        service('gone', { sloErrorRate: 0.02, deleted: true }),
      ]);
      expect(await graphObjectives(graph)).toEqual([
        { name: 'catalog', slo: { latencyP99Ms: 500 } },
        { name: 'checkout', tier: 'critical', slo: { errorRate: 0.01, latencyP99Ms: 300 } },
      ]);
      const lookup = graphObjectivesLookup([
        { name: 'catalog', slo: { errorRate: 0.5 } },
        { name: 'search', slo: {} },
      ]);
      expect(await lookup({ graph, clock, logger: silentLogger() })).toEqual([
        { name: 'catalog', slo: { errorRate: 0.5 } },
        { name: 'checkout', tier: 'critical', slo: { errorRate: 0.01, latencyP99Ms: 300 } },
        { name: 'search', slo: {} },
      ]);
    } finally {
      await graph.close();
    }
  });

  it('reads objectives from a Service’s annotations, and only sane ones', () => {
    const service = (annotations: Record<string, string>, labels: Record<string, string> = {}) => ({
      metadata: { name: 'checkout', namespace: 'shop', annotations, labels },
    });
    expect(
      serviceObjectiveProperties(
        service(
          { 'nightshift.dev/slo-error-rate': '0.01', 'nightshift.dev/slo-latency-p99-ms': '250' },
          {
            tier: 'critical',
          },
        ),
      ),
    ).toEqual({ sloErrorRate: 0.01, sloLatencyP99Ms: 250, tier: 'critical' });
    expect(
      serviceObjectiveProperties(
        service({
          'nightshift.dev/slo-error-rate': '5',
          'nightshift.dev/slo-latency-p99-ms': '250ms',
          'nightshift.dev/tier': 'gold',
        }),
      ),
    ).toEqual({ sloErrorRate: null, sloLatencyP99Ms: null, tier: 'gold' });
    // Without annotations every property is cleared, so removing one removes the objective.
    expect(serviceObjectiveProperties(service({}))).toEqual({
      sloErrorRate: null,
      sloLatencyP99Ms: null,
      tier: null,
    });
  });
});

describe('SLO queries', () => {
  it('lets an explicit query replace the derived one of the same id', () => {
    const derived = deriveSloQueries(
      [{ name: 'checkout', slo: { errorRate: 0.01, latencyP99Ms: 300 } }],
      DATADOG_APM_TEMPLATES,
    );
    const combined = combineSloQueries(derived, [
      {
        service: 'checkout',
        metric: 'error_rate',
        query: 'sum:my.errors{service:checkout}',
        threshold: 0.02,
      },
    ]);
    expect(combined.map((query) => [query.id, query.threshold])).toEqual([
      ['checkout/latency_p99_ms', 300],
      ['checkout/error_rate', 0.02],
    ]);
    expect(() =>
      combineSloQueries([], [{ service: 'x', metric: 'y', query: 'q', threshold: 'high' } as never]),
    ).toThrow();
  });

  it('turns the $service PromQL of the Prometheus settings into templates', () => {
    const templates = prometheusSloTemplates({
      errors: 'sum(rate(http_requests_total{service="$service",code=~"5.."}[5m]))',
      requests: 'sum(rate(http_requests_total{service="$service"}[5m]))',
      latencyP99:
        'histogram_quantile(0.99, sum by (le) (rate(http_duration_seconds_bucket{service="$service"}[5m])))',
      latencyScale: 1000,
    });
    const [errors, latency] = deriveSloQueries(
      [{ name: 'cart', slo: { errorRate: 0.01, latencyP99Ms: 200 } }],
      templates,
    );
    expect(errors).toMatchObject({
      query: 'sum(rate(http_requests_total{service="cart",code=~"5.."}[5m]))',
      denominator: 'sum(rate(http_requests_total{service="cart"}[5m]))',
    });
    expect(latency).toMatchObject({ scale: 1000, threshold: 200 });
    expect(latency?.query).toContain('{service="cart"}');
  });
});

describe('pollers built with an objectives lookup', () => {
  it('read the objectives at each poll: a service that gains one is polled from then on', async () => {
    const world = await pollerWorld({ vendors: true });
    try {
      const built = createPollers(
        {
          prometheus: { url: world.sim.vendors?.urls.prometheus ?? '', templates: SIM_PROMETHEUS_TEMPLATES },
          datadog: { errorBursts: {} },
          logs: {},
        },
        {
          objectives: graphObjectivesLookup(),
          datadog: datadogConfiguration({
            baseUrl: world.sim.vendors?.urls.datadog ?? '',
            apiKey: new Secret('a'),
            appKey: new Secret('b'),
          }),
        },
      );
      expect(built.skipped).toEqual([]);
      const byName = new Map(built.pollers.map((poller) => [poller.name, poller]));
      const poll = async (name: string, state: JsonValue) => {
        const poller = byName.get(name);
        if (!poller) throw new Error(`no ${name} poller`);
        return pollOnce(poller, state ?? poller.initialState(), world.context);
      };

      await world.at(45);
      const before = {
        prometheus: await poll('prometheus', null),
        datadog: await poll('datadog', null),
        logs: await poll('logs', null),
      };
      // No service has an objective yet: nothing is queried, counted or mined.
      expect(before.prometheus.nextState).toEqual({ v: 1, slo: {} });
      expect((before.datadog.nextState as { slo: object }).slo).toEqual({});
      expect(before.logs.nextState).toEqual({ v: 1, services: {} });

      await world.graph.upsertEntities([
        {
          id: serviceId('checkout'),
          kind: 'Service',
          name: 'checkout',
          source: 'kubernetes',
          properties: { sloErrorRate: 0.05, tier: 'critical' },
        },
      ]);
      await world.at(180);
      const prometheus = await poll('prometheus', before.prometheus.nextState);
      expect(Object.keys((prometheus.nextState as { slo: object }).slo)).toEqual(['checkout/error_rate']);
      expect(prometheus.signals).toEqual(
        expect.arrayContaining([
          expect.objectContaining({
            kind: 'alert',
            status: 'firing',
            severity: 'critical',
            fingerprint: 'prometheus/slo/checkout/error_rate',
          }),
        ]),
      );
      const datadog = await poll('datadog', before.datadog.nextState);
      expect(Object.keys((datadog.nextState as { slo: object }).slo)).toEqual(['checkout/error_rate']);
      expect(datadog.signals.some((signal) => signal.fingerprint === 'datadog/slo/checkout/error_rate')).toBe(
        true,
      );
      const logs = await poll('logs', before.logs.nextState);
      expect(Object.keys((logs.nextState as { services: object }).services)).toEqual(['checkout']);
    } finally {
      await world.close();
    }
  });
});
