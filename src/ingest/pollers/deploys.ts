import { serviceId } from '../../graph/ids.js';
import type { Entity, GraphEvent, PropertyValue } from '../../graph/schema.js';
import type { GraphStore } from '../../graph/store.js';

/**
 * A rollout of a service as the graph knows it, from a `Deploy` entity or a `deploy` event.
 *
 * The graph convention read here: a `Deploy` entity (`deployId(workloadId, revision)`) with
 * `DEPLOYED` → Workload `PART_OF` → Service (or `DEPLOYED` → Service, or a `service` property),
 * and/or a `deploy` event on the service or one of its workloads. Properties read, when present:
 * `image` (`repo/name:tag`), `tag`, `sha` (or `commit`), `revision`, `at` (ms). An event names its
 * Deploy entity by `properties.deployId`, or by sharing its id.
 */
export interface DeployRecord {
  /** The Deploy entity id when there is one, else the event id. */
  id: string;
  /** True when `id` is a stored `Deploy` entity (an edge can point at it). */
  isEntity: boolean;
  service: string;
  /** When it rolled out, ms. */
  at: number;
  image?: string;
  /** The image tag (`3.1.0` of `shop/checkout:3.1.0`); absent for `latest` or a digest. */
  tag?: string;
  sha?: string;
}

function text(value: PropertyValue | undefined): string | undefined {
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

/** The tag of an image reference, unless it is `latest`, missing, or pinned by digest only. */
export function imageTag(image: string | undefined): string | undefined {
  if (!image) return undefined;
  const withoutDigest = image.split('@')[0] ?? image;
  const slash = withoutDigest.lastIndexOf('/');
  const colon = withoutDigest.lastIndexOf(':');
  if (colon <= slash) return undefined;
  const tag = withoutDigest.slice(colon + 1);
  return tag && tag !== 'latest' ? tag : undefined;
}

function fromProperties(
  base: { id: string; isEntity: boolean; service: string; at: number },
  properties: Record<string, PropertyValue>,
): DeployRecord {
  const record: DeployRecord = { ...base };
  const image = text(properties.image);
  if (image) record.image = image;
  const tag = text(properties.tag) ?? imageTag(image);
  if (tag) record.tag = tag;
  const sha = text(properties.sha) ?? text(properties.commit);
  if (sha) record.sha = sha.toLowerCase();
  return record;
}

function entityTime(entity: Entity): number {
  const at = entity.properties.at;
  return typeof at === 'number' ? at : entity.provenance.firstSeen;
}

/**
 * The deploys of `service` at or after `since` (ms), oldest first, one per Deploy entity (a
 * `deploy` event naming an entity is folded into it). Reads only; never throws for a service
 * the graph does not know (answers `[]`).
 */
export async function serviceDeploys(
  graph: GraphStore,
  service: string,
  since: number,
): Promise<DeployRecord[]> {
  const serviceKey = serviceId(service);
  const byId = new Map<string, DeployRecord>();
  const entities = new Map<string, Entity>();
  for (const reached of await graph.neighbors(serviceKey, {
    kinds: ['PART_OF', 'DEPLOYED'],
    direction: 'in',
    depth: 2,
    entityKinds: ['Deploy'],
  }))
    entities.set(reached.entity.id, reached.entity);
  for (const entity of await graph.find({ kind: 'Deploy', where: { service }, limit: 500 }))
    entities.set(entity.id, entity);
  for (const entity of entities.values()) {
    const at = entityTime(entity);
    if (at < since) continue;
    byId.set(entity.id, fromProperties({ id: entity.id, isEntity: true, service, at }, entity.properties));
  }

  const holders = [serviceKey];
  for (const reached of await graph.neighbors(serviceKey, {
    kinds: ['PART_OF'],
    direction: 'in',
    depth: 1,
    entityKinds: ['Workload'],
  }))
    holders.push(reached.entity.id);
  const events: GraphEvent[] = [];
  for (const holder of holders)
    events.push(...(await graph.events(holder, { kinds: ['deploy'], since, limit: 200 })));
  for (const event of events) {
    const named = text(event.properties.deployId) ?? event.id;
    const known = byId.get(named);
    const fromEvent = fromProperties(
      { id: named, isEntity: known?.isEntity ?? false, service, at: event.at },
      event.properties,
    );
    if (known) {
      // The event carries the rollout time and often the image; the entity keeps its id.
      byId.set(named, { ...fromEvent, ...known, at: event.at, isEntity: true });
      continue;
    }
    if (!fromEvent.isEntity && (await graph.get(named))?.kind === 'Deploy') fromEvent.isEntity = true;
    byId.set(named, fromEvent);
  }
  return [...byId.values()].sort((a, b) => a.at - b.at || a.id.localeCompare(b.id));
}
