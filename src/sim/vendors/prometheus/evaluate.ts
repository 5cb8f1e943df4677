import { PROMETHEUS_METRICS, readMetric, type MetricReading } from '../metric-catalog.js';
import type { SeriesPoint, VendorService, VendorWorld } from '../source.js';
import { PromQlError, type BinaryOp, type Expr, type Matcher } from './promql.js';

export type Labels = Record<string, string>;
export interface Sample {
  labels: Labels;
  value: number;
}
export interface RangeSeries {
  labels: Labels;
  points: SeriesPoint[];
}
/** What an expression evaluates to at one instant. */
export type Value =
  | { type: 'scalar'; value: number }
  | { type: 'vector'; samples: Sample[] }
  | { type: 'matrix'; series: RangeSeries[] };

/** How the evaluator samples the world. */
export interface EvaluationOptions {
  /** Instant samples already read, by service, metric name and time (range queries fill it). */
  instantSamples?: InstantSamples;
  /** How far back an instant selector looks for a sample (Prometheus' lookback delta). Default 5 min. */
  lookbackMs?: number;
  /** The sample spacing of range selectors (the scrape interval). Default 15 s. */
  resolutionMs?: number;
}

/** The labels the sim puts on a service's series. */
export function seriesLabels(name: string, service: VendorService): Labels {
  const labels: Labels = {
    __name__: name,
    service: service.name,
    namespace: service.namespace,
    job: service.name,
  };
  if (service.environment) labels.env = service.environment;
  return labels;
}

function matches(matcher: Matcher, labels: Labels): boolean {
  const value = labels[matcher.label] ?? '';
  if (matcher.op === '=') return value === matcher.value;
  if (matcher.op === '!=') return value !== matcher.value;
  const regex = new RegExp(`^(?:${matcher.value})$`);
  return matcher.op === '=~' ? regex.test(value) : !regex.test(value);
}

function labelKey(labels: Labels): string {
  return JSON.stringify(Object.entries(labels).sort(([a], [b]) => a.localeCompare(b)));
}

function withoutName(labels: Labels): Labels {
  const { __name__: _name, ...rest } = labels;
  return rest;
}

/**
 * Instant samples of whole series, read from the world once per series for a range query's
 * grid instead of once per step.
 */
export class InstantSamples {
  readonly #series = new Map<string, Map<number, number>>();
  constructor(
    private readonly world: VendorWorld,
    private readonly startMs: number,
    private readonly endMs: number,
    private readonly stepMs: number,
  ) {}

  /** The sample at `t` when `t` is on the grid, else undefined (the caller reads it directly). */
  at(service: string, name: string, reading: MetricReading, t: number): SeriesPoint[] | undefined {
    if (t < this.startMs || t > this.endMs || (t - this.startMs) % this.stepMs !== 0) return undefined;
    const key = `${service}\u0000${name}`;
    let samples = this.#series.get(key);
    if (!samples) {
      const points = readMetric(
        this.world,
        service,
        reading,
        this.startMs,
        Math.min(this.endMs, this.world.now()),
        this.stepMs,
      );
      samples = new Map(points.map((point) => [point.t, point.value]));
      this.#series.set(key, samples);
    }
    const value = samples.get(t);
    return value === undefined ? [] : [{ t, value }];
  }
}

function selectSeries(
  world: VendorWorld,
  expr: Extract<Expr, { kind: 'selector' }>,
  read: (service: string, name: string, reading: MetricReading) => SeriesPoint[],
): RangeSeries[] {
  const names = expr.name === undefined ? [...PROMETHEUS_METRICS.keys()] : [expr.name];
  const result: RangeSeries[] = [];
  for (const name of names) {
    const reading = PROMETHEUS_METRICS.get(name);
    if (!reading) continue;
    for (const service of world.services()) {
      const labels = seriesLabels(name, service);
      if (!expr.matchers.every((matcher) => matches(matcher, labels))) continue;
      const points = read(service.name, name, reading);
      if (points.length > 0) result.push({ labels, points });
    }
  }
  return result;
}

