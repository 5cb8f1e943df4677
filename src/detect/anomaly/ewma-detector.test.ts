import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SERIES_START, falsePositiveRate, generate } from '../../../test/fixtures/detect/series.js';
import { detectEwma, scanEwma } from './ewma-detector.js';
import { scanMad } from './mad-detector.js';
import type { Point } from './series.js';

describe('scanEwma', () => {
  it.each([1, 2, 3, 4, 5])('flat series with noise (seed %i): no anomaly', (seed) => {
    const series = generate(500, () => 200, 5, { seed });
    expect(scanEwma(series).filter((verdict) => verdict.anomalous)).toEqual([]);
  });

  it('Gaussian noise: false positives stay within a few times the normal rate at 3.5σ (4.7e-4)', () => {
    const rate = falsePositiveRate((series) => scanEwma(series));
    expect(rate).toBeLessThan(3e-3);
  });

  it('a step up is flagged within a few points, and the baseline adapts', () => {
    const series = generate(300, (index) => (index < 100 ? 200 : 260), 5);
    const verdicts = scanEwma(series);
    const first = verdicts.findIndex((verdict) => verdict.anomalous);
    expect(first).toBe(100);
    expect(verdicts[first]?.direction).toBe('up');
    expect(verdicts.slice(200).some((verdict) => verdict.anomalous)).toBe(false);
    expect(verdicts.at(-1)?.baseline).toBeCloseTo(260, -1);
  });

  it('a gradual drift within the noise is not flagged', () => {
    const series = generate(400, (index) => 200 + index * 0.05, 5);
    expect(scanEwma(series).some((verdict) => verdict.anomalous)).toBe(false);
  });

  it('a large spike inflates the variance and masks what follows (the MAD detector does not)', () => {
    const series = generate(120, (index) => (index === 80 ? 900 : index === 85 ? 240 : 200), 5);
    const ewma = scanEwma(series);
    expect(ewma[80]?.anomalous).toBe(true);
    expect(ewma[85]?.anomalous).toBe(false);
    expect(scanMad(series)[85]?.anomalous).toBe(true);
  });

  it('honours direction, minPoints and threshold', () => {
    const series = generate(60, (index) => (index === 59 ? 150 : 200), 5);
    expect(detectEwma(series)).toMatchObject({ anomalous: true, direction: 'down' });
    expect(detectEwma(series, { direction: 'up' })?.anomalous).toBe(false);
    expect(detectEwma(series, { minPoints: 100 })?.anomalous).toBe(false);
    expect(detectEwma(series, { threshold: 1000 })?.anomalous).toBe(false);
  });

  it('rejects an alpha outside (0, 1]', () => {
    expect(() =>
      scanEwma(
        generate(5, () => 1, 0),
        { alpha: 0 },
      ),
    ).toThrow(RangeError);
    expect(() =>
      scanEwma(
        generate(5, () => 1, 0),
        { alpha: 1.5 },
      ),
    ).toThrow(RangeError);
    expect(detectEwma([])).toBeUndefined();
  });

  it('a constant series is never anomalous', () => {
    fc.assert(
      fc.property(
        fc.double({ min: -1e9, max: 1e9, noNaN: true }),
        fc.integer({ min: 1, max: 150 }),
        fc.double({ min: 0.01, max: 1, noNaN: true }),
        (value, length, alpha) => {
          const series = Array.from({ length }, (_, index): Point => [SERIES_START + index * 1000, value]);
          return scanEwma(series, { alpha, minPoints: 1 }).every(
            (verdict) => !verdict.anomalous && verdict.score === 0,
          );
        },
      ),
    );
  });
});
