import { describe, expect, it } from 'vitest';
import { R } from '../../src/sim/world/cluster.js';
import { FAULT_KINDS } from '../../src/sim/scenario/fault-schema.js';
import type { SimAlert } from '../../src/sim/world/types.js';
import { act, at, fault, mean, podObjects, waitingReasons, worldWithFault } from './world-kit.js';

// One test per fault kind (docs/evals.md, "Faults"): symptoms appear on time, the right action
// clears them, a wrong action does not. The fault starts at 60 s; time is stepped by hand.

describe('fault kinds', () => {
  it('covers every kind of the format', async () => {
    const tested = new Set(
      (await import('node:fs'))
        .readFileSync(new URL(import.meta.url), 'utf8')
        .match(/it\('(\w+):/g)
        ?.map((line) => line.slice(4, -1)),
    );
    expect([...FAULT_KINDS].filter((kind) => !tested.has(kind))).toEqual([]);
  });

  it('bad_deploy: errors from the new revision; a restart keeps them, a rollback clears them', async () => {
    const world = await worldWithFault({
      kind: 'bad_deploy',
      service: 'checkout',
      image: 'shop/checkout:3.1.0',
      errorRate: 0.35,
    });
    await at(world, 55);
    expect(mean(world, 'checkout', 'errorRate', 0, 55)).toBeLessThan(0.01);
    await at(world, 150);
    expect(mean(world, 'checkout', 'errorRate', 100, 150)).toBeGreaterThan(0.25);
    expect(mean(world, 'checkout', 'latencyP99Ms', 100, 150)).toBeGreaterThan(
      mean(world, 'checkout', 'latencyP99Ms', 0, 55) * 1.3,
    );
    const deployment = world.cluster.store.get(R.deployments, 'shop', 'checkout');
    expect(deployment?.metadata.annotations?.['deployment.kubernetes.io/revision']).toBe('3');
    act(world, 'k8s.rolloutRestart', 'checkout');
    await at(world, 240);
    expect(mean(world, 'checkout', 'errorRate', 200, 240)).toBeGreaterThan(0.25);
    expect(fault(world).active).toBe(true);
    act(world, 'k8s.rollback', 'checkout');
    await at(world, 330);
    expect(mean(world, 'checkout', 'errorRate', 290, 330)).toBeLessThan(0.02);
    expect(fault(world)).toMatchObject({ active: false, mitigated: true });
    expect(world.services().find((service) => service.name === 'checkout')?.image).toBe(
      'shop/checkout:3.0.9',
    );
  });

  it('bad_config: a new ConfigMap, crash-looping new pods with the error in their logs; a rollback clears it', async () => {
    const world = await worldWithFault({
      kind: 'bad_config',
      service: 'payments',
      key: 'DATABASE_POOL_SIZE',
      value: '-1',
    });
    const configMaps = world.cluster.store
      .list(R.configmaps)
      .filter((map) => map.metadata.labels?.app === 'payments').length;
    await at(world, 55);
    expect(waitingReasons(world, 'payments')).toEqual([]);
    await at(world, 120);
    expect(
      world.cluster.store.list(R.configmaps).filter((map) => map.metadata.labels?.app === 'payments'),
    ).toHaveLength(configMaps + 1);
    expect(waitingReasons(world, 'payments')).toContain('CrashLoopBackOff');
    const crashing = world.pods('payments').find((pod) => pod.reason === 'CrashLoopBackOff');
    expect(crashing?.restarts).toBeGreaterThan(0);
    expect(world.kube.podLog('shop', crashing?.name ?? '', { previous: true })).toContain(
      'invalid configuration: DATABASE_POOL_SIZE',
    );
    expect(world.pods('payments').filter((pod) => pod.ready)).toHaveLength(2);
    act(world, 'k8s.scale', 'payments', { replicas: 3 });
    await at(world, 180);
    expect(waitingReasons(world, 'payments')).toContain('CrashLoopBackOff');
    expect(fault(world).active).toBe(true);
    act(world, 'k8s.rollback', 'payments');
    await at(world, 240);
    expect(waitingReasons(world, 'payments')).toEqual([]);
    expect(world.pods('payments').every((pod) => pod.ready)).toBe(true);
    expect(fault(world).active).toBe(false);
  });

  it('image_pull: new pods ErrImagePull/ImagePullBackOff, old pods serving; a restart does not help, a rollback does', async () => {
    const world = await worldWithFault({ kind: 'image_pull', service: 'cart' });
    await at(world, 100);
    const reasons = waitingReasons(world, 'cart');
    expect(reasons.some((reason) => reason === 'ImagePullBackOff' || reason === 'ErrImagePull')).toBe(true);
    expect(world.pods('cart').filter((pod) => pod.ready)).toHaveLength(2);
    expect(mean(world, 'cart', 'errorRate', 70, 100)).toBeLessThan(0.01);
    const events = world.cluster.store.list(R.events).filter((event) => event.reason === 'Failed');
    expect(events.some((event) => String(event.message).includes('ErrImagePull'))).toBe(true);
    act(world, 'k8s.rolloutRestart', 'cart');
    await at(world, 160);
    expect(waitingReasons(world, 'cart').some((reason) => reason.includes('Image'))).toBe(true);
    act(world, 'k8s.rollback', 'cart');
    await at(world, 220);
    expect(waitingReasons(world, 'cart')).toEqual([]);
    expect(fault(world).active).toBe(false);
  });

  it('memory_leak: memory climbs to OOMKilled restarts; scaling does not help, a restart relieves it for a while', async () => {
    const world = await worldWithFault({ kind: 'memory_leak', service: 'catalog' });
    await at(world, 55);
    const baseline = mean(world, 'catalog', 'memoryMi', 0, 55);
    await at(world, 270);
    expect(mean(world, 'catalog', 'memoryMi', 230, 270)).toBeGreaterThan(baseline * 1.6);
    await at(world, 320);
    const oom = podObjects(world, 'catalog').find(
      (pod) =>
        (pod.status as { containerStatuses?: Array<{ lastState?: { terminated?: { reason?: string } } }> })
          .containerStatuses?.[0]?.lastState?.terminated?.reason === 'OOMKilled',
    );
    expect(oom).toBeDefined();
    expect(mean(world, 'catalog', 'restarts', 310, 320)).toBeGreaterThan(0);
    act(world, 'k8s.scale', 'catalog', { replicas: 4 });
    await at(world, 500);
    expect(mean(world, 'catalog', 'memoryMi', 480, 500)).toBeGreaterThan(baseline * 1.5);
    expect(fault(world).mitigated).toBe(false);
    act(world, 'k8s.rolloutRestart', 'catalog');
    await at(world, 540);
    expect(mean(world, 'catalog', 'memoryMi', 520, 540)).toBeLessThan(baseline * 1.3);
    expect(fault(world).mitigated).toBe(true);
    await at(world, 740);
    expect(mean(world, 'catalog', 'memoryMi', 720, 740)).toBeGreaterThan(baseline * 1.6);
    expect(fault(world).active).toBe(true);
  });

  it('traffic_surge: rps and cpu up, latency then errors; a restart does not help, scaling up clears it', async () => {
    const world = await worldWithFault({ kind: 'traffic_surge', service: 'search', factor: 4, ramp: '2m' });
    await at(world, 55);
    const rps = mean(world, 'search', 'rps', 0, 55);
    const cpu = mean(world, 'search', 'cpu', 0, 55);
    await at(world, 240);
    expect(mean(world, 'search', 'rps', 200, 240)).toBeGreaterThan(rps * 3.5);
    expect(mean(world, 'search', 'cpu', 200, 240)).toBeGreaterThan(cpu * 2);
    expect(mean(world, 'search', 'errorRate', 200, 240)).toBeGreaterThan(0.1);
    act(world, 'k8s.rolloutRestart', 'search');
    await at(world, 330);
    expect(mean(world, 'search', 'errorRate', 300, 330)).toBeGreaterThan(0.1);
    act(world, 'k8s.scale', 'search', { replicas: 6 });
    await at(world, 400);
    expect(mean(world, 'search', 'errorRate', 370, 400)).toBeLessThan(0.02);
    expect(fault(world).active).toBe(false);
  });

  it('connection_pool_exhaustion: the datastore at max and errors on its clients; a restart spikes it, a rollback clears it', async () => {
    const world = await worldWithFault({
      kind: 'connection_pool_exhaustion',
      service: 'checkout',
      datastore: 'postgres-orders',
    });
    await at(world, 55);
    expect(mean(world, 'postgres-orders', 'dbConnectionsInUse', 0, 55)).toBeLessThan(60);
    await at(world, 150);
    expect(mean(world, 'postgres-orders', 'dbConnectionsInUse', 120, 150)).toBe(100);
    const before = mean(world, 'payments', 'errorRate', 120, 150);
    expect(before).toBeGreaterThan(0.1);
    expect(mean(world, 'shipping', 'errorRate', 120, 150)).toBeGreaterThan(0.1);
    act(world, 'k8s.rolloutRestart', 'checkout');
    await at(world, 210);
    expect(mean(world, 'payments', 'errorRate', 160, 210)).toBeGreaterThan(before + 0.1);
    act(world, 'k8s.rollback', 'checkout');
    await at(world, 420);
    expect(mean(world, 'payments', 'errorRate', 380, 420)).toBeLessThan(0.02);
    expect(mean(world, 'postgres-orders', 'dbConnectionsInUse', 380, 420)).toBeLessThan(60);
    expect(fault(world)).toMatchObject({ active: false, subject: 'postgres-orders' });
  });

  it('cache_memory_pressure: the cache near maxmemory with evictions, a batch job, dependents erroring; a restart only flushes it', async () => {
    const world = await worldWithFault({
      kind: 'cache_memory_pressure',
      service: 'redis-session',
      job: 'catalog-import',
    });
    await at(world, 55);
    const cartErrors = mean(world, 'cart', 'errorRate', 0, 55);
    await at(world, 270);
    expect(mean(world, 'redis-session', 'cacheMemoryMi', 250, 270)).toBeGreaterThan(2048 * 0.95);
    expect(mean(world, 'redis-session', 'cacheEvictions', 250, 270)).toBeGreaterThan(10);
    expect(mean(world, 'redis-session', 'cacheFragmentationRatio', 250, 270)).toBeGreaterThan(1.4);
    expect(mean(world, 'cart', 'errorRate', 250, 270)).toBeGreaterThan(cartErrors + 0.03);
    const job = world.cluster.store
      .list(R.jobs)
      .find(
        (candidate) =>
          candidate.metadata.labels?.app === 'catalog-import' &&
          (candidate.status as { active?: number }).active,
      );
    expect(job).toBeDefined();
    act(world, 'k8s.rolloutRestart', 'redis-session');
    await at(world, 330);
    expect(mean(world, 'cart', 'errorRate', 290, 330)).toBeGreaterThan(cartErrors + 0.1);
    await at(world, 420);
    expect(mean(world, 'redis-session', 'cacheMemoryMi', 400, 420)).toBeGreaterThan(2048 * 0.9);
    expect(fault(world)).toMatchObject({ active: true, subject: 'catalog-import' });
  });

  it('dependency_failure: callers error first, then the service; a rollback does not help, a restart clears it', async () => {
    const world = await worldWithFault({ kind: 'dependency_failure', service: 'payments' });
    await at(world, 80);
    expect(mean(world, 'checkout', 'errorRate', 75, 80)).toBeGreaterThan(0.15);
    expect(mean(world, 'payments', 'errorRate', 75, 80)).toBeLessThan(0.05);
    await at(world, 200);
    expect(mean(world, 'payments', 'errorRate', 185, 200)).toBeGreaterThan(0.4);
    act(world, 'k8s.rollback', 'payments');
    await at(world, 260);
    expect(mean(world, 'payments', 'errorRate', 240, 260)).toBeGreaterThan(0.4);
    act(world, 'k8s.rolloutRestart', 'payments');
    await at(world, 320);
    expect(mean(world, 'payments', 'errorRate', 300, 320)).toBeLessThan(0.02);
    expect(mean(world, 'checkout', 'errorRate', 300, 320)).toBeLessThan(0.02);
    expect(fault(world).active).toBe(false);
  });

  it('node_pressure: the node reports pressure and evicts pods; a restart does not stop it, cordoning the node does', async () => {
    const world = await worldWithFault({ kind: 'node_pressure', service: 'checkout', node: 'node-b' });
    await at(world, 140);
    const node = world.cluster.store.get(R.nodes, undefined, 'node-b');
    const conditions = (node?.status as { conditions: Array<{ type: string; status: string }> }).conditions;
    expect(conditions.find((condition) => condition.type === 'MemoryPressure')?.status).toBe('True');
    const evicted = (): number => world.pods().filter((pod) => pod.reason === 'Evicted').length;
    expect(evicted()).toBeGreaterThanOrEqual(1);
    expect(world.pods('checkout').some((pod) => pod.reason === 'Evicted')).toBe(true);
    act(world, 'k8s.rolloutRestart', 'checkout');
    const afterRestart = evicted();
    await at(world, 280);
    expect(evicted()).toBeGreaterThan(afterRestart);
    act(world, 'k8s.cordonNode', 'node-b');
    const afterCordon = evicted();
    await at(world, 420);
    expect(evicted()).toBe(afterCordon);
    expect(fault(world)).toMatchObject({ active: false, node: 'node-b' });
    const taints =
      (world.cluster.store.get(R.nodes, undefined, 'node-b')?.spec as { taints?: Array<{ key: string }> })
        .taints ?? [];
    expect(taints.map((taint) => taint.key)).toContain('node.kubernetes.io/unschedulable');
    expect(mean(world, 'checkout', 'errorRate', 380, 420)).toBeLessThan(0.02);
  });

  it('dns_failure: a NetworkPolicy denying DNS and resolution errors; a restart makes it worse, only removing the policy clears it', async () => {
    const world = await worldWithFault({ kind: 'dns_failure', service: 'recommendation' });
    await at(world, 120);
    expect(world.cluster.store.get(R.networkpolicies, 'shop', 'deny-egress')).toBeDefined();
    expect(mean(world, 'recommendation', 'errorRate', 90, 120)).toBeGreaterThan(0.5);
    const lines = world.logs('recommendation', { fromMs: world.startedAt() + 90_000, toMs: world.now() });
    expect(lines.some((line) => line.message.includes('EAI_AGAIN'))).toBe(true);
    act(world, 'k8s.rolloutRestart', 'recommendation');
    await at(world, 200);
    expect(waitingReasons(world, 'recommendation')).toContain('CrashLoopBackOff');
    expect(fault(world)).toMatchObject({ active: true, subject: 'deny-egress' });
    world.kube.delete(R.networkpolicies, 'shop', 'deny-egress');
    await at(world, 260);
    expect(fault(world).active).toBe(false);
    expect(mean(world, 'recommendation', 'errorRate', 230, 260)).toBeLessThan(0.02);
  });

  it('pending_unschedulable: new pods Pending with the scheduler reason; scaling further only adds Pending pods', async () => {
    const world = await worldWithFault({ kind: 'pending_unschedulable', service: 'frontend', reason: 'cpu' });
    await at(world, 90);
    const pending = world.pods('frontend').filter((pod) => pod.phase === 'Pending');
    expect(pending).toHaveLength(2);
    const pod = podObjects(world, 'frontend').find(
      (object) => (object.status as { phase: string }).phase === 'Pending',
    );
    const condition = (
      pod?.status as { conditions: Array<{ type: string; reason?: string; message?: string }> }
    ).conditions[0];
    expect(condition).toMatchObject({ type: 'PodScheduled', reason: 'Unschedulable' });
    expect(condition?.message).toContain('Insufficient cpu');
    expect(world.cluster.store.list(R.events).some((event) => event.reason === 'FailedScheduling')).toBe(
      true,
    );
    act(world, 'k8s.scale', 'frontend', { replicas: 7 });
    await at(world, 150);
    expect(world.pods('frontend').filter((candidate) => candidate.phase === 'Pending')).toHaveLength(4);
    expect(fault(world)).toMatchObject({ active: true, subject: 'cpu' });
  });

  it('flag_regression: the flag flips on and errors follow; a rollback does not help, setting the flag back clears it', async () => {
    const world = await worldWithFault({ kind: 'flag_regression', service: 'checkout', flag: 'new-pricing' });
    await at(world, 55);
    expect(world.flags.get('new-pricing')?.value).toBe(false);
    await at(world, 120);
    expect(world.flags.get('new-pricing')?.value).toBe(true);
    expect(mean(world, 'checkout', 'errorRate', 100, 120)).toBeGreaterThan(0.2);
    expect(world.events(world.startedAt(), world.now()).some((event) => event.source === 'flag')).toBe(true);
    act(world, 'k8s.rollback', 'checkout');
    await at(world, 180);
    expect(mean(world, 'checkout', 'errorRate', 160, 180)).toBeGreaterThan(0.2);
    act(world, 'flags.set', 'new-pricing', { value: false });
    await at(world, 220);
    expect(mean(world, 'checkout', 'errorRate', 200, 220)).toBeLessThan(0.02);
    expect(fault(world)).toMatchObject({ active: false, subject: 'new-pricing' });
  });

  it('noisy_neighbor: a batch job on the same node slows the service down; a restart does not clear it', async () => {
    const world = await worldWithFault({ kind: 'noisy_neighbor', service: 'search', node: 'node-a' });
    await at(world, 55);
    const latency = mean(world, 'search', 'latencyP99Ms', 0, 55);
    await at(world, 150);
    const job = world.pods('catalog-import').find((pod) => pod.phase === 'Running');
    expect(job?.node).toBe('node-a');
    expect(world.pods('search').some((pod) => pod.node === 'node-a')).toBe(true);
    expect(mean(world, 'search', 'latencyP99Ms', 120, 150)).toBeGreaterThan(latency * 1.5);
    act(world, 'k8s.rolloutRestart', 'search');
    await at(world, 240);
    expect(mean(world, 'search', 'latencyP99Ms', 210, 240)).toBeGreaterThan(latency * 1.5);
    expect(fault(world)).toMatchObject({ active: true, subject: 'catalog-import', node: 'node-a' });
  });

  it('cert_expiry: the Certificate expired, TLS errors on the service and its callers; a restart crash-loops new pods', async () => {
    const world = await worldWithFault({ kind: 'cert_expiry', service: 'payments' });
    await at(world, 130);
    const certificate = world.cluster.store.get(R.certificates, 'shop', 'payments-tls');
    expect((certificate?.status as { conditions: Array<{ reason: string }> }).conditions[0]?.reason).toBe(
      'Expired',
    );
    expect(mean(world, 'payments', 'errorRate', 100, 130)).toBeGreaterThan(0.5);
    expect(mean(world, 'checkout', 'errorRate', 100, 130)).toBeGreaterThan(0.2);
    const lines = world.logs('checkout', { fromMs: world.startedAt() + 100_000, toMs: world.now() });
    expect(lines.some((line) => line.message.includes('x509: certificate has expired'))).toBe(true);
    act(world, 'k8s.rolloutRestart', 'payments');
    await at(world, 200);
    expect(waitingReasons(world, 'payments')).toContain('CrashLoopBackOff');
    expect(mean(world, 'payments', 'errorRate', 180, 200)).toBeGreaterThan(0.5);
    expect(fault(world)).toMatchObject({ active: true, subject: 'payments-tls' });
  });

  it('flapping: an alert toggles firing/resolved on its period while nothing is wrong', async () => {
    const world = await worldWithFault({ kind: 'flapping', service: 'cart', period: '1m' });
    const alerts: SimAlert[] = [];
    world.on('alert', (alert) => alerts.push(alert));
    await at(world, 300);
    expect(alerts.map((alert) => alert.status)).toEqual([
      'firing',
      'resolved',
      'firing',
      'resolved',
      'firing',
    ]);
    expect(alerts.map((alert) => (alert.t - world.startedAt()) / 1000)).toEqual([60, 120, 180, 240, 300]);
    expect(alerts[0]?.body).toMatchObject({
      version: '4',
      status: 'firing',
      alerts: [{ labels: { alertname: 'HighLatencyP99', service: 'cart' } }],
    });
    expect(mean(world, 'cart', 'errorRate', 60, 300)).toBeLessThan(0.01);
    expect(world.pods('cart').every((pod) => pod.ready)).toBe(true);
    expect(fault(world).mitigated).toBe(true);
  });
});
