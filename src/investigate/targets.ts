import type { Entity } from '../graph/schema.js';
import type { GraphStore } from '../graph/store.js';

/**
 * What a graph entity stands for in the outside world, so checks and proposals can name it:
 * the Kubernetes object, the service name monitoring uses, the flag key.
 */
export interface TargetInfo {
  id: string;
  kind: string;
  name: string;
  /** The logical service name (metric and log scope), when there is one. */
  service?: string;
  namespace?: string;
  cluster?: string;
  /** The workload (Deployment, StatefulSet…) that runs it. */
  workload?: { kind: string; name: string; namespace?: string; id: string };
  /** Feature flag key. */
  flagKey?: string;
  /** owner/name of its repository. */
  repo?: string;
  /** Desired replicas of its workload, when the graph knows. */
  replicas?: number;
  /**
   * Names of the services, datastores and queues it depends on; filled in by `buildContext` for
   * workloads deployed in the window only (a release may exhaust something it shares).
   */
  dependsOn?: string[];
}

/** Splits `k8s:<cluster>/<namespace>/<Kind>/<name>` or `k8s:<cluster>/<Kind>/<name>`. */
export function parseK8sId(
  id: string,
): { cluster: string; namespace?: string; kind: string; name: string } | undefined {
  if (!id.startsWith('k8s:')) return undefined;
  const parts = id.slice(4).split('/').map(decodeURIComponent);
  if (parts.length === 4)
    return {
      cluster: parts[0] as string,
      namespace: parts[1] as string,
      kind: parts[2] as string,
      name: parts[3] as string,
    };
  if (parts.length === 3)
    return { cluster: parts[0] as string, kind: parts[1] as string, name: parts[2] as string };
  return undefined;
}

function text(entity: Entity | null | undefined, key: string): string | undefined {
  const value = entity?.properties[key];
  return typeof value === 'string' && value ? value : undefined;
}

function lastPart(id: string): string {
  const tail = id.slice(id.indexOf(':') + 1);
  return decodeURIComponent(tail.split('/').pop() ?? tail);
}

async function workloadOf(graph: GraphStore, serviceId: string): Promise<Entity | undefined> {
  const found = await graph.neighbors(serviceId, {
    kinds: ['PART_OF'],
    direction: 'in',
    entityKinds: ['Workload'],
    limit: 5,
  });
  return found[0]?.entity;
}

function replicasOf(entity: Entity | null | undefined): number | undefined {
  const value = entity?.properties.replicas;
  return typeof value === 'number' ? value : undefined;
}

function workloadRef(entity: Entity): NonNullable<TargetInfo['workload']> {
  const parsed = parseK8sId(entity.id);
  const namespace = text(entity, 'namespace') ?? parsed?.namespace;
  return {
    kind: text(entity, 'workloadKind') ?? parsed?.kind ?? 'Deployment',
    name: entity.name ?? parsed?.name ?? lastPart(entity.id),
    ...(namespace ? { namespace } : {}),
    id: entity.id,
  };
}

/** Names of what `ids` depend on (DEPENDS_ON out of any of them). */
export async function dependenciesOf(graph: GraphStore, ids: readonly string[]): Promise<string[]> {
  const names = new Set<string>();
  for (const id of ids)
    for (const item of await graph
      .neighbors(id, { kinds: ['DEPENDS_ON'], direction: 'out', limit: 50 })
      .catch(() => []))
      if (item.entity.name) names.add(item.entity.name);
  return [...names];
}

/** Resolves a graph id into a target; works from the id alone when the entity is missing. */
export async function resolveTarget(graph: GraphStore, id: string): Promise<TargetInfo> {
  const entity = await graph.get(id).catch(() => null);
  const parsed = parseK8sId(id);
  const kind = entity?.kind ?? (parsed?.kind === 'Node' ? 'Node' : parsed ? 'Workload' : 'unknown');
  const target: TargetInfo = { id, kind, name: entity?.name ?? parsed?.name ?? lastPart(id) };
  const namespace = text(entity, 'namespace') ?? parsed?.namespace;
  if (namespace) target.namespace = namespace;
  const cluster = text(entity, 'cluster') ?? parsed?.cluster;
  if (cluster) target.cluster = cluster;
  const repo = text(entity, 'repo');
  if (repo) target.repo = repo;
  switch (kind) {
    case 'Workload': {
      if (entity) target.workload = workloadRef(entity);
      const replicas = replicasOf(entity);
      if (replicas !== undefined) target.replicas = replicas;
      else if (parsed)
        target.workload = {
          kind: parsed.kind,
          name: parsed.name,
          ...(parsed.namespace ? { namespace: parsed.namespace } : {}),
          id,
        };
      const services = await graph.neighbors(id, {
        kinds: ['PART_OF'],
        direction: 'out',
        entityKinds: ['Service'],
        limit: 1,
      });
      const service = services[0]?.entity;
      // A batch Job's name carries a run suffix; its app label is the name monitoring uses.
      target.service = text(entity, 'service') ?? service?.name ?? text(entity, 'app') ?? target.name;
      if (!target.repo) {
        const serviceRepo = text(service, 'repo');
        if (serviceRepo) target.repo = serviceRepo;
      }
      break;
    }
    case 'Service':
    case 'Datastore':
    case 'Queue': {
      target.service = target.name;
      const workload = await workloadOf(graph, id);
      if (workload) {
        target.workload = workloadRef(workload);
        if (!target.namespace && target.workload.namespace) target.namespace = target.workload.namespace;
        const replicas = replicasOf(workload);
        if (replicas !== undefined) target.replicas = replicas;
      }
      break;
    }
    case 'Pod': {
      const owners = await graph.neighbors(id, {
        kinds: ['MANAGES'],
        direction: 'in',
        depth: 2,
        entityKinds: ['Workload'],
        limit: 1,
      });
      const workload = owners[0]?.entity;
      if (workload) {
        target.workload = workloadRef(workload);
        const inner = await resolveTarget(graph, workload.id);
        if (inner.service) target.service = inner.service;
      }
      break;
    }
    case 'FeatureFlag': {
      target.flagKey = text(entity, 'key') ?? target.name;
      const users = await graph.neighbors(id, {
        kinds: ['DEPENDS_ON'],
        direction: 'in',
        entityKinds: ['Service'],
        limit: 1,
      });
      if (users[0]) target.service = users[0].entity.name ?? lastPart(users[0].entity.id);
      break;
    }
    case 'Deploy':
    case 'ConfigChange': {
      const changed = await graph.neighbors(id, {
        kinds: ['DEPLOYED', 'CHANGED'],
        direction: 'out',
        entityKinds: ['Workload'],
        limit: 1,
      });
      if (changed[0]) return resolveTarget(graph, changed[0].entity.id);
      break;
    }
    default:
      break;
  }
  return target;
}