function compare(op: BinaryOp, left: number, right: number): boolean {
  if (op === '==') return left === right;
  if (op === '!=') return left !== right;
  if (op === '>') return left > right;
  if (op === '<') return left < right;
  if (op === '>=') return left >= right;
  return left <= right;
}

function arithmetic(op: BinaryOp, left: number, right: number): number {
  if (op === '+') return left + right;
  if (op === '-') return left - right;
  if (op === '*') return left * right;
  return left / right;
}

function isComparison(op: BinaryOp): boolean {
  return !['+', '-', '*', '/'].includes(op);
}

/** Applies a binary operator to one pair of values; undefined drops the sample (a false filter). */
function applyBinary(
  expr: Extract<Expr, { kind: 'binary' }>,
  left: number,
  right: number,
  keep: number,
): number | undefined {
  if (!isComparison(expr.op)) return arithmetic(expr.op, left, right);
  const holds = compare(expr.op, left, right);
  if (expr.returnBool) return holds ? 1 : 0;
  return holds ? keep : undefined;
}

function binary(expr: Extract<Expr, { kind: 'binary' }>, left: Value, right: Value): Value {
  if (left.type === 'matrix' || right.type === 'matrix')
    throw new PromQlError('binary expression must contain only scalar and instant vector types');
  if (left.type === 'scalar' && right.type === 'scalar') {
    if (isComparison(expr.op) && !expr.returnBool)
      throw new PromQlError('comparisons between scalars must use BOOL modifier');
    return { type: 'scalar', value: applyBinary(expr, left.value, right.value, left.value) ?? 0 };
  }
  const dropName = !isComparison(expr.op) || expr.returnBool;
  const relabel = (labels: Labels): Labels => (dropName ? withoutName(labels) : labels);
  const samples: Sample[] = [];
  if (left.type === 'vector' && right.type === 'scalar') {
    for (const sample of left.samples) {
      const value = applyBinary(expr, sample.value, right.value, sample.value);
      if (value !== undefined) samples.push({ labels: relabel(sample.labels), value });
    }
  } else if (left.type === 'scalar' && right.type === 'vector') {
    for (const sample of right.samples) {
      const value = applyBinary(expr, left.value, sample.value, sample.value);
      if (value !== undefined) samples.push({ labels: relabel(sample.labels), value });
    }
  } else if (left.type === 'vector' && right.type === 'vector') {
    const rightByKey = new Map(right.samples.map((sample) => [labelKey(withoutName(sample.labels)), sample]));
    for (const sample of left.samples) {
      const other = rightByKey.get(labelKey(withoutName(sample.labels)));
      if (!other) continue;
      const value = applyBinary(expr, sample.value, other.value, sample.value);
      if (value !== undefined) samples.push({ labels: relabel(sample.labels), value });
    }
  }
  return { type: 'vector', samples };
}

function aggregate(expr: Extract<Expr, { kind: 'aggregate' }>, argument: Value): Value {
  if (argument.type !== 'vector')
    throw new PromQlError(
      `expected type instant vector in aggregation expression, got ${argument.type === 'matrix' ? 'range vector' : 'scalar'}`,
    );
  const groups = new Map<string, { labels: Labels; values: number[] }>();
  for (const sample of argument.samples) {
    const labels: Labels = {};
    for (const [name, value] of Object.entries(withoutName(sample.labels))) {
      const listed = expr.grouping?.labels.includes(name) ?? false;
      if (expr.grouping?.mode === 'without' ? !listed : listed) labels[name] = value;
    }
    const key = labelKey(labels);
    const group = groups.get(key) ?? { labels, values: [] };
    group.values.push(sample.value);
    groups.set(key, group);
  }
  const reduce = (values: number[]): number => {
    if (expr.op === 'count') return values.length;
    if (expr.op === 'min') return Math.min(...values);
    if (expr.op === 'max') return Math.max(...values);
    const sum = values.reduce((total, value) => total + value, 0);
    return expr.op === 'sum' ? sum : sum / values.length;
  };
  return {
    type: 'vector',
    samples: [...groups.values()].map((group) => ({ labels: group.labels, value: reduce(group.values) })),
  };
}

