import { describe, expect, it } from 'vitest';
import { parsePromDuration, parsePromQl, PromQlError } from './promql.js';

describe('PromQL subset parser', () => {
  it('parses selectors with every matcher kind and a range', () => {
    expect(
      parsePromQl(
        'nightshift_sim_rps{service="checkout", namespace!="dev", job=~"check.*", env!~"stag.*"}[5m]',
      ),
    ).toEqual({
      kind: 'selector',
      name: 'nightshift_sim_rps',
      matchers: [
        { label: 'service', op: '=', value: 'checkout' },
        { label: 'namespace', op: '!=', value: 'dev' },
        { label: 'job', op: '=~', value: 'check.*' },
        { label: 'env', op: '!~', value: 'stag.*' },
      ],
      rangeMs: 300_000,
    });
    expect(parsePromQl(`{__name__="nightshift_sim_rps", service='a\\'b'}`)).toMatchObject({
      kind: 'selector',
      matchers: [{ value: 'nightshift_sim_rps' }, { value: "a'b" }],
    });
  });

  it('parses aggregations with by/without before or after, functions and operator precedence', () => {
    expect(parsePromQl('sum by (service) (nightshift_sim_rps)')).toMatchObject({
      kind: 'aggregate',
      op: 'sum',
      grouping: { mode: 'by', labels: ['service'] },
    });
    expect(parsePromQl('max(nightshift_sim_rps) without (job, env)')).toMatchObject({
      kind: 'aggregate',
      op: 'max',
      grouping: { mode: 'without', labels: ['job', 'env'] },
    });
    expect(parsePromQl('avg_over_time(nightshift_sim_error_rate[10m])')).toMatchObject({
      kind: 'function',
      name: 'avg_over_time',
      argument: { rangeMs: 600_000 },
    });
    const expr = parsePromQl('nightshift_sim_errors / nightshift_sim_rps * 100 > bool 5');
    expect(expr).toMatchObject({
      kind: 'binary',
      op: '>',
      returnBool: true,
      left: { kind: 'binary', op: '*', left: { kind: 'binary', op: '/' } },
      right: { kind: 'number', value: 5 },
    });
  });

  it('refuses what is outside the subset or malformed, with positions', () => {
    expect(() => parsePromQl('rate(http_requests_total[5m])')).toThrow(PromQlError);
    expect(() => parsePromQl('rate(http_requests_total[5m])')).toThrow('unknown function with name "rate"');
    expect(() => parsePromQl('nightshift_sim_rps{service="checkout"')).toThrow(/parse error/);
    expect(() => parsePromQl('{service=""}')).toThrow(
      'vector selector must contain at least one non-empty matcher',
    );
    expect(() => parsePromQl('avg_over_time(nightshift_sim_rps)')).toThrow('expected type range vector');
    expect(() => parsePromQl('nightshift_sim_rps[5x]')).toThrow(/bad duration syntax/);
    expect(() => parsePromQl('')).toThrow('no expression found in input');
    expect(() => parsePromQl('nightshift_sim_rps @ 5')).toThrow(
      "1:20: parse error: unexpected character: '@'",
    );
  });

  it('reads Prometheus durations', () => {
    expect(parsePromDuration('1h30m')).toBe(5_400_000);
    expect(parsePromDuration('500ms')).toBe(500);
    expect(parsePromDuration('5')).toBeUndefined();
  });
});
