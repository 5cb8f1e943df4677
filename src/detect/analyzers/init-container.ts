import type { Analyzer } from './analyzer.js';
import { truncate } from './api-object.js';
import type { AnalysisContext } from './context.js';
import { createFinding, type Finding } from './finding.js';
import { displayName, podOwner, referenceTo } from './owner.js';
import { podCondition, podContainers } from './pod-containers.js';
import { describeTermination, lastTermination } from './termination.js';

/**
 * Init containers (not native sidecars) that keep failing, so the pod never starts: waiting in
 * `CrashLoopBackOff` (kubectl shows `Init:CrashLoopBackOff`), or terminated with a non-zero exit
 * code (`Init:Error`, final when the pod's restartPolicy is Never). `reason` is the last
 * termination reason; evidence adds the exit code, restart count and the pod's `Initialized` condition.
 */
export const initContainerAnalyzer: Analyzer = {
  name: 'init-container',
  analyze(context: AnalysisContext): Finding[] {
    const findings: Finding[] = [];
    for (const pod of context.snapshot.pods ?? []) {
      const object = referenceTo('Pod', pod);
      if (!object) continue;
      const failing = podContainers(pod)
        .filter((container) => container.init && !container.sidecar)
        .flatMap((container) => {
          const waiting = container.status?.state?.waiting;
          const terminated = container.status?.state?.terminated;
          const crashLooping = waiting?.reason === 'CrashLoopBackOff';
          const failed = terminated !== undefined && (terminated.exitCode ?? 0) !== 0;
          if (!crashLooping && !failed) return [];
          return [
            {
              name: container.name,
              state: crashLooping ? 'CrashLoopBackOff' : 'Terminated',
              restartCount: container.status?.restartCount ?? 0,
              lastTermination: lastTermination(container.status),
              image: container.spec?.image ?? container.status?.image,
            },
          ];
        });
      const first = failing[0];
      if (!first) continue;
      const initialized = podCondition(pod, 'Initialized');
      findings.push(
        createFinding({
          analyzer: 'init-container',
          kind: 'InitContainerCrash',
          severity: 'warning',
          object,
          owner: podOwner(pod, context),
          reason: first.lastTermination?.reason,
          message: `Pod ${displayName(object)} cannot start: ${failing
            .map(
              (container) =>
                `init container ${container.name} ${container.state === 'CrashLoopBackOff' ? 'is in CrashLoopBackOff' : 'failed'} (${describeTermination(container.lastTermination)}, ${container.restartCount} restarts)`,
            )
            .join('; ')}`,
          evidence: {
            containers: failing,
            lastTerminationReason: first.lastTermination?.reason,
            exitCode: first.lastTermination?.exitCode,
            initialized: initialized
              ? {
                  status: initialized.status,
                  reason: initialized.reason,
                  message: truncate(initialized.message),
                }
              : undefined,
          },
        }),
      );
    }
    return findings;
  },
};
