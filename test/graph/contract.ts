import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock, type Clock } from '../../src/shared/clock.js';
import { ValidationError } from '../../src/shared/errors.js';
import {
  clusterId,
  datastoreId,
  deployId,
  flagId,
  incidentId,
  k8sId,
  namespaceId,
  nodeId,
  serviceId,
  teamId,
} from '../../src/graph/ids.js';
import {
  MAX_PROPERTY_BYTES,
  type EntityInput,
  type EventInput,
  type RelationshipInput,
} from '../../src/graph/schema.js';
import type { GraphStore, PathStep } from '../../src/graph/store.js';

/** How a contract run gets stores: each test opens a fresh, empty one. */
export interface GraphStoreContractOptions {
  name: string;
  /** A new, empty store using `clock`. */
  open: (clock: Clock) => Promise<GraphStore>;
  /** Closes `store` and opens the same data again (embedded: the same directory; Neo4j: the same namespace). */
  reopen: (store: GraphStore, clock: Clock) => Promise<GraphStore>;
  /** Deletes what a test left, before the store is closed (a shared database keeps data otherwise). */
  discard?: (store: GraphStore) => Promise<void>;
  /** Set to skip the whole suite; the reason must have been printed. */
  skip?: string;
}

const T0 = Date.UTC(2026, 10, 22, 12, 0, 0);
const MINUTE = 60_000;

export const ids = {
  cluster: clusterId('c1'),
  namespace: namespaceId('c1', 'shop'),
  node1: nodeId('c1', 'n1'),
  node2: nodeId('c1', 'n2'),
  frontend: serviceId('frontend'),
  checkout: serviceId('checkout'),
  payments: serviceId('payments'),
  orders: datastoreId('postgres', 'orders'),
  flag: flagId('launchdarkly', 'new-checkout'),
  team: teamId('payments'),
  workload: k8sId('c1', 'shop', 'Deployment', 'checkout'),
  replicaSet: k8sId('c1', 'shop', 'ReplicaSet', 'checkout-5d8f'),
  pod1: k8sId('c1', 'shop', 'Pod', 'checkout-5d8f-a'),
  pod2: k8sId('c1', 'shop', 'Pod', 'checkout-5d8f-b'),
  config: k8sId('c1', 'shop', 'ConfigMap', 'checkout-config'),
  deploy: deployId(k8sId('c1', 'shop', 'Deployment', 'checkout'), 7),
  lonely: serviceId('lonely'),
};

function entity(id: string, kind: EntityInput['kind'], extra: Partial<EntityInput> = {}): EntityInput {
  return { id, kind, source: 'test', observedAt: T0, ...extra };
}

function edge(
  from: string,
  kind: RelationshipInput['kind'],
  to: string,
  extra: Partial<RelationshipInput> = {},
): RelationshipInput {
  return { from, kind, to, source: 'test', observedAt: T0, ...extra };
}

/** A small estate: a cluster with two nodes, three services, a datastore, a flag, a workload and its pods. */
export const estate = {
  entities: [
    entity(ids.cluster, 'Cluster'),
    entity(ids.namespace, 'Namespace'),
    entity(ids.node1, 'Node', { name: 'n1' }),
    entity(ids.node2, 'Node', { name: 'n2' }),
    entity(ids.frontend, 'Service', { name: 'frontend', properties: { tier: 'edge' } }),
    entity(ids.checkout, 'Service', { name: 'checkout', properties: { tier: 'core', port: 8080 } }),
    entity(ids.payments, 'Service', { name: 'payments', properties: { tier: 'core' } }),
    entity(ids.orders, 'Datastore', { name: 'orders' }),
    entity(ids.flag, 'FeatureFlag', { name: 'new-checkout' }),
    entity(ids.team, 'Team', { name: 'payments' }),
    entity(ids.workload, 'Workload', {
      name: 'checkout',
      properties: { workloadKind: 'Deployment', replicas: 2 },
    }),
    entity(ids.replicaSet, 'ReplicaSet'),
    entity(ids.pod1, 'Pod', { properties: { phase: 'Running' } }),
    entity(ids.pod2, 'Pod', { properties: { phase: 'Pending' } }),
    entity(ids.config, 'ConfigMap', { properties: { contentHash: 'sha256:abc' } }),
    entity(ids.deploy, 'Deploy', { properties: { revision: 7 } }),
    entity(ids.lonely, 'Service'),
  ] satisfies EntityInput[],
  relationships: [
    edge(ids.namespace, 'PART_OF', ids.cluster),
    edge(ids.node1, 'PART_OF', ids.cluster),
    edge(ids.node2, 'PART_OF', ids.cluster),
    edge(ids.frontend, 'CALLS', ids.checkout),
    edge(ids.checkout, 'CALLS', ids.payments),
    edge(ids.checkout, 'DEPENDS_ON', ids.orders),
    edge(ids.checkout, 'DEPENDS_ON', ids.flag, { confidence: 0.6, source: 'inferred:code' }),
    edge(ids.checkout, 'OWNED_BY', ids.team),
    edge(ids.workload, 'PART_OF', ids.checkout),
    edge(ids.workload, 'MANAGES', ids.replicaSet),
    edge(ids.workload, 'DEPENDS_ON', ids.config),
    edge(ids.replicaSet, 'MANAGES', ids.pod1),
    edge(ids.replicaSet, 'MANAGES', ids.pod2),
    edge(ids.checkout, 'SELECTS', ids.pod1),
    edge(ids.checkout, 'SELECTS', ids.pod2),
    edge(ids.pod1, 'RUNS_ON', ids.node1),
    edge(ids.pod2, 'RUNS_ON', ids.node2),
    edge(ids.deploy, 'DEPLOYED', ids.workload),
  ] satisfies RelationshipInput[],
};

