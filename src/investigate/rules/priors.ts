import type { InvestigationContext } from '../context.js';
import type { TargetInfo } from '../targets.js';
import type { HypothesisDraft } from '../tree.js';
import type { HypothesisCategory } from '../types.js';

/** Base prior of each category before the graph's facts adjust it. */
export const BASE_PRIORS: Readonly<Record<HypothesisCategory, number>> = {
  deploy_regression: 0.3,
  config_change: 0.15,
  flag_change: 0.2,
  resource_saturation: 0.1,
  memory_leak: 0.1,
  dependency_failure: 0.1,
  node_issue: 0.08,
  network_dns: 0.05,
  scheduling: 0.05,
  image: 0.05,
  noisy_neighbor: 0.03,
  certificate: 0.03,
  external: 0.04,
  unknown: 0.02,
};

/** Finding words that raise a category's prior, and by how much. */
const HINT_BOOSTS: Record<string, Partial<Record<HypothesisCategory, number>>> = {
  OOMKilled: { memory_leak: 3 },
  // The headroom forecast: memory climbing toward its limit, before any OOMKill.
  MemoryNearLimit: { memory_leak: 3 },
  CrashLoopBackOff: { config_change: 1.5, deploy_regression: 1.3 },
  CreateContainerConfigError: { config_change: 3 },
  ImagePullBackOff: { image: 6 },
  ErrImagePull: { image: 6 },
  Pending: { scheduling: 4 },
  FailedScheduling: { scheduling: 6 },
  Unschedulable: { scheduling: 6 },
  Evicted: { node_issue: 3 },
  MemoryPressure: { node_issue: 4 },
  DiskPressure: { node_issue: 4 },
  NotReady: { node_issue: 2 },
  x509: { certificate: 8 },
  certificate: { certificate: 5 },
  NXDOMAIN: { network_dns: 6 },
  'no such host': { network_dns: 6 },
  HPAAtMax: { resource_saturation: 3 },
  // Fewer replicas available than desired: new pods cannot be placed, pulled or started.
  ReplicaMismatch: { scheduling: 3, image: 2, config_change: 1.2 },
};

const MINUTE = 60_000;

/** What a deploy event says it changed (`image`, `config`, `template`); empty when it does not say. */
export function deployChanged(properties: Record<string, unknown>): string[] {
  const changed = properties.changed;
  return Array.isArray(changed) ? changed.filter((item): item is string => typeof item === 'string') : [];
}

function label(target: TargetInfo | undefined, id: string): string {
  return target?.service ?? target?.name ?? id;
}

/**
 * Proposes root hypotheses from category templates and graph facts: a change on or near the
 * symptoms inside the window (closer in time and in the graph counts more), analyzer findings
 * named by the signals, the upstream dependencies, and the causes of similar past incidents.
 * Priors are clamped to [0.02, 0.6]; at most `limit` drafts, highest prior first.
 */
