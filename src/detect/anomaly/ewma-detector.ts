import {
  cleanSeries,
  judge,
  type AnomalyVerdict,
  type Direction,
  type Point,
  type Series,
  withDefaults,
} from './series.js';

/** Parameters of the EWMA detector; every field has a default (`defaultEwmaOptions`). */
export interface EwmaOptions {
  /** Smoothing factor in (0, 1]: the weight of the newest point. 0.05 ≈ a memory of 20-40 points. */
  alpha: number;
  /** Standard scores above this are anomalous. */
  threshold: number;
  /** Fewer points seen before the evaluated one: not enough data, never anomalous. */
  minPoints: number;
  direction: Direction;
  /** Deviations no larger than this, in the series' units, are never anomalous (0: off). */
  minDeviation: number;
}

export const defaultEwmaOptions: Readonly<EwmaOptions> = Object.freeze({
  alpha: 0.05,
  threshold: 3.5,
  minPoints: 30,
  direction: 'both',
  minDeviation: 0,
});

/**
 * Scores every point against an exponentially weighted moving mean and variance of the points
 * before it (West/Finch incremental form: d = x − μ, μ += α·d, σ² = (1 − α)(σ² + α·d²)), then
 * folds the point in. Cheap and adaptive: after a step change the baseline follows within about
 * 1/α points. Unlike the MAD detector, one large spike inflates the variance for a while and can
 * mask what follows. Needs no training data; not seasonal. Non-finite samples are dropped.
 */
export function scanEwma(series: Series, options: Partial<EwmaOptions> = {}): AnomalyVerdict[] {
  const settings = withDefaults(defaultEwmaOptions, options);
  if (!(settings.alpha > 0 && settings.alpha <= 1))
    throw new RangeError(`alpha must be in (0, 1], got ${settings.alpha}`);
  const points = cleanSeries(series);
  const verdicts: AnomalyVerdict[] = [];
  let mean = 0;
  let variance = 0;
  points.forEach((point: Point, index) => {
    if (index === 0) {
      verdicts.push(judge({ point, baseline: point[1], spread: 0, points: 0, ...settings }));
      mean = point[1];
      return;
    }
    verdicts.push(judge({ point, baseline: mean, spread: Math.sqrt(variance), points: index, ...settings }));
    const deviation = point[1] - mean;
    mean += settings.alpha * deviation;
    variance = (1 - settings.alpha) * (variance + settings.alpha * deviation * deviation);
  });
  return verdicts;
}

/** The verdict on the newest point of the series, or undefined for an empty series. */
export function detectEwma(series: Series, options: Partial<EwmaOptions> = {}): AnomalyVerdict | undefined {
  return scanEwma(series, options).at(-1);
}
