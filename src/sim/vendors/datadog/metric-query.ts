import { DATADOG_METRICS, readMetric } from '../metric-catalog.js';
import type { SeriesPoint, VendorWorld } from '../source.js';
import { serviceTags, wildcardMatch } from './tags.js';

/** One Datadog metric query: `avg:metric{scope} by {tag,…}.rollup(avg, 60)`. */
export interface MetricQuery {
  text: string;
  aggregator: Aggregator;
  metric: string;
  /** Scope terms; empty for `*`. */
  scope: Array<{ key: string; value: string; negated: boolean }>;
  groupBy: string[];
  rollupSeconds?: number;
}

type Aggregator = 'avg' | 'sum' | 'min' | 'max';
const AGGREGATORS = new Set<string>(['avg', 'sum', 'min', 'max']);

/** A query the sim cannot read; the message is what Datadog's 400 carries. */
export class MetricQueryError extends Error {}

/** Splits `a{x:1,y:2}, b{*}` on the commas outside braces and parentheses. */
function splitTopLevel(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let current = '';
  for (const char of text) {
    if (char === '{' || char === '(') depth++;
    if (char === '}' || char === ')') depth--;
    if (char === ',' && depth === 0) {
      parts.push(current.trim());
      current = '';
    } else current += char;
  }
  if (current.trim()) parts.push(current.trim());
  return parts;
}

const QUERY_PATTERN =
  /^(?:(avg|sum|min|max):)?([A-Za-z][\w.]*)\{([^}]*)\}(?:\s+by\s+\{([^}]*)\})?(?:\.rollup\(\s*(?:avg|sum|min|max|count)?\s*,?\s*(\d+)?\s*\))?$/;

/** Parses one or more comma-separated metric queries; throws MetricQueryError. */
export function parseMetricQueries(text: string): MetricQuery[] {
  const parts = splitTopLevel(text);
  if (parts.length === 0) throw new MetricQueryError('Error parsing query: empty query');
  return parts.map(parseOne);
}

function parseOne(text: string): MetricQuery {
  const match = QUERY_PATTERN.exec(text);
  if (!match) throw new MetricQueryError(`Error parsing query: unable to parse ${text}`);
  const aggregator = (match[1] ?? 'avg') as Aggregator;
  if (!AGGREGATORS.has(aggregator))
    throw new MetricQueryError(`Error parsing query: unknown aggregator ${aggregator}`);
  const scopeText = (match[3] ?? '').trim();
  const scope =
    scopeText === '*' || scopeText === ''
      ? []
      : scopeText.split(',').map((raw) => {
          const term = raw.trim();
          const negated = term.startsWith('!');
          const body = negated ? term.slice(1) : term;
          const colon = body.indexOf(':');
          if (colon <= 0) throw new MetricQueryError(`Error parsing query: invalid scope term ${term}`);
          return { key: body.slice(0, colon), value: body.slice(colon + 1), negated };
        });
  const groupBy = (match[4] ?? '')
    .split(',')
    .map((tag) => tag.trim())
    .filter(Boolean);
  const query: MetricQuery = { text, aggregator, metric: match[2] ?? '', scope, groupBy };
  if (match[5]) query.rollupSeconds = Number(match[5]);
  return query;
}

const INTERVALS = [10, 20, 60, 300, 600, 1800, 3600, 7200, 14400, 86400];

/** The rollup interval Datadog would pick: the smallest that keeps at most 300 points. */
export function defaultInterval(rangeSeconds: number): number {
  return INTERVALS.find((interval) => rangeSeconds / interval <= 300) ?? 86400;
}

/** One series of the v1 query response (snake_case, as on the wire). */
export interface QuerySeries {
  metric: string;
  display_name: string;
  expression: string;
  scope: string;
  tag_set: string[];
  aggr: string;
  query_index: number;
  interval: number;
  length: number;
  start: number;
  end: number;
  pointlist: Array<[number, number]>;
  attributes: Record<string, never>;
}

function aggregate(aggregator: Aggregator, values: number[]): number {
  if (aggregator === 'sum') return values.reduce((total, value) => total + value, 0);
  if (aggregator === 'min') return Math.min(...values);
  if (aggregator === 'max') return Math.max(...values);
  return values.reduce((total, value) => total + value, 0) / values.length;
}

/** Evaluates parsed queries over the world between fromMs and toMs. Unknown metrics give no series. */
export function evaluateMetricQueries(
  world: VendorWorld,
  queries: MetricQuery[],
  fromMs: number,
  toMs: number,
): QuerySeries[] {
  const result: QuerySeries[] = [];
  queries.forEach((query, index) => result.push(...evaluateOne(world, query, index, fromMs, toMs)));
  return result;
}

function evaluateOne(
  world: VendorWorld,
  query: MetricQuery,
  queryIndex: number,
  fromMs: number,
  toMs: number,
): QuerySeries[] {
  const reading = DATADOG_METRICS.get(query.metric);
  if (!reading) return [];
  const interval = query.rollupSeconds ?? defaultInterval(Math.max(1, (toMs - fromMs) / 1000));
  const stepMs = interval * 1000;
  const alignedFrom = Math.ceil(fromMs / stepMs) * stepMs;
  const groups = new Map<string, { tags: string[]; series: SeriesPoint[][] }>();
  for (const service of world.services()) {
    const tags = serviceTags(service);
    const inScope = query.scope.every((term) => {
      const value = tags.get(term.key);
      const matches = value !== undefined && wildcardMatch(term.value, value);
      return term.negated ? !matches : matches;
    });
    if (!inScope) continue;
    if (query.groupBy.some((key) => !tags.has(key))) continue;
    const points = readMetric(world, service.name, reading, alignedFrom, toMs, stepMs);
    if (points.length === 0) continue;
    const tagSet = query.groupBy.map((key) => `${key}:${tags.get(key) ?? ''}`);
    const key = tagSet.join(',');
    const group = groups.get(key) ?? { tags: tagSet, series: [] };
    group.series.push(points);
    groups.set(key, group);
  }
  const scopeText =
    query.scope.length === 0
      ? '*'
      : query.scope.map((t) => `${t.negated ? '!' : ''}${t.key}:${t.value}`).join(',');
  return [...groups.values()].map((group) => {
    const byTime = new Map<number, number[]>();
    for (const points of group.series) {
      for (const point of points) byTime.set(point.t, [...(byTime.get(point.t) ?? []), point.value]);
    }
    const pointlist = [...byTime.entries()]
      .sort(([a], [b]) => a - b)
      .map(([t, values]): [number, number] => [t, aggregate(query.aggregator, values)]);
    const scope = [scopeText === '*' ? '' : scopeText, ...group.tags].filter(Boolean).join(',') || '*';
    const first = pointlist[0]?.[0] ?? alignedFrom;
    const last = pointlist[pointlist.length - 1]?.[0] ?? alignedFrom;
    return {
      metric: query.metric,
      display_name: query.metric,
      expression: `${query.aggregator}:${query.metric}{${scope}}`,
      scope,
      tag_set: group.tags,
      aggr: query.aggregator,
      query_index: queryIndex,
      interval,
      length: pointlist.length,
      start: first,
      end: last + stepMs - 1,
      pointlist,
      attributes: {},
    };
  });
}
