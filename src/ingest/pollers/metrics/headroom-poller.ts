import { z } from 'zod';
import { trendCrossing, type Point } from '../../../detect/anomaly/index.js';
import type { Entity } from '../../../graph/schema.js';
import { describeError } from '../../../shared/errors.js';
import { clip, MAX_SUMMARY_LENGTH, signalId, type Signal } from '../../signal.js';
import { finishSignals, polledRaw, type Poller, type PollResult } from '../poller.js';
import { fetchSeries, type MetricSource } from './slo-poller.js';

const MINUTE = 60_000;
const MEBIBYTE = 1024 * 1024;

/** Options of the headroom poller; every number has a default. */
export interface HeadroomOptions {
  metrics: MetricSource;
  /**
   * The memory a workload's largest container uses, in bytes. `$workload`, `$namespace` and
   * `$service` (the workload's app label, else its name) are replaced per workload.
   */
  memoryQuery: string;
  /** The share of the memory limit the forecast is made against. Default 0.9. */
  ratio?: number;
  /** How far ahead a crossing is warned of. Default 2 h. */
  horizonMs?: number;
  /** The line is fitted over this much of the newest series. Default 30 min. */
  fitWindowMs?: number;
  /** Less growth than this share of the limit over the fitted points is flat, whatever the slope. Default 0.05. */
  minGrowth?: number;
  /** Fewer fitted points than this: no forecast. Default 6. */
  minPoints?: number;
  /**
   * Most workloads read per poll. Default 200. A larger estate is covered in turns, by workload
   * id, `maxWorkloads` a poll (those warned of are read at every poll, up to half of them).
   */
  maxWorkloads?: number;
}

/** Most workloads listed from the graph per poll, to take turns over. */
const LISTED = 50_000;

const firingSchema = z.object({ since: z.number() });
const stateSchema = z.object({
  v: z.literal(1),
  firing: z.record(z.string(), firingSchema),
  /** The id of the last workload read in turn; the next poll goes on after it. */
  after: z.string().optional(),
});
export type HeadroomState = z.infer<typeof stateSchema>;

/** The alert name headroom signals carry, so investigations and pattern signatures know them. */
export const MEMORY_NEAR_LIMIT = 'MemoryNearLimit';

interface Target {
  entity: Entity;
  namespace: string;
  limitBytes: number;
  query: string;
}

function targetsOf(workloads: readonly Entity[], options: HeadroomOptions): Target[] {
  const targets: Target[] = [];
  for (const entity of workloads) {
    const { properties } = entity;
    const limitBytes = properties.memoryLimitBytes;
    if (typeof limitBytes !== 'number' || !(limitBytes > 0) || !entity.name) continue;
    if (properties.deleted === true || properties.workloadKind === 'Job') continue;
    const namespace = typeof properties.namespace === 'string' ? properties.namespace : '';
    const service = typeof properties.app === 'string' && properties.app ? properties.app : entity.name;
    const query = options.memoryQuery
      .replaceAll('$workload', entity.name)
      .replaceAll('$namespace', namespace)
      .replaceAll('$service', service);
    targets.push({ entity, namespace, limitBytes, query });
  }
  return targets;
}

/**
 * The targets of one poll: those warned of (at most half of `max`), then the others in turn by
 * id after `after`, wrapping around, up to `max` in all. Returns where the turn stopped.
 */
function takeTurn(
  targets: readonly Target[],
  state: HeadroomState,
  max: number,
): { chosen: Target[]; after: string | undefined } {
  const firing = targets.filter((target) => state.firing[target.entity.id]).slice(0, Math.ceil(max / 2));
  const chosen = new Set(firing);
  const previous = state.after;
  const from = Math.max(
    0,
    previous === undefined ? 0 : targets.findIndex(({ entity }) => entity.id > previous),
  );
  let after = previous;
  for (let step = 0; step < targets.length && chosen.size < max; step++) {
    const target = targets[(from + step) % targets.length] as Target;
    after = target.entity.id;
    chosen.add(target);
  }
  return { chosen: [...chosen], after };
}

/**
 * The points since the newest reset: a fall of more than a fifth of the limit between two points
 * is a restart (or an OOMKill), after which the climb starts again and older points mislead.
 */
