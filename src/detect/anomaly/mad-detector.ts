import { madToSigma, median, medianAbsoluteDeviation, standardDeviation } from './robust-statistics.js';
import {
  cleanSeries,
  judge,
  type AnomalyVerdict,
  type Direction,
  type Point,
  type Series,
  withDefaults,
} from './series.js';

/** Parameters of the rolling median/MAD detector; every field has a default (`defaultMadOptions`). */
export interface MadOptions {
  /** Modified z-score above which a point is anomalous (Iglewicz and Hoaglin recommend 3.5). */
  threshold: number;
  /** How many preceding points form the baseline. */
  window: number;
  /** When set, only preceding points at most this old (relative to the evaluated point) count. */
  windowMs?: number;
  /** Fewer baseline points than this: not enough data, never anomalous. */
  minPoints: number;
  direction: Direction;
  /** Deviations no larger than this, in the series' units, are never anomalous (0: off). */
  minDeviation: number;
}

export const defaultMadOptions: Readonly<MadOptions> = Object.freeze({
  threshold: 3.5,
  window: 120,
  minPoints: 30,
  direction: 'both',
  minDeviation: 0,
});

/**
 * Scores every point against the median and MAD of the points before it (a rolling window), so
 * one spike barely moves the baseline and is flagged on its own. The score is the modified
 * z-score 0.6745·|x − median| / MAD; when MAD is 0 (half the window or more is one value, as
 * with error counts that are mostly 0) the standard deviation around the median stands in, and
 * when that is 0 too (a constant window) any different value scores Infinity.
 * Invariant under adding a constant to, or multiplying by a positive constant, every value
 * (with `minDeviation` 0). Needs no training data; not seasonal. Non-finite samples are dropped.
 */
export function scanMad(series: Series, options: Partial<MadOptions> = {}): AnomalyVerdict[] {
  const settings = withDefaults(defaultMadOptions, options);
  const points = cleanSeries(series);
  return points.map((point, index) => verdictAt(points, index, settings));
}

/** The verdict on the newest point of the series, or undefined for an empty series. */
export function detectMad(series: Series, options: Partial<MadOptions> = {}): AnomalyVerdict | undefined {
  const settings = withDefaults(defaultMadOptions, options);
  const points = cleanSeries(series);
  return points.length === 0 ? undefined : verdictAt(points, points.length - 1, settings);
}

function verdictAt(points: Series, index: number, settings: MadOptions): AnomalyVerdict {
  const point = points[index] as Point;
  const baselineValues: number[] = [];
  for (let cursor = index - 1; cursor >= 0 && baselineValues.length < settings.window; cursor -= 1) {
    const candidate = points[cursor] as Point;
    if (settings.windowMs !== undefined && point[0] - candidate[0] > settings.windowMs) break;
    baselineValues.push(candidate[1]);
  }
  if (baselineValues.length === 0) {
    return judge({ point, baseline: point[1], spread: 0, points: 0, ...settings });
  }
  const center = median(baselineValues);
  const mad = medianAbsoluteDeviation(baselineValues, center);
  const spread = mad > 0 ? mad * madToSigma : standardDeviation(baselineValues, center);
  return judge({ point, baseline: center, spread, points: baselineValues.length, ...settings });
}
