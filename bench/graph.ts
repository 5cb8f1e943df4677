/**
 * Graph store benchmark: `npm run bench:graph -- --backend embedded|neo4j [--services N]
 * [--pods M] [--batch B] [--samples S] [--neo4j-uri bolt://…] [--json]`.
 *
 * Builds a synthetic estate (services with workloads, replica sets and pods, nodes, namespaces,
 * datastores, flags, call edges and change events), writes it through the store in batches, then
 * times blast radius and recent-changes queries from random starts. The raw baseline writes the
 * same batches with no store code in between: for neo4j plain neo4j-driver `UNWIND … MERGE` in
 * managed transactions (another namespace of the same database, batch by batch interleaved with
 * the store's writes so both see the same server state); for embedded a bare graphology merge.
 * With `--json`, stdout is exactly one JSON object; details go to stderr.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { MultiDirectedGraph } from 'graphology';
import neo4j, { type Driver } from 'neo4j-driver';
import type { Neo4jServer } from '../scripts/neo4j-local.mjs';
import { EmbeddedGraphStore } from '../src/graph/embedded/embedded-store.js';
import type { FsyncPolicy } from '../src/graph/embedded/journal.js';
import {
  clusterId,
  datastoreId,
  deployId,
  flagId,
  k8sId,
  namespaceId,
  nodeId,
  serviceId,
} from '../src/graph/ids.js';
import { Neo4jGraphStore } from '../src/graph/neo4j/neo4j-store.js';
import {
  relationshipKey,
  type EntityInput,
  type EventInput,
  type RelationshipInput,
} from '../src/graph/schema.js';
import type { GraphStore } from '../src/graph/store.js';
import { ManualClock } from '../src/shared/clock.js';
import { silentLogger } from '../src/shared/logger.js';
import { openBenchNeo4j } from './neo4j-kit.js';

interface Options {
  backend: 'embedded' | 'neo4j';
  services: number;
  pods: number;
  batch: number;
  samples: number;
  json: boolean;
  neo4jUri: string | undefined;
  fsync: FsyncPolicy;
}

function options(): Options {
  const { values } = parseArgs({
    options: {
      backend: { type: 'string', default: 'embedded' },
      services: { type: 'string', default: '1000' },
      pods: { type: 'string', default: '10000' },
      batch: { type: 'string', default: '1000' },
      samples: { type: 'string' },
      'neo4j-uri': { type: 'string' },
      fsync: { type: 'string', default: 'interval' },
      json: { type: 'boolean', default: false },
    },
  });
  const backend = values.backend;
  if (backend !== 'embedded' && backend !== 'neo4j') throw new Error('--backend must be embedded or neo4j');
  const number = (name: string, text: string): number => {
    const value = Number(text);
    if (!Number.isInteger(value) || value < 1) throw new Error(`--${name} must be a positive whole number`);
    return value;
  };
  const fsync = values.fsync as FsyncPolicy;
  if (!['always', 'interval', 'never'].includes(fsync))
    throw new Error('--fsync must be always, interval or never');
  return {
    backend,
    services: number('services', values.services),
    pods: number('pods', values.pods),
    batch: Math.min(number('batch', values.batch), 10_000),
    samples: number('samples', values.samples ?? (backend === 'neo4j' ? '500' : '2000')),
    json: values.json,
    neo4jUri: values['neo4j-uri'],
    fsync,
  };
}

/** A small deterministic PRNG (mulberry32), so every run builds the same estate. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const NOW = Date.UTC(2026, 10, 22, 12);
const CLUSTER = 'bench';

export interface Estate {
  batches: Array<
    { kind: 'entities'; items: EntityInput[] } | { kind: 'relationships'; items: RelationshipInput[] }
  >;
  events: EventInput[][];
  serviceIds: string[];
  nodeIds: string[];
  podIds: string[];
  entities: number;
  relationships: number;
}

export function buildEstate(services: number, pods: number, batchSize: number): Estate {
  const next = random(42);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(next() * list.length)] as T;
  const entities: EntityInput[] = [];
  const relationships: RelationshipInput[] = [];
  const events: EventInput[] = [];
  const entity = (
    id: string,
    kind: EntityInput['kind'],
    properties: EntityInput['properties'] = {},
  ): void => {
    entities.push({ id, kind, source: 'bench', observedAt: NOW, properties });
  };
  const edge = (from: string, kind: RelationshipInput['kind'], to: string): void => {
    relationships.push({ from, kind, to, source: 'bench', observedAt: NOW });
  };

  entity(clusterId(CLUSTER), 'Cluster');
  const namespaces = Array.from(
    { length: Math.max(1, Math.ceil(services / 20)) },
    (_, index) => `ns${index}`,
  );
  for (const namespace of namespaces) {
    entity(namespaceId(CLUSTER, namespace), 'Namespace');
    edge(namespaceId(CLUSTER, namespace), 'PART_OF', clusterId(CLUSTER));
  }
  const nodeIds = Array.from({ length: Math.max(1, Math.ceil(pods / 30)) }, (_, index) =>
    nodeId(CLUSTER, `node-${index}`),
  );
  for (const id of nodeIds) {
    entity(id, 'Node', { zone: `zone-${Math.floor(next() * 3)}` });
    edge(id, 'PART_OF', clusterId(CLUSTER));
  }
  const datastores = Array.from({ length: Math.max(1, Math.ceil(services / 10)) }, (_, index) =>
    datastoreId('postgres', `db-${index}`),
  );
  for (const id of datastores) entity(id, 'Datastore');
  const flags = Array.from({ length: Math.max(1, Math.ceil(services / 5)) }, (_, index) =>
    flagId('bench', `flag-${index}`),
  );
  for (const id of flags) entity(id, 'FeatureFlag');

  const serviceIds: string[] = [];
  const replicaSets: string[] = [];
  const workloads: string[] = [];
  for (let index = 0; index < services; index++) {
    const namespace = namespaces[index % namespaces.length] as string;
    const service = serviceId(`svc-${index}`);
    const workload = k8sId(CLUSTER, namespace, 'Deployment', `svc-${index}`);
    const replicaSet = k8sId(CLUSTER, namespace, 'ReplicaSet', `svc-${index}-7f9c`);
    serviceIds.push(service);
    workloads.push(workload);
    replicaSets.push(replicaSet);
    entity(service, 'Service', { tier: index % 10 === 0 ? 'edge' : 'core', team: `team-${index % 50}` });
    entity(workload, 'Workload', {
      workloadKind: 'Deployment',
      replicas: 3,
      image: `registry.example/svc-${index}:1.${index % 30}`,
    });
    entity(replicaSet, 'ReplicaSet', { revision: 4 });
    edge(workload, 'PART_OF', service);
    edge(workload, 'MANAGES', replicaSet);
    edge(service, 'DEPENDS_ON', pick(datastores));
    edge(service, 'DEPENDS_ON', pick(flags));
    for (let call = 0; call < 3 && index > 0; call++) {
      edge(service, 'CALLS', serviceIds[Math.floor(next() * index)] as string);
    }
    const deployAt = NOW - Math.floor(next() * 24 * 3_600_000);
    events.push({
      id: `bench-deploy-${index}`,
      kind: 'deploy',
      entityId: workload,
      at: deployAt,
      source: 'bench',
      properties: { revision: 4 },
    });
    if (index % 3 === 0) {
      events.push({
        id: `bench-flag-${index}`,
        kind: 'flag-flip',
        entityId: pick(flags),
        at: NOW - Math.floor(next() * 3_600_000),
        source: 'bench',
      });
    }
    entity(deployId(workload, 4), 'Deploy', { revision: 4 });
    edge(deployId(workload, 4), 'DEPLOYED', workload);
  }
  const podIds: string[] = [];
  for (let index = 0; index < pods; index++) {
    const owner = index % services;
    const namespace = namespaces[owner % namespaces.length] as string;
    const pod = k8sId(CLUSTER, namespace, 'Pod', `svc-${owner}-7f9c-${index.toString(36)}`);
    podIds.push(pod);
    entity(pod, 'Pod', { phase: 'Running', restarts: Math.floor(next() * 3) });
    edge(replicaSets[owner] as string, 'MANAGES', pod);
    edge(serviceIds[owner] as string, 'SELECTS', pod);
    edge(pod, 'RUNS_ON', pick(nodeIds));
  }
  for (let index = 0; index < nodeIds.length; index += 7) {
    events.push({
      id: `bench-node-${index}`,
      kind: 'node-event',
      entityId: nodeIds[index] as string,
      at: NOW - Math.floor(next() * 7_200_000),
      source: 'bench',
    });
  }

  const chunk = <T>(items: readonly T[]): T[][] => {
    const result: T[][] = [];
    for (let start = 0; start < items.length; start += batchSize)
      result.push(items.slice(start, start + batchSize));
    return result;
  };
  return {
    batches: [
      ...chunk(entities).map((items) => ({ kind: 'entities' as const, items })),
      ...chunk(relationships).map((items) => ({ kind: 'relationships' as const, items })),
    ],
    events: chunk(events),
    serviceIds,
    nodeIds,
    podIds,
    entities: entities.length,
    relationships: relationships.length,
  };
}

function percentile(sorted: readonly number[], fraction: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor(fraction * (sorted.length - 1)))] as number;
}

/** A full garbage collection, so RSS is measured without the garbage of earlier phases. */
function collectGarbage(): void {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}

