import * as k8s from '@kubernetes/client-node';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { resolve } from 'node:path';
import { EmbeddedGraphStore } from '../../src/graph/embedded/embedded-store.js';
import { deployId, flagId, k8sId, nodeId, serviceId } from '../../src/graph/ids.js';
import type { EntityInput, EventInput, RelationshipInput } from '../../src/graph/schema.js';
import type { GraphStore } from '../../src/graph/store.js';
import { createDatadogTools } from '../../src/investigate/tools/datadog.js';
import { createGitTools } from '../../src/investigate/tools/git.js';
import { createGraphTools } from '../../src/investigate/tools/graph.js';
import { createKubernetesTools } from '../../src/investigate/tools/kubernetes.js';
import { createPrometheusTools } from '../../src/investigate/tools/prometheus.js';
import { createToolSet, type ReadOnlyTool, type ToolSet } from '../../src/investigate/tools/tool.js';
import { silentLogger } from '../../src/shared/logger.js';
import { loadEstate, loadScenario, parseScenario } from '../../src/sim/scenario/load.js';
import { startSim, type Sim } from '../../src/sim/sim.js';
import type { SimDeploy, SimEvent } from '../../src/sim/world/types.js';

/** The repository's evals/ folder. */
export const EVALS_DIR = resolve(import.meta.dirname, '../../evals');
/** A fixed sim start. */
export const START = Date.UTC(2026, 2, 2, 9, 0, 0);

/** A running shop sim with a graph that mirrors it, and read-only tools over both. */
export interface SimEstate {
  sim: Sim;
  graph: GraphStore;
  tools: ToolSet;
  cluster: string;
  clock: { now(): number };
  /** Writes the deploys and flag flips seen so far (and pods) into the graph. */
  sync(): Promise<void>;
  stop(): Promise<void>;
}

function parseFlagValue(text: string): string | number | boolean {
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value === 'boolean' || typeof value === 'number' || typeof value === 'string') return value;
  } catch {
    // a bare string value
  }
  return text;
}

/**
 * Starts the shop estate with a scenario (a name under evals/scenarios, or a timeline), paused,
 * and writes the estate topology into an embedded graph: services, workloads, dependencies,
 * nodes, flags; `sync()` adds deploys, flag flips and pods as the world makes them.
 */