export function sinceLastReset(series: readonly Point[], limitBytes: number): Point[] {
  for (let index = series.length - 1; index > 0; index--) {
    const [, value] = series[index] as Point;
    const [, before] = series[index - 1] as Point;
    if (before - value > limitBytes * 0.2) return series.slice(index);
  }
  return [...series];
}

/** Where the memory of one workload is heading: a forecast crossing, or none. */
export function forecastMemory(
  series: readonly Point[],
  limitBytes: number,
  options: Pick<HeadroomOptions, 'ratio' | 'horizonMs' | 'fitWindowMs' | 'minGrowth' | 'minPoints'>,
): {
  crossesAt?: number;
  /** When the newest climb began, if a restart (or an OOMKill) lies within the series. */
  resetAt?: number;
  /** Whether there were points enough to forecast at all; too few say nothing either way. */
  judged: boolean;
  fitted: Point[];
  slopePerMs: number;
  usage: number;
  threshold: number;
} {
  const threshold = limitBytes * (options.ratio ?? 0.9);
  const minPoints = options.minPoints ?? 6;
  const newest = series.at(-1);
  const windowMs = options.fitWindowMs ?? 30 * MINUTE;
  const climb = sinceLastReset(series, limitBytes);
  const resetAt = climb.length < series.length ? climb[0]?.[0] : undefined;
  const fitted = newest ? climb.filter(([at]) => newest[0] - at <= windowMs) : [];
  const usage = newest?.[1] ?? 0;
  const crossing = trendCrossing(fitted, threshold, options.horizonMs ?? 120 * MINUTE, {
    window: fitted.length,
    minPoints,
  });
  const first = fitted[0];
  const spanMs = newest && first ? newest[0] - first[0] : 0;
  const growth = crossing.slopePerMs * spanMs;
  // Already past the line counts whatever the slope; a forecast needs real growth, not jitter.
  const beyond = crossing.crossesAt !== undefined && crossing.crossesAt <= crossing.from;
  const grows = growth >= limitBytes * (options.minGrowth ?? 0.05);
  return {
    ...(crossing.crossesAt !== undefined && (beyond || grows) ? { crossesAt: crossing.crossesAt } : {}),
    ...(resetAt === undefined ? {} : { resetAt }),
    judged: fitted.length >= minPoints,
    fitted,
    slopePerMs: crossing.slopePerMs,
    usage,
    threshold,
  };
}

function mebibytes(bytes: number): number {
  return Math.round(bytes / MEBIBYTE);
}

/**
 * Early warning of memory running out: for every workload whose containers have a memory limit
 * (the Kubernetes ingest records the largest as `memoryLimitBytes`), fits a line to its memory
 * since the last restart and raises a `MemoryNearLimit` warning when the line reaches `ratio` of
 * the limit within `horizonMs` — before the OOMKill. The warning carries the fitted points as its
 * `trend`, so detect raises its severity (early warning) with the forecast in the timeline. It is
 * resolved once the climb since the newest restart has points enough and forecasts no crossing
 * (or memory is no longer reported); until then it holds, so an OOMKill does not clear it. A
 * climb that starts again and still crosses is warned of again. A workload that leaves the graph
 * is forgotten.
 */
