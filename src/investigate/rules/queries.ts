/** Metric and log query templates the rules planner fills in (`$service`, `$namespace`). */
export interface RuleQueries {
  metricsTool: 'datadog_metrics' | 'prometheus_query';
  errors: string;
  latency: string;
  rps: string;
  cpu: string;
  memory: string;
  restarts: string;
  /** Memory a cache (Redis and the like) holds for its keys. */
  cacheMemory: string;
  /** Connections a database has open. */
  dbConnections: string;
  /** Log search (Datadog syntax); used when `datadog_logs` is available. */
  errorLogs: string;
}

/** Datadog APM and Kubernetes integration names. */
export const DATADOG_QUERIES: RuleQueries = {
  metricsTool: 'datadog_metrics',
  errors: 'sum:trace.http.request.errors{service:$service}',
  latency: 'avg:trace.http.request.duration.by.service.99p{service:$service}',
  rps: 'sum:trace.http.request.hits{service:$service}',
  cpu: 'avg:kubernetes.cpu.usage.total{service:$service}',
  memory: 'avg:kubernetes.memory.usage{service:$service}',
  restarts: 'sum:kubernetes.containers.restarts{service:$service}',
  cacheMemory: 'avg:redis.mem.used{service:$service}',
  dbConnections: 'sum:postgresql.connections{service:$service}',
  errorLogs: 'service:$service status:(error OR warn)',
};

/** Prometheus names from kube-state-metrics, cAdvisor and a `http_requests_total` style counter. */
export const PROMETHEUS_QUERIES: RuleQueries = {
  metricsTool: 'prometheus_query',
  errors: 'sum(rate(http_requests_total{service="$service",code=~"5.."}[5m]))',
  latency:
    'histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket{service="$service"}[5m])))',
  rps: 'sum(rate(http_requests_total{service="$service"}[5m]))',
  cpu: 'sum(rate(container_cpu_usage_seconds_total{namespace="$namespace",pod=~"$service-.*"}[5m]))',
  memory: 'avg(container_memory_working_set_bytes{namespace="$namespace",pod=~"$service-.*"})',
  restarts: 'sum(kube_pod_container_status_restarts_total{namespace="$namespace",pod=~"$service-.*"})',
  cacheMemory: 'sum(redis_memory_used_bytes{service="$service"})',
  dbConnections: 'sum(pg_stat_activity_count{service="$service"})',
  errorLogs: 'service:$service status:(error OR warn)',
};

/** Fills `$service` and `$namespace` in a template. */
export function fill(template: string, values: { service: string; namespace?: string }): string {
  return template
    .replaceAll('$service', values.service)
    .replaceAll('$namespace', values.namespace ?? 'default');
}
