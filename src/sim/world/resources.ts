/** A Kubernetes resource type the sim serves. */
export interface ResourceType {
  /** '' for the core group. */
  group: string;
  version: string;
  kind: string;
  /** The URL segment, e.g. `pods`. */
  plural: string;
  namespaced: boolean;
  shortNames?: readonly string[];
  /** Subresources served, e.g. `scale`, `log`, `status`. */
  subresources?: readonly string[];
}

/** The built-in resource types (the ones the estate itself creates). */
export const BUILTIN_RESOURCES: readonly ResourceType[] = [
  {
    group: '',
    version: 'v1',
    kind: 'Namespace',
    plural: 'namespaces',
    namespaced: false,
    shortNames: ['ns'],
  },
  { group: '', version: 'v1', kind: 'Node', plural: 'nodes', namespaced: false, shortNames: ['no'] },
  {
    group: '',
    version: 'v1',
    kind: 'Pod',
    plural: 'pods',
    namespaced: true,
    shortNames: ['po'],
    subresources: ['log', 'status'],
  },
  { group: '', version: 'v1', kind: 'Service', plural: 'services', namespaced: true, shortNames: ['svc'] },
  { group: '', version: 'v1', kind: 'ConfigMap', plural: 'configmaps', namespaced: true, shortNames: ['cm'] },
  { group: '', version: 'v1', kind: 'Secret', plural: 'secrets', namespaced: true },
  { group: '', version: 'v1', kind: 'Event', plural: 'events', namespaced: true, shortNames: ['ev'] },
  {
    group: 'apps',
    version: 'v1',
    kind: 'Deployment',
    plural: 'deployments',
    namespaced: true,
    shortNames: ['deploy'],
    subresources: ['scale', 'status'],
  },
  {
    group: 'apps',
    version: 'v1',
    kind: 'ReplicaSet',
    plural: 'replicasets',
    namespaced: true,
    shortNames: ['rs'],
    subresources: ['scale', 'status'],
  },
  {
    group: 'apps',
    version: 'v1',
    kind: 'StatefulSet',
    plural: 'statefulsets',
    namespaced: true,
    shortNames: ['sts'],
    subresources: ['scale', 'status'],
  },
  {
    group: 'apps',
    version: 'v1',
    kind: 'DaemonSet',
    plural: 'daemonsets',
    namespaced: true,
    shortNames: ['ds'],
    subresources: ['status'],
  },
  {
    group: 'autoscaling',
    version: 'v2',
    kind: 'HorizontalPodAutoscaler',
    plural: 'horizontalpodautoscalers',
    namespaced: true,
    shortNames: ['hpa'],
    subresources: ['status'],
  },
  { group: 'batch', version: 'v1', kind: 'Job', plural: 'jobs', namespaced: true, subresources: ['status'] },
  {
    group: 'batch',
    version: 'v1',
    kind: 'CronJob',
    plural: 'cronjobs',
    namespaced: true,
    shortNames: ['cj'],
  },
  {
    group: 'networking.k8s.io',
    version: 'v1',
    kind: 'NetworkPolicy',
    plural: 'networkpolicies',
    namespaced: true,
    shortNames: ['netpol'],
  },
  {
    group: 'cert-manager.io',
    version: 'v1',
    kind: 'Certificate',
    plural: 'certificates',
    namespaced: true,
    shortNames: ['cert'],
    subresources: ['status'],
  },
];

/** `group/plural`, the key a resource type is stored under (`/pods` for core pods). */
export function resourceId(type: Pick<ResourceType, 'group' | 'plural'>): string {
  return `${type.group}/${type.plural}`;
}

/** The `apiVersion` of a resource type's objects, e.g. `apps/v1` or `v1`. */
export function apiVersionOf(type: Pick<ResourceType, 'group' | 'version'>): string {
  return type.group ? `${type.group}/${type.version}` : type.version;
}

/** Guesses the plural of a kind the way Kubernetes' RESTMapper does for unknown kinds. */
export function pluralOf(kind: string): string {
  const lower = kind.toLowerCase();
  if (/(s|x|z|ch|sh)$/.test(lower)) return `${lower}es`;
  if (/[^aeiou]y$/.test(lower)) return `${lower.slice(0, -1)}ies`;
  return `${lower}s`;
}

/** Splits an `apiVersion` into group and version. */
export function splitApiVersion(apiVersion: string): { group: string; version: string } {
  const slash = apiVersion.indexOf('/');
  return slash === -1
    ? { group: '', version: apiVersion }
    : { group: apiVersion.slice(0, slash), version: apiVersion.slice(slash + 1) };
}

/** The set of resource types one world serves: the built-ins plus any kind a scenario adds. */
export class ResourceRegistry {
  readonly #byId = new Map<string, ResourceType>();

  constructor(types: readonly ResourceType[] = BUILTIN_RESOURCES) {
    for (const type of types) this.#byId.set(resourceId(type), type);
  }

  /** All types, core first, then by group and plural. */
  all(): ResourceType[] {
    return [...this.#byId.values()].sort(
      (a, b) => a.group.localeCompare(b.group) || a.plural.localeCompare(b.plural),
    );
  }

  /** The type served at (group, version, plural), if any. */
  find(group: string, version: string, plural: string): ResourceType | undefined {
    const type = this.#byId.get(`${group}/${plural}`);
    return type && type.version === version ? type : undefined;
  }

  /** The type of objects with this apiVersion and kind, if any. */
  byKind(apiVersion: string, kind: string): ResourceType | undefined {
    const { group, version } = splitApiVersion(apiVersion);
    return this.all().find((type) => type.group === group && type.version === version && type.kind === kind);
  }

  /** Registers the type of a raw object (namespaced when it has a namespace). Idempotent. */
  ensure(apiVersion: string, kind: string, namespaced: boolean): ResourceType {
    const existing = this.byKind(apiVersion, kind);
    if (existing) return existing;
    const { group, version } = splitApiVersion(apiVersion);
    const type: ResourceType = { group, version, kind, plural: pluralOf(kind), namespaced };
    this.#byId.set(resourceId(type), type);
    return type;
  }
}
