import { z } from 'zod';
import { detectMad, median } from '../../../detect/anomaly/index.js';
import { serviceId } from '../../../graph/ids.js';
import { clip, MAX_SUMMARY_LENGTH, signalId, type Signal } from '../../signal.js';
import { polledRaw } from '../poller.js';
import type { DatadogLog } from './datadog-api.js';

/** How error bursts are found in logs. */
export interface ErrorBurstOptions {
  /** Services whose error logs are counted. */
  services: readonly string[];
  /** The search for error logs; `service:(…)` is added. Default `status:error`. */
  query?: string;
  /** Counting bucket. Default 60 s. */
  bucketMs?: number;
  /** Fewer errors than this in a bucket is never a burst. Default 10. */
  minErrors?: number;
  /** With little history, a burst is this many times the usual count. Default 3. */
  ratio?: number;
  /** Buckets of history kept per service. Default 60. */
  history?: number;
  /** Logs arrive late: only buckets ending this long ago are counted. Default 0. */
  delayMs?: number;
}

export const errorBurstStateSchema = z.object({
  /** Buckets before this time (ms) were counted. 0: not started. */
  countedTo: z.number(),
  counts: z.record(z.string(), z.array(z.number())),
  burstSince: z.record(z.string(), z.number()),
});
export type ErrorBurstState = z.infer<typeof errorBurstStateSchema>;

export const EMPTY_BURST_STATE: Readonly<ErrorBurstState> = Object.freeze({
  countedTo: 0,
  counts: {},
  burstSince: {},
});

/** Buckets counted before a service's history is long enough for the MAD detector. */
const MIN_HISTORY = 10;

/** The `[from, to)` range of whole buckets to count now, or undefined when none is complete. */
export function burstWindow(
  state: ErrorBurstState,
  now: number,
  options: ErrorBurstOptions,
): { fromMs: number; toMs: number } | undefined {
  const bucket = options.bucketMs ?? 60_000;
  const toMs = Math.floor((now - (options.delayMs ?? 0)) / bucket) * bucket;
  const earliest = toMs - bucket * (options.history ?? 60);
  const fromMs = state.countedTo > 0 ? Math.max(state.countedTo, earliest) : toMs - bucket * 5;
  return toMs > fromMs ? { fromMs, toMs } : undefined;
}

function isBurst(count: number, history: readonly number[], options: ErrorBurstOptions): boolean {
  if (count < (options.minErrors ?? 10)) return false;
  if (history.length >= MIN_HISTORY)
    return (
      detectMad(
        [...history, count].map((value, index) => [index, value] as const),
        {
          direction: 'up',
          minPoints: MIN_HISTORY,
        },
      )?.anomalous === true
    );
  return count >= (options.ratio ?? 3) * Math.max(1, median(history));
}

/**
 * Counts error logs per service per bucket over `window` and flags a burst when a bucket holds
 * at least `minErrors` and stands out from the service's recent buckets (MAD once there are ten,
 * else `ratio` × the median). One `anomaly` signal per burst, at its first bucket; a quiet bucket
 * ends it. Pure.
 */
export function judgeErrorBursts(
  logs: readonly DatadogLog[],
  window: { fromMs: number; toMs: number },
  state: ErrorBurstState,
  options: ErrorBurstOptions,
  receivedAt: number,
): { signals: Signal[]; state: ErrorBurstState } {
  const bucket = options.bucketMs ?? 60_000;
  const keep = options.history ?? 60;
  const next: ErrorBurstState = { countedTo: window.toMs, counts: {}, burstSince: { ...state.burstSince } };
  const signals: Signal[] = [];
  for (const service of options.services) {
    const mine = logs.filter(
      (log) => log.service === service && log.at >= window.fromMs && log.at < window.toMs,
    );
    const history = [...(state.counts[service] ?? [])];
    for (let start = window.fromMs; start < window.toMs; start += bucket) {
      const inBucket = mine.filter((log) => log.at >= start && log.at < start + bucket);
      const count = inBucket.length;
      if (!isBurst(count, history, options)) {
        delete next.burstSince[service];
      } else if (next.burstSince[service] === undefined) {
        next.burstSince[service] = start;
        const fingerprint = `datadog/log-errors/${service}`;
        const usual = median(history.length > 0 ? history : [0]);
        const samples = [...new Set(inBucket.map((log) => clip(log.message, 300, '')))]
          .filter(Boolean)
          .slice(0, 3);
        signals.push({
          v: 1,
          id: signalId('datadog', fingerprint, 'anomaly', start),
          source: 'datadog',
          kind: 'anomaly',
          fingerprint,
          severity: 'warning',
          entities: [{ kind: 'Service', id: serviceId(service), name: service }],
          observedAt: start,
          receivedAt,
          summary: clip(
            `${service} logged ${count} errors in ${Math.round(bucket / 1000)} s (usually ${usual})`,
            MAX_SUMMARY_LENGTH,
            `${service} error burst`,
          ),
          attributes: {
            service,
            metric: 'log_errors',
            count,
            usual,
            bucketMs: bucket,
            query: options.query ?? 'status:error',
            samples,
          },
          raw: polledRaw('datadog', { logs: inBucket.slice(0, 50).map((log) => log.id) }),
        });
      }
      history.push(count);
    }
    next.counts[service] = history.slice(-keep);
  }
  return { signals, state: next };
}

/** `service:(a OR b)` added to the error query; names are quoted when they need it. */
export function errorSearchQuery(options: ErrorBurstOptions): string {
  const names = options.services.map((name) =>
    /^[\w.-]+$/.test(name) ? name : `"${name.replaceAll('"', '')}"`,
  );
  return `${options.query ?? 'status:error'} service:(${names.join(' OR ')})`;
}
