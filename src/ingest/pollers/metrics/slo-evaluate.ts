import { z } from 'zod';
import { serviceId } from '../../../graph/ids.js';
import { scanEwma, scanMad, type AnomalyVerdict, type Point } from '../../../detect/anomaly/index.js';
import { clip, MAX_SUMMARY_LENGTH, signalId, type Signal, type SignalSource } from '../../signal.js';
import { polledRaw } from '../poller.js';
import type { Comparator, SloQuery } from './slo-query.js';

/** What a poller remembers about one query between polls. */
export const sloQueryStateSchema = z.object({
  /** The SLO is breached (a firing signal went out and no resolution yet). */
  breachedSince: z.number().nullable(),
  /** An anomaly episode is open since this point's time. */
  anomalySince: z.number().nullable(),
  /** The newest anomalous point; an episode ends after `QUIET_MS` without one. */
  anomalyLastAt: z.number().default(0),
  /** Points up to this time were judged. */
  evaluatedTo: z.number(),
});
export type SloQueryState = z.infer<typeof sloQueryStateSchema>;

export const EMPTY_QUERY_STATE: Readonly<SloQueryState> = Object.freeze({
  breachedSince: null,
  anomalySince: null,
  anomalyLastAt: 0,
  evaluatedTo: 0,
});

/** An anomaly episode ends after this long without an anomalous point; a later one is a new episode. */
export const QUIET_MS = 5 * 60_000;

/** Anomaly signals at most per query and poll; further episodes wait for the next poll's view. */
const MAX_ANOMALIES_PER_POLL = 3;

export function breaches(value: number, comparator: Comparator, threshold: number): boolean {
  switch (comparator) {
    case '>':
      return value > threshold;
    case '>=':
      return value >= threshold;
    case '<':
      return value < threshold;
    case '<=':
      return value <= threshold;
  }
}

/** Divides two series point by point (same timestamps; a zero or missing denominator drops the point). */
export function divideSeries(numerator: readonly Point[], denominator: readonly Point[]): Point[] {
  const byTime = new Map(denominator.map(([at, value]) => [at, value]));
  const result: Point[] = [];
  for (const [at, value] of numerator) {
    const below = byTime.get(at);
    if (below !== undefined && below !== 0 && Number.isFinite(below)) result.push([at, value / below]);
  }
  return result;
}

function round(value: number): number | null {
  return Number.isFinite(value) ? Number(value.toPrecision(6)) : null;
}

function scan(query: SloQuery, series: readonly Point[]): AnomalyVerdict[] {
  const direction = query.comparator.startsWith('>') ? 'up' : 'down';
  const minDeviation = query.minDeviation ?? Math.abs(query.threshold) * 0.1;
  const options = {
    direction,
    minDeviation,
    ...(query.sensitivity !== undefined ? { threshold: query.sensitivity } : {}),
  } as const;
  if (query.anomaly === 'ewma') return scanEwma(series, options);
  return scanMad(series, options);
}

interface EvaluateInput {
  source: SignalSource;
  query: SloQuery;
  /** The series, oldest first, already divided and scaled. */
  series: readonly Point[];
  state: SloQueryState;
  receivedAt: number;
}

function baseSignal(input: EvaluateInput, fingerprint: string, at: number) {
  const { query } = input;
  return {
    v: 1 as const,
    source: input.source,
    fingerprint,
    entities: [{ kind: 'Service' as const, id: serviceId(query.service), name: query.service }],
    observedAt: Math.max(0, Math.trunc(at)),
    receivedAt: input.receivedAt,
    raw: polledRaw(input.source, { query: query.id, at }),
  };
}

/**
 * Judges a query's series against its threshold and its own history:
 * - an `alert` signal `firing` once every point of the last `forMs` breaches (occurrence: the first
 *   breaching point), and `resolved` once the newest point no longer does;
 * - an `anomaly` signal when a point not judged before starts an anomaly episode (MAD or EWMA,
 *   in the direction that hurts: up for `>` thresholds, down for `<`); an episode lasts until
 *   `QUIET_MS` pass without an anomalous point.
 * Pure; the returned state goes into the next call.
 */
