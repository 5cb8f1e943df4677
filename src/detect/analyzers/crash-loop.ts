import type { Analyzer } from './analyzer.js';
import { truncate } from './api-object.js';
import { eventCount, type AnalysisContext } from './context.js';
import { createFinding, type Finding } from './finding.js';
import { displayName, podOwner, referenceTo } from './owner.js';
import { containerOfFieldPath, podContainers } from './pod-containers.js';
import { describeTermination, lastTermination } from './termination.js';

/**
 * Containers waiting in CrashLoopBackOff: regular containers and native sidecars (plain init
 * containers belong to `init-container`). One finding per pod; evidence lists each crashing
 * container with its restart count and last termination (reason, exit code, message), and the
 * kubelet's recent `BackOff` events for it. `reason` is the first container's last termination reason.
 */
export const crashLoopAnalyzer: Analyzer = {
  name: 'crash-loop',
  analyze(context: AnalysisContext): Finding[] {
    const findings: Finding[] = [];
    for (const pod of context.snapshot.pods ?? []) {
      const object = referenceTo('Pod', pod);
      if (!object) continue;
      const events = context.eventsFor('Pod', object.namespace, object.name, pod.metadata?.uid);
      const crashing = podContainers(pod)
        .filter((container) => !container.init || container.sidecar)
        .filter((container) => container.status?.state?.waiting?.reason === 'CrashLoopBackOff')
        .map((container) => {
          const backOffs = events.filter(
            (event) =>
              event.reason === 'BackOff' &&
              /restarting failed container/i.test(event.message ?? '') &&
              (containerOfFieldPath(event.involvedObject?.fieldPath) ?? container.name) === container.name,
          );
          return {
            name: container.name,
            restartCount: container.status?.restartCount ?? 0,
            lastTermination: lastTermination(container.status),
            waitingMessage: truncate(container.status?.state?.waiting?.message),
            backOffEvents: backOffs.reduce((sum, event) => sum + eventCount(event), 0),
          };
        });
      const first = crashing[0];
      if (!first) continue;
      const described = crashing
        .map(
          (container) =>
            `container ${container.name} restarted ${container.restartCount} times (last: ${describeTermination(container.lastTermination)})`,
        )
        .join('; ');
      findings.push(
        createFinding({
          analyzer: 'crash-loop',
          kind: 'CrashLoopBackOff',
          severity: 'warning',
          object,
          owner: podOwner(pod, context),
          reason: first.lastTermination?.reason,
          message: `Pod ${displayName(object)} is in CrashLoopBackOff: ${described}`,
          evidence: {
            containers: crashing,
            lastTerminationReason: first.lastTermination?.reason,
            exitCode: first.lastTermination?.exitCode,
            node: pod.spec?.nodeName,
          },
        }),
      );
    }
    return findings;
  },
};
