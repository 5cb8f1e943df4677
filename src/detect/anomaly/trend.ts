import { median } from './robust-statistics.js';
import { cleanSeries, type Point, type Series, withDefaults } from './series.js';

/** Parameters of `trendCrossing`; every field has a default (`defaultTrendOptions`). */
export interface TrendOptions {
  /** Theil-Sen (median of pairwise slopes; robust to outliers) or ordinary least squares. */
  method: 'theil-sen' | 'least-squares';
  /** Fit over at most this many of the newest points. */
  window: number;
  /** When set, fit only over points at most this old relative to the newest. */
  windowMs?: number;
  /** Fewer points than this: no fit, no prediction. */
  minPoints: number;
  /** `up`: predict when the series rises to the threshold (memory toward its limit); `down`: falls to it (free disk). */
  direction: 'up' | 'down';
}

export const defaultTrendOptions: Readonly<TrendOptions> = Object.freeze({
  method: 'theil-sen',
  window: 120,
  minPoints: 5,
  direction: 'up',
});

/** Where the fitted line goes. */
export interface TrendCrossing {
  /**
   * When the fitted line reaches the threshold, if that is no later than `horizonMs` after the
   * newest point; the newest point's time when the fit is already past the threshold; absent
   * otherwise (moving away, flat, too far out, or too few points).
   */
  crossesAt?: number;
  /** Slope of the fit in value units per millisecond (0 with too few points). */
  slopePerMs: number;
  /** The fitted value at the newest point's time (the newest value with too few points). */
  fittedNow: number;
  /** The newest point's time, from which the horizon is measured. */
  from: number;
  /** Points the fit used. */
  points: number;
}

/**
 * Fits a line to the recent window of the series and predicts when it crosses `threshold` within
 * `horizonMs` of the newest point — the early warning for a resource growing toward its limit.
 * Times are taken relative to the newest point, so millisecond epochs lose no precision. Linear
 * only: growth that accelerates is predicted late, and seasonality is not modelled.
 */
export function trendCrossing(
  series: Series,
  threshold: number,
  horizonMs: number,
  options: Partial<TrendOptions> = {},
): TrendCrossing {
  const settings = withDefaults(defaultTrendOptions, options);
  const clean = cleanSeries(series);
  const newest = clean.at(-1);
  if (!newest) return { slopePerMs: 0, fittedNow: Number.NaN, from: Number.NaN, points: 0 };
  const from = newest[0];
  let recent = clean.slice(-settings.window);
  if (settings.windowMs !== undefined) {
    const windowMs = settings.windowMs;
    recent = recent.filter((point) => from - point[0] <= windowMs);
  }
  if (recent.length < settings.minPoints) {
    return { slopePerMs: 0, fittedNow: newest[1], from, points: recent.length };
  }
  const relative = recent.map(([time, value]): Point => [time - from, value]);
  const { slope, intercept } = settings.method === 'theil-sen' ? theilSen(relative) : leastSquares(relative);
  const result: TrendCrossing = { slopePerMs: slope, fittedNow: intercept, from, points: recent.length };
  const beyond = settings.direction === 'up' ? intercept >= threshold : intercept <= threshold;
  if (beyond) return { ...result, crossesAt: from };
  const approaching = settings.direction === 'up' ? slope > 0 : slope < 0;
  if (!approaching) return result;
  const eta = (threshold - intercept) / slope;
  return eta <= horizonMs ? { ...result, crossesAt: from + eta } : result;
}

function theilSen(points: readonly Point[]): { slope: number; intercept: number } {
  const slopes: number[] = [];
  for (let left = 0; left < points.length; left += 1) {
    const [leftTime, leftValue] = points[left] as Point;
    for (let right = left + 1; right < points.length; right += 1) {
      const [rightTime, rightValue] = points[right] as Point;
      if (rightTime !== leftTime) slopes.push((rightValue - leftValue) / (rightTime - leftTime));
    }
  }
  const slope = slopes.length > 0 ? median(slopes) : 0;
  const intercept = median(points.map(([time, value]) => value - slope * time));
  return { slope, intercept };
}

function leastSquares(points: readonly Point[]): { slope: number; intercept: number } {
  const count = points.length;
  let meanTime = 0;
  let meanValue = 0;
  for (const [time, value] of points) {
    meanTime += time / count;
    meanValue += value / count;
  }
  let covariance = 0;
  let variance = 0;
  for (const [time, value] of points) {
    covariance += (time - meanTime) * (value - meanValue);
    variance += (time - meanTime) ** 2;
  }
  const slope = variance > 0 ? covariance / variance : 0;
  return { slope, intercept: meanValue - slope * meanTime };
}
