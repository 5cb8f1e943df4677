import type { Analyzer } from './analyzer.js';
import { timeOf, truncate } from './api-object.js';
import { eventCount, eventLastSeen, type AnalysisContext } from './context.js';
import { createFinding, type Finding, type ObjectReference } from './finding.js';
import { displayName, podOwner } from './owner.js';
import { containerOfFieldPath, isTerminating, podContainers } from './pod-containers.js';
import type { KubeEvent, Pod } from './snapshot.js';

type Probe = 'Liveness' | 'Readiness' | 'Startup';

interface ProbeFailures {
  container: string;
  failures: number;
  lastMessage?: string;
  lastOutput?: string;
  lastSeen?: number;
  restartsByProbe: number;
}

/**
 * Failing probes, from the kubelet's `Unhealthy` events (`Liveness probe failed: ...`,
 * `Readiness probe failed: ...`, `Startup probe failed: ...`) and from container status: kinds
 * `LivenessProbeFailed`, `StartupProbeFailed`, `ReadinessProbeFailed` (recent events, or a running
 * container with a readiness probe that has been not ready for `notReadyGraceMs`) and
 * `ContainerNotReady` (running, not ready that long, no readiness probe known). Readiness events
 * for a container that is ready again are stale and ignored. Works from events alone when the pod
 * is not in the snapshot.
 */
export const probeAnalyzer: Analyzer = {
  name: 'probe',
  analyze(context: AnalysisContext): Finding[] {
    const findings: Finding[] = [];
    const podsSeen = new Set<string>();
    for (const pod of context.snapshot.pods ?? []) {
      const name = pod.metadata?.name;
      if (name === undefined) continue;
      podsSeen.add(`${pod.metadata?.namespace ?? ''}/${name}`);
      if (isTerminating(pod)) continue;
      const object: ObjectReference = { kind: 'Pod', name, namespace: pod.metadata?.namespace };
      const events = context.eventsFor('Pod', object.namespace, name, pod.metadata?.uid);
      findings.push(...podProbeFindings(object, events, pod, context));
    }
    const orphanEvents = new Map<string, { object: ObjectReference; events: KubeEvent[] }>();
    for (const event of context.recentEvents()) {
      const involved = event.involvedObject;
      if (involved?.kind !== 'Pod' || involved.name === undefined) continue;
      if (event.reason !== 'Unhealthy' && event.reason !== 'Killing') continue;
      const key = `${involved.namespace ?? ''}/${involved.name}`;
      if (podsSeen.has(key)) continue;
      const entry = orphanEvents.get(key) ?? {
        object: { kind: 'Pod', name: involved.name, namespace: involved.namespace },
        events: [],
      };
      entry.events.push(event);
      orphanEvents.set(key, entry);
    }
    for (const { object, events } of orphanEvents.values()) {
      findings.push(...podProbeFindings(object, events, undefined, context));
    }
    return findings;
  },
};

function podProbeFindings(
  object: ObjectReference,
  events: readonly KubeEvent[],
  pod: Pod | undefined,
  context: AnalysisContext,
): Finding[] {
  const failures = collectFailures(events);
  const containers = pod ? podContainers(pod) : [];
  const owner = pod ? podOwner(pod, context) : undefined;
  const findings: Finding[] = [];

  const notReady = containers.filter((container) => {
    const status = container.status;
    if (!status || status.ready !== false || pod?.status?.phase !== 'Running') return false;
    if (container.init && !container.sidecar) return false;
    const runningSince = timeOf(status.state?.running?.startedAt);
    if (status.state?.running === undefined) return false;
    return runningSince === undefined || context.now - runningSince >= context.options.notReadyGraceMs;
  });

  for (const probe of ['Liveness', 'Startup', 'Readiness'] as const) {
    let failing = [...(failures.get(probe)?.values() ?? [])];
    if (probe === 'Readiness' && pod) {
      failing = failing.filter((failure) => {
        const status = containers.find((container) => container.name === failure.container)?.status;
        return status?.ready !== true;
      });
      for (const container of notReady) {
        if (
          container.spec?.readinessProbe &&
          !failing.some((failure) => failure.container === container.name)
        ) {
          failing.push({ container: container.name, failures: 0, restartsByProbe: 0 });
        }
      }
    }
    if (failing.length === 0) continue;
    const kind = `${probe}ProbeFailed`;
    findings.push(
      createFinding({
        analyzer: 'probe',
        kind,
        severity: 'warning',
        object,
        owner,
        reason: kind,
        message: `Pod ${displayName(object)}: ${probe.toLowerCase()} probe failing for ${failing
          .map(
            (failure) =>
              `container ${failure.container}${failure.failures > 0 ? ` (${failure.failures} failures${failure.lastOutput ? `: ${failure.lastOutput}` : ''})` : ' (not ready)'}`,
          )
          .join(', ')}`,
        evidence: {
          probe: probe.toLowerCase(),
          containers: failing.map((failure) => {
            const container = containers.find((candidate) => candidate.name === failure.container);
            const probeSpec =
              probe === 'Liveness'
                ? container?.spec?.livenessProbe
                : probe === 'Readiness'
                  ? container?.spec?.readinessProbe
                  : container?.spec?.startupProbe;
            return {
              ...failure,
              ready: container?.status?.ready,
              restartCount: container?.status?.restartCount,
              probe: probeSpec ? describeProbe(probeSpec) : undefined,
            };
          }),
        },
      }),
    );
  }

  const unexplained = notReady.filter(
    (container) =>
      !container.spec?.readinessProbe && !(failures.get('Readiness')?.has(container.name) ?? false),
  );
  if (unexplained.length > 0) {
    findings.push(
      createFinding({
        analyzer: 'probe',
        kind: 'ContainerNotReady',
        severity: 'info',
        object,
        owner,
        message: `Pod ${displayName(object)}: container ${unexplained.map((container) => container.name).join(', ')} running but not ready`,
        evidence: {
          containers: unexplained.map((container) => ({
            container: container.name,
            runningSince: timeOf(container.status?.state?.running?.startedAt),
            restartCount: container.status?.restartCount,
          })),
        },
      }),
    );
  }
  return findings;
}

