import type { Analyzer } from './analyzer.js';
import { timeOf, truncate } from './api-object.js';
import type { AnalysisContext } from './context.js';
import { createFinding, type Finding } from './finding.js';
import { displayName, referenceTo } from './owner.js';

/**
 * Deployments with fewer available replicas than desired for at least `replicaMismatchGraceMs`,
 * counted from the `Available=False` transition, else the `Progressing` condition's last update,
 * else creation; reported at once when the rollout hit its progress deadline
 * (`ProgressDeadlineExceeded`). Paused deployments and zero desired replicas are skipped.
 * Critical when no replica is available, warning otherwise. `reason` is
 * `ProgressDeadlineExceeded`, else the `Available` condition's reason.
 */
export const replicaMismatchAnalyzer: Analyzer = {
  name: 'replica-mismatch',
  analyze(context: AnalysisContext): Finding[] {
    const findings: Finding[] = [];
    for (const deployment of context.snapshot.deployments ?? []) {
      const object = referenceTo('Deployment', deployment);
      if (!object || deployment.spec?.paused === true) continue;
      const desired = deployment.spec?.replicas ?? 1;
      const available = deployment.status?.availableReplicas ?? 0;
      if (desired <= 0 || available >= desired) continue;
      const conditions = deployment.status?.conditions ?? [];
      const availableCondition = conditions.find((condition) => condition.type === 'Available');
      const progressing = conditions.find((condition) => condition.type === 'Progressing');
      const deadlineExceeded =
        progressing?.status === 'False' && progressing.reason === 'ProgressDeadlineExceeded';
      const since =
        (availableCondition?.status === 'False'
          ? timeOf(availableCondition.lastTransitionTime)
          : undefined) ??
        timeOf(progressing?.lastUpdateTime) ??
        timeOf(deployment.metadata?.creationTimestamp);
      const lasting = since === undefined || context.now - since >= context.options.replicaMismatchGraceMs;
      if (!deadlineExceeded && !lasting) continue;
      const reason = deadlineExceeded ? 'ProgressDeadlineExceeded' : availableCondition?.reason;
      findings.push(
        createFinding({
          analyzer: 'replica-mismatch',
          kind: 'ReplicaMismatch',
          severity: available === 0 ? 'critical' : 'warning',
          object,
          reason,
          message: `Deployment ${displayName(object)} has ${available}/${desired} replicas available${
            deadlineExceeded ? ' and its rollout exceeded the progress deadline' : ''
          }`,
          evidence: {
            desired,
            available,
            ready: deployment.status?.readyReplicas ?? 0,
            updated: deployment.status?.updatedReplicas ?? 0,
            unavailable: deployment.status?.unavailableReplicas ?? Math.max(desired - available, 0),
            since,
            conditions: conditions.map((condition) => ({
              type: condition.type,
              status: condition.status,
              reason: condition.reason,
              message: truncate(condition.message),
            })),
          },
        }),
      );
    }
    return findings;
  },
};
