import { describe, expect, it } from 'vitest';
import { NOW } from '../../../test/fixtures/detect/cluster.js';
import {
  crashLoopBackOffScenario,
  crashPodScenario,
  imagePullBackOffScenario,
  initCrashLoopScenario,
  jobFailureScenario,
  livenessProbeScenario,
  memoryPressureScenario,
  oomKillDeploymentScenario,
  oomKillJobScenario,
  pendingNodeSelectorScenario,
  pendingResourcesScenario,
  preemptionScenario,
  pvcScenario,
  readinessProbeScenario,
} from '../../../test/fixtures/detect/scenarios.js';
import { analyze, defaultAnalyzers } from './analyze.js';
import { findingFingerprint } from './finding.js';
import type { ClusterSnapshot } from './snapshot.js';

/** Every real-manifest case and the findings (kind/reason on object) the whole analyzer set must produce. */
const cases: Array<{ name: string; snapshot: () => ClusterSnapshot; expected: string[] }> = [
  { name: 'crashpod/healthy', snapshot: () => crashPodScenario('healthy').snapshot, expected: [] },
  { name: 'pvc-misconfiguration fixed', snapshot: () => pvcScenario('fixed').snapshot, expected: [] },
  {
    name: 'crashloop_backoff',
    snapshot: () => crashLoopBackOffScenario().snapshot,
    expected: ['CrashLoopBackOff/StartError on Pod inventory-management-api'],
  },
  {
    name: 'crashpod/broken',
    snapshot: () => crashPodScenario('broken').snapshot,
    expected: [
      'CrashLoopBackOff/Completed on Pod payment-processing-worker-*',
      'ReplicaMismatch/ProgressDeadlineExceeded on Deployment payment-processing-worker',
    ],
  },
  {
    name: 'oomkill deployment',
    snapshot: () => oomKillDeploymentScenario().snapshot,
    expected: [
      'CrashLoopBackOff/OOMKilled on Pod analytics-exporter-*',
      'OOMKilled/OOMKilled on Pod analytics-exporter-*',
      'ReplicaMismatch/ProgressDeadlineExceeded on Deployment analytics-exporter',
    ],
  },
  {
    name: 'oomkill job',
    snapshot: () => oomKillJobScenario().snapshot,
    expected: [
      'OOMKilled/OOMKilled on Pod analytics-exporter-*',
      'JobFailed/BackoffLimitExceeded on Job analytics-exporter',
    ],
  },
  {
    name: 'job_failure',
    snapshot: () => jobFailureScenario().snapshot,
    expected: ['JobFailed/BackoffLimitExceeded on Job java-api-checker'],
  },
  {
    name: 'image_pull_backoff',
    snapshot: () => imagePullBackOffScenario().snapshot,
    expected: [
      'ImagePullBackOff/ImagePullBackOff on Pod customer-relations-webapp-*',
      'ImagePullBackOff/ErrImagePull on Pod customer-relations-webapp-*',
      'ImagePullBackOff/ImagePullBackOff on Pod customer-relations-webapp-*',
      'ReplicaMismatch/ProgressDeadlineExceeded on Deployment customer-relations-webapp',
    ],
  },
  {
    name: 'pending_pods node selector',
    snapshot: () => pendingNodeSelectorScenario().snapshot,
    expected: ['Pending/NodeSelectorMismatch on Pod user-profile-import'],
  },
  {
    name: 'pending_pods resources',
    snapshot: () => pendingResourcesScenario().snapshot,
    expected: [
      'Pending/InsufficientResources on Pod user-profile-resources-*',
      'ReplicaMismatch/MinimumReplicasUnavailable on Deployment user-profile-resources',
    ],
  },
  {
    name: 'liveness_probe_fail',
    snapshot: () => livenessProbeScenario().snapshot,
    expected: ['LivenessProbeFailed/LivenessProbeFailed on Pod order-processor'],
  },
  {
    name: 'readiness_probe_fail',
    snapshot: () => readinessProbeScenario({ withEvents: true }).snapshot,
    expected: ['ReadinessProbeFailed/ReadinessProbeFailed on Pod search-engine-service'],
  },
  {
    name: 'init_crashloop_backoff',
    snapshot: () => initCrashLoopScenario().snapshot,
    expected: ['InitContainerCrash/StartError on Pod logging-agent'],
  },
  {
    name: 'evictions (preemption)',
    snapshot: () => preemptionScenario({ victimDeleted: false }).snapshot,
    expected: ['Preempted/PreemptionByScheduler on Pod analytics-worker'],
  },
  {
    name: 'memory_pressure_evictions',
    snapshot: () => memoryPressureScenario().snapshot,
    expected: [
      'Pending/UntoleratedTaint on Pod nginx-deployment-*',
      'Pending/UntoleratedTaint on Pod nginx-deployment-*',
      'Evicted/NodePressure on Pod nginx-deployment-*',
      'Evicted/NodePressure on Pod nginx-deployment-*',
      'NodeMemoryPressure/KubeletHasInsufficientMemory on Node your-host-name',
    ],
  },
  {
    name: 'pvc-misconfiguration',
    snapshot: () => pvcScenario('broken').snapshot,
    expected: [
      'Pending/UnboundPersistentVolumeClaim on Pod redis-*',
      'ReplicaMismatch/ProgressDeadlineExceeded on Deployment redis',
      'ServiceWithoutEndpoints/NoReadyPods on Service redis',
    ],
  },
];

