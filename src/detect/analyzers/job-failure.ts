import type { Analyzer } from './analyzer.js';
import { timeOf, truncate } from './api-object.js';
import type { AnalysisContext } from './context.js';
import { createFinding, type Finding } from './finding.js';
import { displayName, jobOwner, referenceTo } from './owner.js';
import { podContainers } from './pod-containers.js';
import type { Job, Pod } from './snapshot.js';
import { lastTermination } from './termination.js';

/**
 * Jobs that have failed: a `Failed` (or, since 1.31, `FailureTarget`) condition with status True,
 * for at most `failedJobWindowMs`. `reason` is the condition's reason (`BackoffLimitExceeded`,
 * `DeadlineExceeded`, `PodFailurePolicy`, `MaxFailedIndexesExceeded`, ...). The owner is the
 * CronJob when there is one. Evidence lists the Job's failed pods from the snapshot (matched by
 * owner uid or the `job-name` label) with each container's termination reason and exit code.
 */
export const jobFailureAnalyzer: Analyzer = {
  name: 'job-failure',
  analyze(context: AnalysisContext): Finding[] {
    const findings: Finding[] = [];
    for (const job of context.snapshot.jobs ?? []) {
      const object = referenceTo('Job', job);
      if (!object) continue;
      const conditions = job.status?.conditions ?? [];
      const failed =
        conditions.find((condition) => condition.type === 'Failed' && condition.status === 'True') ??
        conditions.find((condition) => condition.type === 'FailureTarget' && condition.status === 'True');
      if (!failed) continue;
      const since = timeOf(failed.lastTransitionTime);
      if (since !== undefined && context.now - since > context.options.failedJobWindowMs) continue;
      const reason = failed.reason ?? 'Failed';
      const failedPods = podsOf(job, context.snapshot.pods ?? [])
        .filter((pod) => pod.status?.phase === 'Failed')
        .map((pod) => ({
          name: pod.metadata?.name,
          reason: pod.status?.reason,
          containers: podContainers(pod).flatMap((container) => {
            const termination = lastTermination(container.status);
            return termination ? [{ name: container.name, ...termination }] : [];
          }),
        }));
      const exitCodes = [
        ...new Set(
          failedPods.flatMap((pod) =>
            pod.containers.flatMap((container) =>
              container.exitCode === undefined ? [] : [container.exitCode],
            ),
          ),
        ),
      ];
      const terminationReasons = [
        ...new Set(
          failedPods.flatMap((pod) =>
            pod.containers.flatMap((container) => (container.reason === undefined ? [] : [container.reason])),
          ),
        ),
      ];
      findings.push(
        createFinding({
          analyzer: 'job-failure',
          kind: 'JobFailed',
          severity: 'warning',
          object,
          owner: jobOwner(job),
          reason,
          message: `Job ${displayName(object)} failed (${reason}${failed.message ? `: ${failed.message}` : ''})${
            terminationReasons.length > 0 ? `; pods ended with ${terminationReasons.join(', ')}` : ''
          }`,
          evidence: {
            condition: failed.type,
            conditionMessage: truncate(failed.message),
            since,
            failed: job.status?.failed ?? 0,
            succeeded: job.status?.succeeded ?? 0,
            backoffLimit: job.spec?.backoffLimit,
            activeDeadlineSeconds: job.spec?.activeDeadlineSeconds,
            exitCodes,
            terminationReasons,
            failedPods,
          },
        }),
      );
    }
    return findings;
  },
};

function podsOf(job: Job, pods: readonly Pod[]): Pod[] {
  const uid = job.metadata?.uid;
  const name = job.metadata?.name;
  const namespace = job.metadata?.namespace;
  return pods.filter((pod) => {
    if (pod.metadata?.namespace !== namespace) return false;
    const owned = (pod.metadata?.ownerReferences ?? []).some(
      (reference) => reference.kind === 'Job' && (uid ? reference.uid === uid : reference.name === name),
    );
    if (owned) return true;
    const labels = pod.metadata?.labels ?? {};
    return name !== undefined && (labels['batch.kubernetes.io/job-name'] ?? labels['job-name']) === name;
  });
}
