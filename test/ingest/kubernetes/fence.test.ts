import { resolve } from 'node:path';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { k8sId } from '../../../src/graph/ids.js';
import { FencedOutError, startKubernetesIngest } from '../../../src/ingest/kubernetes/index.js';
import { acceptFencedWrite } from '../../../src/loop/leader.js';
import { systemClock } from '../../../src/shared/clock.js';
import { silentLogger } from '../../../src/shared/logger.js';
import { startKubernetesServer } from '../../../src/sim/kubernetes/server.js';
import { loadEstate } from '../../../src/sim/scenario/load.js';
import { createWorld } from '../../../src/sim/world/world.js';
import { testPrefix } from '../../kit/prefix.js';
import { openGraph, simKubeConfig, waitFor } from './kit.js';

const EVALS_DIR = resolve(import.meta.dirname, '../../../evals');
const TOKEN = 'fence-token';
const CLUSTER = 'prod-eu1';

const cleanup: Array<() => unknown> = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

/** Waits until `value` has not changed for 300 ms. */
async function settled(value: () => number): Promise<void> {
  for (let last = value(); ;) {
    await new Promise((done) => setTimeout(done, 300));
    if (value() === last) return;
    last = value();
  }
}

/** The shop estate served by the sim's Kubernetes API, and an empty graph; both closed after the test. */
async function shopCluster() {
  const world = await createWorld({
    estate: loadEstate('shop', { evalsDir: EVALS_DIR }).estate,
    startMs: Date.UTC(2026, 2, 2, 9),
  });
  const server = await startKubernetesServer({ world, token: TOKEN, bookmarkIntervalMs: 50 });
  cleanup.push(() => server.close());
  const graph = await openGraph();
  cleanup.push(() => graph.close());
  return { world, server, graph };
}

describe('the Kubernetes ingest behind a fence', () => {
  it('writes while its token is the newest, and stops at the first batch after a newer one wrote', async () => {
    const { world, server, graph } = await shopCluster();
    const redis = new Redis(inject('redisUrl'));
    const prefix = testPrefix(import.meta.filename);
    cleanup.push(async () => {
      await redis.del(`${prefix}:fence:graph`);
      redis.disconnect();
    });

    const answers: boolean[] = [];
    const ingest = startKubernetesIngest({
      kubeConfig: simKubeConfig(server.url, CLUSTER, TOKEN),
      cluster: CLUSTER,
      graph,
      logger: silentLogger(),
      clock: systemClock,
      fence: async () => {
        const allowed = await acceptFencedWrite(redis, prefix, 'graph', 1);
        answers.push(allowed);
        return allowed;
      },
    });
    cleanup.push(() => ingest.stop());
    await ingest.ready;
    expect(answers.length).toBeGreaterThan(0);
    expect(answers.every(Boolean)).toBe(true);

    await world.deploy('search', { image: 'shop/search:0.9.9' });
    const search = k8sId(CLUSTER, 'shop', 'Deployment', 'search');
    await waitFor(
      'the search deploy',
      async () => (await graph.events(search, { kinds: ['deploy'] })).length,
    );

    // Once the rollout has settled, a newer leader writes: from then on nothing reaches the graph.
    await settled(() => ingest.stats().graph.writes);
    const writes = ingest.stats().graph.writes;
    expect(await acceptFencedWrite(redis, prefix, 'graph', 2)).toBe(true);
    await world.deploy('catalog', { image: 'shop/catalog:2.1.0' });
    await waitFor('a refusal', () => answers.includes(false));
    await ingest.drained();
    const asked = answers.length;
    // Stopped: later changes are neither asked about nor written.
    await world.deploy('shipping', { image: 'shop/shipping:1.5.0' });
    await new Promise((done) => setTimeout(done, 500));
    expect(answers).toHaveLength(asked);
    expect(ingest.stats().graph.writes).toBe(writes);
    for (const service of ['catalog', 'shipping']) {
      const id = k8sId(CLUSTER, 'shop', 'Deployment', service);
      expect(await graph.events(id, { kinds: ['deploy'] })).toEqual([]);
    }
  });

  it('refuses its first sync when a newer leader holds the fence, and says so', async () => {
    const { server, graph } = await shopCluster();
    let asked = 0;
    const ingest = startKubernetesIngest({
      kubeConfig: simKubeConfig(server.url, CLUSTER, TOKEN),
      cluster: CLUSTER,
      graph,
      logger: silentLogger(),
      clock: systemClock,
      fence: () => {
        asked++;
        return Promise.resolve(false);
      },
    });
    cleanup.push(() => ingest.stop());
    await expect(ingest.ready).rejects.toBeInstanceOf(FencedOutError);
    expect(asked).toBe(1);
    expect(ingest.stats().graph.writes).toBe(0);
    expect(await graph.find({ kind: 'Workload' })).toEqual([]);
  });
});
