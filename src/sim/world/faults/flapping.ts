import { stableHash } from '../../../shared/ids.js';
import { rfc3339 } from '../kube-object.js';
import { slowDown } from '../samples.js';
import type { FaultModelOf, FaultRuntime, FaultWorld } from './fault-model.js';
import type { FaultOf } from '../../scenario/fault-schema.js';

function toggle(runtime: FaultRuntime<FaultOf<'flapping'>>, world: FaultWorld, now: number): void {
  const firing = !runtime.data.firing;
  runtime.data.firing = firing;
  runtime.data.lastToggle = now;
  if (firing) runtime.data.firingSince = now;
  const { service, alert, severity } = runtime.fault;
  const namespace = world.model(service)?.namespace ?? 'default';
  const labels = {
    alertname: alert,
    service,
    namespace,
    severity,
    cluster: world.cluster.host.estate.cluster ?? world.cluster.host.estate.name,
  };
  const status = firing ? 'firing' : 'resolved';
  const annotations = {
    summary: `p99 latency of ${service} above threshold`,
    description: `${service} p99 latency has been above 300ms for 1 minute.`,
  };
  const body = {
    version: '4',
    groupKey: `{}:{alertname="${alert}"}`,
    truncatedAlerts: 0,
    status,
    receiver: 'nightshift',
    groupLabels: { alertname: alert },
    commonLabels: labels,
    commonAnnotations: annotations,
    externalURL: 'http://alertmanager.sim:9093',
    alerts: [
      {
        status,
        labels,
        annotations,
        startsAt: new Date(Number(runtime.data.firingSince ?? now)).toISOString(),
        endsAt: firing ? '0001-01-01T00:00:00Z' : new Date(now).toISOString(),
        generatorURL: `http://prometheus.sim:9090/graph?g0.expr=${encodeURIComponent(`histogram_quantile(0.99, rate(http_request_duration_seconds_bucket{service="${service}"}[1m])) > 0.3`)}`,
        fingerprint: stableHash(alert, service).slice(0, 16),
      },
    ],
  };
  world.emitAlert({ source: 'alertmanager', status, labels, body, t: now });
  world.recordEvent({
    title: `[${status.toUpperCase()}] ${alert} ${service}`,
    text: `${annotations.summary} (${rfc3339(now)})`,
    service,
    source: 'alert',
    severity: firing ? 'warning' : 'success',
    tags: [`alertname:${alert}`, `service:${service}`],
  });
}

/**
 * An over-sensitive alert on the service toggles firing/resolved every `period`; nothing is
 * wrong (latency brushes the threshold while it fires). The right outcome is no incident and
 * no action.
 */
export const flapping: FaultModelOf<'flapping'> = {
  kind: 'flapping',
  subject: (runtime) => runtime.fault.alert,
  start(runtime, world) {
    toggle(runtime, world, world.now());
  },
  mitigated: () => true,
  tick(runtime, world, now) {
    if (now - Number(runtime.data.lastToggle ?? 0) >= runtime.fault.period) toggle(runtime, world, now);
  },
  apply(runtime, _world, t, samples) {
    const phase = Math.floor((t - runtime.startedAt) / runtime.fault.period) % 2;
    if (phase === 0) slowDown(samples.get(runtime.fault.service), 1.15, 1.02);
  },
};
