import neo4j from 'neo4j-driver';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate, NEO4J_SCHEMA_VERSION } from '../../src/graph/neo4j/migrations.js';
import { Neo4jGraphStore } from '../../src/graph/neo4j/neo4j-store.js';
import { ManualClock } from '../../src/shared/clock.js';
import { silentLogger } from '../../src/shared/logger.js';
import { freePort } from '../kit/ports.js';
import { neo4jSkipReason, neo4jUri, openTestStore, uniqueNamespace } from './neo4j-kit.js';

const T0 = Date.UTC(2026, 10, 22);
const skip = neo4jSkipReason('neo4j-store.test.ts');

describe('Neo4j store: unreachable', () => {
  it('reports down, fails calls after the operation timeout as retryable, and never falls back', async () => {
    const port = await freePort();
    const store = await Neo4jGraphStore.open({
      uri: `bolt://127.0.0.1:${port}`,
      logger: silentLogger(),
      clock: new ManualClock(T0),
      operationTimeoutMs: 800,
      retry: { initialMs: 50, maxMs: 200 },
    });
    try {
      expect(store.backend).toBe('neo4j');
      expect(await store.health()).toBe('down');
      await expect(store.ready(300)).rejects.toMatchObject({ code: 'graph_unavailable', retryable: true });
      const started = Date.now();
      await expect(
        store.upsertEntities([{ id: 'service:a', kind: 'Service', source: 'test' }]),
      ).rejects.toMatchObject({ code: 'graph_unavailable', retryable: true });
      expect(Date.now() - started).toBeGreaterThanOrEqual(700);
      await expect(store.get('service:a')).rejects.toMatchObject({ code: 'graph_unavailable' });
    } finally {
      await store.close();
    }
  });

  it('still validates input first, without a connection', async () => {
    const store = await Neo4jGraphStore.open({
      uri: `bolt://127.0.0.1:${await freePort()}`,
      logger: silentLogger(),
      clock: new ManualClock(T0),
      operationTimeoutMs: 500,
    });
    try {
      await expect(store.upsertEntities([{ id: '', kind: 'Service', source: 'x' }])).rejects.toMatchObject({
        code: 'validation_failed',
      });
    } finally {
      await store.close();
    }
  });
});

