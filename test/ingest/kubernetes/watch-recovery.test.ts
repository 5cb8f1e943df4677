import { resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { deployId, k8sId } from '../../../src/graph/ids.js';
import type { GraphStore } from '../../../src/graph/store.js';
import { startKubernetesIngest, type KubernetesIngest } from '../../../src/ingest/kubernetes/index.js';
import { ManualClock, systemClock } from '../../../src/shared/clock.js';
import { silentLogger } from '../../../src/shared/logger.js';
import { startKubernetesServer, type KubernetesServer } from '../../../src/sim/kubernetes/server.js';
import { loadEstate } from '../../../src/sim/scenario/load.js';
import { applyTimelineAction } from '../../../src/sim/world/timeline.js';
import { createWorld, type World } from '../../../src/sim/world/world.js';
import { openGraph, simKubeConfig, waitFor } from './kit.js';

const EVALS_DIR = resolve(import.meta.dirname, '../../../evals');
const TOKEN = 'watch-recovery-token';
const CLUSTER = 'prod-eu1';
const START = Date.UTC(2026, 2, 2, 9, 0, 0);

let server: KubernetesServer | undefined;
let ingest: KubernetesIngest | undefined;
let graph: GraphStore | undefined;

afterEach(async () => {
  await ingest?.stop();
  await server?.close();
  await graph?.close();
  ingest = server = graph = undefined;
});

async function world(watchHistory?: number): Promise<World> {
  const { estate } = loadEstate('shop', { evalsDir: EVALS_DIR });
  return createWorld({ estate, startMs: START, ...(watchHistory ? { watchHistory } : {}) });
}

async function serve(target: World, port?: number): Promise<KubernetesServer> {
  server = await startKubernetesServer({
    world: target,
    token: TOKEN,
    bookmarkIntervalMs: 50,
    ...(port ? { port } : {}),
  });
  return server;
}

function watchesWith(target: World, resource: string, fromVersion: boolean): number {
  return target.requestLog
    .entries()
    .filter(
      (entry) =>
        entry.path === resource &&
        /watch=(true|1)/.test(entry.query) &&
        /resourceVersion=\d+/.test(entry.query) === fromVersion,
    ).length;
}

describe('watch recovery', () => {
  it('resumes from the last resourceVersion when the server ends a watch, without listing again', async () => {
    const target = await world();
    const started = await serve(target);
    graph = await openGraph();
    ingest = startKubernetesIngest({
      kubeConfig: simKubeConfig(started.url, CLUSTER, TOKEN),
      cluster: CLUSTER,
      graph,
      logger: silentLogger(),
      clock: systemClock,
      resyncMs: 600_000,
      watchTimeoutSeconds: 1,
      backoffMs: { initial: 20, max: 100 },
    });
    await ingest.ready;
    // The server ends each watch after its 1 s timeout; bookmarks keep the version current.
    await waitFor(
      'two resumed deployment watches',
      () => (ingest?.stats().resources.deployments.resumes ?? 0) >= 2,
      8_000,
    );
    const stats = ingest.stats().resources.deployments;
    expect(stats.lists).toBe(1);
    expect(stats.bookmarks).toBeGreaterThan(0);
    expect(stats.expired).toBe(0);
    // Every watch (the request log records one when it ends) carried a resourceVersion.
    expect(watchesWith(target, '/apis/apps/v1/deployments', true)).toBeGreaterThanOrEqual(2);
    expect(watchesWith(target, '/apis/apps/v1/deployments', false)).toBe(0);

    // Changes after a resume still arrive.
    await target.deploy('search', { image: 'shop/search:0.9.9' });
    const search = k8sId(CLUSTER, 'shop', 'Deployment', 'search');
    await waitFor(
      'the search deploy',
      async () => (await graph?.events(search, { kinds: ['deploy'] }))?.length,
    );
    expect(ingest.stats().resources.deployments.lists).toBe(1);
  });

  it('lists again after 410 Gone and finds what changed while it was away', async () => {
    const target = await world(30);
    const first = await serve(target);
    const port = first.port;
    graph = await openGraph();
    ingest = startKubernetesIngest({
      kubeConfig: simKubeConfig(first.url, CLUSTER, TOKEN),
      cluster: CLUSTER,
      graph,
      logger: silentLogger(),
      clock: systemClock,
      resyncMs: 600_000,
      backoffMs: { initial: 20, max: 100 },
    });
    await ingest.ready;
    const listsBefore = ingest.stats().resources.deployments.lists;

    // The API server goes away; meanwhile a deploy and enough other changes push the watch
    // history past every version the ingest holds.
    await first.close();
    await target.deploy('catalog', { image: 'shop/catalog:2.1.0' });
    for (let index = 0; index < 5; index++) {
      applyTimelineAction(target, { kind: 'k8s.rolloutRestart', target: 'cart', by: 'test' });
      await target.advance(30_000);
    }
    await serve(target, port);

    await waitFor(
      'a relist after 410',
      () => (ingest?.stats().resources.deployments.expired ?? 0) > 0,
      8_000,
    );
    const catalog = k8sId(CLUSTER, 'shop', 'Deployment', 'catalog');
    const [deploy] = await waitFor('the catalog deploy found by the relist', async () => {
      const events = await graph?.events(catalog, { kinds: ['deploy'] });
      return events?.length ? events : undefined;
    });
    expect(deploy).toMatchObject({
      id: deployId(catalog, '3'),
      properties: { fromImage: 'shop/catalog:2.0.0', toImage: 'shop/catalog:2.1.0' },
    });
    const stats = ingest.stats().resources.deployments;
    expect(stats.lists).toBeGreaterThan(listsBefore);
  });

  it('a restarted ingest reports a deploy made while it was stopped, once', async () => {
    const target = await world();
    const started = await serve(target);
    graph = await openGraph();
    const clock = new ManualClock(START);
    const options = {
      kubeConfig: simKubeConfig(started.url, CLUSTER, TOKEN),
      cluster: CLUSTER,
      graph,
      logger: silentLogger(),
      clock,
      resyncMs: 600_000,
    };
    ingest = startKubernetesIngest(options);
    await ingest.ready;
    await ingest.stop();
    await target.deploy('shipping', { image: 'shop/shipping:1.5.0' });
    clock.advance(60_000);
    ingest = startKubernetesIngest(options);
    await ingest.ready;
    const shipping = k8sId(CLUSTER, 'shop', 'Deployment', 'shipping');
    const events = await graph.events(shipping, { kinds: ['deploy'] });
    expect(events.map((event) => [event.properties.fromImage, event.properties.toImage])).toEqual([
      ['shop/shipping:1.4.0', 'shop/shipping:1.5.0'],
    ]);
    await ingest.stop();
    ingest = startKubernetesIngest(options);
    await ingest.ready;
    expect(await graph.events(shipping, { kinds: ['deploy'] })).toHaveLength(1);
  });
});
