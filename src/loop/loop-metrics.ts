import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { incidentStates } from './incident-lifecycle.js';
import type { QueueCounts } from './stage.js';

/** The loop's Prometheus metrics, registered on the process registry. */
export interface LoopMetrics {
  jobDuration: Histogram<'stage' | 'outcome'>;
  jobWait: Histogram<'stage'>;
  jobFailures: Counter<'stage'>;
  signals: Counter<'outcome'>;
  suppressed: Counter<'reason'>;
  interventionLatency: Histogram;
}

/** What the gauges read when scraped. Each read is bounded; a failing read leaves the gauge as it was. */
export interface LoopMetricSources {
  queueCounts(): Promise<Record<string, QueueCounts>>;
  incidentsByState(): Promise<Record<string, number>>;
}

/**
 * Registers the loop's metrics on `registry`:
 * - `nightshift_loop_queue_depth{stage,state}`: jobs waiting, active, delayed and failed per stage;
 * - `nightshift_loop_job_duration_seconds{stage,outcome}`: handler time per attempt;
 * - `nightshift_loop_job_wait_seconds{stage}`: how long a job waited in its queue before its
 *   first attempt (from when it was due: a delayed job's wait starts when its delay ends);
 * - `nightshift_loop_job_failures_total{stage}`: failed attempts (failed jobs are kept, see the gauge);
 * - `nightshift_loop_incidents{state}`: incidents by lifecycle state;
 * - `nightshift_loop_signals_total{outcome}`: signals opened / joined / suppressed / ignored /
 *   held / recorded / rejected (refused by the graph);
 * - `nightshift_loop_signals_suppressed_total{reason}`: flapping, silence, maintenance, learned;
 * - `nightshift_loop_intervention_latency_seconds`: signal received → first diagnostic tool call.
 */
export function createLoopMetrics(registry: Registry, sources: LoopMetricSources): LoopMetrics {
  new Gauge({
    name: 'nightshift_loop_queue_depth',
    help: 'Jobs per loop stage queue, by state',
    labelNames: ['stage', 'state'],
    registers: [registry],
    async collect() {
      const counts = await sources.queueCounts().catch(() => undefined);
      if (!counts) return;
      for (const [stage, byState] of Object.entries(counts)) {
        for (const state of ['waiting', 'active', 'delayed', 'failed'] as const)
          this.set({ stage, state }, byState[state]);
      }
    },
  });
  new Gauge({
    name: 'nightshift_loop_incidents',
    help: 'Incidents by lifecycle state',
    labelNames: ['state'],
    registers: [registry],
    async collect() {
      const counts = await sources.incidentsByState().catch(() => undefined);
      if (!counts) return;
      for (const state of incidentStates) this.set({ state }, counts[state] ?? 0);
    },
  });
  return {
    jobDuration: new Histogram({
      name: 'nightshift_loop_job_duration_seconds',
      help: 'Time a loop stage handler took per attempt',
      labelNames: ['stage', 'outcome'],
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30, 120],
      registers: [registry],
    }),
    jobWait: new Histogram({
      name: 'nightshift_loop_job_wait_seconds',
      help: 'Time a loop job waited in its queue before its first attempt, from when it was due',
      labelNames: ['stage'],
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30, 120, 600],
      registers: [registry],
    }),
    jobFailures: new Counter({
      name: 'nightshift_loop_job_failures_total',
      help: 'Failed loop job attempts, by stage',
      labelNames: ['stage'],
      registers: [registry],
    }),
    signals: new Counter({
      name: 'nightshift_loop_signals_total',
      help: 'Signals seen by detect, by what became of them',
      labelNames: ['outcome'],
      registers: [registry],
    }),
    suppressed: new Counter({
      name: 'nightshift_loop_signals_suppressed_total',
      help: 'Signals suppressed as noise, by reason',
      labelNames: ['reason'],
      registers: [registry],
    }),
    interventionLatency: new Histogram({
      name: 'nightshift_loop_intervention_latency_seconds',
      help: 'From the first signal of an incident received to the first diagnostic tool call',
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300],
      registers: [registry],
    }),
  };
}
