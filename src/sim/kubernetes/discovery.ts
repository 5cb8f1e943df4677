import { apiVersionOf, type ResourceType } from '../world/resources.js';

const READ = ['get', 'list', 'watch'];
const WRITE = ['create', 'delete', 'patch', 'update'];

/** The `/version` reply. */
export function versionInfo(): Record<string, string> {
  return {
    major: '1',
    minor: '30',
    gitVersion: 'v1.30.4-nightshift-sim',
    gitCommit: '0000000000000000000000000000000000000000',
    gitTreeState: 'clean',
    buildDate: '2026-01-01T00:00:00Z',
    goVersion: 'go1.22.5',
    compiler: 'gc',
    platform: 'linux/amd64',
  };
}

/** `GET /api`. */
export function coreVersions(host: string): Record<string, unknown> {
  return {
    kind: 'APIVersions',
    versions: ['v1'],
    serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: host }],
  };
}

/** `GET /apis`: every named group the world serves. */
export function groupList(types: readonly ResourceType[]): Record<string, unknown> {
  const groups = new Map<string, Set<string>>();
  for (const type of types) {
    if (!type.group) continue;
    const versions = groups.get(type.group) ?? new Set<string>();
    versions.add(type.version);
    groups.set(type.group, versions);
  }
  return {
    kind: 'APIGroupList',
    apiVersion: 'v1',
    groups: [...groups.entries()].map(([name, versions]) => {
      const list = [...versions].map((version) => ({ groupVersion: `${name}/${version}`, version }));
      return { name, versions: list, preferredVersion: list[0] };
    }),
  };
}

/** `GET /api/v1` or `/apis/{group}/{version}`: the resources of one group version. */
export function resourceList(
  types: readonly ResourceType[],
  group: string,
  version: string,
): Record<string, unknown> | undefined {
  const served = types.filter((type) => type.group === group && type.version === version);
  if (served.length === 0) return undefined;
  const resources: Array<Record<string, unknown>> = [];
  for (const type of served) {
    resources.push({
      name: type.plural,
      singularName: type.kind.toLowerCase(),
      namespaced: type.namespaced,
      kind: type.kind,
      verbs:
        type.kind === 'Pod' ||
        type.kind === 'ConfigMap' ||
        !['Deployment', 'ReplicaSet', 'StatefulSet', 'Node', 'Namespace'].includes(type.kind)
          ? [...WRITE, ...READ]
          : ['get', 'list', 'watch', 'patch', 'update'],
      ...(type.shortNames ? { shortNames: type.shortNames } : {}),
    });
    for (const sub of type.subresources ?? []) {
      if (sub === 'scale') {
        resources.push({
          name: `${type.plural}/scale`,
          singularName: '',
          namespaced: true,
          group: 'autoscaling',
          version: 'v1',
          kind: 'Scale',
          verbs: ['get', 'patch', 'update'],
        });
      } else if (sub === 'log') {
        resources.push({
          name: `${type.plural}/log`,
          singularName: '',
          namespaced: true,
          kind: 'Pod',
          verbs: ['get'],
        });
      } else {
        resources.push({
          name: `${type.plural}/${sub}`,
          singularName: '',
          namespaced: type.namespaced,
          kind: type.kind,
          verbs: ['get'],
        });
      }
    }
  }
  return {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion: apiVersionOf({ group, version }),
    resources,
  };
}
