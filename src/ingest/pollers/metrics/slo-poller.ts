import { z } from 'zod';
import type { Point } from '../../../detect/anomaly/index.js';
import { describeError } from '../../../shared/errors.js';
import type { Signal, SignalSource } from '../../signal.js';
import { finishSignals, type PollContext } from '../poller.js';
import { divideSeries, EMPTY_QUERY_STATE, evaluateSlo, sloQueryStateSchema } from './slo-evaluate.js';
import type { SloQuery } from './slo-query.js';

/** A metrics backend that answers a query with one series over a time range. */
export interface MetricSource {
  readonly source: SignalSource;
  /**
   * The series `query` answers over `[fromMs, toMs]`, oldest first (ms, value). A query answering
   * several series gives the first; none gives `[]`. Rejects on a refused query or a failed call.
   */
  series(query: string, fromMs: number, toMs: number, signal?: AbortSignal): Promise<Point[]>;
  /**
   * Several queries in one call, when the backend can (Datadog answers comma-separated queries
   * with a `query_index` per series; its metric query API is rate limited per organization). The
   * answer has one entry per query; the call rejects as a whole when any query is refused.
   */
  seriesBatch?(
    queries: readonly string[],
    fromMs: number,
    toMs: number,
    signal?: AbortSignal,
  ): Promise<Point[][]>;
  /** Most queries per batch call. */
  readonly batchSize?: number;
}

export const sloStatesSchema = z.record(z.string(), sloQueryStateSchema);
export type SloStates = z.infer<typeof sloStatesSchema>;

/** Every distinct query's series (or the error it failed with), batched where the source can. */
export async function fetchSeries(
  metrics: MetricSource,
  texts: readonly string[],
  fromMs: number,
  toMs: number,
  signal: AbortSignal | undefined,
): Promise<Map<string, Point[] | Error>> {
  const results = new Map<string, Point[] | Error>();
  const one = async (text: string): Promise<void> => {
    try {
      results.set(text, await metrics.series(text, fromMs, toMs, signal));
    } catch (error) {
      results.set(text, error instanceof Error ? error : new Error(String(error)));
    }
  };
  const size = metrics.batchSize ?? 1;
  if (!metrics.seriesBatch || size < 2) {
    for (const text of texts) await one(text);
    return results;
  }
  for (let start = 0; start < texts.length; start += size) {
    const chunk = texts.slice(start, start + size);
    try {
      const answered = await metrics.seriesBatch(chunk, fromMs, toMs, signal);
      chunk.forEach((text, index) => results.set(text, answered[index] ?? []));
    } catch {
      // One refused query fails the whole call: ask one by one to keep the others.
      for (const text of chunk) await one(text);
    }
  }
  return results;
}

/** The series of one query from the fetched ones: numerator ÷ denominator, times scale. */
function querySeries(query: SloQuery, fetched: Map<string, Point[] | Error>): Point[] {
  const numerator = fetched.get(query.query) ?? [];
  if (numerator instanceof Error) throw numerator;
  let series = numerator;
  if (query.denominator) {
    const denominator = fetched.get(query.denominator) ?? [];
    if (denominator instanceof Error) throw denominator;
    series = divideSeries(series, denominator);
  }
  const scale = query.scale;
  return scale ? series.map(([at, value]): Point => [at, value * scale]) : series;
}

/**
 * Runs every SLO query over the last `lookbackMs` (each distinct query read once, in batches where
 * the source can) and judges it (`evaluateSlo`). A query that
 * fails is logged and keeps its state; when every query fails the first error is thrown, so the
 * job is retried (the backend is likely down).
 */
export async function pollSloQueries(
  metrics: MetricSource,
  queries: readonly SloQuery[],
  states: SloStates,
  context: PollContext,
  lookbackMs: number,
): Promise<{ signals: Signal[]; states: SloStates }> {
  const now = context.clock.now();
  const next: SloStates = {};
  const signals: Signal[] = [];
  const failures: unknown[] = [];
  const texts = [
    ...new Set(
      queries.flatMap((query) => (query.denominator ? [query.query, query.denominator] : [query.query])),
    ),
  ];
  const fetched = await fetchSeries(metrics, texts, now - lookbackMs, now, context.signal);
  for (const query of queries) {
    const previous = states[query.id] ?? { ...EMPTY_QUERY_STATE };
    next[query.id] = previous;
    let series: Point[];
    try {
      series = querySeries(query, fetched);
    } catch (error) {
      failures.push(error);
      context.logger.warn({ query: query.id, err: describeError(error) }, 'metric query failed');
      continue;
    }
    const result = evaluateSlo({ source: metrics.source, query, series, state: previous, receivedAt: now });
    next[query.id] = result.state;
    signals.push(...result.signals);
  }
  if (queries.length > 0 && failures.length === queries.length) throw failures[0];
  return { signals: finishSignals(signals), states: next };
}