export function evaluateSlo(input: EvaluateInput): { signals: Signal[]; state: SloQueryState } {
  const { query, series, source } = input;
  const state: SloQueryState = { ...input.state };
  const signals: Signal[] = [];
  const last = series.at(-1);
  if (!last) return { signals, state };
  const label = `${query.service} ${query.metric}`;
  const breachFingerprint = `${source}/slo/${query.id}`;

  if (breaches(last[1], query.comparator, query.threshold)) {
    let start = last[0];
    for (let index = series.length - 1; index >= 0; index--) {
      const point = series[index] as Point;
      if (!breaches(point[1], query.comparator, query.threshold)) break;
      start = point[0];
    }
    if (state.breachedSince === null && last[0] - start >= (query.forMs ?? 60_000)) {
      state.breachedSince = start;
      signals.push({
        ...baseSignal(input, breachFingerprint, last[0]),
        id: signalId(source, breachFingerprint, 'firing', start),
        kind: 'alert',
        status: 'firing',
        severity: query.severity ?? 'error',
        summary: clip(
          `${label} is ${round(last[1])}, beyond its objective (${query.comparator} ${query.threshold}) since ${new Date(start).toISOString()}`,
          MAX_SUMMARY_LENGTH,
          label,
        ),
        attributes: {
          service: query.service,
          metric: query.metric,
          query: query.query,
          value: round(last[1]),
          threshold: query.threshold,
          comparator: query.comparator,
          since: start,
        },
      });
    }
  } else if (state.breachedSince !== null) {
    const since = state.breachedSince;
    state.breachedSince = null;
    signals.push({
      ...baseSignal(input, breachFingerprint, last[0]),
      id: signalId(source, breachFingerprint, 'resolved', since),
      kind: 'alert',
      status: 'resolved',
      severity: query.severity ?? 'error',
      summary: clip(`${label} is back within its objective (${round(last[1])})`, MAX_SUMMARY_LENGTH, label),
      attributes: {
        service: query.service,
        metric: query.metric,
        query: query.query,
        value: round(last[1]),
        threshold: query.threshold,
        comparator: query.comparator,
        since,
      },
    });
  }

  if (query.anomaly !== 'off') {
    const anomalyFingerprint = `${source}/anomaly/${query.id}`;
    let emitted = 0;
    for (const verdict of scan(query, series)) {
      if (verdict.at <= state.evaluatedTo) continue;
      if (!verdict.anomalous) {
        if (state.anomalySince !== null && verdict.at - state.anomalyLastAt >= QUIET_MS)
          state.anomalySince = null;
        continue;
      }
      const open = state.anomalySince !== null;
      state.anomalyLastAt = verdict.at;
      if (open) continue;
      state.anomalySince = verdict.at;
      if (emitted++ >= MAX_ANOMALIES_PER_POLL) continue;
      signals.push({
        ...baseSignal(input, anomalyFingerprint, verdict.at),
        id: signalId(source, anomalyFingerprint, 'anomaly', verdict.at),
        kind: 'anomaly',
        severity: 'warning',
        summary: clip(
          `${label} went ${verdict.direction} to ${round(verdict.value)} from a baseline of ${round(verdict.baseline)}`,
          MAX_SUMMARY_LENGTH,
          label,
        ),
        attributes: {
          service: query.service,
          metric: query.metric,
          query: query.query,
          detector: query.anomaly ?? 'mad',
          value: round(verdict.value),
          baseline: round(verdict.baseline),
          score: round(verdict.score),
          direction: verdict.direction,
          threshold: query.threshold,
        },
      });
    }
  }
  state.evaluatedTo = Math.max(state.evaluatedTo, last[0]);
  return { signals, state };
}
