import type { Analyzer } from './analyzer.js';
import { timeOf } from './api-object.js';
import { eventCount, type AnalysisContext } from './context.js';
import { createFinding, type Finding } from './finding.js';
import { displayName, podOwner, referenceTo } from './owner.js';
import { podCondition } from './pod-containers.js';
import { parseSchedulerMessage, primaryCause, schedulingReasonName } from './scheduler-message.js';
import type { Pod } from './snapshot.js';

/**
 * Pods the scheduler cannot place: phase Pending, no node, and a `PodScheduled=False` condition or
 * a recent `FailedScheduling` event, for at least `pendingGraceMs`. The scheduler's message is
 * parsed into causes (insufficient cpu/memory/other resources, node selector or affinity mismatch,
 * untolerated taints, unbound or missing PVCs, ...); `reason` names the primary cause
 * (`InsufficientResources`, `NodeSelectorMismatch`, `UntoleratedTaint`,
 * `UnboundPersistentVolumeClaim`, ...). Evidence adds the pod's requests and node selector, and
 * for volume causes the claims and their recent events (e.g. `ProvisioningFailed`).
 */
export const pendingAnalyzer: Analyzer = {
  name: 'pending',
  analyze(context: AnalysisContext): Finding[] {
    const findings: Finding[] = [];
    for (const pod of context.snapshot.pods ?? []) {
      const object = referenceTo('Pod', pod);
      if (!object || pod.status?.phase !== 'Pending' || pod.spec?.nodeName) continue;
      const scheduled = podCondition(pod, 'PodScheduled');
      const failedScheduling = context
        .eventsFor('Pod', object.namespace, object.name, pod.metadata?.uid)
        .filter((event) => event.reason === 'FailedScheduling');
      const lastEvent = failedScheduling.at(-1);
      const conditionSays = scheduled?.status === 'False' ? scheduled.message : undefined;
      const message = conditionSays ?? lastEvent?.message;
      if (message === undefined && scheduled?.status !== 'False') continue;

      const since =
        (scheduled?.status === 'False' ? timeOf(scheduled.lastTransitionTime) : undefined) ??
        timeOf(failedScheduling[0]?.firstTimestamp) ??
        timeOf(pod.metadata?.creationTimestamp);
      if (since !== undefined && context.now - since < context.options.pendingGraceMs) continue;

      const failure = parseSchedulerMessage(message ?? scheduled?.reason ?? 'Unschedulable');
      const primary = primaryCause(failure);
      const reason = primary ? schedulingReasonName(primary.cause) : (scheduled?.reason ?? 'Unschedulable');
      const volumeCause = failure.causes.some((cause) =>
        ['unbound-pvc', 'missing-pvc', 'volume-node-affinity'].includes(cause.cause),
      );
      findings.push(
        createFinding({
          analyzer: 'pending',
          kind: 'Pending',
          severity: 'warning',
          object,
          owner: podOwner(pod, context),
          reason,
          message: `Pod ${displayName(object)} cannot be scheduled (${reason}): ${message ?? 'no scheduler message'}`,
          evidence: {
            schedulerMessage: message,
            availableNodes: failure.availableNodes,
            totalNodes: failure.totalNodes,
            causes: failure.causes,
            insufficientResources: failure.causes.flatMap((cause) =>
              cause.resource ? [cause.resource] : [],
            ),
            untoleratedTaints: failure.causes.flatMap((cause) => (cause.taint ? [cause.taint] : [])),
            pendingSince: since,
            failedSchedulingEvents: failedScheduling.reduce((sum, event) => sum + eventCount(event), 0),
            requests: podRequests(pod),
            nodeSelector: pod.spec?.nodeSelector,
            volumeClaims: volumeCause ? claimEvidence(pod, context) : undefined,
          },
        }),
      );
    }
    return findings;
  },
};

function podRequests(pod: Pod): Record<string, string[]> | undefined {
  const requests: Record<string, string[]> = {};
  for (const container of pod.spec?.containers ?? []) {
    for (const [resource, amount] of Object.entries(container.resources?.requests ?? {})) {
      if (typeof amount === 'string' || typeof amount === 'number') {
        (requests[resource] ??= []).push(String(amount));
      }
    }
  }
  return Object.keys(requests).length > 0 ? requests : undefined;
}

function claimEvidence(pod: Pod, context: AnalysisContext): Array<Record<string, unknown>> {
  const namespace = pod.metadata?.namespace;
  return (pod.spec?.volumes ?? []).flatMap((volume) => {
    const claimName = volume.persistentVolumeClaim?.claimName;
    if (claimName === undefined) return [];
    const events = context
      .eventsFor('PersistentVolumeClaim', namespace, claimName)
      .filter((event) => event.type === 'Warning')
      .map((event) => ({ reason: event.reason, message: event.message }));
    return [{ name: claimName, volume: volume.name, events }];
  });
}