const probeMessage = /^(Liveness|Readiness|Startup) probe (?:failed|errored)(?::\s?([\s\S]*))?$/;
const killedByProbe = /failed (liveness|startup) probe, will be restarted/i;

function collectFailures(events: readonly KubeEvent[]): Map<Probe, Map<string, ProbeFailures>> {
  const byProbe = new Map<Probe, Map<string, ProbeFailures>>();
  const entry = (probe: Probe, container: string): ProbeFailures => {
    const containers = byProbe.get(probe) ?? new Map<string, ProbeFailures>();
    byProbe.set(probe, containers);
    const existing = containers.get(container);
    if (existing) return existing;
    const created: ProbeFailures = { container, failures: 0, restartsByProbe: 0 };
    containers.set(container, created);
    return created;
  };
  for (const event of events) {
    const container = containerOfFieldPath(event.involvedObject?.fieldPath) ?? '(unknown)';
    const message = event.message ?? '';
    if (event.reason === 'Unhealthy') {
      const match = probeMessage.exec(message.trim());
      if (!match) continue;
      const failure = entry(match[1] as Probe, container);
      failure.failures += eventCount(event);
      failure.lastMessage = truncate(message.trim());
      const output = match[2]?.trim();
      failure.lastOutput = output ? truncate(output, 300) : undefined;
      failure.lastSeen = eventLastSeen(event);
    } else if (event.reason === 'Killing') {
      const match = killedByProbe.exec(message);
      if (!match?.[1]) continue;
      const probe: Probe = match[1].toLowerCase() === 'liveness' ? 'Liveness' : 'Startup';
      entry(probe, container).restartsByProbe += eventCount(event);
    }
  }
  for (const [probe, containers] of byProbe) {
    for (const [name, failure] of containers) if (failure.failures === 0) containers.delete(name);
    if (containers.size === 0) byProbe.delete(probe);
  }
  return byProbe;
}

function describeProbe(probe: {
  httpGet?: { path?: string; port?: number | string } | undefined;
  tcpSocket?: { port?: number | string } | undefined;
  exec?: { command?: readonly string[] } | undefined;
  grpc?: { port?: number } | undefined;
  periodSeconds?: number;
  failureThreshold?: number;
  timeoutSeconds?: number;
  initialDelaySeconds?: number;
}): Record<string, unknown> {
  const handler = probe.httpGet
    ? `http-get ${probe.httpGet.path ?? '/'} port ${String(probe.httpGet.port ?? '')}`
    : probe.tcpSocket
      ? `tcp-socket port ${String(probe.tcpSocket.port ?? '')}`
      : probe.exec
        ? `exec ${(probe.exec.command ?? []).join(' ')}`
        : probe.grpc
          ? `grpc port ${String(probe.grpc.port ?? '')}`
          : 'unknown';
  return {
    handler,
    periodSeconds: probe.periodSeconds,
    failureThreshold: probe.failureThreshold,
    timeoutSeconds: probe.timeoutSeconds,
    initialDelaySeconds: probe.initialDelaySeconds,
  };
}
