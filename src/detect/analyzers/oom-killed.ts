import type { Analyzer } from './analyzer.js';
import { timeOf } from './api-object.js';
import type { AnalysisContext } from './context.js';
import { createFinding, type Finding } from './finding.js';
import { displayName, podOwner, referenceTo } from './owner.js';
import { podContainers } from './pod-containers.js';

/**
 * Containers (init containers included) killed by the kernel for exceeding their memory limit:
 * terminated now with reason `OOMKilled`, or previously so within `recentTerminationWindowMs`
 * (an OOM kill long ago with a healthy container since is history). Evidence carries the memory
 * request and limit from the spec, the exit code and the restart count.
 */
export const oomKilledAnalyzer: Analyzer = {
  name: 'oom-killed',
  analyze(context: AnalysisContext): Finding[] {
    const findings: Finding[] = [];
    for (const pod of context.snapshot.pods ?? []) {
      const object = referenceTo('Pod', pod);
      if (!object) continue;
      const killed = podContainers(pod).flatMap((container) => {
        const current = container.status?.state?.terminated;
        const previous = container.status?.lastState?.terminated;
        const terminated = current?.reason === 'OOMKilled' ? current : previous;
        if (terminated?.reason !== 'OOMKilled') return [];
        const finishedAt = timeOf(terminated.finishedAt);
        const isCurrent = terminated === current;
        const old =
          finishedAt !== undefined && context.now - finishedAt > context.options.recentTerminationWindowMs;
        if (!isCurrent && old) return [];
        return [
          {
            name: container.name,
            init: container.init,
            current: isCurrent,
            exitCode: terminated.exitCode,
            finishedAt,
            restartCount: container.status?.restartCount ?? 0,
            memoryLimit: quantity(container.spec?.resources?.limits?.['memory']),
            memoryRequest: quantity(container.spec?.resources?.requests?.['memory']),
          },
        ];
      });
      if (killed.length === 0) continue;
      const described = killed
        .map((container) => `${container.name} (memory limit ${container.memoryLimit ?? 'none'})`)
        .join(', ');
      findings.push(
        createFinding({
          analyzer: 'oom-killed',
          kind: 'OOMKilled',
          severity: 'warning',
          object,
          owner: podOwner(pod, context),
          reason: 'OOMKilled',
          message: `Pod ${displayName(object)}: container ${described} OOM-killed`,
          evidence: { containers: killed, node: pod.spec?.nodeName },
        }),
      );
    }
    return findings;
  },
};

function quantity(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return String(value);
  return undefined;
}
