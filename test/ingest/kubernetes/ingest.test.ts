import * as k8s from '@kubernetes/client-node';
import { resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { analyze, type ClusterSnapshot } from '../../../src/detect/analyzers/index.js';
import {
  clusterId,
  deployId,
  externalId,
  k8sId,
  namespaceId,
  nodeId,
  serviceId,
} from '../../../src/graph/ids.js';
import type { GraphStore } from '../../../src/graph/store.js';
import { startKubernetesIngest, type KubernetesIngest } from '../../../src/ingest/kubernetes/index.js';
import { ManualClock, systemClock, type Clock } from '../../../src/shared/clock.js';
import { silentLogger } from '../../../src/shared/logger.js';
import { loadEstate } from '../../../src/sim/scenario/load.js';
import { startSim, type Sim } from '../../../src/sim/sim.js';
import { applyTimelineAction } from '../../../src/sim/world/timeline.js';
import { tempDir } from '../../kit/tmp.js';
import { edge, openGraph, targets, waitFor } from './kit.js';

const EVALS_DIR = resolve(import.meta.dirname, '../../../evals');
const CLUSTER = 'prod-eu1';
const workload = (kind: string, name: string): string => k8sId(CLUSTER, 'shop', kind, name);

let sim: Sim | undefined;
let ingest: KubernetesIngest | undefined;
let graph: GraphStore | undefined;

afterEach(async () => {
  await ingest?.stop();
  await sim?.stop();
  await graph?.close();
  ingest = undefined;
  sim = undefined;
  graph = undefined;
});

async function start(
  options: { clock?: Clock; resyncMs?: number; onSnapshot?: (snapshot: ClusterSnapshot) => void } = {},
): Promise<{
  sim: Sim;
  ingest: KubernetesIngest;
  graph: GraphStore;
}> {
  const { estate } = loadEstate('shop', { evalsDir: EVALS_DIR });
  sim = await startSim({ estate, dataDir: tempDir(), vendors: false, paused: true, bookmarkIntervalMs: 100 });
  graph = await openGraph();
  ingest = startKubernetesIngest({
    kubeconfigPath: sim.kubernetes.kubeconfigPath,
    cluster: CLUSTER,
    graph,
    logger: silentLogger(),
    clock: options.clock ?? systemClock,
    resyncMs: options.resyncMs ?? 60_000,
    expireEveryMs: 0,
    ...(options.onSnapshot ? { onSnapshot: options.onSnapshot, snapshotDebounceMs: 50 } : {}),
    backoffMs: { initial: 20, max: 200 },
  });
  await ingest.ready;
  return { sim, ingest, graph };
}

describe('the Kubernetes ingest against the sim', () => {
  it('writes the topology, selections and dependencies inferred from configuration', async () => {
    const { graph, ingest, sim } = await start();
    expect(await graph.get(clusterId(CLUSTER))).toMatchObject({ kind: 'Cluster' });
    expect(await targets(graph, namespaceId(CLUSTER, 'shop'), 'PART_OF')).toEqual([clusterId(CLUSTER)]);
    for (const [node, zone] of [
      ['node-a', 'eu-west-1a'],
      ['node-b', 'eu-west-1b'],
      ['node-c', 'eu-west-1c'],
    ]) {
      expect(await graph.get(nodeId(CLUSTER, node ?? ''))).toMatchObject({
        kind: 'Node',
        properties: { ready: 'True', unschedulable: false, zone },
      });
      expect(await targets(graph, nodeId(CLUSTER, node ?? ''), 'PART_OF')).toEqual([clusterId(CLUSTER)]);
    }

    const checkout = workload('Deployment', 'checkout');
    expect(await graph.get(checkout)).toMatchObject({
      kind: 'Workload',
      name: 'checkout',
      properties: {
        workloadKind: 'Deployment',
        namespace: 'shop',
        images: ['shop/checkout:3.0.9'],
        revision: '2',
        // The container's memory limit (`…Mi` in the manifest), which headroom forecasts run against.
        memoryLimitBytes: (sim.world.models.get('checkout')?.limits.memoryMi ?? 0) * 2 ** 20,
      },
      provenance: { source: 'kubernetes', confidence: 1 },
    });
    expect((await graph.get(checkout))?.properties.memoryLimitBytes).toBeGreaterThan(0);
    expect((await graph.get(workload('StatefulSet', 'redis-session')))?.properties.workloadKind).toBe(
      'StatefulSet',
    );

    // Workload → ReplicaSet → Pod → Node.
    const replicaSets = await targets(graph, checkout, 'MANAGES');
    expect(replicaSets).toHaveLength(2);
    const current = (await Promise.all(replicaSets.map((id) => graph.get(id)))).find(
      (set) => set?.properties.revision === '2',
    );
    const pods = await targets(graph, current?.id ?? '', 'MANAGES');
    expect(pods).toHaveLength(3);
    for (const pod of pods) {
      const [node] = await targets(graph, pod, 'RUNS_ON');
      expect(node).toMatch(/^k8s:prod-eu1\/Node\/node-[abc]$/);
      expect(await edge(graph, serviceId('checkout'), 'SELECTS', pod)).toBeDefined();
    }

    // The Service selects its workload, and the workload is part of it.
    expect(await edge(graph, serviceId('checkout'), 'SELECTS', checkout)).toBeDefined();
    expect(await edge(graph, checkout, 'PART_OF', serviceId('checkout'))).toBeDefined();
    expect((await graph.get(serviceId('checkout')))?.properties).toMatchObject({
      namespace: 'shop',
      serviceType: 'ClusterIP',
      selector: ['app=checkout'],
    });

    // REDIS_HOST=redis-session and DB_URL=postgres://postgres-orders:5432/orders, read from the
    // ConfigMap the pod template loads with envFrom.
    for (const name of ['redis-session', 'postgres-orders', 'rabbitmq', 'payments']) {
      const dependency = await edge(graph, checkout, 'DEPENDS_ON', serviceId(name));
      expect(dependency, name).toMatchObject({ confidence: 0.6 });
      expect(await edge(graph, serviceId('checkout'), 'DEPENDS_ON', serviceId(name))).toMatchObject({
        confidence: 0.6,
      });
    }
    const [redis] = (await graph.neighbors(checkout, { kinds: ['DEPENDS_ON'], direction: 'out' })).filter(
      (reached) => reached.entity.id === serviceId('redis-session'),
    );
    expect(redis?.entity.kind).toBe('Service');
    // A Service it does not name is not a dependency; an outside URL is an external one.
    expect(await edge(graph, checkout, 'DEPENDS_ON', serviceId('search'))).toBeUndefined();
    expect(
      await edge(graph, workload('Deployment', 'payments'), 'DEPENDS_ON', externalId('api.payments.example')),
    ).toMatchObject({
      confidence: 0.6,
    });

    // The ConfigMap is in the graph by hash only; the workload depends on it for certain.
    const configMaps = (await targets(graph, checkout, 'DEPENDS_ON')).filter((id) =>
      id.includes('/ConfigMap/'),
    );
    expect(configMaps).toHaveLength(1);
    const configMap = await graph.get(configMaps[0] ?? '');
    expect(configMap?.properties.contentHash).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(JSON.stringify(configMap)).not.toContain('redis-session');
    expect(JSON.stringify(ingest.snapshot().configMaps)).not.toContain('postgres://');
    expect((await edge(graph, checkout, 'DEPENDS_ON', configMaps[0] ?? ''))?.confidence).toBe(1);
  });

  it('records a rollout as a Deploy with the images it moved between, and ConfigMap and node changes', async () => {
    const snapshots: ClusterSnapshot[] = [];
    const { sim, graph, ingest } = await start({ onSnapshot: (snapshot) => snapshots.push(snapshot) });
    const checkout = workload('Deployment', 'checkout');
    await sim.world.deploy('checkout', { image: 'shop/checkout:3.1.0', message: 'Release 3.1.0' });

    const [deploy] = await waitFor('a deploy event', async () => {
      const events = await graph.events(checkout, { kinds: ['deploy'] });
      return events.length > 0 ? events : undefined;
    });
    expect(deploy).toMatchObject({
      id: deployId(checkout, '3'),
      kind: 'deploy',
      properties: {
        fromImage: 'shop/checkout:3.0.9',
        toImage: 'shop/checkout:3.1.0',
        revision: '3',
        fromRevision: '2',
        changed: ['image'],
      },
    });
    expect(await graph.get(deployId(checkout, '3'))).toMatchObject({
      kind: 'Deploy',
      properties: {
        fromImage: 'shop/checkout:3.0.9',
        toImage: 'shop/checkout:3.1.0',
        changeCause: 'Release 3.1.0',
      },
    });
    expect(await edge(graph, deployId(checkout, '3'), 'DEPLOYED', checkout)).toBeDefined();
    const changes = await graph.recentChanges([serviceId('checkout')], { window: '10m' });
    expect(changes.map((change) => change.event.id)).toContain(deployId(checkout, '3'));

    // A StatefulSet's deploy carries its controller revision.
    await sim.world.deploy('redis-session', { image: 'redis:7.2.6' });
    const redis = workload('StatefulSet', 'redis-session');
    const [redisDeploy] = await waitFor('a StatefulSet deploy event', async () => {
      const found = await graph.events(redis, { kinds: ['deploy'] });
      return found.length > 0 ? found : undefined;
    });
    expect(redisDeploy?.properties).toMatchObject({ fromImage: 'redis:7.2.5', toImage: 'redis:7.2.6' });
    expect(redisDeploy?.properties.revision).toMatch(/^redis-session-/);
    expect(redisDeploy?.properties.revision).not.toBe(redisDeploy?.properties.fromRevision);

    // A restart is not a deploy.
    applyTimelineAction(sim.world, { kind: 'k8s.rolloutRestart', target: 'cart', by: 'test' });
    const cart = workload('Deployment', 'cart');
    await waitFor(
      'a restart event',
      async () => (await graph.events(cart, { kinds: ['restart'] })).length > 0,
    );
    expect(await graph.events(cart, { kinds: ['deploy'] })).toEqual([]);

    // A rollout of a new ConfigMap with the same image is a deploy that changed the configuration.
    await sim.world.deploy('cart', { config: { REDIS_POOL_SIZE: '-1' }, message: 'config: pool size' });
    const [configRollout] = await waitFor('a configuration rollout', async () => {
      const found = await graph.events(cart, { kinds: ['deploy'] });
      return found.length > 0 ? found : undefined;
    });
    expect(configRollout?.properties).toMatchObject({ changed: ['config'] });
    expect(configRollout?.properties.fromImage).toBe(configRollout?.properties.toImage);

    // A ConfigMap edited in place.
    const config = new k8s.KubeConfig();
    config.loadFromFile(sim.kubernetes.kubeconfigPath);
    const core = config.makeApiClient(k8s.CoreV1Api);
    const maps = await core.listNamespacedConfigMap({ namespace: 'shop', labelSelector: 'app=cart' });
    const name = maps.items[0]?.metadata?.name ?? '';
    await core.patchNamespacedConfigMap(
      { name, namespace: 'shop', body: { data: { LOG_LEVEL: 'debug' } } },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
    );
    const mapId = k8sId(CLUSTER, 'shop', 'ConfigMap', name);
    const [configChange] = await waitFor('a config-change event', async () => {
      const events = await graph.events(mapId, { kinds: ['config-change'] });
      return events.length > 0 ? events : undefined;
    });
    expect(configChange?.properties.fromHash).not.toBe(configChange?.properties.toHash);
    expect(await graph.get(String(configChange?.properties.configChangeId))).toMatchObject({
      kind: 'ConfigChange',
    });

    // Node pressure and a cordon.
    await sim.world.startFault({ kind: 'node_pressure', service: 'checkout', pressure: 'memory' });
    const pressured = sim.world.faults()[0]?.node ?? '';
    const events = await waitFor('a node pressure event', async () => {
      const found = await graph.events(nodeId(CLUSTER, pressured), { kinds: ['node-event'] });
      return found.some((event) => event.properties.condition === 'MemoryPressure') ? found : undefined;
    });
    expect(events.find((event) => event.properties.condition === 'MemoryPressure')?.properties).toMatchObject(
      {
        status: 'True',
        previous: 'False',
      },
    );
    applyTimelineAction(sim.world, { kind: 'k8s.cordonNode', target: pressured, by: 'test' });
    await waitFor('a cordon event', async () =>
      (await graph.events(nodeId(CLUSTER, pressured), { kinds: ['node-event'] })).some(
        (event) => event.properties.condition === 'Unschedulable',
      ),
    );
    expect((await graph.get(nodeId(CLUSTER, pressured)))?.properties.unschedulable).toBe(true);

    // The analyzers run over the same objects.
    await ingest.drained();
    const snapshot = ingest.snapshot();
    expect(snapshot.pods?.length).toBeGreaterThan(10);
    expect(snapshot.nodes).toHaveLength(3);
    const findings = analyze(snapshot, sim.world.now());
    await waitFor('a snapshot through the callback', () => snapshots.length > 0);
    expect(snapshots.at(-1)?.deployments?.length).toBe(snapshot.deployments?.length);
    expect(findings.some((finding) => JSON.stringify(finding).includes('MemoryPressure'))).toBe(true);
  });

  it('expires pods no longer seen, keeping live ones (each relist refreshes them)', async () => {
    const clock = new ManualClock(Date.now());
    const { sim, graph, ingest } = await start({ clock, resyncMs: 400 });
    const victim = sim.world.activePods('payments')[0]?.name ?? '';
    applyTimelineAction(sim.world, { kind: 'k8s.deletePod', target: 'payments', pod: victim, by: 'test' });
    const podId = k8sId(CLUSTER, 'shop', 'Pod', victim);
    await waitFor(
      'the pod marked deleted',
      async () => (await graph.get(podId))?.properties.deleted === true,
    );

    // Ten minutes later, after a relist has seen the live pods again, the deleted one is stale.
    clock.advance(10 * 60_000);
    const lists = ingest.stats().resources.pods.lists;
    await waitFor('a pod relist', () => ingest.stats().resources.pods.lists > lists + 1);
    await ingest.drained();
    const live = sim.world.activePods('checkout').map((pod) => k8sId(CLUSTER, 'shop', 'Pod', pod.name));
    expect(await ingest.expireEphemeral()).toBeGreaterThanOrEqual(1);
    expect(await graph.get(podId)).toBeNull();
    for (const id of live) expect(await graph.get(id), id).not.toBeNull();
  });
});
