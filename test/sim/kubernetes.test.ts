import * as k8s from '@kubernetes/client-node';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startKubernetesServer, type KubernetesServer } from '../../src/sim/kubernetes/server.js';
import { writeKubeconfig } from '../../src/sim/kubernetes/kubeconfig.js';
import { loadEstate } from '../../src/sim/scenario/load.js';
import { rollbackPatch } from '../../src/sim/world/kubectl.js';
import { createWorld, type World } from '../../src/sim/world/world.js';
import { tempDir } from '../kit/tmp.js';
import { EVALS_DIR, START, at, worldWithFault } from './world-kit.js';

const TOKEN = 'sim-token-for-tests';
const SMP = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.StrategicMergePatch);
const MERGE = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch);
const JSON_PATCH = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.JsonPatch);

function kubeConfig(url: string, token = TOKEN): k8s.KubeConfig {
  const config = new k8s.KubeConfig();
  config.loadFromOptions({
    clusters: [{ name: 'sim', server: url, skipTLSVerify: true }],
    users: [{ name: 'agent', token }],
    contexts: [{ name: 'sim', cluster: 'sim', user: 'agent', namespace: 'shop' }],
    currentContext: 'sim',
  });
  return config;
}

async function rejection(promise: Promise<unknown>): Promise<k8s.ApiException<unknown>> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof k8s.ApiException) return error as k8s.ApiException<unknown>;
    throw error;
  }
  throw new Error('expected the call to fail');
}

function statusOf(error: k8s.ApiException<unknown>): { reason?: string; code?: number; message?: string } {
  const body: unknown = error.body;
  return (typeof body === 'string' ? JSON.parse(body) : body) as {
    reason?: string;
    code?: number;
    message?: string;
  };
}

let world: World;
let server: KubernetesServer;
let core: k8s.CoreV1Api;
let apps: k8s.AppsV1Api;
let config: k8s.KubeConfig;

async function start(target: World): Promise<void> {
  world = target;
  server = await startKubernetesServer({ world, token: TOKEN, bookmarkIntervalMs: 100 });
  config = kubeConfig(server.url);
  core = config.makeApiClient(k8s.CoreV1Api);
  apps = config.makeApiClient(k8s.AppsV1Api);
}

