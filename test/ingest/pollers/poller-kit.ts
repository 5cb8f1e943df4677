import { expect } from 'vitest';
import { deployId, k8sId, serviceId } from '../../../src/graph/ids.js';
import { EmbeddedGraphStore } from '../../../src/graph/embedded/embedded-store.js';
import type { GraphStore } from '../../../src/graph/store.js';
import {
  applyGraphWrites,
  type JsonValue,
  type PollContext,
  type Poller,
  type PollResult,
} from '../../../src/ingest/pollers/poller.js';
import { loadScenario } from '../../../src/sim/scenario/load.js';
import { startSim, type Sim } from '../../../src/sim/sim.js';
import type { SimDeploy } from '../../../src/sim/world/types.js';
import { silentLogger } from '../../../src/shared/logger.js';
import { tempDir } from '../../kit/tmp.js';
import { EVALS_DIR, START } from '../../sim/world-kit.js';

export { START };

/** A paused shop sim running `bad-deploy-checkout`, and an embedded graph, both cleaned up by `close`. */
export interface PollerWorld {
  sim: Sim;
  graph: GraphStore;
  context: PollContext;
  /** Deploys the sim made so far, in order. */
  deploys: SimDeploy[];
  /** Moves sim time to `seconds` after the start (timeline entries run on the way). */
  at(seconds: number): Promise<void>;
  close(): Promise<void>;
}

/**
 * Records a sim deploy the way the Kubernetes ingestion does: the Workload `PART_OF` its Service,
 * a `Deploy` entity per revision with the image, `DEPLOYED` → the Workload, and a `deploy` event
 * on the Workload naming it. No sha: commits are matched by the image tag.
 */
export async function recordDeploy(graph: GraphStore, cluster: string, deploy: SimDeploy): Promise<string> {
  const workload = k8sId(cluster, 'shop', 'Deployment', deploy.service);
  const id = deployId(workload, deploy.revision ?? 0);
  await graph.upsertEntities([
    {
      id: serviceId(deploy.service),
      kind: 'Service',
      name: deploy.service,
      source: 'kubernetes',
      observedAt: deploy.t,
    },
    {
      id: workload,
      kind: 'Workload',
      name: deploy.service,
      source: 'kubernetes',
      observedAt: deploy.t,
      properties: { workloadKind: 'Deployment' },
    },
    {
      id,
      kind: 'Deploy',
      name: `${deploy.service} ${deploy.image}`,
      source: 'kubernetes',
      observedAt: deploy.t,
      properties: { image: deploy.image, revision: deploy.revision ?? 0 },
    },
  ]);
  await graph.upsertRelationships([
    {
      kind: 'PART_OF',
      from: workload,
      to: serviceId(deploy.service),
      source: 'kubernetes',
      observedAt: deploy.t,
    },
    { kind: 'DEPLOYED', from: id, to: workload, source: 'kubernetes', observedAt: deploy.t },
  ]);
  await graph.recordEvents([
    {
      id,
      kind: 'deploy',
      entityId: workload,
      at: deploy.t,
      source: 'kubernetes',
      properties: { image: deploy.image, deployId: id },
    },
  ]);
  return id;
}

/** Starts the world; deploys are recorded in the graph as they happen when `recordDeploys`. */
export async function pollerWorld(
  options: { recordDeploys?: boolean; vendors?: boolean; scenario?: string } = {},
): Promise<PollerWorld> {
  const scenario = loadScenario(options.scenario ?? 'bad-deploy-checkout', { evalsDir: EVALS_DIR });
  const sim = await startSim({
    estate: scenario.estate,
    scenario,
    dataDir: tempDir(),
    startMs: START,
    paused: true,
    ...(options.vendors ? { vendors: { alertmanager: { enabled: false } } } : { vendors: false }),
  });
  const graph = await EmbeddedGraphStore.open({
    dataDir: tempDir(),
    fsync: 'never',
    logger: silentLogger(),
    clock: { now: () => sim.world.now() },
  });
  const deploys: SimDeploy[] = [];
  const recording: Array<Promise<unknown>> = [];
  sim.world.on('deploy', (deploy) => {
    deploys.push(deploy);
    if (options.recordDeploys !== false) recording.push(recordDeploy(graph, sim.world.clusterName(), deploy));
  });
  return {
    sim,
    graph,
    deploys,
    context: { graph, clock: { now: () => sim.world.now() }, logger: silentLogger() },
    at: async (seconds) => {
      await sim.world.advanceTo(START + seconds * 1000);
      await Promise.all(recording);
    },
    close: async () => {
      await sim.stop();
      await graph.close();
    },
  };
}

/** Runs one poll the way the runner does: state through JSON, writes applied. */
export async function pollOnce<State extends JsonValue>(
  poller: Poller<State>,
  state: State,
  context: PollContext,
): Promise<PollResult<State>> {
  const stored: unknown = JSON.parse(JSON.stringify(state));
  const result = await poller.poll(poller.readState(stored), context);
  if (result.graphWrites) await applyGraphWrites(context.graph, result.graphWrites);
  expect(JSON.parse(JSON.stringify(result.nextState))).toEqual(result.nextState);
  return result;
}