describe.skipIf(skip !== undefined)('Neo4j store on a real Neo4j', () => {
  const driver = neo4jUri ? neo4j.driver(neo4jUri, undefined, { disableLosslessIntegers: true }) : undefined;
  const stores: Neo4jGraphStore[] = [];
  const clock = new ManualClock(T0);

  async function open(namespace = uniqueNamespace('store')): Promise<Neo4jGraphStore> {
    const store = await openTestStore(clock, namespace);
    stores.push(store);
    return store;
  }

  async function cypher(
    query: string,
    parameters: Record<string, unknown> = {},
  ): Promise<Array<Record<string, unknown>>> {
    const result = await driver!.executeQuery(query, parameters);
    return result.records.map((record) => record.toObject());
  }

  beforeAll(async () => {
    await open();
  });

  afterAll(async () => {
    for (const store of stores) {
      await store.clear();
      await store.close();
    }
    await driver?.close();
  });

  it('records its migrations in the database and applies none twice', async () => {
    const versions = await cypher(
      'MATCH (m:NightshiftMigration) RETURN m.version AS version ORDER BY version',
    );
    expect(versions.map((row) => row.version)).toEqual(
      Array.from({ length: NEO4J_SCHEMA_VERSION }, (_, index) => index + 1),
    );
    expect(await migrate(driver!, undefined, silentLogger())).toEqual([]);
    const constraints = await cypher('SHOW CONSTRAINTS YIELD name RETURN collect(name) AS names');
    expect(constraints[0]?.names).toEqual(
      expect.arrayContaining(['nightshift_entity_key', 'nightshift_event_key']),
    );
    const indexes = await cypher('SHOW INDEXES YIELD name RETURN collect(name) AS names');
    expect(indexes[0]?.names).toEqual(
      expect.arrayContaining([
        'nightshift_entity_kind',
        'nightshift_event_subject',
        'nightshift_entity_last_seen',
      ]),
    );
  });

  it('labels nodes with their kind and keeps namespaces apart', async () => {
    const a = await open();
    const b = await open();
    await a.upsertEntities([
      { id: 'k8s:c/ns/Pod/p', kind: 'Pod', source: 'test', properties: { phase: 'Running' } },
    ]);
    await b.upsertEntities([
      { id: 'k8s:c/ns/Pod/p', kind: 'Pod', source: 'test', properties: { phase: 'Failed' } },
    ]);
    const labelled = await cypher('MATCH (n:Entity:Pod {ns: $ns, id: $id}) RETURN labels(n) AS labels', {
      ns: a.namespace,
      id: 'k8s:c/ns/Pod/p',
    });
    expect(labelled).toHaveLength(1);
    expect((await a.get('k8s:c/ns/Pod/p'))?.properties.phase).toBe('Running');
    expect((await b.get('k8s:c/ns/Pod/p'))?.properties.phase).toBe('Failed');
    expect((await a.stats()).entities).toBe(1);
    await a.clear();
    expect(await a.get('k8s:c/ns/Pod/p')).toBeNull();
    expect((await b.get('k8s:c/ns/Pod/p'))?.properties.phase).toBe('Failed');
  });

  it('stores hostile text as data: ids and values never become Cypher', async () => {
    const store = await open();
    const hostile = "x'}) MATCH (m) DETACH DELETE m //";
    const id = `service:${hostile}`;
    await store.upsertEntities([
      {
        id,
        kind: 'Service',
        name: '`Pod` }) RETURN 1 //',
        source: hostile,
        properties: { note: '$ns {ns: "x"}' },
      },
      { id: 'service:other', kind: 'Service', source: 'test' },
    ]);
    await store.upsertRelationships([{ from: id, kind: 'CALLS', to: 'service:other', source: hostile }]);
    await store.recordEvents([{ id: hostile, kind: 'note', entityId: id, at: T0, source: hostile }]);
    expect(await store.get(id)).toMatchObject({
      id,
      name: '`Pod` }) RETURN 1 //',
      properties: { note: '$ns {ns: "x"}' },
      provenance: { source: hostile },
    });
    expect(
      (await store.find({ kind: 'Service', where: { note: '$ns {ns: "x"}' } })).map((entity) => entity.id),
    ).toEqual([id]);
    expect((await store.events(id)).map((event) => event.id)).toEqual([hostile]);
    expect((await store.stats()).entities).toBe(2);
  });

  it('reports ok health and stays usable after a batch is rejected', async () => {
    const store = await open();
    expect(await store.health()).toBe('ok');
    await store.upsertEntities([{ id: 'service:a', kind: 'Service', source: 'test' }]);
    await expect(
      store.upsertEntities([
        { id: 'service:b', kind: 'Service', source: 'test' },
        { id: 'service:a', kind: 'Pod', source: 'test' },
      ]),
    ).rejects.toMatchObject({ code: 'validation_failed' });
    expect(await store.get('service:b')).toBeNull();
    await store.upsertEntities([{ id: 'service:b', kind: 'Service', source: 'test' }]);
    expect((await store.stats()).entities).toBe(2);
  });
  it('merges writes made together into fewer transactions, all of them stored', async () => {
    const store = await open();
    const before = store.writeGroups;
    await Promise.all(
      Array.from({ length: 40 }, (_, index) =>
        store.write({
          entities: [{ id: `service:s${index}`, kind: 'Service', source: 'test' }],
          relationships:
            index > 0 ? [{ kind: 'CALLS', from: `service:s${index}`, to: 'service:s0', source: 'test' }] : [],
          events: [
            { id: `e${index}`, kind: 'deploy', entityId: `service:s${index}`, at: T0, source: 'test' },
          ],
        }),
      ),
    );
    const after = store.writeGroups;
    expect(after.writes - before.writes).toBe(40);
    expect(after.commits - before.commits).toBeLessThan(40);
    const stats = await store.stats();
    expect([stats.entities, stats.relationships, stats.events]).toEqual([40, 39, 40]);
  });

  it('fails only the bad write of a group, with its own error', async () => {
    const store = await open();
    await store.upsertEntities([{ id: 'service:a', kind: 'Service', source: 'test' }]);
    const results = await Promise.allSettled([
      store.upsertEntities([{ id: 'service:b', kind: 'Service', source: 'test' }]),
      store.upsertEntities([{ id: 'service:a', kind: 'Pod', source: 'test' }]),
      store.write({
        entities: [{ id: 'service:c', kind: 'Service', source: 'test' }],
        relationships: [{ kind: 'CALLS', from: 'service:c', to: 'service:ghost', source: 'test' }],
      }),
      store.recordEvents([{ id: 'e1', kind: 'deploy', entityId: 'service:a', at: T0, source: 'test' }]),
    ]);
    expect(results.map((result) => result.status)).toEqual([
      'fulfilled',
      'rejected',
      'rejected',
      'fulfilled',
    ]);
    expect((results[1] as PromiseRejectedResult).reason).toMatchObject({
      code: 'validation_failed',
      issues: [{ path: '[0].kind' }],
    });
    expect((results[2] as PromiseRejectedResult).reason).toMatchObject({
      code: 'validation_failed',
      issues: [{ path: 'relationships[0].to' }],
    });
    expect((await store.get('service:a'))?.kind).toBe('Service');
    expect(await store.get('service:b')).not.toBeNull();
    expect(await store.get('service:c')).toBeNull();
    expect(await store.events('service:a')).toHaveLength(1);
  });
  it('answers reads of entities with their events made together in fewer queries, each as asked', async () => {
    const store = await open();
    await store.write({
      entities: [0, 1, 2].map((index) => ({
        id: `service:r${index}`,
        kind: 'Service' as const,
        source: 'test',
      })),
      events: [0, 1, 2, 3].map((index) => ({
        id: `r1-e${index}`,
        kind: index === 3 ? ('scale' as const) : ('deploy' as const),
        entityId: 'service:r1',
        at: T0 + index,
        source: 'test',
      })),
    });
    const before = store.entityReads;
    const asked = [
      store.getWithEvents('service:r0'),
      store.getWithEvents('service:r1'),
      store.getWithEvents('service:r1', { limit: 2 }),
      store.getWithEvents('service:r1', { kinds: ['deploy'], since: T0 + 1 }),
      store.getWithEvents('service:nope'),
      store.getWithEvents('service:r2'),
    ];
    const [r0, r1, r1Limited, r1Deploys, nope, r2] = await Promise.all(asked);
    const after = store.entityReads;
    expect(after.reads - before.reads).toBe(6);
    expect(after.queries - before.queries).toBeLessThan(6);
    expect(r0).toEqual({ entity: await store.get('service:r0'), events: [] });
    expect(r1?.events.map((event) => event.id)).toEqual(['r1-e3', 'r1-e2', 'r1-e1', 'r1-e0']);
    expect(r1?.events).toEqual(await store.events('service:r1'));
    expect(r1Limited?.events.map((event) => event.id)).toEqual(['r1-e3', 'r1-e2']);
    expect(r1Deploys?.events.map((event) => event.id)).toEqual(['r1-e2', 'r1-e1']);
    expect(nope).toBeNull();
    expect(r2?.entity.id).toBe('service:r2');
  });
  it('answers get and getMany calls made together in fewer queries, each with entities of its own', async () => {
    const store = await open();
    await store.upsertEntities(
      [0, 1, 2].map((index) => ({
        id: `service:g${index}`,
        kind: 'Service' as const,
        source: 'test',
        properties: { zones: ['a', 'b'], index },
      })),
    );
    const before = store.idReads;
    const [g0, many, again, none, missing] = await Promise.all([
      store.get('service:g0'),
      store.getMany(['service:g2', 'service:nope', 'service:g1', 'service:g2']),
      store.getMany(['service:g1']),
      store.getMany([]),
      store.get('service:nope'),
    ]);
    const after = store.idReads;
    // An empty list asks nothing; the other four calls share fewer queries.
    expect(after.reads - before.reads).toBe(4);
    expect(after.queries - before.queries).toBeLessThan(4);
    expect(g0?.properties).toEqual({ zones: ['a', 'b'], index: 0 });
    expect(many.map((entity) => entity.id)).toEqual(['service:g2', 'service:g1']);
    expect(none).toEqual([]);
    expect(missing).toBeNull();
    // Two calls that asked for the same entity do not share its objects.
    expect(again[0]).toEqual(many[1]);
    (many[1]?.properties.zones as string[]).push('c');
    expect(again[0]?.properties.zones).toEqual(['a', 'b']);
  });
});