const round = (value: number, digits = 2): number => Number(value.toFixed(digits));
const log = (line: string): void => {
  process.stderr.write(`${line}\n`);
};

/**
 * Raw writes to Neo4j: the same batches and the same fields (properties and provenance), plain
 * driver `UNWIND … MERGE … SET` in a managed transaction, same constraint, another namespace —
 * without validation, first/last-seen min/max, or the kind check.
 */
function rawNeo4jWriter(driver: Driver): (batch: Estate['batches'][number]) => Promise<void> {
  const namespace = `bench-raw-${process.pid}`;
  return async (batch) => {
    const session = driver.session();
    try {
      await session.executeWrite(async (tx) => {
        if (batch.kind === 'entities') {
          const byKind = new Map<string, EntityInput[]>();
          for (const item of batch.items) byKind.set(item.kind, [...(byKind.get(item.kind) ?? []), item]);
          for (const [kind, items] of byKind) {
            await tx.run(
              `UNWIND $rows AS row MERGE (n:Entity {ns: $ns, id: row.id}) ON CREATE SET n:${kind} ` +
                'SET n += row.properties, n.kind = row.kind, n.name = row.name, n.source = row.source, ' +
                'n.confidence = row.confidence, n.firstSeen = row.observedAt, n.lastSeen = row.observedAt',
              {
                ns: namespace,
                rows: items.map((item) => ({
                  id: item.id,
                  kind: item.kind,
                  name: item.name ?? null,
                  properties: item.properties ?? {},
                  source: item.source,
                  confidence: item.confidence ?? 1,
                  observedAt: item.observedAt ?? NOW,
                })),
              },
            );
          }
        } else {
          const byKind = new Map<string, RelationshipInput[]>();
          for (const item of batch.items) byKind.set(item.kind, [...(byKind.get(item.kind) ?? []), item]);
          for (const [kind, items] of byKind) {
            await tx.run(
              `UNWIND $rows AS row MATCH (a:Entity {ns: $ns, id: row.from}) MATCH (b:Entity {ns: $ns, id: row.to}) ` +
                `MERGE (a)-[r:${kind}]->(b) SET r += row.properties, r.source = row.source, ` +
                'r.confidence = row.confidence, r.firstSeen = row.observedAt, r.lastSeen = row.observedAt',
              {
                ns: namespace,
                rows: items.map((item) => ({
                  from: item.from,
                  to: item.to,
                  properties: item.properties ?? {},
                  source: item.source,
                  confidence: item.confidence ?? 1,
                  observedAt: item.observedAt ?? NOW,
                })),
              },
            );
          }
        }
      });
    } finally {
      await session.close();
    }
  };
}

