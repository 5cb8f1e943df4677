import type { ToolResult } from './tool.js';
/** A numeric series reduced to what an investigation reads: level, extremes, trend and a before/after split. */
export interface SeriesDigest {
  /** Which series (tags or labels). */
  scope: string;
  points: number;
  first: number;
  last: number;
  min: number;
  max: number;
  mean: number;
  /** Least-squares slope, units per minute. */
  slopePerMinute: number;
  /** Mean before and after `pivot` when a pivot was given and both sides have points. */
  before?: number;
  after?: number;
  /** A few evenly spaced points `[ms, value]`, for a glance. */
  sampled: Array<[number, number]>;
}

/** Digests `[ms, value]` points (nulls and non-finite values dropped). */
export function digestSeries(
  scope: string,
  raw: ReadonlyArray<readonly [number, number | null | undefined]>,
  pivot?: number,
): SeriesDigest | undefined {
  const points = raw.filter((point): point is [number, number] => Number.isFinite(point[1]));
  if (points.length === 0) return undefined;
  const values = points.map((point) => point[1]);
  const mean = values.reduce((sum, value) => sum + value, 0) / values.length;
  const meanT = points.reduce((sum, point) => sum + point[0], 0) / points.length;
  let numerator = 0;
  let denominator = 0;
  for (const [t, value] of points) {
    numerator += (t - meanT) * (value - mean);
    denominator += (t - meanT) ** 2;
  }
  const round = (value: number): number => Number(value.toPrecision(4));
  const digest: SeriesDigest = {
    scope,
    points: points.length,
    first: round(values[0] as number),
    last: round(values[values.length - 1] as number),
    min: round(Math.min(...values)),
    max: round(Math.max(...values)),
    mean: round(mean),
    slopePerMinute: round(denominator === 0 ? 0 : (numerator / denominator) * 60_000),
    sampled: [],
  };
  const step = Math.max(1, Math.floor(points.length / 8));
  for (let index = 0; index < points.length; index += step) {
    const point = points[index] as [number, number];
    digest.sampled.push([point[0], round(point[1])]);
  }
  if (pivot !== undefined) {
    const before = points.filter((point) => point[0] < pivot).map((point) => point[1]);
    const after = points.filter((point) => point[0] >= pivot).map((point) => point[1]);
    if (before.length > 0 && after.length > 0) {
      digest.before = round(before.reduce((sum, value) => sum + value, 0) / before.length);
      digest.after = round(after.reduce((sum, value) => sum + value, 0) / after.length);
    }
  }
  return digest;
}

/** One line describing a digest. */
export function describeDigest(digest: SeriesDigest): string {
  const split =
    digest.before !== undefined && digest.after !== undefined
      ? `; before ${digest.before} → after ${digest.after}`
      : '';
  return `${digest.scope}: mean ${digest.mean}, min ${digest.min}, max ${digest.max}, last ${digest.last}, slope ${digest.slopePerMinute}/min${split}`;
}

/** Output of every metric tool. */
export interface MetricOutput {
  query: string;
  series: SeriesDigest[];
}

/** The result of a metric query: the digests kept, `no_data` when there are none. */
export function metricResult(
  query: string,
  digests: ReadonlyArray<SeriesDigest | undefined>,
): ToolResult<MetricOutput> {
  const series = digests.filter((digest) => digest !== undefined);
  if (series.length === 0)
    return { status: 'no_data', summary: `no series for ${query}`, data: { query, series } };
  return {
    status: 'ok',
    summary: series.slice(0, 3).map(describeDigest).join(' | '),
    data: { query, series },
  };
}
