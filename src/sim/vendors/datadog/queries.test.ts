import { describe, expect, it } from 'vitest';
import { matchesLog, parseLogQuery } from './log-query.js';
import { defaultInterval, MetricQueryError, parseMetricQueries } from './metric-query.js';
import { parseTimeExpression } from './time-expression.js';

describe('Datadog metric query parser', () => {
  it('reads aggregator, metric, scope, group-by and rollup', () => {
    expect(
      parseMetricQueries(
        'sum:trace.http.request.hits{service:checkout,!env:dev,kube_namespace:sh*} by {service}.rollup(avg, 60)',
      ),
    ).toEqual([
      {
        text: 'sum:trace.http.request.hits{service:checkout,!env:dev,kube_namespace:sh*} by {service}.rollup(avg, 60)',
        aggregator: 'sum',
        metric: 'trace.http.request.hits',
        scope: [
          { key: 'service', value: 'checkout', negated: false },
          { key: 'env', value: 'dev', negated: true },
          { key: 'kube_namespace', value: 'sh*', negated: false },
        ],
        groupBy: ['service'],
        rollupSeconds: 60,
      },
    ]);
    const [first, second] = parseMetricQueries('nightshift.sim.rps{*}, max:nightshift.sim.cpu{service:a}');
    expect(first).toMatchObject({ aggregator: 'avg', metric: 'nightshift.sim.rps', scope: [] });
    expect(second).toMatchObject({ aggregator: 'max', metric: 'nightshift.sim.cpu' });
  });

  it('refuses malformed queries', () => {
    expect(() => parseMetricQueries('avg:trace.http.request.errors{service:checkout')).toThrow(
      MetricQueryError,
    );
    expect(() => parseMetricQueries('p99:x{*}')).toThrow(MetricQueryError);
    expect(() => parseMetricQueries('avg:x{service}')).toThrow('invalid scope term');
  });

  it('picks rollup intervals that keep at most 300 points', () => {
    expect(defaultInterval(600)).toBe(10);
    expect(defaultInterval(3600)).toBe(20);
    expect(defaultInterval(86_400)).toBe(300);
    expect(defaultInterval(7 * 86_400)).toBe(3600);
  });
});

describe('Datadog log search subset', () => {
  const log = (fields: Record<string, string>, message: string) => ({
    fields: new Map(Object.entries(fields)),
    message,
  });
  const error = log(
    { service: 'checkout', status: 'error', pod_name: 'checkout-1' },
    'ERROR payment token missing in request context',
  );
  const info = log({ service: 'payments', status: 'info', pod_name: 'payments-1' }, 'GET /health 200');

  it('matches facets, wildcards, value lists, text, phrases, negation, AND/OR and groups', () => {
    const cases: Array<[string, boolean, boolean]> = [
      ['', true, true],
      ['*', true, true],
      ['service:checkout status:error', true, false],
      ['service:check*', true, false],
      ['status:(error OR warn)', true, false],
      ['-status:error', false, true],
      ['NOT service:checkout', false, true],
      ['"token missing"', true, false],
      ['payment', true, false],
      ['service:payments OR status:error', true, true],
      ['service:checkout AND (health OR token)', true, false],
      ['@pod_name:payments-1', false, true],
      ['service:"checkout"', true, false],
    ];
    for (const [query, matchesError, matchesInfo] of cases) {
      const filter = parseLogQuery(query);
      expect([query, matchesLog(filter, error), matchesLog(filter, info)]).toEqual([
        query,
        matchesError,
        matchesInfo,
      ]);
    }
  });

  it('refuses malformed searches', () => {
    expect(() => parseLogQuery('service:(a OR b')).toThrow(/missing/);
    expect(() => parseLogQuery('"open')).toThrow(/unterminated quote/);
    expect(() => parseLogQuery('a)')).toThrow(/unexpected/);
  });
});

describe('Datadog time expressions', () => {
  const now = Date.UTC(2026, 2, 2, 12);
  it('reads now, now-N units, ISO dates and ms timestamps', () => {
    expect(parseTimeExpression('now', now)).toBe(now);
    expect(parseTimeExpression('now-15m', now)).toBe(now - 900_000);
    expect(parseTimeExpression('now-1w', now)).toBe(now - 604_800_000);
    expect(parseTimeExpression('2026-03-02T11:00:00Z', now)).toBe(now - 3_600_000);
    expect(parseTimeExpression('1772448000000', now)).toBe(1_772_448_000_000);
    expect(parseTimeExpression('yesterday', now)).toBeUndefined();
  });
});