describe('the Kubernetes API server, with the real @kubernetes/client-node', () => {
  beforeEach(async () => {
    const { estate } = loadEstate('shop', { evalsDir: EVALS_DIR });
    await start(await createWorld({ estate, startMs: START }));
  });
  afterEach(async () => {
    await server.close();
  });

  it('lists and reads every kind the estate has', async () => {
    const namespaces = await core.listNamespace();
    expect(namespaces.items.map((namespace) => namespace.metadata?.name)).toEqual(
      expect.arrayContaining(['default', 'kube-system', 'shop']),
    );
    expect((await core.listNode()).items).toHaveLength(3);
    const pods = await core.listNamespacedPod({ namespace: 'shop', labelSelector: 'app=checkout' });
    expect(pods.items).toHaveLength(3);
    expect(pods.items[0]?.status?.containerStatuses?.[0]).toMatchObject({ ready: true, restartCount: 0 });
    const deployment = await apps.readNamespacedDeployment({ name: 'checkout', namespace: 'shop' });
    expect(deployment.metadata?.annotations?.['deployment.kubernetes.io/revision']).toBe('2');
    expect(deployment.status).toMatchObject({ replicas: 3, readyReplicas: 3, updatedReplicas: 3 });
    const sets = await apps.listNamespacedReplicaSet({ namespace: 'shop', labelSelector: 'app=checkout' });
    expect(
      sets.items.map((rs) => rs.metadata?.annotations?.['deployment.kubernetes.io/revision']).sort(),
    ).toEqual(['1', '2']);
    expect(sets.items.every((rs) => rs.metadata?.labels?.['pod-template-hash'])).toBe(true);
    expect(
      (await apps.listNamespacedStatefulSet({ namespace: 'shop' })).items.map((set) => set.metadata?.name),
    ).toEqual(['postgres-orders', 'rabbitmq', 'redis-session']);
    expect((await apps.listDaemonSetForAllNamespaces()).items).toEqual([]);
    const service = await core.readNamespacedService({ name: 'checkout', namespace: 'shop' });
    expect(service.spec?.selector).toEqual({ app: 'checkout' });
    const configMaps = await core.listNamespacedConfigMap({
      namespace: 'shop',
      labelSelector: 'app=checkout',
    });
    expect(configMaps.items[0]?.data?.REDIS_HOST).toBe('redis-session');
    const hpas = await config
      .makeApiClient(k8s.AutoscalingV2Api)
      .listNamespacedHorizontalPodAutoscaler({ namespace: 'shop' });
    expect(hpas.items.map((hpa) => hpa.spec?.scaleTargetRef.name).sort()).toEqual(['checkout', 'frontend']);
    const jobs = await config.makeApiClient(k8s.BatchV1Api).listNamespacedJob({ namespace: 'shop' });
    expect(jobs.items[0]?.status?.succeeded).toBe(1);
    const running = await core.listPodForAllNamespaces({
      fieldSelector: 'status.phase=Running,spec.nodeName=node-a',
    });
    expect(running.items.length).toBeGreaterThan(0);
    expect(running.items.every((pod) => pod.spec?.nodeName === 'node-a')).toBe(true);
    const firstPage = await core.listNamespacedPod({ namespace: 'shop', limit: 5 });
    expect(firstPage.items).toHaveLength(5);
    const secondPage = await core.listNamespacedPod({
      namespace: 'shop',
      limit: 5,
      _continue: firstPage.metadata?._continue ?? '',
    });
    expect(secondPage.items[0]?.metadata?.name).not.toBe(firstPage.items[0]?.metadata?.name);
  });

  it('answers Status errors: 404 for a missing object, 401 without the token', async () => {
    const missing = await rejection(apps.readNamespacedDeployment({ name: 'nope', namespace: 'shop' }));
    expect(missing.code).toBe(404);
    expect(statusOf(missing)).toMatchObject({
      reason: 'NotFound',
      code: 404,
      message: 'deployments.apps "nope" not found',
    });
    const stranger = kubeConfig(server.url, 'wrong-token').makeApiClient(k8s.CoreV1Api);
    const denied = await rejection(stranger.listNamespace());
    expect(denied.code).toBe(401);
    const raw = await fetch(`${server.url}/api/v1/namespaces`);
    expect(raw.status).toBe(401);
    expect(await raw.json()).toMatchObject({
      kind: 'Status',
      status: 'Failure',
      reason: 'Unauthorized',
      code: 401,
    });
  });

  it('rejects a body whose shape does not match its content type, as the real API server does', async () => {
    const mergeStyleAsJsonPatch = await rejection(
      apps.patchNamespacedDeployment({
        name: 'checkout',
        namespace: 'shop',
        body: { spec: { replicas: 5 } },
      }),
    );
    expect(mergeStyleAsJsonPatch.code).toBe(400);
    expect(statusOf(mergeStyleAsJsonPatch).message).toContain(
      'cannot unmarshal object into Go value of type jsonpatch.Patch',
    );
    const arrayAsMerge = await rejection(
      apps.patchNamespacedDeployment(
        { name: 'checkout', namespace: 'shop', body: [{ op: 'replace', path: '/spec/replicas', value: 5 }] },
        MERGE,
      ),
    );
    expect(arrayAsMerge.code).toBe(400);
    const apply = await rejection(
      apps.patchNamespacedDeployment(
        { name: 'checkout', namespace: 'shop', body: { spec: { replicas: 5 } } },
        k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.ServerSideApply),
      ),
    );
    expect(apply.code).toBe(415);
    expect(
      (await apps.readNamespacedDeployment({ name: 'checkout', namespace: 'shop' })).spec?.replicas,
    ).toBe(3);
    expect(world.actions()).toEqual([]);
  });

  it('restarts a rollout with the strategic-merge template annotation: a new ReplicaSet revision', async () => {
    const restartedAt = new Date(world.now()).toISOString();
    await apps.patchNamespacedDeployment(
      {
        name: 'cart',
        namespace: 'shop',
        body: {
          spec: {
            template: { metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': restartedAt } } },
          },
        },
      },
      SMP,
    );
    await at(world, 60);
    const deployment = await apps.readNamespacedDeployment({ name: 'cart', namespace: 'shop' });
    expect(deployment.metadata?.annotations?.['deployment.kubernetes.io/revision']).toBe('3');
    const sets = await apps.listNamespacedReplicaSet({ namespace: 'shop', labelSelector: 'app=cart' });
    const newest = sets.items.find(
      (rs) => rs.metadata?.annotations?.['deployment.kubernetes.io/revision'] === '3',
    );
    expect(newest?.spec?.replicas).toBe(2);
    const pods = await core.listNamespacedPod({
      namespace: 'shop',
      labelSelector: `app=cart,pod-template-hash=${newest?.metadata?.labels?.['pod-template-hash'] ?? ''}`,
    });
    expect(pods.items.filter((pod) => pod.status?.containerStatuses?.[0]?.ready)).toHaveLength(2);
    expect(world.actions().map((action) => `${action.kind}:${action.target}`)).toEqual([
      'k8s.rolloutRestart:cart',
    ]);
  });

  it('scales through the scale subresource with a merge patch and replies an autoscaling/v1 Scale', async () => {
    const scale = await apps.patchNamespacedDeploymentScale(
      { name: 'catalog', namespace: 'shop', body: { spec: { replicas: 4 } } },
      MERGE,
    );
    expect(scale).toMatchObject({ apiVersion: 'autoscaling/v1', kind: 'Scale', spec: { replicas: 4 } });
    await at(world, 30);
    const read = await apps.readNamespacedDeploymentScale({ name: 'catalog', namespace: 'shop' });
    expect(read.spec?.replicas).toBe(4);
    expect(read.status?.replicas).toBe(4);
    expect(read.status?.selector).toBe('app=catalog');
    expect(
      (await core.listNamespacedPod({ namespace: 'shop', labelSelector: 'app=catalog' })).items,
    ).toHaveLength(4);
  });

  it('rolls back as `kubectl rollout undo` does: the JSON patch kubectl sends, the old ReplicaSet adopted with revision max+1', async () => {
    await world.deploy('search', { image: 'shop/search:0.9.9' });
    await at(world, 60);
    const before = await apps.listNamespacedReplicaSet({ namespace: 'shop', labelSelector: 'app=search' });
    expect(before.items).toHaveLength(3);
    const deployment = world.kube.get('apps/deployments', 'shop', 'search');
    const patch = rollbackPatch(world.cluster, deployment);
    expect(patch.map((operation) => operation.path)).toEqual(['/spec/template', '/metadata/annotations']);
    await apps.patchNamespacedDeployment({ name: 'search', namespace: 'shop', body: patch }, JSON_PATCH);
    await at(world, 120);
    const after = await apps.listNamespacedReplicaSet({ namespace: 'shop', labelSelector: 'app=search' });
    expect(after.items).toHaveLength(3);
    const adopted = after.items.find(
      (rs) => rs.spec?.template?.spec?.containers[0]?.image === 'shop/search:0.9.8',
    );
    expect(adopted?.metadata?.annotations?.['deployment.kubernetes.io/revision']).toBe('4');
    expect(adopted?.spec?.replicas).toBe(2);
    expect(
      (await apps.readNamespacedDeployment({ name: 'search', namespace: 'shop' })).metadata?.annotations?.[
        'deployment.kubernetes.io/revision'
      ],
    ).toBe('4');
    expect(world.actions().at(-1)).toMatchObject({
      kind: 'k8s.rollback',
      target: 'search',
      details: { toRevision: 2 },
    });
  });

  it('cordons a node with a strategic-merge patch; new pods go elsewhere', async () => {
    const node = await core.patchNode({ name: 'node-a', body: { spec: { unschedulable: true } } }, SMP);
    expect(node.spec?.unschedulable).toBe(true);
    expect(node.spec?.taints?.map((taint) => taint.key)).toContain('node.kubernetes.io/unschedulable');
    await apps.patchNamespacedDeploymentScale(
      { name: 'shipping', namespace: 'shop', body: { spec: { replicas: 6 } } },
      MERGE,
    );
    await at(world, 30);
    const pods = await core.listNamespacedPod({ namespace: 'shop', labelSelector: 'app=shipping' });
    const created = pods.items.filter(
      (pod) => (pod.metadata?.creationTimestamp?.getTime() ?? 0) >= world.startedAt(),
    );
    expect(created).toHaveLength(4);
    expect(created.every((pod) => pod.spec?.nodeName !== 'node-a')).toBe(true);
    expect(world.actions().map((action) => action.kind)).toEqual(['k8s.cordonNode', 'k8s.scale']);
  });

  it('deletes a pod; its ReplicaSet creates another', async () => {
    const pods = await core.listNamespacedPod({ namespace: 'shop', labelSelector: 'app=payments' });
    const victim = pods.items[0]?.metadata?.name ?? '';
    await core.deleteNamespacedPod({ name: victim, namespace: 'shop' });
    await at(world, 20);
    const after = await core.listNamespacedPod({ namespace: 'shop', labelSelector: 'app=payments' });
    expect(after.items).toHaveLength(2);
    expect(after.items.map((pod) => pod.metadata?.name)).not.toContain(victim);
    expect(world.actions()).toMatchObject([
      { kind: 'k8s.deletePod', target: 'payments', details: { pod: victim } },
    ]);
  });

  it('watches with bookmarks from a resourceVersion, one JSON object per line', async () => {
    const list = await core.listNamespacedPod({ namespace: 'shop', labelSelector: 'app=cart' });
    const events: Array<{ type: string; name?: string; resourceVersion?: string }> = [];
    const watch = new k8s.Watch(config);
    const controller = await watch.watch(
      '/api/v1/namespaces/shop/pods',
      {
        allowWatchBookmarks: true,
        resourceVersion: list.metadata?.resourceVersion,
        labelSelector: 'app=cart',
      },
      (type, object: k8s.V1Pod) =>
        events.push({ type, name: object.metadata?.name, resourceVersion: object.metadata?.resourceVersion }),
      () => undefined,
    );
    await apps.patchNamespacedDeployment(
      {
        name: 'cart',
        namespace: 'shop',
        body: {
          spec: { template: { metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': 'now' } } } },
        },
      },
      SMP,
    );
    await at(world, 60);
    await new Promise((resolve) => setTimeout(resolve, 400));
    controller.abort();
    expect(events.some((event) => event.type === 'ADDED')).toBe(true);
    expect(events.some((event) => event.type === 'MODIFIED')).toBe(true);
    expect(events.some((event) => event.type === 'DELETED')).toBe(true);
    expect(events.some((event) => event.type === 'BOOKMARK')).toBe(true);
    const versions = events
      .filter((event) => event.type !== 'BOOKMARK')
      .map((event) => Number(event.resourceVersion));
    expect(versions).toEqual([...versions].sort((a, b) => a - b));
    expect(versions[0]).toBeGreaterThan(Number(list.metadata?.resourceVersion));
  });

  it('streams the current objects for watch=1 without a resourceVersion and refuses a too old one with 410', async () => {
    const response = await fetch(`${server.url}/api/v1/nodes?watch=1&timeoutSeconds=1`, {
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    const lines = (await response.text())
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { type: string; object: { metadata: { name: string } } });
    expect(lines.map((line) => `${line.type}:${line.object.metadata.name}`)).toEqual([
      'ADDED:node-a',
      'ADDED:node-b',
      'ADDED:node-c',
    ]);
    await server.close();
    const { estate } = loadEstate('minimal', { evalsDir: EVALS_DIR });
    await start(await createWorld({ estate, startMs: START, watchHistory: 20 }));
    const gone = await fetch(`${server.url}/api/v1/namespaces/app/pods?watch=true&resourceVersion=1`, {
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    const reply = (await gone.text()).trim().split('\n');
    expect(reply).toHaveLength(1);
    expect(JSON.parse(reply[0] ?? '{}')).toMatchObject({
      type: 'ERROR',
      object: { kind: 'Status', code: 410, reason: 'Expired' },
    });
  });

  it('writes a kubeconfig the client loads', async () => {
    const path = join(tempDir(), 'kubeconfig');
    await writeKubeconfig(path, { url: server.url, token: TOKEN, cluster: 'prod-eu1', namespace: 'shop' });
    const loaded = new k8s.KubeConfig();
    loaded.loadFromFile(path);
    expect(loaded.getCurrentContext()).toBe('prod-eu1');
    const nodes = await loaded.makeApiClient(k8s.CoreV1Api).listNode();
    expect(nodes.items).toHaveLength(3);
  });

  it('records every request; reads and dry runs are not writes', async () => {
    await core.listNamespacedPod({ namespace: 'shop' });
    await apps.patchNamespacedDeploymentScale(
      { name: 'cart', namespace: 'shop', body: { spec: { replicas: 3 } }, dryRun: 'All' },
      MERGE,
    );
    expect(world.requestLog.writes('kubernetes')).toEqual([]);
    expect((await apps.readNamespacedDeployment({ name: 'cart', namespace: 'shop' })).spec?.replicas).toBe(2);
    await apps.patchNamespacedDeploymentScale(
      { name: 'cart', namespace: 'shop', body: { spec: { replicas: 3 } } },
      MERGE,
    );
    expect(world.requestLog.writes('kubernetes')).toMatchObject([
      {
        method: 'PATCH',
        path: '/apis/apps/v1/namespaces/shop/deployments/cart/scale',
        contentType: 'application/merge-patch+json',
        write: true,
        status: 200,
      },
    ]);
    expect(world.requestLog.entries({ server: 'kubernetes' }).length).toBeGreaterThanOrEqual(4);
  });
});

describe('pod logs and events through the client', () => {
  afterEach(async () => {
    await server.close();
  });

  it('reads current and previous logs, tails them, and lists a pod’s events by field selector', async () => {
    await start(await worldWithFault({ kind: 'bad_config', service: 'payments' }));
    await at(world, 150);
    const pods = await core.listNamespacedPod({ namespace: 'shop', labelSelector: 'app=payments' });
    const crashing = pods.items.find(
      (pod) => pod.status?.containerStatuses?.[0]?.state?.waiting?.reason === 'CrashLoopBackOff',
    );
    const healthy = pods.items.find((pod) => pod.status?.containerStatuses?.[0]?.ready);
    expect(crashing?.status?.containerStatuses?.[0]?.lastState?.terminated?.reason).toBe('Error');
    const previous = await core.readNamespacedPodLog({
      name: crashing?.metadata?.name ?? '',
      namespace: 'shop',
      container: 'payments',
      previous: true,
    });
    expect(previous).toContain('invalid configuration: DATABASE_POOL_SIZE');
    const tail = await core.readNamespacedPodLog({
      name: healthy?.metadata?.name ?? '',
      namespace: 'shop',
      tailLines: 3,
    });
    expect(tail.trim().split('\n')).toHaveLength(3);
    const noPrevious = await rejection(
      core.readNamespacedPodLog({ name: healthy?.metadata?.name ?? '', namespace: 'shop', previous: true }),
    );
    expect(noPrevious.code).toBe(400);
    const events = await core.listNamespacedEvent({
      namespace: 'shop',
      fieldSelector: `involvedObject.name=${crashing?.metadata?.name ?? ''}`,
    });
    expect(events.items.length).toBeGreaterThan(0);
    expect(events.items.every((event) => event.involvedObject.name === crashing?.metadata?.name)).toBe(true);
    expect(events.items.some((event) => event.reason === 'BackOff' && event.type === 'Warning')).toBe(true);
  });
});