/** Raw writes in memory: the same batches merged into a bare graphology graph. */
function rawGraphologyWriter(): (batch: Estate['batches'][number]) => Promise<void> {
  const graph = new MultiDirectedGraph({ allowSelfLoops: true });
  return (batch) => {
    if (batch.kind === 'entities') {
      for (const item of batch.items)
        graph.mergeNode(item.id, { kind: item.kind, ...item.properties, source: item.source });
    } else {
      for (const item of batch.items) {
        graph.mergeEdgeWithKey(relationshipKey(item.from, item.kind, item.to), item.from, item.to, {
          kind: item.kind,
          source: item.source,
        });
      }
    }
    return Promise.resolve();
  };
}

function serverRssMb(pid: number | undefined): number | undefined {
  if (!pid) return undefined;
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const match = /VmRSS:\s+(\d+) kB/.exec(status);
    return match ? Math.round(Number(match[1]) / 1024) : undefined;
  } catch {
    return undefined;
  }
}

async function main(): Promise<void> {
  const settings = options();
  const estate = buildEstate(settings.services, settings.pods, settings.batch);
  log(
    `bench:graph ${settings.backend}: ${estate.entities} entities, ${estate.relationships} relationships, ` +
      `${estate.batches.length} batches of ≤${settings.batch}`,
  );
  const clock = new ManualClock(NOW);
  let server: Neo4jServer | undefined;
  let driver: Driver | undefined;
  let store: GraphStore;
  let dataDir: string | undefined;
  let raw: (batch: Estate['batches'][number]) => Promise<void>;
  if (settings.backend === 'neo4j') {
    const opened = await openBenchNeo4j({
      uri: settings.neo4jUri,
      namespace: `bench-${process.pid}`,
      clock,
      operationTimeoutMs: 300_000,
    });
    ({ store, server } = opened);
    driver = neo4j.driver(opened.uri, undefined, { disableLosslessIntegers: true });
    raw = rawNeo4jWriter(driver);
  } else {
    dataDir = mkdtempSync(join(tmpdir(), 'nightshift-bench-graph-'));
    store = await EmbeddedGraphStore.open({ dataDir, fsync: settings.fsync, logger: silentLogger(), clock });
    raw = rawGraphologyWriter();
  }

  try {
    let storeMs = 0;
    let rawMs = 0;
    const writeStore = async (batch: Estate['batches'][number]): Promise<void> => {
      const started = performance.now();
      if (batch.kind === 'entities') await store.upsertEntities(batch.items);
      else await store.upsertRelationships(batch.items);
      storeMs += performance.now() - started;
    };
    const writeRaw = async (batch: Estate['batches'][number]): Promise<void> => {
      const started = performance.now();
      await raw(batch);
      rawMs += performance.now() - started;
    };
    if (settings.backend === 'neo4j') {
      // Interleaved batch by batch, so both see the same server state and warm-up.
      for (const batch of estate.batches) {
        await writeRaw(batch);
        await writeStore(batch);
      }
    } else {
      // Warm both paths up on a throwaway copy, so neither pays for JIT compilation alone.
      const warmDir = mkdtempSync(join(tmpdir(), 'nightshift-bench-warm-'));
      const warmStore = await EmbeddedGraphStore.open({
        dataDir: warmDir,
        fsync: settings.fsync,
        logger: silentLogger(),
        clock,
      });
      const warmRaw = rawGraphologyWriter();
      for (const batch of estate.batches.slice(0, 40)) {
        await warmRaw(batch);
        if (batch.kind === 'entities') await warmStore.upsertEntities(batch.items);
        else await warmStore.upsertRelationships(batch.items);
      }
      await warmStore.close();
      rmSync(warmDir, { recursive: true, force: true });
      collectGarbage();
      // In memory the baseline runs first and is dropped, so its graph does not weigh on the store's heap.
      for (const batch of estate.batches) await writeRaw(batch);
      raw = () => Promise.resolve();
      collectGarbage();
      for (const batch of estate.batches) await writeStore(batch);
    }
    for (const events of estate.events) await store.recordEvents(events);
    const items = estate.entities + estate.relationships;
    const upsertsPerSec = items / (storeMs / 1000);
    const rawDriverUpsertsPerSec = items / (rawMs / 1000);
    log(`  writes: store ${Math.round(storeMs)} ms, raw ${Math.round(rawMs)} ms`);

    const next = random(7);
    const starts = [estate.serviceIds, estate.nodeIds, estate.podIds];
    const warm = Math.min(50, settings.samples);
    const blast: number[] = [];
    const slowest: Array<{ id: string; ms: number; reached: number }> = [];
    let reachedTotal = 0;
    for (let sample = 0; sample < settings.samples + warm; sample++) {
      const list = starts[sample % 3] as string[];
      const id = list[Math.floor(next() * list.length)] as string;
      const started = performance.now();
      const reached = await store.blastRadius(id, { direction: 'downstream', maxDepth: 3 });
      if (sample >= warm) {
        const ms = performance.now() - started;
        blast.push(ms);
        reachedTotal += reached.length;
        slowest.push({ id, ms: round(ms, 2), reached: reached.length });
        slowest.sort((a, b) => b.ms - a.ms);
        slowest.length = Math.min(slowest.length, 5);
      }
    }
    const changes: number[] = [];
    let changesTotal = 0;
    for (let sample = 0; sample < settings.samples + warm; sample++) {
      const id = estate.serviceIds[Math.floor(next() * estate.serviceIds.length)] as string;
      const started = performance.now();
      const found = await store.recentChanges([id], { window: '1h', now: NOW });
      if (sample >= warm) {
        changes.push(performance.now() - started);
        changesTotal += found.length;
      }
    }
    log(`  slowest blast radius samples: ${JSON.stringify(slowest)}`);
    blast.sort((a, b) => a - b);
    changes.sort((a, b) => a - b);
    log(
      `  blast radius: ${blast.length} samples, mean ${round(reachedTotal / blast.length, 1)} entities reached; ` +
        `recent changes: mean ${round(changesTotal / changes.length, 1)} changes`,
    );
    const stats = await store.stats();
    collectGarbage();
    const rssMb = Math.round(process.memoryUsage().rss / 1024 / 1024);
    const result = {
      backend: settings.backend,
      entities: stats.entities,
      relationships: stats.relationships,
      upsertsPerSec: Math.round(upsertsPerSec),
      rawDriverUpsertsPerSec: Math.round(rawDriverUpsertsPerSec),
      ratioToRaw: round(upsertsPerSec / rawDriverUpsertsPerSec),
      blastRadiusP50Ms: round(percentile(blast, 0.5), 3),
      blastRadiusP99Ms: round(percentile(blast, 0.99), 3),
      recentChangesP99Ms: round(percentile(changes, 0.99), 3),
      rssMb,
    };
    const serverRss = serverRssMb(server?.pid);
    if (serverRss !== undefined) log(`  Neo4j server RSS ${serverRss} MB`);
    if (store instanceof EmbeddedGraphStore) {
      let started = performance.now();
      await store.close();
      log(`  close (snapshot) ${Math.round(performance.now() - started)} ms`);
      started = performance.now();
      const reopened = await EmbeddedGraphStore.open({
        dataDir: dataDir as string,
        logger: silentLogger(),
        clock,
      });
      log(`  reopen (load snapshot) ${Math.round(performance.now() - started)} ms`);
      store = reopened;
    }
    if (settings.json) process.stdout.write(`${JSON.stringify(result)}\n`);
    else process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  } finally {
    if (store instanceof Neo4jGraphStore) await store.clear().catch(() => undefined);
    if (driver) {
      const session = driver.session();
      await session
        .run(`MATCH (n:Entity) WHERE n.ns = $ns CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 5000 ROWS`, {
          ns: `bench-raw-${process.pid}`,
        })
        .catch(() => undefined);
      await session.close();
      await driver.close();
    }
    await store.close();
    await server?.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  main().catch((error: unknown) => {
    process.stderr.write(
      `bench:graph failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exitCode = 1;
  });
}