/** Generated pod names end in `-<replicaset hash>-<suffix>` or `-<suffix>`; the table names the owner part. */
function summary(snapshot: ClusterSnapshot): string[] {
  return analyze(snapshot, NOW).map((finding) => {
    const generated =
      finding.object.kind === 'Pod' && finding.owner ? `${finding.owner.name}-*` : finding.object.name;
    return `${finding.kind}/${finding.reason ?? '-'} on ${finding.object.kind} ${generated}`;
  });
}

describe('analyze over the real failure manifests', () => {
  it.each(cases)('$name', ({ snapshot, expected }) => {
    expect(summary(snapshot())).toEqual(expected);
  });
});

describe('analyze', () => {
  const snapshots = cases.map((entry) => entry.snapshot());

  it('is deterministic: same snapshot and time, same findings and fingerprints', () => {
    for (const snapshot of snapshots) expect(analyze(snapshot, NOW)).toEqual(analyze(snapshot, NOW));
  });

  it('fingerprints depend on analyzer, object and kind only', () => {
    const findings = snapshots.flatMap((snapshot) => analyze(snapshot, NOW));
    for (const finding of findings) {
      expect(finding.fingerprint).toBe(findingFingerprint(finding.analyzer, finding.object, finding.kind));
    }
    const later = analyze(crashLoopBackOffScenario().snapshot, NOW + 60_000);
    expect(later[0]?.fingerprint).toBe(analyze(crashLoopBackOffScenario().snapshot, NOW)[0]?.fingerprint);
    expect(new Set(findings.map((finding) => finding.fingerprint)).size).toBe(findings.length);
  });

  it('does not mutate the snapshot', () => {
    for (const snapshot of snapshots) {
      const before = structuredClone(snapshot);
      analyze(snapshot, NOW);
      expect(snapshot).toEqual(before);
    }
  });

  it('produces JSON-safe findings', () => {
    for (const finding of snapshots.flatMap((snapshot) => analyze(snapshot, NOW))) {
      expect(JSON.parse(JSON.stringify(finding))).toEqual(finding);
    }
  });

  it('gives the same findings for typed-client objects (Date timestamps) as for watch JSON', () => {
    const withDates = (value: unknown): unknown =>
      JSON.parse(JSON.stringify(value), (_key, field: unknown) =>
        typeof field === 'string' && /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/.test(field)
          ? new Date(field)
          : field,
      );
    for (const snapshot of snapshots) {
      expect(analyze(withDates(snapshot) as ClusterSnapshot, NOW)).toEqual(analyze(snapshot, NOW));
    }
  });

  it('runs only the analyzers asked for, and finds nothing in an empty snapshot', () => {
    const snapshot = oomKillDeploymentScenario().snapshot;
    const crashOnly = defaultAnalyzers.filter((analyzer) => analyzer.name === 'crash-loop');
    expect(analyze(snapshot, NOW, { analyzers: crashOnly }).map((finding) => finding.kind)).toEqual([
      'CrashLoopBackOff',
    ]);
    expect(analyze({}, NOW)).toEqual([]);
  });

  it('every default analyzer has a distinct kebab-case name', () => {
    const names = defaultAnalyzers.map((analyzer) => analyzer.name);
    expect(new Set(names).size).toBe(names.length);
    for (const name of names) expect(name).toMatch(/^[a-z]+(-[a-z]+)*$/);
  });
});
