import { afterEach, describe, expect, it } from 'vitest';
import { EmbeddedGraphStore } from '../../graph/embedded/embedded-store.js';
import { k8sId } from '../../graph/ids.js';
import type { GraphStore } from '../../graph/store.js';
import { ManualClock } from '../../shared/clock.js';
import { silentLogger } from '../../shared/logger.js';
import { tempDir } from '../../../test/kit/tmp.js';
import { startKubernetesIngest, type KubernetesIngest } from './ingest.js';
import { KubeRequestError, type KubeClient, type WatchLine } from './kube-client.js';
import type { KubeObject } from './resources.js';

const CLUSTER = 'c1';
const clock = new ManualClock(Date.UTC(2026, 0, 1));

/** A scripted API: fixed lists, watches the test feeds by hand, refusals per path. */
class FakeApi implements KubeClient {
  readonly items = new Map<string, KubeObject[]>();
  readonly refused = new Map<string, number>();
  readonly lists: string[] = [];
  readonly watches = new Map<
    string,
    { onLine: (line: WatchLine) => void; onDone: (error: unknown) => void }
  >();
  version = 10;

  list(path: string): Promise<{ items: KubeObject[]; metadata: { resourceVersion: string } }> {
    this.lists.push(path);
    const status = this.refused.get(path);
    if (status) return Promise.reject(new KubeRequestError(status, `GET ${path}: ${status}`));
    return Promise.resolve({
      items: this.items.get(path) ?? [],
      metadata: { resourceVersion: String(this.version) },
    });
  }

  watch(
    path: string,
    _query: Record<string, string | number | boolean>,
    onLine: (line: WatchLine) => void,
    onDone: (error: unknown) => void,
  ): Promise<AbortController> {
    this.watches.set(path, { onLine, onDone });
    return Promise.resolve(new AbortController());
  }
}

let ingest: KubernetesIngest | undefined;
let graph: GraphStore | undefined;
afterEach(async () => {
  await ingest?.stop();
  await graph?.close();
  ingest = graph = undefined;
});

async function start(api: FakeApi): Promise<{ ingest: KubernetesIngest; graph: GraphStore }> {
  graph = await EmbeddedGraphStore.open({
    dataDir: tempDir(),
    fsync: 'never',
    logger: silentLogger(),
    clock,
  });
  ingest = startKubernetesIngest({
    client: api,
    cluster: CLUSTER,
    graph,
    logger: silentLogger(),
    clock,
    expireEveryMs: 0,
    backoffMs: { initial: 5, max: 20 },
  });
  return { ingest, graph };
}

const pod: KubeObject = {
  metadata: { name: 'web-1', namespace: 'app', uid: 'p1', resourceVersion: '5', labels: { app: 'web' } },
  spec: { nodeName: 'n1', containers: [{ name: 'web', image: 'web:1' }] },
  status: { phase: 'Running' },
};

describe('startKubernetesIngest', () => {
  it('gets ready without a resource it may not list, and leaves it out of the snapshot', async () => {
    const api = new FakeApi();
    api.items.set('/api/v1/pods', [pod]);
    api.refused.set('/apis/autoscaling/v2/horizontalpodautoscalers', 403);
    const { ingest } = await start(api);
    await ingest.ready;
    const snapshot = ingest.snapshot();
    expect(snapshot.pods).toHaveLength(1);
    expect(snapshot.hpas).toBeUndefined();
    expect(snapshot.deployments).toEqual([]);
    expect(ingest.stats().resources.hpas).toMatchObject({ synced: false });
    expect(ingest.stats().resources.hpas.errors).toBeGreaterThan(0);
  });

  it('lists again when a watch reports 410 Gone, and writes warning events to the object', async () => {
    const api = new FakeApi();
    api.items.set('/api/v1/pods', [pod]);
    const { ingest, graph } = await start(api);
    await ingest.ready;
    const watch = api.watches.get('/api/v1/events');
    expect(watch).toBeDefined();
    watch?.onLine({
      type: 'ADDED',
      object: {
        metadata: { name: 'web-1.1', namespace: 'app', uid: 'e1', resourceVersion: '11' },
        involvedObject: { kind: 'Pod', name: 'web-1', namespace: 'app' },
        type: 'Warning',
        reason: 'BackOff',
        message: 'Back-off restarting failed container',
        count: 4,
        lastTimestamp: '2026-01-01T00:00:00Z',
      },
    });
    watch?.onLine({ type: 'BOOKMARK', object: { metadata: { resourceVersion: '12' } } });
    await ingest.drained();
    expect(ingest.stats().resources.events).toMatchObject({ events: 1, bookmarks: 1, resourceVersion: '12' });
    expect(await graph.events(k8sId(CLUSTER, 'app', 'Pod', 'web-1'), { kinds: ['k8s-event'] })).toMatchObject(
      [
        {
          summary: 'BackOff: Back-off restarting failed container',
          properties: { reason: 'BackOff', count: 4 },
        },
      ],
    );

    const podWatch = api.watches.get('/api/v1/pods');
    const before = api.lists.filter((path) => path === '/api/v1/pods').length;
    api.items.set('/api/v1/pods', []);
    podWatch?.onLine({ type: 'ERROR', object: { kind: 'Status', code: 410, reason: 'Expired' } });
    const podId = k8sId(CLUSTER, 'app', 'Pod', 'web-1');
    for (let attempt = 0; attempt < 200 && (await graph.get(podId))?.properties.deleted !== true; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(api.lists.filter((path) => path === '/api/v1/pods').length).toBe(before + 1);
    expect(ingest.stats().resources.pods.expired).toBe(1);
    // The pod vanished while the watch was gone: the relist marks it deleted.
    expect((await graph.get(podId))?.properties.deleted).toBe(true);
    expect(ingest.snapshot().pods).toEqual([]);
  });

  it('does not get ready while the credentials are refused', async () => {
    const api = new FakeApi();
    for (const path of ['/api/v1/pods', '/api/v1/nodes']) api.refused.set(path, 401);
    const { ingest } = await start(api);
    const outcome = await Promise.race([
      ingest.ready.then(() => 'ready'),
      new Promise((resolve) => setTimeout(() => resolve('waiting'), 200)),
    ]);
    expect(outcome).toBe('waiting');
    expect(ingest.stats().resources.pods.errors).toBeGreaterThan(1);
    api.refused.clear();
    await ingest.ready;
  });
});
