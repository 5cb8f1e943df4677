import { createHash } from 'node:crypto';
import { analyze, type Finding } from '../../detect/analyzers/index.js';
import type { ClusterSnapshot } from '../../detect/analyzers/snapshot.js';
import { k8sId, serviceId } from '../../graph/ids.js';
import { redact } from '../../ingest/redact/redact.js';
import { clip, signalId, type EntityRef, type Signal } from '../../ingest/signal.js';
import type { SignalSink } from '../../ingest/sink.js';
import type { Clock } from '../../shared/clock.js';
import { describeError } from '../../shared/errors.js';
import type { Logger } from '../../shared/logger.js';

const WORKLOADS = new Set(['Deployment', 'StatefulSet', 'DaemonSet', 'Job', 'CronJob']);

function entitiesOf(finding: Finding, cluster: string): EntityRef[] {
  const refs: EntityRef[] = [];
  const add = (kind: string, name: string): void => {
    const namespace = finding.object.namespace;
    if (kind === 'Node') refs.push({ kind: 'Node', id: k8sId(cluster, null, 'Node', name), name, cluster });
    else if (WORKLOADS.has(kind) && namespace) {
      refs.push({ kind: 'Workload', id: k8sId(cluster, namespace, kind, name), name, namespace, cluster });
      refs.push({ kind: 'Service', id: serviceId(name), name });
    } else if (kind === 'Pod' && namespace)
      refs.push({ kind: 'Pod', id: k8sId(cluster, namespace, 'Pod', name), name, namespace, cluster });
  };
  add(finding.object.kind, finding.object.name);
  if (finding.owner) add(finding.owner.kind, finding.owner.name);
  return refs;
}

function toSignal(
  finding: Finding,
  status: 'firing' | 'resolved',
  cluster: string,
  now: number,
  episode: number,
): Signal {
  const summary = clip(`${finding.kind}: ${finding.message}`, 1024, finding.kind);
  return {
    v: 1,
    id: signalId('kubernetes', finding.fingerprint, status, episode),
    source: 'kubernetes',
    kind: 'alert',
    status,
    fingerprint: finding.fingerprint,
    severity:
      finding.severity === 'critical' ? 'critical' : finding.severity === 'warning' ? 'warning' : 'info',
    entities: entitiesOf(finding, cluster).slice(0, 64),
    observedAt: now,
    receivedAt: now,
    summary,
    attributes: {
      analyzer: finding.analyzer,
      finding: finding.kind,
      ...(finding.reason ? { reason: finding.reason } : {}),
      labels: { alertname: finding.kind, ...(finding.owner ? { workload: finding.owner.name } : {}) },
    },
    raw: {
      source: 'kubernetes/analyzers',
      digest: `sha256:${createHash('sha256').update(finding.fingerprint).digest('hex')}`,
    },
  };
}

/**
 * Runs the Kubernetes analyzers over each snapshot the watchers publish and turns findings into
 * alert signals: a new finding fires, a finding that is gone resolves. Only warning and critical
 * findings become signals; info findings stay in the analyzers' output. Signals pass the same
 * redaction and sink as webhooks.
 */
export function createKubernetesDetector(options: {
  sink: SignalSink;
  cluster: string;
  clock: Clock;
  logger: Logger;
}): { onSnapshot(snapshot: ClusterSnapshot): void; active(): number } {
  const active = new Map<string, { finding: Finding; episode: number }>();
  let running: Promise<void> = Promise.resolve();
  const handle = async (snapshot: ClusterSnapshot): Promise<void> => {
    const now = options.clock.now();
    const findings = analyze(snapshot, now).filter((finding) => finding.severity !== 'info');
    const current = new Map(findings.map((finding) => [finding.fingerprint, finding]));
    const signals: Signal[] = [];
    for (const [fingerprint, finding] of current)
      if (!active.has(fingerprint)) {
        active.set(fingerprint, { finding, episode: now });
        signals.push(toSignal(finding, 'firing', options.cluster, now, now));
      }
    for (const [fingerprint, { finding, episode }] of active)
      if (!current.has(fingerprint)) {
        active.delete(fingerprint);
        signals.push(toSignal(finding, 'resolved', options.cluster, now, episode));
      }
    if (signals.length === 0) return;
    try {
      await options.sink.accept(redact<Signal[]>(signals).value, { channel: 'kubernetes/analyzers' });
    } catch (error) {
      // Not acknowledged: forget them so the next snapshot raises them again.
      for (const signal of signals) if (signal.status === 'firing') active.delete(signal.fingerprint);
      options.logger.warn(
        { err: describeError(error) },
        'could not queue Kubernetes findings; retrying on the next snapshot',
      );
    }
  };
  return {
    onSnapshot(snapshot) {
      running = running.then(() => handle(snapshot));
    },
    active: () => active.size,
  };
}
