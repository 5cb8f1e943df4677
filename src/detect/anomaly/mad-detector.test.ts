import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SERIES_START, falsePositiveRate, generate } from '../../../test/fixtures/detect/series.js';
import { detectMad, scanMad } from './mad-detector.js';
import type { Point } from './series.js';

const firstAnomaly = (verdicts: ReturnType<typeof scanMad>) =>
  verdicts.findIndex((verdict) => verdict.anomalous);

describe('scanMad', () => {
  it.each([1, 2, 3, 4, 5])('flat series with noise (seed %i): no anomaly', (seed) => {
    const series = generate(500, () => 200, 5, { seed });
    expect(scanMad(series).filter((verdict) => verdict.anomalous)).toEqual([]);
  });

  it('Gaussian noise: false positives stay within a few times the normal rate at 3.5σ (4.7e-4)', () => {
    const rate = falsePositiveRate((series) => scanMad(series));
    expect(rate).toBeLessThan(3e-3);
  });

  it('a step up is flagged within a few points, then becomes the new normal', () => {
    const series = generate(200, (index) => (index < 100 ? 200 : 260), 5);
    const verdicts = scanMad(series);
    const first = firstAnomaly(verdicts);
    expect(first).toBe(100);
    expect(verdicts[first]).toMatchObject({ direction: 'up', at: series[first]?.[0] });
    expect(verdicts.slice(170).some((verdict) => verdict.anomalous)).toBe(false);
  });

  it('a single spike is flagged, and the points after it are not', () => {
    const series = generate(120, (index) => (index === 80 ? 900 : 200), 5);
    const verdicts = scanMad(series);
    expect(verdicts.flatMap((verdict, index) => (verdict.anomalous ? [index] : []))).toEqual([80]);
    const spike = verdicts[80];
    expect(spike?.score).toBeGreaterThan(50);
    expect(spike?.baseline).toBeCloseTo(200, -1);
    expect(Math.abs((verdicts[81]?.baseline ?? 0) - (verdicts[79]?.baseline ?? 0))).toBeLessThan(3);
  });

  it('a drop is flagged as direction down, and only when down or both is asked', () => {
    const series = generate(80, (index) => (index === 70 ? 100 : 200), 5);
    expect(scanMad(series)[70]).toMatchObject({ anomalous: true, direction: 'down' });
    expect(scanMad(series, { direction: 'down' })[70]?.anomalous).toBe(true);
    expect(scanMad(series, { direction: 'up' })[70]?.anomalous).toBe(false);
  });

  it('is never anomalous before minPoints baseline points', () => {
    const series: Point[] = [
      [1, 10],
      [2, 11],
      [3, 10],
      [4, 500],
    ];
    expect(scanMad(series).some((verdict) => verdict.anomalous)).toBe(false);
    expect(scanMad(series, { minPoints: 3 })[3]?.anomalous).toBe(true);
  });

  it('threshold sets the sensitivity', () => {
    const series = generate(60, (index) => (index === 59 ? 218 : 200), 5);
    const verdict = detectMad(series);
    expect(verdict?.score).toBeGreaterThan(3.5);
    expect(verdict?.anomalous).toBe(true);
    expect(detectMad(series, { threshold: (verdict?.score ?? 0) + 0.01 })?.anomalous).toBe(false);
  });

  it('minDeviation ignores deviations too small to matter', () => {
    const series = generate(60, (index) => (index === 59 ? 218 : 200), 5);
    expect(detectMad(series, { minDeviation: 25 })?.anomalous).toBe(false);
  });

  it('windowMs limits the baseline to recent points', () => {
    const series = generate(100, (index) => (index < 50 ? 200 : 300), 5);
    const all = detectMad(series, { window: 100 });
    const recent = detectMad(series, { window: 100, windowMs: 20 * 60_000 });
    expect(all?.points).toBe(99);
    expect(recent?.points).toBe(20);
    expect(recent?.baseline).toBeCloseTo(300, -1);
  });

  it('uses the mean absolute deviation when most of the window is one value', () => {
    const counts = Array.from({ length: 30 }, (_, index): Point => [
      SERIES_START + index * 60_000,
      index % 10 === 0 ? 1 : 0,
    ]);
    const withBurst: Point[] = [...counts, [SERIES_START + 30 * 60_000, 6]];
    const verdict = detectMad(withBurst);
    expect(verdict?.spread).toBeGreaterThan(0);
    expect(verdict?.anomalous).toBe(true);
    expect(detectMad([...counts, [SERIES_START + 30 * 60_000, 1]])?.anomalous).toBe(false);
  });

  it('drops non-finite samples and sorts by time', () => {
    const series = generate(40, () => 200, 5);
    const shuffled: Point[] = [...series.slice(20), [SERIES_START - 1, Number.NaN], ...series.slice(0, 20)];
    expect(scanMad(shuffled)).toEqual(scanMad(series));
    expect(detectMad([])).toBeUndefined();
  });
});

const timestamps = (length: number): number[] =>
  Array.from({ length }, (_, index) => SERIES_START + index * 15_000);

describe('scanMad properties', () => {
  it('a constant series is never anomalous', () => {
    fc.assert(
      fc.property(
        fc.double({ min: -1e9, max: 1e9, noNaN: true }),
        fc.integer({ min: 1, max: 150 }),
        fc.integer({ min: 1, max: 60 }),
        (value, length, minPoints) => {
          const series = timestamps(length).map((time): Point => [time, value]);
          return scanMad(series, { minPoints }).every((verdict) => !verdict.anomalous && verdict.score === 0);
        },
      ),
    );
  });

  it('multiplying every value by a positive constant does not change any verdict', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: -1_000_000, max: 1_000_000 }), { minLength: 1, maxLength: 120 }),
        fc.double({ min: 1e-3, max: 1e3, noNaN: true }),
        fc.integer({ min: 2, max: 40 }),
        (values, factor, minPoints) => {
          const times = timestamps(values.length);
          const series = values.map((value, index): Point => [times[index] ?? 0, value / 100]);
          const scaled = series.map(([time, value]): Point => [time, value * factor]);
          const before = scanMad(series, { minPoints, window: 30 }).map((verdict) => verdict.anomalous);
          const after = scanMad(scaled, { minPoints, window: 30 }).map((verdict) => verdict.anomalous);
          expect(after).toEqual(before);
        },
      ),
    );
  });

  it('adding a constant to every value does not change any verdict', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: -1_000_000, max: 1_000_000 }), { minLength: 1, maxLength: 120 }),
        fc.integer({ min: -1_000_000, max: 1_000_000 }),
        (values, shift) => {
          const series = values.map((value, index): Point => [SERIES_START + index * 15_000, value]);
          const shifted = series.map(([time, value]): Point => [time, value + shift]);
          const before = scanMad(series, { minPoints: 5, window: 30 }).map((verdict) => verdict.anomalous);
          const after = scanMad(shifted, { minPoints: 5, window: 30 }).map((verdict) => verdict.anomalous);
          expect(after).toEqual(before);
        },
      ),
    );
  });

  it('direction up never flags a value below the baseline', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: -1000, max: 1000 }), { minLength: 1, maxLength: 100 }),
        (values) => {
          const series = values.map((value, index): Point => [SERIES_START + index, value]);
          return scanMad(series, { direction: 'up', minPoints: 3 }).every(
            (verdict) => !verdict.anomalous || verdict.value > verdict.baseline,
          );
        },
      ),
    );
  });
});
