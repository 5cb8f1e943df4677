/** One sample: milliseconds since the epoch and a value. */
export type Point = readonly [ms: number, value: number];

/** A time series, oldest first. */
export type Series = ReadonlyArray<Point>;

/** Which deviations count: above the baseline, below it, or either. */
export type Direction = 'up' | 'down' | 'both';

/**
 * A detector's verdict on one point. `score` is |value − baseline| / spread (≥ 0): 0 when the
 * value equals the baseline, Infinity when the baseline has no spread and the value differs.
 * `direction` says which way the value deviates. A verdict with fewer than the detector's
 * `minPoints` baseline `points` is never anomalous.
 */
export interface AnomalyVerdict {
  anomalous: boolean;
  score: number;
  /** The value the point was compared with: the rolling median (MAD) or the EWMA mean. */
  baseline: number;
  /** The baseline's spread in the value's units, a standard-deviation estimate. */
  spread: number;
  direction: 'up' | 'down' | 'none';
  /** The evaluated point's time. */
  at: number;
  value: number;
  /** How many earlier points the baseline was built from. */
  points: number;
}

/**
 * The series with non-finite samples dropped (gaps come through as NaN), sorted by time. Returns
 * the input itself when it is already clean and sorted, so callers pay nothing in the usual case.
 */
export function cleanSeries(series: Series): Series {
  let clean = true;
  for (let index = 0; index < series.length; index += 1) {
    const point = series[index] as Point;
    const previous = series[index - 1];
    if (!Number.isFinite(point[0]) || !Number.isFinite(point[1]) || (previous && previous[0] > point[0])) {
      clean = false;
      break;
    }
  }
  if (clean) return series;
  return series
    .filter((point) => Number.isFinite(point[0]) && Number.isFinite(point[1]))
    .slice()
    .sort((left, right) => left[0] - right[0]);
}

/** Builds a verdict from a baseline and spread, applying threshold, minimum points, floor and direction. */
export function judge(input: {
  point: Point;
  baseline: number;
  spread: number;
  points: number;
  threshold: number;
  minPoints: number;
  minDeviation: number;
  direction: Direction;
}): AnomalyVerdict {
  const [at, value] = input.point;
  const deviation = value - input.baseline;
  const score =
    deviation === 0 ? 0 : input.spread > 0 ? Math.abs(deviation) / input.spread : Number.POSITIVE_INFINITY;
  const direction = deviation > 0 ? 'up' : deviation < 0 ? 'down' : 'none';
  const wanted = input.direction === 'both' || input.direction === direction;
  const anomalous =
    input.points >= input.minPoints &&
    wanted &&
    score > input.threshold &&
    Math.abs(deviation) > input.minDeviation;
  return {
    anomalous,
    score,
    baseline: input.baseline,
    spread: input.spread,
    direction,
    at,
    value,
    points: input.points,
  };
}

/** The defaults overridden by the options that are set (an explicit `undefined` keeps the default). */
export function withDefaults<T extends object>(defaults: Readonly<T>, options: Partial<T>): T {
  const result = { ...defaults } as T;
  for (const [key, value] of Object.entries(options)) {
    if (value !== undefined) (result as Record<string, unknown>)[key] = value;
  }
  return result;
}
