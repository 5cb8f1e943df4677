import { z } from 'zod';
import type { client } from '@datadog/datadog-api-client';
import { finishSignals, type Poller, type PollResult } from '../poller.js';
import { pollSloQueries, sloStatesSchema, type MetricSource } from '../metrics/slo-poller.js';
import { parseSloQueries, type SloQuery, type SloQueryInput } from '../metrics/slo-query.js';
import { resolvePerPoll, type PerPoll } from '../objectives.js';
import { datadogMetricSource, searchDatadogLogs } from './datadog-api.js';
import { judgeMonitors, listMonitors, monitorStatesSchema, type MonitorOptions } from './monitors.js';
import {
  burstWindow,
  EMPTY_BURST_STATE,
  errorBurstStateSchema,
  errorSearchQuery,
  judgeErrorBursts,
  type ErrorBurstOptions,
} from './error-bursts.js';

/** Options of the Datadog poller. */
export interface DatadogPollerOptions {
  /** A configuration from `datadogConfiguration`. */
  configuration: client.Configuration;
  /**
   * Metric queries (see `deriveSloQueries` with `DATADOG_APM_TEMPLATES` for the estate's SLOs), or
   * a lookup read at each poll (services and their objectives appear as they are watched).
   */
  sloQueries: PerPoll<readonly SloQueryInput[]>;
  /** How far back each metric query reads. Default 30 min (enough history for the detectors). */
  lookbackMs?: number;
  /** Error bursts in logs; off when absent or with no services (`services` may be read per poll). */
  errorBursts?: Omit<ErrorBurstOptions, 'services'> & { services: PerPoll<readonly string[]> };
  /** Monitor states to follow; off when absent. */
  monitors?: MonitorOptions;
  /** For tests: another metric source in place of the API's. */
  metrics?: MetricSource;
}

const stateSchema = z.object({
  v: z.literal(1),
  slo: sloStatesSchema,
  logs: errorBurstStateSchema,
  monitors: monitorStatesSchema.default({}),
});
export type DatadogPollState = z.infer<typeof stateSchema>;

/**
 * Polls Datadog: the SLO metric queries (threshold breaches as `alert` signals, MAD/EWMA
 * anomalies as `anomaly` signals), monitor states (transitions as `alert` signals) and the error logs of the configured services (bursts as
 * `anomaly` signals). Writes nothing to the graph.
 */
export function datadogPoller(options: DatadogPollerOptions): Poller<DatadogPollState> {
  // Fixed queries are checked when the poller is built, so a bad one refuses start.
  const fixed = typeof options.sloQueries === 'function' ? undefined : parseSloQueries(options.sloQueries);
  const metrics = options.metrics ?? datadogMetricSource(options.configuration);
  const initialState = (): DatadogPollState => ({
    v: 1,
    slo: {},
    logs: { ...EMPTY_BURST_STATE },
    monitors: {},
  });
  return {
    name: 'datadog',
    initialState,
    readState: (stored) => stateSchema.safeParse(stored).data ?? initialState(),
    async poll(state, context): Promise<PollResult<DatadogPollState>> {
      const now = context.clock.now();
      const queries: SloQuery[] = fixed ?? parseSloQueries(await resolvePerPoll(options.sloQueries, context));
      const burstServices = options.errorBursts
        ? await resolvePerPoll(options.errorBursts.services, context)
        : [];
      const bursts: ErrorBurstOptions | undefined =
        options.errorBursts && burstServices.length > 0
          ? { ...options.errorBursts, services: burstServices }
          : undefined;
      const slo = await pollSloQueries(
        metrics,
        queries,
        state.slo,
        context,
        options.lookbackMs ?? 30 * 60_000,
      );
      const next: DatadogPollState = { v: 1, slo: slo.states, logs: state.logs, monitors: state.monitors };
      const signals = [...slo.signals];
      if (options.monitors) {
        const judged = judgeMonitors(
          await listMonitors(options.configuration, options.monitors),
          state.monitors,
          now,
        );
        next.monitors = judged.states;
        signals.push(...finishSignals(judged.signals));
      }
      const window = bursts ? burstWindow(state.logs, now, bursts) : undefined;
      if (bursts && window) {
        const found = await searchDatadogLogs(options.configuration, {
          query: errorSearchQuery(bursts),
          ...window,
        });
        if (found.truncated)
          context.logger.warn({ window }, 'error log search hit its page limit; counts are low');
        const judged = judgeErrorBursts(found.logs, window, state.logs, bursts, now);
        next.logs = judged.state;
        signals.push(...finishSignals(judged.signals));
      }
      return { signals, nextState: next };
    },
  };
}
