import { describe, expect, it } from 'vitest';
import { WATCHED_RESOURCES } from '../../src/ingest/kubernetes/resources.js';
import { findManifest, renderManifests, type Manifest, type Values } from './chart.js';

interface Rule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
  resourceNames?: string[];
}
interface Role extends Manifest {
  rules: Rule[];
}
interface Binding extends Manifest {
  roleRef: { kind: string; name: string };
  subjects: { kind: string; name: string; namespace: string }[];
}

const READ_VERBS = new Set(['get', 'list', 'watch']);

/** What the action catalog needs, as `group/resource:verb`; nothing else may be written. */
const CATALOG = new Set([
  'apps/deployments:patch', // k8s.rollback, k8s.rolloutRestart
  'apps/deployments/scale:get', // k8s.scale reads the current replicas first
  'apps/deployments/scale:patch', // k8s.scale
  'apps/deployments/scale:update',
  '/pods:delete', // k8s.deletePod
  '/nodes:patch', // k8s.cordonNode
]);

const READABLE = new Set([
  '/pods',
  '/pods/log',
  '/nodes',
  '/services',
  '/events',
  '/configmaps',
  '/namespaces',
  '/endpoints',
  'apps/deployments',
  'apps/statefulsets',
  'apps/daemonsets',
  'apps/replicasets',
  'batch/jobs',
  'autoscaling/horizontalpodautoscalers',
]);

/** Every (group/resource, verb) a role grants. */
function grants(role: Role): { resource: string; verb: string }[] {
  return role.rules.flatMap((rule) =>
    rule.apiGroups.flatMap((group) =>
      rule.resources.flatMap((resource) =>
        rule.verbs.map((verb) => ({ resource: `${group}/${resource}`, verb })),
      ),
    ),
  );
}

function roles(overrides: Values): Role[] {
  return renderManifests(overrides).filter((manifest): manifest is Role =>
    ['ClusterRole', 'Role'].includes(manifest.kind),
  );
}

function bindings(overrides: Values): Binding[] {
  return renderManifests(overrides).filter((manifest): manifest is Binding =>
    ['ClusterRoleBinding', 'RoleBinding'].includes(manifest.kind),
  );
}

describe('chart RBAC', () => {
  it.each([
    ['defaults', {}],
    ['actions enabled', { actions: { enabled: true } }],
  ])('never grants anything on secrets, nor wildcards (%s)', (_name, overrides: Values) => {
    const all = roles(overrides);
    expect(all.length).toBeGreaterThan(0);
    for (const role of all) {
      for (const rule of role.rules) {
        expect(
          rule.resources.some((resource) => resource.split('/')[0] === 'secrets'),
          role.metadata.name,
        ).toBe(false);
        for (const field of [rule.apiGroups, rule.resources, rule.verbs]) expect(field).not.toContain('*');
      }
    }
  });

  it('reads exactly the resources investigations use, with get, list and watch', () => {
    const read = findManifest<Role>(roles({}), 'ClusterRole', '-read');
    const granted = grants(read);
    expect(new Set(granted.map((grant) => grant.resource))).toEqual(READABLE);
    expect(new Set(granted.map((grant) => grant.verb))).toEqual(READ_VERBS);
    for (const resource of READABLE) {
      for (const verb of READ_VERBS) expect(granted).toContainEqual({ resource, verb });
    }
  });

  it('can list and watch every resource the Kubernetes watcher follows', () => {
    const granted = grants(findManifest<Role>(roles({}), 'ClusterRole', '-read'));
    for (const resource of WATCHED_RESOURCES) {
      const group = resource.apiVersion.includes('/') ? (resource.apiVersion.split('/')[0] as string) : '';
      const plural = resource.path.split('/').at(-1) as string;
      for (const verb of ['list', 'watch']) {
        expect(granted, `${verb} ${group}/${plural}`).toContainEqual({
          resource: `${group}/${plural}`,
          verb,
        });
      }
    }
  });

  it('grants no write permission by default', () => {
    const writes = roles({}).flatMap((role) => grants(role).filter((grant) => !READ_VERBS.has(grant.verb)));
    expect(writes).toEqual([]);
    expect(bindings({}).map((binding) => binding.roleRef.name)).toEqual(['nightshift-read']);
  });

  it('with actions enabled, grants exactly the action catalog in a separate role', () => {
    const overrides = { actions: { enabled: true } };
    const actions = findManifest<Role>(roles(overrides), 'ClusterRole', '-actions');
    expect(new Set(grants(actions).map((grant) => `${grant.resource}:${grant.verb}`))).toEqual(CATALOG);
    const writes = roles(overrides).flatMap((role) =>
      grants(role)
        .filter((grant) => !READ_VERBS.has(grant.verb))
        .map((grant) => `${grant.resource}:${grant.verb}`),
    );
    for (const write of writes) expect(CATALOG.has(write), write).toBe(true);
    const read = findManifest<Role>(roles(overrides), 'ClusterRole', '-read');
    expect(grants(read).every((grant) => READ_VERBS.has(grant.verb))).toBe(true);
  });

  it('adds restart and scale on StatefulSets only when asked', () => {
    const actions = findManifest<Role>(
      roles({ actions: { enabled: true, statefulSets: true } }),
      'ClusterRole',
      '-actions',
    );
    const extra = grants(actions)
      .map((grant) => `${grant.resource}:${grant.verb}`)
      .filter((grant) => !CATALOG.has(grant));
    expect(extra.sort()).toEqual([
      'apps/statefulsets/scale:get',
      'apps/statefulsets/scale:patch',
      'apps/statefulsets/scale:update',
      'apps/statefulsets:patch',
    ]);
  });

  it('binds each role to the chart’s service account in the release namespace', () => {
    const overrides = { actions: { enabled: true } };
    const bound = bindings(overrides);
    expect(bound.map((binding) => binding.roleRef.name).sort()).toEqual([
      'nightshift-actions',
      'nightshift-read',
    ]);
    const roleNames = new Set(roles(overrides).map((role) => role.metadata.name));
    const account = findManifest(renderManifests(overrides), 'ServiceAccount');
    for (const binding of bound) {
      expect(roleNames.has(binding.roleRef.name)).toBe(true);
      expect(binding.subjects).toEqual([
        { kind: 'ServiceAccount', name: account.metadata.name, namespace: 'sre' },
      ]);
    }
  });
});
