import { z } from 'zod';
import type { Poller, PollResult } from '../poller.js';
import { pollSloQueries, sloStatesSchema, type MetricSource } from '../metrics/slo-poller.js';
import { parseSloQueries, type SloQueryInput, type SloTemplates } from '../metrics/slo-query.js';
import { resolvePerPoll, type PerPoll } from '../objectives.js';
import { prometheusMetricSource, type PrometheusApiOptions } from './prometheus-api.js';

/** Options of the Prometheus poller. */
export interface PrometheusPollerOptions extends PrometheusApiOptions {
  /** PromQL SLO queries (see `deriveSloQueries` for the estate's objectives), or a lookup read each poll. */
  sloQueries: PerPoll<readonly SloQueryInput[]>;
  /** How far back each query reads. Default 30 min. */
  lookbackMs?: number;
  /** For tests: another metric source in place of the HTTP API. */
  metrics?: MetricSource;
}

/**
 * Templates for the sim's Prometheus series (`nightshift_sim_*`, labelled by `service`). A real
 * estate names its own: Prometheus has no standard request metrics.
 */
export const SIM_PROMETHEUS_TEMPLATES: Readonly<SloTemplates> = Object.freeze({
  errorRate: 'sum(nightshift_sim_errors{service="{service}"})',
  errorRateDenominator: 'sum(nightshift_sim_rps{service="{service}"})',
  latencyP99: 'max(nightshift_sim_latency_p99_ms{service="{service}"})',
});

const stateSchema = z.object({ v: z.literal(1), slo: sloStatesSchema });
export type PrometheusPollState = z.infer<typeof stateSchema>;

/** Polls Prometheus range queries and judges them like the Datadog SLO queries. */
export function prometheusPoller(options: PrometheusPollerOptions): Poller<PrometheusPollState> {
  const fixed = typeof options.sloQueries === 'function' ? undefined : parseSloQueries(options.sloQueries);
  const metrics = options.metrics ?? prometheusMetricSource(options);
  const initialState = (): PrometheusPollState => ({ v: 1, slo: {} });
  return {
    name: 'prometheus',
    initialState,
    readState: (stored) => stateSchema.safeParse(stored).data ?? initialState(),
    async poll(state, context): Promise<PollResult<PrometheusPollState>> {
      const queries = fixed ?? parseSloQueries(await resolvePerPoll(options.sloQueries, context));
      const slo = await pollSloQueries(
        metrics,
        queries,
        state.slo,
        context,
        options.lookbackMs ?? 30 * 60_000,
      );
      return { signals: slo.signals, nextState: { v: 1, slo: slo.states } };
    },
  };
}

/**
 * SLO templates from the PromQL the rest of nightshift uses (`$service` placeholders, as in
 * `integrations.prometheus.errorsQuery`): the error rate is errors ÷ requests, the latency
 * query (when given) times `latencyScale` in milliseconds.
 */
export function prometheusSloTemplates(queries: {
  errors: string;
  requests: string;
  latencyP99?: string | undefined;
  latencyScale?: number | undefined;
}): SloTemplates {
  const template = (query: string): string => query.replaceAll('$service', '{service}');
  return {
    errorRate: template(queries.errors),
    errorRateDenominator: template(queries.requests),
    ...(queries.latencyP99 ? { latencyP99: template(queries.latencyP99) } : {}),
    ...(queries.latencyScale !== undefined && queries.latencyScale !== 1
      ? { latencyScale: queries.latencyScale }
      : {}),
  };
}