export function proposeFromContext(context: InvestigationContext, limit = 10): HypothesisDraft[] {
  const drafts = new Map<string, HypothesisDraft>();
  const boost = new Map<HypothesisCategory, number>();
  for (const hint of context.findingHints)
    for (const [category, factor] of Object.entries(HINT_BOOSTS[hint] ?? {}))
      boost.set(category as HypothesisCategory, (boost.get(category as HypothesisCategory) ?? 1) * factor);
  for (const incident of context.similarIncidents) {
    if (incident.category && incident.category in BASE_PRIORS)
      boost.set(
        incident.category as HypothesisCategory,
        (boost.get(incident.category as HypothesisCategory) ?? 1) * (1 + incident.score),
      );
  }
  const add = (category: HypothesisCategory, suspect: string, statement: string, factor = 1): void => {
    const prior = Math.min(0.6, Math.max(0.02, BASE_PRIORS[category] * factor * (boost.get(category) ?? 1)));
    const key = `${category}\u0000${suspect}`;
    const existing = drafts.get(key);
    if (!existing || existing.prior < prior) drafts.set(key, { category, suspect, statement, prior });
  };

  for (const change of context.recentChanges) {
    const target = context.targets[change.entityId];
    const lead = (context.openedAt - change.at) / MINUTE;
    if (lead < -5) continue;
    const timeFactor = lead <= 15 ? 2 : lead <= 60 ? 1.3 : 0.8;
    const distanceFactor = change.distance === 0 ? 1.5 : change.distance === 1 ? 1 : 0.6;
    const when = new Date(change.at).toISOString();
    switch (change.kind) {
      case 'deploy':
      case 'rollback': {
        const image = typeof change.properties.image === 'string' ? ` (${change.properties.image})` : '';
        const changed = deployChanged(change.properties);
        // A rollout that changed the configuration and not the code is a configuration change first.
        const configOnly = changed.includes('config') && !changed.includes('image');
        if (changed.includes('config'))
          add(
            'config_change',
            change.entityId,
            `The configuration rolled out with ${label(target, change.entityId)} at ${when} broke it`,
            timeFactor * distanceFactor * (configOnly ? 3 : 1.5),
          );
        add(
          'deploy_regression',
          change.entityId,
          `The ${change.kind} of ${label(target, change.entityId)}${image} at ${when} introduced the failure`,
          timeFactor * distanceFactor * (configOnly ? 0.5 : 1),
        );
        break;
      }
      case 'config-change':
        add(
          'config_change',
          change.entityId,
          `The configuration change of ${label(target, change.entityId)} at ${when} broke it`,
          timeFactor * distanceFactor,
        );
        break;
      case 'flag-flip':
        add(
          'flag_change',
          change.entityId,
          `The flip of flag ${target?.flagKey ?? label(target, change.entityId)} at ${when} broke the code path it enables`,
          timeFactor * distanceFactor,
        );
        break;
      case 'node-event':
        add(
          'node_issue',
          change.entityId,
          `Node ${label(target, change.entityId)} is unhealthy (event at ${when})`,
          timeFactor,
        );
        break;
      case 'scale':
        add(
          'resource_saturation',
          change.entityId,
          `${label(target, change.entityId)} has too little capacity after scaling at ${when}`,
          timeFactor,
        );
        break;
      default:
        break;
    }
  }

  for (const symptom of context.symptoms) {
    const target = context.targets[symptom.id];
    if (!target || !['Service', 'Workload', 'Pod', 'Datastore', 'Queue'].includes(target.kind)) continue;
    const suspect = target.workload?.id ?? symptom.id;
    const name = label(target, symptom.id);
    add('memory_leak', suspect, `${name} leaks memory until its containers are OOMKilled`);
    add('resource_saturation', suspect, `${name} is saturated: more load than its replicas can carry`);
    if (boost.has('image')) add('image', suspect, `${name}'s new pods cannot pull their image`);
    if (boost.has('scheduling')) add('scheduling', suspect, `${name}'s pods cannot be scheduled`);
    if (boost.has('config_change')) add('config_change', suspect, `${name} runs with a broken configuration`);
    if (boost.has('network_dns'))
      add('network_dns', suspect, `${name} cannot resolve or reach what it calls`);
    if (boost.has('certificate'))
      add('certificate', suspect, `A certificate ${name} uses has expired or is invalid`);
  }

  for (const item of context.blastRadius.upstream) {
    if (item.distance > 1) continue;
    const name = item.name ?? item.id;
    if (item.kind === 'ExternalDependency')
      add('external', item.id, `The outside dependency ${name} is failing`);
    else if (['Service', 'Datastore', 'Queue'].includes(item.kind))
      add(
        'dependency_failure',
        item.id,
        `${name}, which the symptoms depend on, is failing and its callers fail with it`,
      );
    else if (item.kind === 'Node')
      add('node_issue', item.id, `Node ${name} is unhealthy and hurts the pods on it`);
  }

  for (const neighbor of context.newNeighbors) {
    const lead = (context.openedAt - neighbor.since) / MINUTE;
    if (lead < -5) continue;
    const node = context.targets[neighbor.node]?.name ?? neighbor.node;
    add(
      'noisy_neighbor',
      neighbor.id,
      `${neighbor.name} (${neighbor.kind}) started on ${node} at ${new Date(neighbor.since).toISOString()} and starves the pods next to it`,
      (lead <= 15 ? 10 : lead <= 60 ? 4 : 2) *
        (neighbor.kind === 'Job' || neighbor.kind === 'CronJob' ? 1.5 : 1),
    );
  }

  for (const node of context.nodes) {
    const factor = context.nodes.length > 1 ? 1 / Math.sqrt(context.nodes.length) : 1;
    add('node_issue', node.id, `Node ${node.name ?? node.id} is unhealthy and hurts the pods on it`, factor);
  }

  return [...drafts.values()]
    .sort((a, b) => b.prior - a.prior || (a.suspect < b.suspect ? -1 : 1))
    .slice(0, limit);
}
