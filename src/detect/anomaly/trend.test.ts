import { describe, expect, it } from 'vitest';
import { SERIES_START, generate } from '../../../test/fixtures/detect/series.js';
import type { Point } from './series.js';
import { trendCrossing } from './trend.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

/**
 * Cache memory from midnight to 06:00, one sample a minute, growing 1.5 MiB a minute from 400 MiB
 * with ±8 MiB noise: at 06:00 it is near 940 MiB and reaches its 1024 MiB limit around 06:56,
 * before an 08:00 morning peak.
 */
const mebibytes = generate(361, (minute) => 400 + 1.5 * minute, 8);
const limit = 1024;
const trueCrossing = SERIES_START + ((limit - 400) / 1.5) * MINUTE;

describe('trendCrossing', () => {
  it.each(['theil-sen', 'least-squares'] as const)('%s: predicts when memory reaches its limit', (method) => {
    const result = trendCrossing(mebibytes, limit, 2 * HOUR, { method });
    expect(result.from).toBe(SERIES_START + 6 * HOUR);
    expect(result.slopePerMs * MINUTE).toBeCloseTo(1.5, 1);
    expect(result.crossesAt).toBeDefined();
    expect(Math.abs((result.crossesAt ?? 0) - trueCrossing)).toBeLessThan(5 * MINUTE);
  });

  it('reports no crossing beyond the horizon, but still the slope', () => {
    const result = trendCrossing(mebibytes, limit, 30 * MINUTE);
    expect(result.crossesAt).toBeUndefined();
    expect(result.slopePerMs).toBeGreaterThan(0);
  });

  it('reports no crossing for a flat series or one moving away', () => {
    expect(
      trendCrossing(
        generate(120, () => 500, 8),
        limit,
        24 * HOUR,
      ).crossesAt,
    ).toBeUndefined();
    expect(
      trendCrossing(
        generate(120, (minute) => 900 - minute, 8),
        limit,
        24 * HOUR,
      ).crossesAt,
    ).toBeUndefined();
  });

  it('answers the newest time when the fit is already past the threshold', () => {
    const over = generate(60, (minute) => 1000 + minute, 2);
    expect(trendCrossing(over, limit, HOUR).crossesAt).toBe(over.at(-1)?.[0]);
  });

  it('direction down predicts a falling series reaching its floor (free disk)', () => {
    const freeGiB = generate(240, (minute) => 50 - 0.1 * minute, 0.5);
    const result = trendCrossing(freeGiB, 5, 8 * HOUR, { direction: 'down' });
    const expected = SERIES_START + (45 / 0.1) * MINUTE;
    expect(Math.abs((result.crossesAt ?? 0) - expected)).toBeLessThan(10 * MINUTE);
    expect(trendCrossing(freeGiB, 5, 8 * HOUR).crossesAt).toBe(freeGiB.at(-1)?.[0]);
  });

  it('Theil-Sen shrugs off spikes that drag least squares', () => {
    const spiky = mebibytes.map(([time, value], index): Point => [
      time,
      index >= 330 && index % 6 === 0 ? 50 : value,
    ]);
    const robust = trendCrossing(spiky, limit, 2 * HOUR, { method: 'theil-sen', window: 60 });
    const squares = trendCrossing(spiky, limit, 2 * HOUR, { method: 'least-squares', window: 60 });
    expect(Math.abs(robust.slopePerMs * MINUTE - 1.5)).toBeLessThan(0.3);
    expect(Math.abs(squares.slopePerMs * MINUTE - 1.5)).toBeGreaterThan(1);
    expect(Math.abs((robust.crossesAt ?? 0) - trueCrossing)).toBeLessThan(10 * MINUTE);
  });

  it('fits only the recent window', () => {
    const bent = generate(240, (minute) => (minute < 120 ? 900 - minute : 780 + 2 * (minute - 120)), 1);
    expect(trendCrossing(bent, limit, 4 * HOUR, { window: 500 }).slopePerMs).toBeLessThan(2 / MINUTE);
    const recent = trendCrossing(bent, limit, 4 * HOUR, { windowMs: 60 * MINUTE });
    expect(recent.points).toBe(61);
    expect(recent.slopePerMs * MINUTE).toBeCloseTo(2, 1);
  });

  it('makes no prediction from too few points', () => {
    const few: Point[] = [
      [SERIES_START, 1],
      [SERIES_START + MINUTE, 2],
    ];
    expect(trendCrossing(few, 3, HOUR)).toEqual({
      slopePerMs: 0,
      fittedNow: 2,
      from: SERIES_START + MINUTE,
      points: 2,
    });
    expect(trendCrossing([], 3, HOUR).crossesAt).toBeUndefined();
  });
});