function overTime(name: string, points: SeriesPoint[]): number {
  const values = points.map((point) => point.value);
  if (name === 'count_over_time') return values.length;
  if (name === 'last_over_time') return values[values.length - 1] ?? Number.NaN;
  if (name === 'min_over_time') return Math.min(...values);
  if (name === 'max_over_time') return Math.max(...values);
  const sum = values.reduce((total, value) => total + value, 0);
  return name === 'sum_over_time' ? sum : sum / values.length;
}

/** Evaluates an expression at sim time `atMs`. Throws PromQlError for what the subset refuses. */
export function evaluateAt(
  world: VendorWorld,
  expr: Expr,
  atMs: number,
  options: EvaluationOptions = {},
): Value {
  const lookbackMs = options.lookbackMs ?? 300_000;
  const resolutionMs = options.resolutionMs ?? 15_000;
  switch (expr.kind) {
    case 'number':
      return { type: 'scalar', value: expr.value };
    case 'selector': {
      if (expr.rangeMs !== undefined) {
        const start = Math.floor((atMs - expr.rangeMs) / resolutionMs) * resolutionMs + resolutionMs;
        const series = selectSeries(world, expr, (service, _name, reading) =>
          readMetric(world, service, reading, start, atMs, resolutionMs),
        );
        return { type: 'matrix', series };
      }
      const sampleAt = Math.min(atMs, world.now());
      if (atMs - sampleAt > lookbackMs) return { type: 'vector', samples: [] };
      const series = selectSeries(
        world,
        expr,
        (service, name, reading) =>
          options.instantSamples?.at(service, name, reading, sampleAt) ??
          readMetric(world, service, reading, sampleAt, sampleAt, 1_000),
      );
      return {
        type: 'vector',
        samples: series.map((s) => ({
          labels: s.labels,
          value: s.points[s.points.length - 1]?.value ?? Number.NaN,
        })),
      };
    }
    case 'function': {
      const argument = evaluateAt(world, expr.argument, atMs, options);
      if (argument.type !== 'matrix')
        throw new PromQlError(`expected type range vector in call to function "${expr.name}"`);
      return {
        type: 'vector',
        samples: argument.series.map((s) => ({
          labels: withoutName(s.labels),
          value: overTime(expr.name, s.points),
        })),
      };
    }
    case 'aggregate':
      return aggregate(expr, evaluateAt(world, expr.argument, atMs, options));
    case 'binary':
      return binary(
        expr,
        evaluateAt(world, expr.left, atMs, options),
        evaluateAt(world, expr.right, atMs, options),
      );
  }
}

/** Evaluates at every step of [startMs, endMs]; a range vector is refused, as Prometheus does. */
export function evaluateRange(
  world: VendorWorld,
  expr: Expr,
  startMs: number,
  endMs: number,
  stepMs: number,
  options: EvaluationOptions = {},
): RangeSeries[] {
  const byKey = new Map<string, RangeSeries>();
  const sampled = { ...options, instantSamples: new InstantSamples(world, startMs, endMs, stepMs) };
  for (let t = startMs; t <= endMs; t += stepMs) {
    const value = evaluateAt(world, expr, t, sampled);
    if (value.type === 'matrix')
      throw new PromQlError(
        'invalid expression type "range vector" for range query, must be Scalar or instant Vector',
      );
    const samples = value.type === 'scalar' ? [{ labels: {}, value: value.value }] : value.samples;
    for (const sample of samples) {
      const key = labelKey(sample.labels);
      const series = byKey.get(key) ?? { labels: sample.labels, points: [] };
      series.points.push({ t, value: sample.value });
      byKey.set(key, series);
    }
  }
  return [...byKey.values()];
}
