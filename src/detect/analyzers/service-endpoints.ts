import type { Analyzer } from './analyzer.js';
import type { AnalysisContext } from './context.js';
import { createFinding, type Finding, type Severity } from './finding.js';
import { displayName, referenceTo } from './owner.js';
import { isTerminating, podCondition } from './pod-containers.js';
import type { ClusterSnapshot, Service } from './snapshot.js';

interface EndpointCount {
  source: 'endpoints' | 'endpoint-slices' | 'pods';
  ready: number;
  notReady: number;
  matchingPods?: number;
  podPhases?: Record<string, number>;
}

/**
 * Services with a selector that route to nothing: no ready address in their Endpoints or
 * EndpointSlices, or, when neither is in the snapshot for the service, no ready pod matching the
 * selector. Skips ExternalName services and services without a selector (their endpoints are
 * managed by hand). Reason `NoMatchingPods` (warning: the selector matches nothing, maybe a label
 * typo or a deliberate scale to zero) or `NoReadyPods` (critical: pods exist but none serves).
 * Needs endpoints, endpoint slices or pods in the snapshot; finds nothing without them.
 */
export const serviceEndpointsAnalyzer: Analyzer = {
  name: 'service-endpoints',
  analyze(context: AnalysisContext): Finding[] {
    const findings: Finding[] = [];
    for (const service of context.snapshot.services ?? []) {
      const object = referenceTo('Service', service);
      const selector = service.spec?.selector ?? {};
      if (!object || service.spec?.type === 'ExternalName' || Object.keys(selector).length === 0) continue;
      const count = countEndpoints(service, context.snapshot);
      if (!count || count.ready > 0) continue;
      const podsMatch = count.matchingPods === undefined ? count.notReady > 0 : count.matchingPods > 0;
      const reason = podsMatch ? 'NoReadyPods' : 'NoMatchingPods';
      const severity: Severity = podsMatch ? 'critical' : 'warning';
      findings.push(
        createFinding({
          analyzer: 'service-endpoints',
          kind: 'ServiceWithoutEndpoints',
          severity,
          object,
          reason,
          message: `Service ${displayName(object)} has no ready endpoints: ${
            podsMatch
              ? `${count.matchingPods ?? count.notReady} matching pod(s), none ready`
              : `no pod matches selector ${formatSelector(selector)}`
          }`,
          evidence: { selector, ...count },
        }),
      );
    }
    return findings;
  },
};

function countEndpoints(service: Service, snapshot: ClusterSnapshot): EndpointCount | undefined {
  const namespace = service.metadata?.namespace;
  const name = service.metadata?.name;
  const slices = (snapshot.endpointSlices ?? []).filter(
    (slice) =>
      slice.metadata?.namespace === namespace &&
      slice.metadata?.labels?.['kubernetes.io/service-name'] === name,
  );
  const endpoints = (snapshot.endpoints ?? []).find(
    (candidate) => candidate.metadata?.namespace === namespace && candidate.metadata?.name === name,
  );
  const pods = snapshot.pods ? podCount(service, snapshot) : undefined;

  if (slices.length > 0) {
    let ready = 0;
    let notReady = 0;
    for (const endpoint of slices.flatMap((slice) => slice.endpoints ?? [])) {
      if (endpoint.conditions?.ready === false) notReady += 1;
      else ready += 1;
    }
    return { source: 'endpoint-slices', ready, notReady, ...pods };
  }
  if (endpoints) {
    const subsets = endpoints.subsets ?? [];
    return {
      source: 'endpoints',
      ready: subsets.reduce((sum, subset) => sum + (subset.addresses?.length ?? 0), 0),
      notReady: subsets.reduce((sum, subset) => sum + (subset.notReadyAddresses?.length ?? 0), 0),
      ...pods,
    };
  }
  if (pods) {
    return {
      source: 'pods',
      ready: pods.readyPods,
      notReady: pods.matchingPods - pods.readyPods,
      matchingPods: pods.matchingPods,
      podPhases: pods.podPhases,
    };
  }
  if (snapshot.endpoints || snapshot.endpointSlices) {
    return { source: snapshot.endpointSlices ? 'endpoint-slices' : 'endpoints', ready: 0, notReady: 0 };
  }
  return undefined;
}

function podCount(
  service: Service,
  snapshot: ClusterSnapshot,
): { matchingPods: number; readyPods: number; podPhases: Record<string, number> } {
  const selector = service.spec?.selector ?? {};
  const matching = (snapshot.pods ?? []).filter((pod) => {
    if (pod.metadata?.namespace !== service.metadata?.namespace || isTerminating(pod)) return false;
    const labels = pod.metadata?.labels ?? {};
    return Object.entries(selector).every(([key, value]) => labels[key] === value);
  });
  const podPhases: Record<string, number> = {};
  for (const pod of matching) {
    const phase = pod.status?.phase ?? 'Unknown';
    podPhases[phase] = (podPhases[phase] ?? 0) + 1;
  }
  return {
    matchingPods: matching.length,
    readyPods: matching.filter((pod) => podCondition(pod, 'Ready')?.status === 'True').length,
    podPhases,
  };
}

function formatSelector(selector: Record<string, string | undefined>): string {
  return Object.entries(selector)
    .map(([key, value]) => `${key}=${value}`)
    .join(',');
}
