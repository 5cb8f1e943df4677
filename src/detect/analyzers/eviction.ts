import type { Analyzer } from './analyzer.js';
import { latestOf, timeOf, truncate } from './api-object.js';
import { eventCount, eventLastSeen, type AnalysisContext } from './context.js';
import { createFinding, type Finding, type ObjectReference, type Severity } from './finding.js';
import { displayName, podOwner } from './owner.js';
import { podCondition } from './pod-containers.js';
import type { KubeEvent, Pod } from './snapshot.js';

/** What the kubelet's eviction message says about the starved resource and who used it. */
export interface EvictionDetails {
  resource?: string;
  threshold?: string;
  available?: string;
  containers: Array<{ name: string; usage: string; request: string }>;
}

interface Eviction {
  object: ObjectReference;
  pod?: Pod;
  kind: 'Evicted' | 'Preempted';
  reason: string;
  message?: string;
  at?: number;
  events: number;
}

/**
 * Pods pushed off their node, from pod status and from events (so a pod already deleted still
 * counts). Kind `Evicted`: the kubelet under node pressure (`status.reason: Evicted`, `Evicted`
 * events, `DisruptionTarget` reason `TerminationByKubelet`; `reason` = `NodePressure`), the
 * taint manager (`TaintManagerEviction`) or the Eviction API (`EvictionByEvictionAPI`, info:
 * a drain is planned). Kind `Preempted`: the scheduler made room for a higher-priority pod
 * (`Preempted` events, `DisruptionTarget` reason `PreemptionByScheduler`). Evictions older than
 * `recentTerminationWindowMs` are history. Evidence parses the starved resource, threshold and
 * per-container usage from the kubelet's message.
 */
export const evictionAnalyzer: Analyzer = {
  name: 'eviction',
  analyze(context: AnalysisContext): Finding[] {
    const evictions = new Map<string, Eviction>();
    const keyOf = (object: ObjectReference, kind: string): string =>
      `${object.namespace ?? ''}/${object.name}/${kind}`;
    const record = (eviction: Eviction): void => {
      const key = keyOf(eviction.object, eviction.kind);
      const existing = evictions.get(key);
      if (!existing) {
        evictions.set(key, eviction);
        return;
      }
      existing.events += eviction.events;
      existing.message ??= eviction.message;
      existing.at = latestOf(existing.at, eviction.at);
      existing.pod ??= eviction.pod;
    };

    for (const pod of context.snapshot.pods ?? []) {
      const name = pod.metadata?.name;
      if (name === undefined) continue;
      const object: ObjectReference = { kind: 'Pod', name, namespace: pod.metadata?.namespace };
      const disruption = podCondition(pod, 'DisruptionTarget');
      const disruptedAt = disruption?.status === 'True' ? timeOf(disruption.lastTransitionTime) : undefined;
      const terminatedAt = latestOf(
        ...(pod.status?.containerStatuses ?? []).map((status) =>
          timeOf(status.state?.terminated?.finishedAt),
        ),
      );
      if (pod.status?.reason === 'Evicted') {
        record({
          object,
          pod,
          kind: 'Evicted',
          reason: 'NodePressure',
          message: pod.status.message,
          at: disruptedAt ?? terminatedAt ?? timeOf(podCondition(pod, 'Ready')?.lastTransitionTime),
          events: 0,
        });
      } else if (disruption?.status === 'True' && disruption.reason) {
        const classified = classifyDisruption(disruption.reason);
        if (classified) {
          record({ object, pod, ...classified, message: disruption.message, at: disruptedAt, events: 0 });
        }
      }
    }

    for (const event of context.recentEvents()) {
      const involved = event.involvedObject;
      if (involved?.kind !== 'Pod' || involved.name === undefined) continue;
      const classified = classifyEvent(event);
      if (!classified) continue;
      const object: ObjectReference = { kind: 'Pod', name: involved.name, namespace: involved.namespace };
      const pod = context.pod(involved.namespace, involved.name);
      const samePod = !pod || !involved.uid || !pod.metadata?.uid || pod.metadata.uid === involved.uid;
      record({
        object,
        ...(samePod && pod ? { pod } : {}),
        ...classified,
        message: event.message,
        at: eventLastSeen(event),
        events: eventCount(event),
      });
    }

    const findings: Finding[] = [];
    for (const eviction of evictions.values()) {
      if (
        eviction.at !== undefined &&
        context.now - eviction.at > context.options.recentTerminationWindowMs
      ) {
        continue;
      }
      const details = eviction.kind === 'Evicted' ? parseEvictionMessage(eviction.message ?? '') : undefined;
      const severity: Severity = eviction.reason === 'EvictionByEvictionAPI' ? 'info' : 'warning';
      const what =
        eviction.kind === 'Preempted'
          ? 'was preempted by a higher-priority pod'
          : details?.resource
            ? `was evicted: node low on ${details.resource}`
            : `was evicted (${eviction.reason})`;
      findings.push(
        createFinding({
          analyzer: 'eviction',
          kind: eviction.kind,
          severity,
          object: eviction.object,
          owner: eviction.pod ? podOwner(eviction.pod, context) : undefined,
          reason: eviction.reason,
          message: `Pod ${displayName(eviction.object)} ${what}`,
          evidence: {
            message: truncate(eviction.message),
            at: eviction.at,
            events: eviction.events,
            node: eviction.pod?.spec?.nodeName,
            priorityClassName: eviction.pod?.spec?.priorityClassName,
            ...(details ?? {}),
          },
        }),
      );
    }
    return findings;
  },
};