export async function startSimEstate(
  scenario: string | { timeline: unknown[]; seed?: number },
  options: { extraTools?: ReadOnlyTool[] } = {},
): Promise<SimEstate> {
  const { estate } = loadEstate('shop', { evalsDir: EVALS_DIR });
  const parsed =
    typeof scenario === 'string'
      ? loadScenario(scenario, { evalsDir: EVALS_DIR })
      : parseScenario(
          {
            apiVersion: 'nightshift.dev/v1',
            kind: 'Scenario',
            name: 'investigate-test',
            estate: 'shop',
            seed: scenario.seed ?? 5,
            timeline: scenario.timeline,
          },
          { evalsDir: EVALS_DIR },
        );
  const dataDir = mkdtempSync(resolve(tmpdir(), 'nightshift-investigate-'));
  const sim = await startSim({
    estate: parsed.estate,
    scenario: parsed,
    dataDir,
    startMs: START,
    paused: true,
  });
  const world = sim.world;
  const cluster = world.clusterName();
  const graph = await EmbeddedGraphStore.open({
    dataDir: resolve(dataDir, 'graph'),
    fsync: 'never',
    logger: silentLogger(),
    clock: { now: () => world.now() },
  });
  const deploys: SimDeploy[] = [];
  const flagEvents: SimEvent[] = [];
  world.on('deploy', (deploy) => deploys.push(deploy));
  world.on('event', (event) => {
    if (event.source === 'flag') flagEvents.push(event);
  });

  const workloadIds = new Map<string, string>();
  const entities: EntityInput[] = [];
  const relationships: RelationshipInput[] = [];
  const source = 'test';
  for (const node of estate.nodes)
    entities.push({
      id: nodeId(cluster, node.name),
      kind: 'Node',
      name: node.name,
      source,
      properties: { cluster },
    });
  for (const [name, model] of world.models) {
    const kind = model.kind === 'datastore' ? 'Datastore' : model.kind === 'queue' ? 'Queue' : 'Service';
    if (model.kind === 'job') continue;
    entities.push({
      id: serviceId(name),
      kind,
      name,
      source,
      properties: { namespace: model.namespace, ...(model.repo ? { repo: model.repo } : {}) },
    });
    if (model.workload !== 'none') {
      const id = k8sId(cluster, model.namespace, model.workload, name);
      workloadIds.set(name, id);
      entities.push({
        id,
        kind: 'Workload',
        name,
        source,
        properties: {
          namespace: model.namespace,
          cluster,
          workloadKind: model.workload,
          replicas: model.replicas,
        },
      });
      relationships.push({ kind: 'PART_OF', from: id, to: serviceId(name), source });
    }
  }
  for (const [name, model] of world.models) {
    if (model.kind === 'job') continue;
    for (const dependency of model.dependsOn)
      relationships.push({ kind: 'DEPENDS_ON', from: serviceId(name), to: serviceId(dependency), source });
  }
  for (const flag of estate.flags) {
    entities.push({
      id: flagId('sim', flag.key),
      kind: 'FeatureFlag',
      name: flag.key,
      source,
      properties: { key: flag.key },
    });
    if (flag.service)
      relationships.push({
        kind: 'DEPENDS_ON',
        from: serviceId(flag.service),
        to: flagId('sim', flag.key),
        source,
      });
  }
  await graph.upsertEntities(entities);
  await graph.upsertRelationships(relationships);

  let written = { deploys: 0, flags: 0 };
  async function sync(): Promise<void> {
    const events: EventInput[] = [];
    for (const deploy of deploys.slice(written.deploys)) {
      const workload = workloadIds.get(deploy.service);
      if (!workload) continue;
      const revision = deploy.revision ?? 0;
      const id = deployId(workload, revision);
      await graph.upsertEntities([
        {
          id,
          kind: 'Deploy',
          name: `${deploy.service} ${deploy.image}`,
          source,
          observedAt: deploy.t,
          properties: { image: deploy.image },
        },
      ]);
      await graph.upsertRelationships([
        { kind: 'DEPLOYED', from: id, to: workload, source, observedAt: deploy.t },
      ]);
      events.push({
        id: `event:${id}`,
        kind: 'deploy',
        entityId: workload,
        at: deploy.t,
        summary: `${deploy.service} ${deploy.previousImage ?? '?'} → ${deploy.image}`,
        source,
        properties: {
          image: deploy.image,
          // As the Kubernetes projector classifies a rollout: new code, new configuration, or both.
          changed:
            deploy.previousImage || deploy.configMap
              ? [...(deploy.previousImage ? ['image'] : []), ...(deploy.configMap ? ['config'] : [])]
              : ['template'],
          ...(deploy.previousImage ? { previousImage: deploy.previousImage } : {}),
          revision,
          previousRevision: Math.max(1, revision - 1),
          ...(deploy.sha ? { sha: deploy.sha } : {}),
          ...(deploy.previousSha ? { previousSha: deploy.previousSha } : {}),
        },
      });
    }
    for (const event of flagEvents.slice(written.flags)) {
      const key = event.tags.find((tag) => tag.startsWith('flag:'))?.slice(5);
      const match = /changed \S+ from (.*) to (.*)$/.exec(event.text);
      if (!key || !match) continue;
      events.push({
        id: `event:flag:${key}@${event.t}`,
        kind: 'flag-flip',
        entityId: flagId('sim', key),
        at: event.t,
        summary: event.title,
        source,
        properties: { key, previous: parseFlagValue(match[1] ?? ''), value: parseFlagValue(match[2] ?? '') },
      });
    }
    written = { deploys: deploys.length, flags: flagEvents.length };
    if (events.length) await graph.recordEvents(events);
    const pods = world.pods().filter((pod) => pod.node && workloadIds.has(pod.service));
    const podEntities: EntityInput[] = pods.map((pod) => ({
      id: k8sId(cluster, pod.namespace, 'Pod', pod.name),
      kind: 'Pod',
      name: pod.name,
      source,
      properties: { namespace: pod.namespace },
    }));
    if (podEntities.length) {
      await graph.upsertEntities(podEntities);
      await graph.upsertRelationships(
        pods.flatMap((pod) => [
          {
            kind: 'MANAGES' as const,
            from: workloadIds.get(pod.service) as string,
            to: k8sId(cluster, pod.namespace, 'Pod', pod.name),
            source,
          },
          {
            kind: 'RUNS_ON' as const,
            from: k8sId(cluster, pod.namespace, 'Pod', pod.name),
            to: nodeId(cluster, pod.node as string),
            source,
          },
        ]),
      );
    }
  }

  const kubeConfig = new k8s.KubeConfig();
  kubeConfig.loadFromFile(sim.kubernetes.kubeconfigPath);
  const vendors = sim.vendors;
  if (!vendors) throw new Error('the sim started without vendor servers');
  const repoPaths = new Map(
    world
      .services()
      .flatMap((service) =>
        service.repo && service.repoPath ? [[service.repo, service.repoPath] as const] : [],
      ),
  );
  const tools = createToolSet([
    ...createKubernetesTools({ kubeConfig }),
    ...createDatadogTools({ apiKey: 'dd-api', appKey: 'dd-app', baseUrl: vendors.urls.datadog }),
    ...createPrometheusTools({ url: vendors.urls.prometheus }),
    ...createGraphTools(graph),
    ...createGitTools({ repoPath: (repo) => repoPaths.get(repo) }),
    ...(options.extraTools ?? []),
  ]);
  return {
    sim,
    graph,
    tools,
    cluster,
    clock: { now: () => world.now() },
    sync,
    async stop() {
      await sim.stop();
      await graph.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