function event(
  id: string,
  kind: EventInput['kind'],
  entityId: string,
  at: number,
  extra: Partial<EventInput> = {},
): EventInput {
  return { id, kind, entityId, at, source: 'test', ...extra };
}

const step = (from: string, kind: PathStep['kind'], to: string): Pick<PathStep, 'from' | 'kind' | 'to'> => ({
  from,
  kind,
  to,
});

function steps(path: readonly PathStep[]): Array<Pick<PathStep, 'from' | 'kind' | 'to'>> {
  return path.map(({ from, kind, to }) => ({ from, kind, to }));
}

async function rejection(promise: Promise<unknown>): Promise<ValidationError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(ValidationError);
  return error as ValidationError;
}

/**
 * The behaviour every `GraphStore` must have. Each backend's test file calls this once; every
 * test opens its own empty store.
 */
export function runGraphStoreContract(options: GraphStoreContractOptions): void {
  describe.skipIf(options.skip !== undefined)(`GraphStore contract: ${options.name}`, () => {
    let open: GraphStore[] = [];
    let clock: ManualClock;

    async function fresh(): Promise<GraphStore> {
      clock = new ManualClock(T0);
      const store = await options.open(clock);
      open.push(store);
      return store;
    }

    async function withEstate(): Promise<GraphStore> {
      const store = await fresh();
      await store.upsertEntities(estate.entities);
      await store.upsertRelationships(estate.relationships);
      return store;
    }

    afterEach(async () => {
      const stores = open;
      open = [];
      for (const store of stores) {
        if (options.discard && (await store.health()) === 'ok') await options.discard(store);
        await store.close();
      }
    });

    describe('writes', () => {
      it('stores entities with provenance and reads them back', async () => {
        const store = await withEstate();
        const checkout = await store.get(ids.checkout);
        expect(checkout).toEqual({
          id: ids.checkout,
          kind: 'Service',
          name: 'checkout',
          properties: { tier: 'core', port: 8080 },
          provenance: { source: 'test', confidence: 1, firstSeen: T0, lastSeen: T0 },
        });
        expect(await store.get('service:nope')).toBeNull();
      });

      it('counts what it holds', async () => {
        const store = await withEstate();
        await store.recordEvents([event('e1', 'deploy', ids.workload, T0)]);
        const stats = await store.stats();
        expect(stats.backend).toBe(store.backend);
        expect(stats.schemaVersion).toBe(1);
        expect(stats.entities).toBe(estate.entities.length);
        expect(stats.relationships).toBe(estate.relationships.length);
        expect(stats.events).toBe(1);
        expect(stats.entitiesByKind).toMatchObject({ Service: 4, Pod: 2, Node: 2, Cluster: 1 });
        expect(stats.relationshipsByKind).toMatchObject({ PART_OF: 4, MANAGES: 3, CALLS: 2, RUNS_ON: 2 });
      });

      it('is idempotent: writing the same batches again changes nothing', async () => {
        const store = await withEstate();
        const events = [event('e1', 'deploy', ids.workload, T0), event('e2', 'flag-flip', ids.flag, T0 + 1)];
        await store.recordEvents(events);
        const before = { stats: await store.stats(), checkout: await store.get(ids.checkout) };
        const neighborsBefore = await store.neighbors(ids.checkout, { depth: 2 });
        clock.advance(5 * MINUTE);
        await store.upsertEntities(estate.entities);
        await store.upsertRelationships(estate.relationships);
        await store.recordEvents(events);
        expect(await store.stats()).toEqual(before.stats);
        expect(await store.get(ids.checkout)).toEqual(before.checkout);
        expect(await store.neighbors(ids.checkout, { depth: 2 })).toEqual(neighborsBefore);
        expect(await store.events(ids.workload)).toHaveLength(1);
      });

      it('merges entity writes: sets given properties, removes null ones, keeps the rest; min/max of seen times', async () => {
        const store = await withEstate();
        await store.upsertEntities([
          {
            id: ids.checkout,
            kind: 'Service',
            source: 'datadog',
            confidence: 0.9,
            observedAt: T0 + 10 * MINUTE,
            properties: { port: null, language: 'go', tags: ['a', 'b'] },
          },
        ]);
        await store.upsertEntities([
          entity(ids.checkout, 'Service', { observedAt: T0 - MINUTE, source: 'kubernetes' }),
        ]);
        expect(await store.get(ids.checkout)).toEqual({
          id: ids.checkout,
          kind: 'Service',
          name: 'checkout',
          properties: { tier: 'core', language: 'go', tags: ['a', 'b'] },
          provenance: {
            source: 'kubernetes',
            confidence: 1,
            firstSeen: T0 - MINUTE,
            lastSeen: T0 + 10 * MINUTE,
          },
        });
      });

      it('defaults observedAt to the clock and confidence to 1', async () => {
        const store = await fresh();
        clock.set(T0 + 42_000);
        await store.upsertEntities([{ id: ids.frontend, kind: 'Service', source: 'test' }]);
        expect((await store.get(ids.frontend))?.provenance).toEqual({
          source: 'test',
          confidence: 1,
          firstSeen: T0 + 42_000,
          lastSeen: T0 + 42_000,
        });
      });

      it('keeps provenance on edges, one edge per (from, kind, to)', async () => {
        const store = await withEstate();
        await store.upsertRelationships([
          edge(ids.checkout, 'DEPENDS_ON', ids.flag, {
            confidence: 0.7,
            source: 'inferred:traces',
            observedAt: T0 + MINUTE,
          }),
        ]);
        const stats = await store.stats();
        expect(stats.relationships).toBe(estate.relationships.length);
        const [reached] = await store.neighbors(ids.checkout, {
          kinds: ['DEPENDS_ON'],
          direction: 'out',
          entityKinds: ['FeatureFlag'],
        });
        expect(reached?.path).toEqual([
          { from: ids.checkout, kind: 'DEPENDS_ON', to: ids.flag, confidence: 0.7 },
        ]);
      });

      it('replaces an event written again under the same id', async () => {
        const store = await withEstate();
        await store.recordEvents([event('e1', 'deploy', ids.workload, T0, { summary: 'v1' })]);
        await store.recordEvents([
          event('e1', 'deploy', ids.workload, T0 + MINUTE, { summary: 'v2', properties: { image: 'x:2' } }),
        ]);
        const events = await store.events(ids.workload);
        expect(events).toEqual([
          {
            id: 'e1',
            kind: 'deploy',
            entityId: ids.workload,
            at: T0 + MINUTE,
            summary: 'v2',
            properties: { image: 'x:2' },
            source: 'test',
            confidence: 1,
          },
        ]);
        expect((await store.stats()).events).toBe(1);
      });

      it('accepts events on entities it does not know yet', async () => {
        const store = await fresh();
        await store.recordEvents([event('e1', 'alert-fired', 'alert:datadog/123', T0)]);
        expect(await store.events('alert:datadog/123')).toHaveLength(1);
      });

      it('treats an empty batch as nothing to do', async () => {
        const store = await fresh();
        expect(await store.upsertEntities([])).toEqual({ written: 0 });
        expect(await store.upsertRelationships([])).toEqual({ written: 0 });
        expect(await store.recordEvents([])).toEqual({ written: 0 });
      });

      it('keeps everything across close and reopen', async () => {
        const store = await withEstate();
        await store.recordEvents([event('e1', 'deploy', ids.workload, T0)]);
        const before = await store.stats();
        open = open.filter((item) => item !== store);
        const reopened = await options.reopen(store, clock);
        open.push(reopened);
        expect(await reopened.stats()).toEqual(before);
        expect(await reopened.get(ids.checkout)).toMatchObject({
          name: 'checkout',
          properties: { port: 8080 },
        });
        expect(await reopened.events(ids.workload)).toHaveLength(1);
      });
      it('writes entities, relationships and events together, ends within the write; kept across reopen', async () => {
        const store = await withEstate();
        const alert = 'alert:prometheus/abc';
        const together = {
          entities: [entity(alert, 'Alert', { name: 'HighErrorRate', properties: { status: 'firing' } })],
          relationships: [edge(alert, 'AFFECTS', ids.checkout)],
          events: [event('fired-1', 'alert-fired', alert, T0 + 1)],
        };
        expect(await store.write(together)).toEqual({ written: 3 });
        const after = await store.stats();
        expect(after.entities).toBe(estate.entities.length + 1);
        expect(after.relationships).toBe(estate.relationships.length + 1);
        expect(after.events).toBe(1);
        expect(await store.write(together)).toEqual({ written: 3 });
        expect(await store.stats()).toEqual(after);
        expect(await store.write({})).toEqual({ written: 0 });
        open = open.filter((item) => item !== store);
        const reopened = await options.reopen(store, clock);
        open.push(reopened);
        expect(await reopened.stats()).toEqual(after);
        expect(await reopened.get(alert)).toMatchObject({ kind: 'Alert', properties: { status: 'firing' } });
        expect((await reopened.neighbors(alert)).map((reached) => reached.entity.id)).toEqual([ids.checkout]);
        expect((await reopened.events(alert)).map((one) => one.id)).toEqual(['fired-1']);
      });

      it('reads several entities at once, in the order asked, each once, skipping unknown ids', async () => {
        const store = await withEstate();
        const found = await store.getMany([ids.payments, 'service:nope', ids.checkout, ids.payments]);
        expect(found.map((one) => one.id)).toEqual([ids.payments, ids.checkout]);
        expect(found[1]).toEqual(await store.get(ids.checkout));
        expect(await store.getMany([])).toEqual([]);
      });
    });

    describe('bad input: the whole batch is rejected and nothing of it is stored', () => {
      it('names the item and field of a missing id, an unknown kind and an oversized property', async () => {
        const store = await fresh();
        const error = await rejection(
          store.upsertEntities([
            entity(ids.frontend, 'Service'),
            { kind: 'Service', source: 'test' } as unknown as EntityInput,
            entity('service:x', 'Gadget' as EntityInput['kind']),
            entity(ids.checkout, 'Service', { properties: { blob: 'x'.repeat(MAX_PROPERTY_BYTES + 1) } }),
          ]),
        );
        const paths = error.issues.map((issue) => issue.path);
        expect(paths).toEqual(expect.arrayContaining(['[1].id', '[2].kind', '[3].properties.blob']));
        expect(error.issues.find((issue) => issue.path === '[3].properties.blob')?.message).toContain(
          ids.checkout,
        );
        expect(error.issues.find((issue) => issue.path === '[2].kind')?.message).toContain('service:x');
        expect(await store.get(ids.frontend)).toBeNull();
        expect((await store.stats()).entities).toBe(0);
      });

      it('rejects reserved and malformed property names and nested values', async () => {
        const store = await fresh();
        const error = await rejection(
          store.upsertEntities([
            entity(ids.frontend, 'Service', { properties: { kind: 'x' } }),
            entity(ids.checkout, 'Service', { properties: { 'bad name': 1 } }),
            entity(ids.payments, 'Service', {
              properties: { nested: { a: 1 } } as unknown as Record<string, string>,
            }),
            entity(ids.orders, 'Datastore', {
              properties: { mixed: [1, 'a'] } as unknown as Record<string, string>,
            }),
          ]),
        );
        expect(error.issues.map((issue) => issue.path)).toEqual([
          '[0].properties.kind',
          '[1].properties.bad name',
          '[2].properties.nested',
          '[3].properties.mixed',
        ]);
        expect((await store.stats()).entities).toBe(0);
      });

      it('rejects a batch that would change the kind of an existing id', async () => {
        const store = await withEstate();
        const error = await rejection(
          store.upsertEntities([entity('service:new', 'Service'), entity(ids.checkout, 'Datastore')]),
        );
        expect(error.issues[0]?.path).toBe('[1].kind');
        expect(error.issues[0]?.message).toContain(ids.checkout);
        expect(await store.get('service:new')).toBeNull();
        expect((await store.get(ids.checkout))?.kind).toBe('Service');
      });

      it('rejects a relationship batch with an unknown end, writing none of it', async () => {
        const store = await withEstate();
        const error = await rejection(
          store.upsertRelationships([
            edge(ids.lonely, 'CALLS', ids.payments),
            edge(ids.lonely, 'CALLS', 'service:ghost'),
          ]),
        );
        expect(error.issues[0]?.path).toBe('[1].to');
        expect(error.issues[0]?.message).toContain('service:ghost');
        expect(await store.neighbors(ids.lonely)).toEqual([]);
        expect((await store.stats()).relationships).toBe(estate.relationships.length);
      });

      it('rejects bad relationships and events by item and field', async () => {
        const store = await withEstate();
        const relationshipError = await rejection(
          store.upsertRelationships([
            edge(ids.frontend, 'CALLS', ids.payments),
            edge(ids.frontend, 'LIKES' as RelationshipInput['kind'], ids.payments),
            edge(ids.frontend, 'CALLS', ids.payments, { confidence: 1.5 }),
          ]),
        );
        expect(relationshipError.issues.map((issue) => issue.path)).toEqual(['[1].kind', '[2].confidence']);
        const eventError = await rejection(
          store.recordEvents([
            event('ok', 'deploy', ids.workload, T0),
            { id: 'e2', kind: 'deploy', entityId: ids.workload, source: 'test' } as unknown as EventInput,
          ]),
        );
        expect(eventError.issues.map((issue) => issue.path)).toEqual(['[1].at']);
        expect((await store.stats()).relationships).toBe(estate.relationships.length);
        expect(await store.events(ids.workload)).toEqual([]);
      });

      it('rejects a write with bad items in any part by part, item and field, storing none of it', async () => {
        const store = await withEstate();
        const error = await rejection(
          store.write({
            entities: [entity('service:new', 'Service'), { kind: 'Service', source: 'test' } as EntityInput],
            relationships: [edge(ids.frontend, 'LIKES' as RelationshipInput['kind'], ids.payments)],
            events: [{ id: 'e1', kind: 'deploy', entityId: ids.workload, source: 'test' } as EventInput],
          }),
        );
        expect(error.issues.map((issue) => issue.path)).toEqual([
          'entities[1].id',
          'relationships[0].kind',
          'events[0].at',
        ]);
        expect(await store.get('service:new')).toBeNull();
        expect(await store.events(ids.workload)).toEqual([]);
      });

      it('rejects a write that changes a kind or names an unknown end, storing none of it', async () => {
        const store = await withEstate();
        const kindChange = await rejection(
          store.write({
            entities: [entity('service:new', 'Service'), entity(ids.checkout, 'Datastore')],
            events: [event('e1', 'deploy', ids.workload, T0)],
          }),
        );
        expect(kindChange.issues[0]?.path).toBe('entities[1].kind');
        expect(kindChange.issues[0]?.message).toContain(ids.checkout);
        const missingEnd = await rejection(
          store.write({
            entities: [entity('service:new', 'Service')],
            relationships: [
              edge('service:new', 'CALLS', ids.payments),
              edge('service:new', 'CALLS', 'service:ghost'),
            ],
            events: [event('e1', 'deploy', ids.workload, T0)],
          }),
        );
        expect(missingEnd.issues[0]?.path).toBe('relationships[1].to');
        expect(missingEnd.issues[0]?.message).toContain('service:ghost');
        expect(await store.get('service:new')).toBeNull();
        expect((await store.get(ids.checkout))?.kind).toBe('Service');
        expect(await store.events(ids.workload)).toEqual([]);
        expect((await store.stats()).relationships).toBe(estate.relationships.length);
      });

      it('rejects bad query arguments', async () => {
        const store = await withEstate();
        await rejection(store.blastRadius(ids.checkout, { maxDepth: 99 }));
        await rejection(store.neighbors(ids.checkout, { kinds: ['NOPE' as 'CALLS'] }));
        await rejection(store.recentChanges([ids.checkout], { window: 'soon' }));
        await rejection(store.find({ kind: 'Pod', where: { 'a b': 1 } }));
        await rejection(store.similarIncidents(['a'], 0));
      });
    });

    describe('neighbors', () => {
      it('follows both directions one hop by default', async () => {
        const store = await withEstate();
        const result = await store.neighbors(ids.checkout);
        expect(result.map((item) => item.entity.id)).toEqual(
          [
            ids.orders,
            ids.flag,
            ids.pod1,
            ids.pod2,
            ids.workload,
            ids.frontend,
            ids.payments,
            ids.team,
          ].sort(),
        );
        expect(result.every((item) => item.distance === 1)).toBe(true);
      });

      it('filters by relationship kind, direction, depth and entity kind', async () => {
        const store = await withEstate();
        const out = await store.neighbors(ids.frontend, { kinds: ['CALLS'], direction: 'out', depth: 2 });
        expect(out.map((item) => [item.entity.id, item.distance])).toEqual([
          [ids.checkout, 1],
          [ids.payments, 2],
        ]);
        expect(steps(out[1]?.path ?? [])).toEqual([
          step(ids.frontend, 'CALLS', ids.checkout),
          step(ids.checkout, 'CALLS', ids.payments),
        ]);
        const incoming = await store.neighbors(ids.payments, { kinds: ['CALLS'], direction: 'in' });
        expect(incoming.map((item) => item.entity.id)).toEqual([ids.checkout]);
        const pods = await store.neighbors(ids.workload, { depth: 2, entityKinds: ['Pod'] });
        expect(pods.map((item) => item.entity.id)).toEqual([ids.pod1, ids.pod2]);
        expect(await store.neighbors('service:nope')).toEqual([]);
      });

      it('reaches entities of a stopAt kind without walking on from them, taking a path around', async () => {
        const store = await withEstate();
        const kinds = ['MANAGES', 'SELECTS', 'RUNS_ON'] as const;
        const all = await store.neighbors(ids.pod1, { depth: 2, kinds: [...kinds] });
        const pod2 = all.find((item) => item.entity.id === ids.pod2);
        // Of two equal paths the one through the smaller id is kept: the ReplicaSet's.
        expect(steps(pod2?.path ?? [])).toEqual([
          step(ids.replicaSet, 'MANAGES', ids.pod1),
          step(ids.replicaSet, 'MANAGES', ids.pod2),
        ]);
        const around = await store.neighbors(ids.pod1, {
          depth: 2,
          kinds: [...kinds],
          stopAt: ['ReplicaSet'],
        });
        expect(new Map(around.map((item) => [item.entity.id, item.distance]))).toEqual(
          new Map([
            [ids.replicaSet, 1],
            [ids.node1, 1],
            [ids.checkout, 1],
            [ids.pod2, 2],
          ]),
        );
        expect(steps(around.find((item) => item.entity.id === ids.pod2)?.path ?? [])).toEqual([
          step(ids.checkout, 'SELECTS', ids.pod1),
          step(ids.checkout, 'SELECTS', ids.pod2),
        ]);
        const walled = await store.neighbors(ids.pod1, {
          depth: 2,
          kinds: [...kinds],
          stopAt: ['ReplicaSet', 'Service'],
        });
        expect(walled.map((item) => item.entity.id).sort()).toEqual(
          [ids.replicaSet, ids.checkout, ids.node1].sort(),
        );
        await rejection(store.neighbors(ids.pod1, { stopAt: ['Nope' as 'Pod'] }));
      });

      it('honours the limit, nearest first', async () => {
        const store = await withEstate();
        const result = await store.neighbors(ids.checkout, { depth: 3, limit: 3 });
        expect(result).toHaveLength(3);
        expect(result.every((item) => item.distance === 1)).toBe(true);
      });
    });

    describe('blast radius', () => {
      it('downstream of a node: the pods on it, the service selecting them, its callers, with paths', async () => {
        const store = await withEstate();
        const result = await store.blastRadius(ids.node1, { direction: 'downstream', maxDepth: 3 });
        // A node is part of its cluster (PART_OF: a failing part impairs the whole).
        expect(result.map((item) => [item.entity.id, item.distance])).toEqual([
          [ids.cluster, 1],
          [ids.pod1, 1],
          [ids.checkout, 2],
          [ids.frontend, 3],
        ]);
        expect(steps(result[3]?.path ?? [])).toEqual([
          step(ids.pod1, 'RUNS_ON', ids.node1),
          step(ids.checkout, 'SELECTS', ids.pod1),
          step(ids.frontend, 'CALLS', ids.checkout),
        ]);
        const shallow = await store.blastRadius(ids.node1, { maxDepth: 2 });
        expect(shallow.map((item) => item.entity.id)).toEqual([ids.cluster, ids.pod1, ids.checkout]);
      });

      it('downstream of a deploy reaches what it rolled out to, and the pods', async () => {
        const store = await withEstate();
        const result = await store.blastRadius(ids.deploy, { maxDepth: 3 });
        expect(result.map((item) => [item.entity.id, item.distance])).toEqual([
          [ids.workload, 1],
          [ids.replicaSet, 2],
          [ids.checkout, 2],
          [ids.pod1, 3],
          [ids.pod2, 3],
          [ids.frontend, 3],
        ]);
      });

      it('upstream of a service: what it depends on, never owners or bookkeeping edges', async () => {
        const store = await withEstate();
        const result = await store.blastRadius(ids.frontend, { direction: 'upstream', maxDepth: 3 });
        const byId = new Map(result.map((item) => [item.entity.id, item]));
        expect(byId.get(ids.checkout)?.distance).toBe(1);
        expect(byId.get(ids.payments)?.distance).toBe(2);
        expect(byId.get(ids.flag)?.distance).toBe(2);
        expect(byId.get(ids.workload)?.distance).toBe(2);
        expect(byId.get(ids.config)?.distance).toBe(3);
        expect(byId.get(ids.node1)?.distance).toBe(3);
        expect(byId.has(ids.team)).toBe(false);
        // The replica set is reached at depth 3 from both pods; the path goes through the smaller id.
        expect(steps(byId.get(ids.replicaSet)?.path ?? [])).toEqual([
          step(ids.frontend, 'CALLS', ids.checkout),
          step(ids.checkout, 'SELECTS', ids.pod1),
          step(ids.replicaSet, 'MANAGES', ids.pod1),
        ]);
        const distances = result.map((item) => item.distance);
        expect(distances).toEqual([...distances].sort((a, b) => a - b));
      });

      it('both ways, limited, and empty for an unknown or isolated id', async () => {
        const store = await withEstate();
        const both = await store.blastRadius(ids.checkout, { direction: 'both', maxDepth: 1 });
        expect(both.map((item) => item.entity.id)).toEqual(
          [ids.frontend, ids.payments, ids.orders, ids.flag, ids.workload, ids.pod1, ids.pod2].sort(),
        );
        expect(
          await store.blastRadius(ids.checkout, { direction: 'both', maxDepth: 3, limit: 2 }),
        ).toHaveLength(2);
        expect(await store.blastRadius(ids.lonely)).toEqual([]);
        expect(await store.blastRadius('service:nope')).toEqual([]);
      });
    });

    describe('recent changes', () => {
      it('ranks changes by graph distance, then newest first, within the window', async () => {
        const store = await withEstate();
        await store.recordEvents([
          event('frontend-deploy', 'deploy', ids.frontend, T0 - 30 * MINUTE),
          event('checkout-scale', 'scale', ids.checkout, T0 - 50 * MINUTE),
          event('flag-flip', 'flag-flip', ids.flag, T0 - 5 * MINUTE),
          event('workload-deploy', 'deploy', ids.workload, T0 - 2 * MINUTE),
          event('config-change', 'config-change', ids.config, T0 - MINUTE),
          event('node-pressure', 'node-event', ids.node1, T0 - 3 * MINUTE),
          event('old-deploy', 'deploy', ids.workload, T0 - 3 * 60 * MINUTE),
          event('an-alert', 'alert-fired', ids.checkout, T0 - MINUTE),
          event('elsewhere', 'deploy', ids.lonely, T0 - MINUTE),
          event('future', 'deploy', ids.checkout, T0 + MINUTE),
        ]);
        const changes = await store.recentChanges([ids.frontend], { window: '1h', maxDepth: 3 });
        expect(changes.map((change) => [change.event.id, change.distance])).toEqual([
          ['frontend-deploy', 0],
          ['checkout-scale', 1],
          ['workload-deploy', 2],
          ['flag-flip', 2],
          ['config-change', 3],
          ['node-pressure', 3],
        ]);
        expect(steps(changes[4]?.path ?? [])).toEqual([
          step(ids.frontend, 'CALLS', ids.checkout),
          step(ids.workload, 'PART_OF', ids.checkout),
          step(ids.workload, 'DEPENDS_ON', ids.config),
        ]);
        expect(changes[0]?.path).toEqual([]);
      });

      it('defaults to two hops and the store clock, and takes kinds, several ids and a limit', async () => {
        const store = await withEstate();
        await store.recordEvents([
          event('workload-deploy', 'deploy', ids.workload, T0 - 2 * MINUTE),
          event('config-change', 'config-change', ids.config, T0 - MINUTE),
          event('an-alert', 'alert-fired', ids.payments, T0 - MINUTE),
        ]);
        clock.set(T0);
        const near = await store.recentChanges([ids.frontend], { window: 10 * MINUTE });
        expect(near.map((change) => change.event.id)).toEqual(['workload-deploy']);
        const alerts = await store.recentChanges([ids.frontend], { window: '10m', kinds: ['alert-fired'] });
        expect(alerts.map((change) => change.event.id)).toEqual(['an-alert']);
        const several = await store.recentChanges([ids.payments, ids.workload], { window: '10m', now: T0 });
        expect(several.map((change) => [change.event.id, change.distance])).toEqual([
          ['workload-deploy', 0],
          ['config-change', 1],
        ]);
        expect(await store.recentChanges([ids.workload], { window: '10m', limit: 1 })).toHaveLength(1);
        expect(await store.recentChanges([ids.workload], { window: '10m', now: T0 - 30 * MINUTE })).toEqual(
          [],
        );
      });
    });

    describe('similar incidents', () => {
      it('ranks incidents by Jaccard similarity of their signatures', async () => {
        const store = await fresh();
        await store.upsertEntities([
          entity(incidentId('i1'), 'Incident', { properties: { signature: ['a', 'b', 'c'] } }),
          entity(incidentId('i2'), 'Incident', { properties: { signature: ['B', ' a ', 'a'] } }),
          entity(incidentId('i3'), 'Incident', { properties: { signature: ['x'] } }),
          entity(incidentId('i4'), 'Incident', {
            properties: { signature: ['a', 'b'] },
            observedAt: T0 + MINUTE,
          }),
          entity(incidentId('i5'), 'Incident'),
        ]);
        expect((await store.get(incidentId('i2')))?.properties.signature).toEqual(['a', 'b']);
        const similar = await store.similarIncidents(['A', 'b'], 5);
        expect(similar.map((match) => [match.incident.id, match.score])).toEqual([
          [incidentId('i4'), 1],
          [incidentId('i2'), 1],
          [incidentId('i1'), 2 / 3],
        ]);
        expect(similar[2]?.shared).toEqual(['a', 'b']);
        expect(await store.similarIncidents(['a', 'b'], 1)).toHaveLength(1);
        expect(await store.similarIncidents(['zzz'], 3)).toEqual([]);
      });

      it('follows signature changes and expiry', async () => {
        const store = await fresh();
        await store.upsertEntities([
          entity(incidentId('i1'), 'Incident', { properties: { signature: ['a'] } }),
        ]);
        await store.upsertEntities([
          entity(incidentId('i1'), 'Incident', { properties: { signature: ['b'] } }),
        ]);
        expect(await store.similarIncidents(['a'], 3)).toEqual([]);
        expect((await store.similarIncidents(['b'], 3)).map((match) => match.incident.id)).toEqual([
          incidentId('i1'),
        ]);
        await store.expire('Incident', T0 + 1);
        expect(await store.similarIncidents(['b'], 3)).toEqual([]);
      });
    });

    describe('explain path', () => {
      it('finds one shortest path ignoring direction', async () => {
        const store = await withEstate();
        const path = await store.explainPath(ids.frontend, ids.node2);
        expect(steps(path ?? [])).toEqual([
          step(ids.frontend, 'CALLS', ids.checkout),
          step(ids.checkout, 'SELECTS', ids.pod2),
          step(ids.pod2, 'RUNS_ON', ids.node2),
        ]);
        const reverse = await store.explainPath(ids.node2, ids.frontend);
        expect(reverse).toHaveLength(3);
        expect(steps(reverse ?? [])[0]).toEqual(step(ids.pod2, 'RUNS_ON', ids.node2));
      });

      it('is empty from an entity to itself, null when unreachable, too far or unknown', async () => {
        const store = await withEstate();
        expect(await store.explainPath(ids.checkout, ids.checkout)).toEqual([]);
        expect(await store.explainPath(ids.frontend, ids.lonely)).toBeNull();
        expect(await store.explainPath(ids.frontend, ids.node2, { maxDepth: 2 })).toBeNull();
        expect(await store.explainPath(ids.frontend, 'service:nope')).toBeNull();
        const viaCalls = await store.explainPath(ids.frontend, ids.payments, { kinds: ['CALLS'] });
        expect(viaCalls).toHaveLength(2);
        expect(await store.explainPath(ids.frontend, ids.node2, { kinds: ['CALLS'] })).toBeNull();
      });
    });

    describe('events and find', () => {
      it('reads events of an entity newest first, by time range and kind', async () => {
        const store = await withEstate();
        await store.recordEvents([
          event('e3', 'restart', ids.pod1, T0 + 3 * MINUTE),
          event('e1', 'restart', ids.pod1, T0 + MINUTE),
          event('e2', 'k8s-event', ids.pod1, T0 + 2 * MINUTE, { properties: { reason: 'BackOff' } }),
          event('other', 'restart', ids.pod2, T0),
        ]);
        expect((await store.events(ids.pod1)).map((item) => item.id)).toEqual(['e3', 'e2', 'e1']);
        expect((await store.events(ids.pod1, { kinds: ['restart'] })).map((item) => item.id)).toEqual([
          'e3',
          'e1',
        ]);
        expect(
          (await store.events(ids.pod1, { since: T0 + 2 * MINUTE, until: T0 + 2 * MINUTE })).map(
            (item) => item.id,
          ),
        ).toEqual(['e2']);
        expect((await store.events(ids.pod1, { limit: 1 })).map((item) => item.id)).toEqual(['e3']);
        expect(await store.events('service:nope')).toEqual([]);
      });

      it('reads an entity with its events in one call, as events reads them', async () => {
        const store = await withEstate();
        await store.recordEvents([
          event('d1', 'deploy', ids.workload, T0),
          event('s1', 'scale', ids.workload, T0 + MINUTE),
          event('d2', 'deploy', ids.workload, T0 + 2 * MINUTE),
        ]);
        const found = await store.getWithEvents(ids.workload, { kinds: ['deploy'], limit: 5 });
        expect(found?.entity).toEqual(await store.get(ids.workload));
        expect(found?.events).toEqual(await store.events(ids.workload, { kinds: ['deploy'], limit: 5 }));
        expect(found?.events.map((one) => one.id)).toEqual(['d2', 'd1']);
        expect((await store.getWithEvents(ids.workload, { limit: 1 }))?.events.map((one) => one.id)).toEqual([
          'd2',
        ]);
        expect(await store.getWithEvents(ids.checkout)).toEqual({
          entity: await store.get(ids.checkout),
          events: [],
        });
        // Events on an id with no entity are not enough: there is nothing to return them with.
        await store.recordEvents([event('x1', 'alert-fired', 'alert:nowhere/1', T0)]);
        expect(await store.getWithEvents('alert:nowhere/1')).toBeNull();
      });

      it('finds entities by kind and property equality, by id', async () => {
        const store = await withEstate();
        expect((await store.find({ kind: 'Pod' })).map((item) => item.id)).toEqual([ids.pod1, ids.pod2]);
        expect(
          (await store.find({ kind: 'Pod', where: { phase: 'Pending' } })).map((item) => item.id),
        ).toEqual([ids.pod2]);
        expect(
          (await store.find({ kind: 'Service', where: { tier: 'core', port: 8080 } })).map((item) => item.id),
        ).toEqual([ids.checkout]);
        expect(
          (await store.find({ kind: 'Service', where: { name: 'payments' } })).map((item) => item.id),
        ).toEqual([ids.payments]);
        expect(await store.find({ kind: 'Service', limit: 2 })).toHaveLength(2);
        expect(await store.find({ kind: 'Runbook' })).toEqual([]);
      });
    });

    describe('expiry', () => {
      it('removes entities last seen before the cut-off, with their edges and events; idempotent', async () => {
        const store = await withEstate();
        await store.upsertEntities([entity(ids.pod2, 'Pod', { observedAt: T0 + 60 * MINUTE })]);
        await store.recordEvents([
          event('p1-restart', 'restart', ids.pod1, T0),
          event('p2-restart', 'restart', ids.pod2, T0),
        ]);
        expect(await store.expire('Pod', T0 + 30 * MINUTE)).toBe(1);
        expect(await store.get(ids.pod1)).toBeNull();
        expect(await store.get(ids.pod2)).not.toBeNull();
        expect(await store.events(ids.pod1)).toEqual([]);
        expect(await store.events(ids.pod2)).toHaveLength(1);
        const stats = await store.stats();
        expect(stats.entities).toBe(estate.entities.length - 1);
        expect(stats.relationships).toBe(estate.relationships.length - 3);
        expect(stats.events).toBe(1);
        expect(stats.entitiesByKind.Pod).toBe(1);
        expect((await store.blastRadius(ids.node1)).map((item) => item.entity.id)).toEqual([ids.cluster]);
        expect(await store.expire('Pod', T0 + 30 * MINUTE)).toBe(0);
        expect(await store.expire('Runbook', T0 + 30 * MINUTE)).toBe(0);
      });
    });

    describe('lifecycle', () => {
      it('reports health, closes twice, and refuses calls after close', async () => {
        const store = await fresh();
        expect(await store.health()).toBe('ok');
        await store.close();
        await store.close();
        expect(await store.health()).toBe('down');
        await expect(store.get(ids.checkout)).rejects.toMatchObject({ code: 'graph_closed' });
        await expect(store.upsertEntities([entity(ids.frontend, 'Service')])).rejects.toMatchObject({
          code: 'graph_closed',
        });
      });
    });
  });
}