function classifyDisruption(reason: string): Pick<Eviction, 'kind' | 'reason'> | undefined {
  switch (reason) {
    case 'PreemptionByScheduler':
      return { kind: 'Preempted', reason: 'PreemptionByScheduler' };
    case 'TerminationByKubelet':
      return { kind: 'Evicted', reason: 'NodePressure' };
    case 'DeletionByTaintManager':
      return { kind: 'Evicted', reason: 'TaintManagerEviction' };
    case 'EvictionByEvictionAPI':
      return { kind: 'Evicted', reason: 'EvictionByEvictionAPI' };
    default:
      return undefined;
  }
}

function classifyEvent(event: KubeEvent): Pick<Eviction, 'kind' | 'reason'> | undefined {
  switch (event.reason) {
    case 'Evicted':
      return { kind: 'Evicted', reason: 'NodePressure' };
    case 'TaintManagerEviction':
      return /deletion/i.test(event.message ?? '') && !/cancel/i.test(event.message ?? '')
        ? { kind: 'Evicted', reason: 'TaintManagerEviction' }
        : undefined;
    case 'Preempted':
      return { kind: 'Preempted', reason: 'PreemptionByScheduler' };
    default:
      return undefined;
  }
}

/**
 * Parses the kubelet's eviction message, e.g. `The node was low on resource: memory. Threshold
 * quantity: 100Mi, available: 91572Ki. Container nginx was using 3204Ki, request is 0, has larger
 * consumption of memory.` and the ephemeral-storage variants.
 */
export function parseEvictionMessage(message: string): EvictionDetails {
  const details: EvictionDetails = { containers: [] };
  const resource = /low on resource: ([\w./-]+?)\.?(?:\s|$)/.exec(message);
  if (resource?.[1]) details.resource = resource[1];
  else if (/ephemeral (?:local )?storage/i.test(message)) details.resource = 'ephemeral-storage';
  const threshold = /Threshold quantity: ([^,\s]+), available: ([^.\s]+)/.exec(message);
  if (threshold?.[1] && threshold[2]) {
    details.threshold = threshold[1];
    details.available = threshold[2];
  }
  for (const match of message.matchAll(/Container (\S+) was using (\S+), request is (\S+?),/g)) {
    if (match[1] && match[2] && match[3]) {
      details.containers.push({ name: match[1], usage: match[2], request: match[3] });
    }
  }
  return details;
}
