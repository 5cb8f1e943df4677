import type { MetricName, SeriesPoint, VendorWorld } from './source.js';
import { METRIC_NAMES } from './source.js';

/**
 * How a vendor metric name maps onto the world's series. Datadog and Prometheus both read the
 * world through this table, so the two always agree. See docs/sim.md, "Metric names".
 */
export type MetricReading =
  /** A world series multiplied by `scale` (e.g. ms → s). */
  | { kind: 'series'; metric: MetricName; scale: number }
  /** Errors per second: rps × errorRate, point by point. */
  | { kind: 'errors-per-second' };

/** `latencyP99Ms` → `latency_p99_ms`. */
export function snakeCase(name: string): string {
  return name.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase();
}

function directReadings(separator: '.' | '_', prefix: string): Map<string, MetricReading> {
  const table = new Map<string, MetricReading>();
  for (const metric of METRIC_NAMES) {
    table.set(`${prefix}${separator}${snakeCase(metric)}`, { kind: 'series', metric, scale: 1 });
  }
  table.set(`${prefix}${separator}errors`, { kind: 'errors-per-second' });
  return table;
}

const series = (metric: MetricName, scale = 1): MetricReading => ({ kind: 'series', metric, scale });
const MEBIBYTE = 1024 * 1024;

/** Datadog metric names: `nightshift.sim.<snake_case world metric>` plus common Datadog names. */
export const DATADOG_METRICS: ReadonlyMap<string, MetricReading> = new Map([
  ...directReadings('.', 'nightshift.sim'),
  ['trace.http.request.hits', series('rps')],
  ['trace.http.request.errors', { kind: 'errors-per-second' }],
  ['trace.http.request.duration.by.service.50p', series('latencyP50Ms', 0.001)],
  ['trace.http.request.duration.by.service.99p', series('latencyP99Ms', 0.001)],
  ['kubernetes.cpu.usage.total', series('cpu')],
  ['kubernetes.memory.usage', series('memoryMi', MEBIBYTE)],
  ['kubernetes.containers.restarts', series('restarts')],
  ['postgresql.connections', series('dbConnectionsInUse')],
  ['postgresql.max_connections', series('dbConnectionsMax')],
  ['redis.mem.used', series('cacheMemoryMi', MEBIBYTE)],
  ['redis.keys.evicted', series('cacheEvictions')],
]);

/** Prometheus metric names: `nightshift_sim_<snake_case world metric>` plus a few common names. */
export const PROMETHEUS_METRICS: ReadonlyMap<string, MetricReading> = new Map([
  ...directReadings('_', 'nightshift_sim'),
  ['kube_pod_container_status_restarts_total', series('restarts')],
  ['container_memory_working_set_bytes', series('memoryMi', MEBIBYTE)],
  ['pg_stat_activity_count', series('dbConnectionsInUse')],
  ['pg_settings_max_connections', series('dbConnectionsMax')],
  ['redis_memory_used_bytes', series('cacheMemoryMi', MEBIBYTE)],
  ['redis_evicted_keys_total', series('cacheEvictions')],
]);

/** Reads one vendor metric of one service from the world; empty when the world has none. */
export function readMetric(
  world: VendorWorld,
  service: string,
  reading: MetricReading,
  fromMs: number,
  toMs: number,
  stepMs: number,
): SeriesPoint[] {
  if (reading.kind === 'series') {
    return world.series(service, reading.metric, fromMs, toMs, stepMs).map((point) => ({
      t: point.t,
      value: point.value * reading.scale,
    }));
  }
  const rates = new Map(
    world.series(service, 'errorRate', fromMs, toMs, stepMs).map((point) => [point.t, point.value]),
  );
  const result: SeriesPoint[] = [];
  for (const point of world.series(service, 'rps', fromMs, toMs, stepMs)) {
    const rate = rates.get(point.t);
    if (rate !== undefined) result.push({ t: point.t, value: point.value * rate });
  }
  return result;
}
