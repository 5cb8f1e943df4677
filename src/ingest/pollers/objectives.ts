import type { GraphStore } from '../../graph/store.js';
import type { PollContext } from './poller.js';
import {
  parseSloQueries,
  type ServiceObjectives,
  type SloQuery,
  type SloQueryInput,
} from './metrics/slo-query.js';

/**
 * Properties of a graph `Service` that carry its objectives. The Kubernetes ingest writes them
 * from the Service's annotations (see `SLO_ANNOTATIONS`); anything else may write them too.
 */
export const OBJECTIVE_PROPERTIES = {
  errorRate: 'sloErrorRate',
  latencyP99Ms: 'sloLatencyP99Ms',
  tier: 'tier',
} as const;

/** A value the pollers read once per poll (a lookup) or that is fixed when they are built. */
export type PerPoll<T> = T | ((context: PollContext) => Promise<T>);

/** The value of `value` for this poll. */
export async function resolvePerPoll<T>(value: PerPoll<T>, context: PollContext): Promise<T> {
  return typeof value === 'function' ? (value as (context: PollContext) => Promise<T>)(context) : value;
}

/** Where the services' objectives come from: a fixed list, or a lookup read at each poll. */
export type ObjectivesSource = PerPoll<readonly ServiceObjectives[]>;

function positive(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : undefined;
}

/** The objectives of the graph's services: those whose `Service` entity has an objective property. */
export async function graphObjectives(graph: GraphStore): Promise<ServiceObjectives[]> {
  const services = await graph.find({ kind: 'Service', limit: 100_000 });
  const found: ServiceObjectives[] = [];
  for (const service of services) {
    if (!service.name || service.properties.deleted === true) continue;
    const errorRate = positive(service.properties[OBJECTIVE_PROPERTIES.errorRate]);
    const latencyP99Ms = positive(service.properties[OBJECTIVE_PROPERTIES.latencyP99Ms]);
    if (errorRate === undefined && latencyP99Ms === undefined) continue;
    const tier = service.properties[OBJECTIVE_PROPERTIES.tier];
    found.push({
      name: service.name,
      ...(typeof tier === 'string' ? { tier } : {}),
      slo: {
        ...(errorRate !== undefined ? { errorRate } : {}),
        ...(latencyP99Ms !== undefined ? { latencyP99Ms } : {}),
      },
    });
  }
  return found;
}

/** `fromGraph` with `configured` laid over it: a configured service replaces the graph's entry. */
export function mergeObjectives(
  configured: readonly ServiceObjectives[],
  fromGraph: readonly ServiceObjectives[],
): ServiceObjectives[] {
  const byName = new Map<string, ServiceObjectives>();
  for (const service of fromGraph) byName.set(service.name, service);
  for (const service of configured) byName.set(service.name, service);
  return [...byName.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** A lookup of the configured objectives merged over the graph's, read at each poll. */
export function graphObjectivesLookup(
  configured: readonly ServiceObjectives[] = [],
): (context: PollContext) => Promise<ServiceObjectives[]> {
  return async (context) => mergeObjectives(configured, await graphObjectives(context.graph));
}

/** The names of the services that have an objective. */
export function servicesWithObjectives(objectives: readonly ServiceObjectives[]): string[] {
  return objectives.filter((service) => service.slo).map((service) => service.name);
}

/**
 * Derived queries with the explicit ones laid over them: an explicit query replaces a derived one
 * with the same id (`<service>/<metric>` unless given), so configuration can tune one service's
 * objective query without turning derivation off. Validates all of them.
 */
export function combineSloQueries(
  derived: readonly SloQueryInput[],
  explicit: readonly SloQueryInput[],
): SloQuery[] {
  const explicitIds = new Set(parseSloQueries(explicit).map((query) => query.id));
  const kept = parseSloQueries(derived).filter((query) => !explicitIds.has(query.id));
  return parseSloQueries([...kept, ...explicit]);
}