export function headroomPoller(options: HeadroomOptions): Poller<HeadroomState> {
  const initialState = (): HeadroomState => ({ v: 1, firing: {} });
  const source = options.metrics.source;
  const lookbackMs = options.fitWindowMs ?? 30 * MINUTE;
  const maxWorkloads = options.maxWorkloads ?? 200;
  return {
    name: 'headroom',
    initialState,
    readState: (stored) => stateSchema.safeParse(stored).data ?? initialState(),
    async poll(state, context): Promise<PollResult<HeadroomState>> {
      const now = context.clock.now();
      const all = targetsOf(await context.graph.find({ kind: 'Workload', limit: LISTED }), options);
      const { chosen: targets, after } = takeTurn(all, state, maxWorkloads);
      const fetched = await fetchSeries(
        options.metrics,
        [...new Set(targets.map((target) => target.query))],
        now - lookbackMs,
        now,
        context.signal,
      );
      // Warned of and not read this time: still warned of, while the workload is in the graph.
      const firing: HeadroomState['firing'] = {};
      for (const target of all) {
        const previous = state.firing[target.entity.id];
        if (previous) firing[target.entity.id] = previous;
      }
      const signals: Signal[] = [];
      const failures: Error[] = [];
      for (const target of targets) {
        const id = target.entity.id;
        const previous = state.firing[id];
        const series = fetched.get(target.query) ?? [];
        if (series instanceof Error) {
          failures.push(series);
          context.logger.warn({ workload: id, err: describeError(series) }, 'memory query failed');
          continue;
        }
        const forecast = forecastMemory(series, target.limitBytes, options);
        const newest = series.at(-1)?.[0] ?? now;
        if (forecast.crossesAt !== undefined) {
          // A climb begun after the warning was raised (the OOMKill it warned of, or a restart
          // that did not cure the leak) is warned of again: a new episode, which opens an
          // incident of its own if the first one has ended.
          const again = previous !== undefined && (forecast.resetAt ?? -Infinity) > previous.since;
          const since = previous && !again ? previous.since : newest;
          firing[id] = { since };
          if (!previous || again) signals.push(signal('firing', target, forecast, since, newest, now));
        } else if (previous && (forecast.judged || series.length === 0)) {
          delete firing[id];
          signals.push(signal('resolved', target, forecast, previous.since, newest, now));
        }
        // Warned of, and too few points since a restart to say where memory is heading: the
        // warning holds. A kill at the top of a leak's climb is what was warned of, not its end.
      }
      // Every query failed: the backend is likely down, so the poll is retried.
      const [first] = failures;
      if (first && failures.length === targets.length) throw first;
      return {
        signals: finishSignals(signals),
        nextState: { v: 1, firing, ...(after === undefined ? {} : { after }) },
      };
    },
  };

  function signal(
    status: 'firing' | 'resolved',
    target: Target,
    forecast: ReturnType<typeof forecastMemory>,
    since: number,
    observedAt: number,
    receivedAt: number,
  ): Signal {
    const name = target.entity.name ?? target.entity.id;
    const fingerprint = `${source}/headroom/memory/${target.entity.id}`;
    const share = Math.round((forecast.usage / target.limitBytes) * 100);
    const limit = `${mebibytes(target.limitBytes)}Mi`;
    const rate = Math.round((forecast.slopePerMs * MINUTE * 10) / MEBIBYTE) / 10;
    const minutes =
      forecast.crossesAt !== undefined
        ? Math.max(0, Math.round((forecast.crossesAt - observedAt) / MINUTE))
        : 0;
    const summary =
      status === 'resolved'
        ? `${name} memory is no longer heading for its ${limit} limit (${share}% now)`
        : forecast.crossesAt !== undefined && forecast.crossesAt <= observedAt
          ? `${name} memory is at ${share}% of its ${limit} limit`
          : `${name} memory is at ${share}% of its ${limit} limit and climbing ${rate}Mi/min: ${Math.round((options.ratio ?? 0.9) * 100)}% in about ${minutes} min`;
    return {
      v: 1,
      id: signalId(source, fingerprint, status, since),
      source,
      kind: 'alert',
      status,
      severity: 'warning',
      fingerprint,
      summary: clip(summary, MAX_SUMMARY_LENGTH, name),
      entities: [{ kind: 'Workload', id: target.entity.id, name }],
      observedAt: Math.max(0, Math.trunc(observedAt)),
      receivedAt,
      raw: polledRaw(source, { headroom: target.entity.id, at: observedAt }),
      attributes: {
        labels: { alertname: MEMORY_NEAR_LIMIT },
        workload: name,
        namespace: target.namespace,
        metric: 'memory',
        query: target.query,
        usageBytes: Math.round(forecast.usage),
        limitBytes: target.limitBytes,
        thresholdBytes: Math.round(forecast.threshold),
        ...(forecast.crossesAt !== undefined ? { crossesAt: Math.round(forecast.crossesAt) } : {}),
        ...(status === 'firing' && forecast.fitted.length >= 2
          ? {
              trend: {
                points: forecast.fitted.slice(-60).map(([at, value]) => [at, Math.round(value)]),
                threshold: Math.round(forecast.threshold),
                direction: 'up',
              },
            }
          : {}),
      },
    };
  }
}
