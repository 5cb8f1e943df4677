import { createHash } from 'node:crypto';
import type { KubeObject } from './resources.js';

/** Label the controller adds to templates and ReplicaSets; not part of what was deployed. */
export const POD_TEMPLATE_HASH = 'pod-template-hash';
/** Template annotation `kubectl rollout restart` sets: a restart, not a new version. */
export const RESTARTED_AT = 'kubectl.kubernetes.io/restartedAt';
export const DEPLOYMENT_REVISION = 'deployment.kubernetes.io/revision';
export const CHANGE_CAUSE = 'kubernetes.io/change-cause';

/** What a workload runs, as the graph remembers it between observations. */
export interface WorkloadState {
  /** sha256 (hex, 16) of the pod template without `pod-template-hash`. */
  templateHash: string;
  /** The same without the restart annotation: equal before and after a rollout restart. */
  codeHash: string;
  /** Images of the template's containers, in order. */
  images: string[];
  /**
   * sha256 (hex, 16) of what configures the containers: env, envFrom, and the ConfigMaps and
   * Secrets mounted as volumes (by name). Absent in states remembered before it was recorded.
   */
  configHash?: string;
  /** The controller's revision (Deployment annotation, StatefulSet update revision, else generation). */
  revision: string;
  replicas?: number;
}

/** What changed between two observations of a workload. */
export type WorkloadChange =
  | { kind: 'deploy'; from: WorkloadState; to: WorkloadState }
  | { kind: 'restart'; from: WorkloadState; to: WorkloadState }
  | { kind: 'scale'; from: number; to: number };

/** JSON with object keys sorted, so equal values give equal text. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, item]) => item !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${canonicalJson(item)}`).join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}

function digest(value: unknown): string {
  return createHash('sha256').update(canonicalJson(value)).digest('hex').slice(0, 16);
}

interface Template {
  metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: {
    containers?: Array<{
      name?: string;
      image?: string;
      env?: unknown;
      envFrom?: unknown;
      resources?: { limits?: Record<string, unknown> };
    }>;
    volumes?: Array<{ configMap?: unknown; secret?: unknown; projected?: unknown }>;
    [key: string]: unknown;
  };
}

/** What configures a template's containers, apart from their code (images). */
function configurationOf(template: Template): unknown {
  const spec = template.spec ?? {};
  return {
    containers: (spec.containers ?? []).map((container) => ({
      env: container.env,
      envFrom: container.envFrom,
    })),
    volumes: (spec.volumes ?? [])
      .filter((volume) => volume.configMap || volume.secret || volume.projected)
      .map((volume) => ({ configMap: volume.configMap, secret: volume.secret, projected: volume.projected })),
  };
}

/** What a deploy changed: the images, the configuration, or only something else in the template. */
export function deployChanges(
  from: WorkloadState,
  to: WorkloadState,
): Array<'image' | 'config' | 'template'> {
  const changed: Array<'image' | 'config' | 'template'> = [];
  if (from.images.join('\n') !== to.images.join('\n')) changed.push('image');
  if (from.configHash !== undefined && to.configHash !== undefined && from.configHash !== to.configHash)
    changed.push('config');
  if (changed.length === 0) changed.push('template');
  return changed;
}

/** The pod template of a workload object (Deployment, StatefulSet, DaemonSet, ReplicaSet, Job). */
export function templateOf(object: KubeObject): Template | undefined {
  const spec = object.spec as { template?: Template } | undefined;
  return spec?.template;
}

/** Describes a workload object as `WorkloadState`. */
export function describeWorkload(object: KubeObject): WorkloadState {
  const template = templateOf(object) ?? {};
  const labels = { ...(template.metadata?.labels ?? {}) };
  delete labels[POD_TEMPLATE_HASH];
  const withoutHash = { ...template, metadata: { ...template.metadata, labels } };
  const annotations = { ...(template.metadata?.annotations ?? {}) };
  delete annotations[RESTARTED_AT];
  const withoutRestart = { ...withoutHash, metadata: { ...withoutHash.metadata, annotations } };
  const status = object.status as { updateRevision?: string } | undefined;
  const revision =
    object.metadata?.annotations?.[DEPLOYMENT_REVISION] ??
    (object.kind === 'StatefulSet' ? status?.updateRevision : undefined) ??
    String(object.metadata?.generation ?? '');
  const replicas = (object.spec as { replicas?: unknown } | undefined)?.replicas;
  return {
    templateHash: digest(withoutHash),
    codeHash: digest(withoutRestart),
    images: (template.spec?.containers ?? []).map((container) => container.image ?? ''),
    configHash: digest(configurationOf(template)),
    revision,
    ...(typeof replicas === 'number' ? { replicas } : {}),
  };
}

/**
 * Compares what the graph knew of a workload with a new observation. A Deployment's or
 * StatefulSet's template change counts once its controller has given it a new revision (the
 * revision annotation or `status.updateRevision` moves just after the template), so a deploy is
 * reported with its final revision; until then the known template is kept. Returns the changes and the state to remember.
 */
export function compareWorkload(
  kind: string,
  known: WorkloadState,
  current: WorkloadState,
): { changes: WorkloadChange[]; next: WorkloadState } {
  const changes: WorkloadChange[] = [];
  let next: WorkloadState = { ...known };
  if (current.replicas !== undefined && known.replicas !== undefined && current.replicas !== known.replicas) {
    changes.push({ kind: 'scale', from: known.replicas, to: current.replicas });
  }
  if (current.replicas !== undefined) next.replicas = current.replicas;
  if (current.templateHash !== known.templateHash) {
    // Deployments and StatefulSets get their new revision from the controller just after the
    // template changes; DaemonSets (generation) get it with the change itself.
    const waitingForRevision =
      (kind === 'Deployment' || kind === 'StatefulSet') && current.revision === known.revision;
    if (!waitingForRevision) {
      changes.push({
        kind: current.codeHash === known.codeHash ? 'restart' : 'deploy',
        from: known,
        to: current,
      });
      next = { ...current };
    }
  } else if (current.revision !== known.revision) {
    next.revision = current.revision;
  }
  return { changes, next };
}

/** Reads a remembered state back from a Workload entity's properties, if it has one. */
export function stateFromProperties(properties: Record<string, unknown>): WorkloadState | undefined {
  const { templateHash, codeHash, images, configHash, revision, replicas } = properties;
  if (typeof templateHash !== 'string' || typeof codeHash !== 'string') return undefined;
  return {
    templateHash,
    codeHash,
    images: Array.isArray(images) ? images.map(String) : [],
    ...(typeof configHash === 'string' ? { configHash } : {}),
    revision: typeof revision === 'string' ? revision : typeof revision === 'number' ? String(revision) : '',
    ...(typeof replicas === 'number' ? { replicas } : {}),
  };
}
