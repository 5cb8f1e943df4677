import { describe, expect, inject, it, onTestFinished } from 'vitest';
import { namespaceId, nodeId, serviceId } from '../../src/graph/ids.js';
import type { EntityRef, Signal } from '../../src/ingest/signal.js';
import type { LoopSettings } from '../../src/loop/pipeline.js';
import { waitFor } from '../kit/daemon.js';
import { testPrefix } from '../kit/prefix.js';
import { tempDir } from '../kit/tmp.js';
import {
  makeSignal,
  openGraph,
  podRef,
  serviceRef,
  startLoopWorld,
  type LoopWorld,
} from './support/loop-world.js';

/** A loop whose incidents wait for approval, so they stay open (and in the correlation index). */
async function world(settings: LoopSettings = {}): Promise<LoopWorld> {
  const graph = await openGraph(tempDir());
  const started = await startLoopWorld({
    redisUrl: inject('redisUrl'),
    prefix: testPrefix(import.meta.filename),
    graph,
    script: { decide: () => ({ mode: 'approval', reason: 'hold' }) },
    settings,
  });
  onTestFinished(async () => {
    await started.stop();
    await graph.close();
  });
  return started;
}

/** Submits a signal and waits until it is in an incident; the key of that incident. */
async function place(loop: LoopWorld, signal: Signal): Promise<string> {
  await loop.pipeline.submitSignal(signal);
  let key: string | undefined;
  await waitFor(
    async () => {
      key = (await loop.pipeline.incidents.list()).find((one) => one.signalIds.includes(signal.id))?.key;
      return key !== undefined;
    },
    10_000,
    50,
  );
  return key as string;
}

/** The signal ids of each incident, by key. */
async function signalsByIncident(loop: LoopWorld): Promise<Record<string, readonly string[]>> {
  const incidents = await loop.pipeline.incidents.list();
  return Object.fromEntries(incidents.map((one) => [one.key, one.signalIds]));
}

/** A Service entity selecting the named pods (two pods are two hops apart through it). */
async function serviceSelecting(loop: LoopWorld, service: string, pods: string[]): Promise<void> {
  await loop.graph.upsertEntities([
    { id: serviceId(service), kind: 'Service', name: service, source: 'test' },
    ...pods.map((name) => ({ id: podRef(name).id, kind: 'Pod' as const, name, source: 'test' })),
  ]);
  await loop.graph.upsertRelationships(
    pods.map((name) => ({
      kind: 'SELECTS' as const,
      from: serviceId(service),
      to: podRef(name).id,
      source: 'test',
    })),
  );
}

describe('correlation limits', () => {
  it('opens a new incident for a nearby signal once the window has passed since the incident’s last signal', async () => {
    const window = 60_000;
    const loop = await world({ correlation: { windowMs: window } });
    await serviceSelecting(loop, 'checkout', ['checkout-1', 'checkout-2', 'checkout-3', 'checkout-4']);
    // Correlation reads a signal's time from its observedAt, so the test sets it.
    const t0 = Date.now() - 10 * 60_000;
    const on = (pod: string, at: number): Signal =>
      makeSignal({ fingerprint: `Window-${pod}`, entities: [podRef(pod)], observedAt: at });

    const first = on('checkout-1', t0);
    const within = on('checkout-2', t0 + 40_000);
    // Later than the window after the first signal, but within it after the last: still joins.
    const afterLast = on('checkout-3', t0 + 40_000 + window - 1_000);
    const late = on('checkout-4', afterLast.observedAt + window + 1_000);

    const opened = await place(loop, first);
    expect(await place(loop, within)).toBe(opened);
    expect(await place(loop, afterLast)).toBe(opened);
    const lateKey = await place(loop, late);
    expect(lateKey).not.toBe(opened);
    expect(await signalsByIncident(loop)).toEqual({
      [opened]: [first.id, within.id, afterLast.id],
      [lateKey]: [late.id],
    });
  });

  it('joins a signal exactly the configured hops away, and opens a new incident for one a hop further', async () => {
    // Three hops, not the default two, so the setting is what decides.
    const loop = await world({ correlation: { hops: 3 } });
    const chain = (
      names: string[],
    ): Array<{ kind: 'DEPENDS_ON'; from: string; to: string; source: string }> =>
      names.slice(1).map((name, index) => ({
        kind: 'DEPENDS_ON',
        from: serviceId(names[index] as string),
        to: serviceId(name),
        source: 'test',
      }));
    const near = ['origin', 'near-1', 'near-2', 'near-3'];
    const far = ['origin', 'far-1', 'far-2', 'far-3', 'far-4'];
    await loop.graph.upsertEntities(
      [...new Set([...near, ...far])].map((name) => ({
        id: serviceId(name),
        kind: 'Service' as const,
        name,
        source: 'test',
      })),
    );
    await loop.graph.upsertRelationships([...chain(near), ...chain(far)]);
    const on = (service: string): Signal =>
      makeSignal({ fingerprint: `Hops-${service}`, entities: [serviceRef(service)] });

    const first = on('origin');
    const threeHops = on('near-3');
    const fourHops = on('far-4');
    const opened = await place(loop, first);
    expect(await place(loop, threeHops)).toBe(opened);
    const farKey = await place(loop, fourHops);
    expect(farKey).not.toBe(opened);
    expect(await signalsByIncident(loop)).toEqual({
      [opened]: [first.id, threeHops.id],
      [farKey]: [fourHops.id],
    });
  });

  it('never joins through a hub: pods sharing only a Node or a Namespace open their own incidents', async () => {
    const loop = await world();
    const node = nodeId('prod', 'node-1');
    const namespace = namespaceId('prod', 'shop');
    await serviceSelecting(loop, 'checkout', ['checkout-1', 'checkout-2']);
    await loop.graph.upsertEntities([
      { id: node, kind: 'Node', name: 'node-1', source: 'test' },
      { id: namespace, kind: 'Namespace', name: 'shop', source: 'test' },
      { id: podRef('batch-1').id, kind: 'Pod', name: 'batch-1', source: 'test' },
      { id: podRef('cron-1').id, kind: 'Pod', name: 'cron-1', source: 'test' },
    ]);
    // checkout-1 runs on node-1 beside batch-1, and sits in namespace shop beside cron-1.
    await loop.graph.upsertRelationships([
      { kind: 'RUNS_ON', from: podRef('checkout-1').id, to: node, source: 'test' },
      { kind: 'RUNS_ON', from: podRef('batch-1').id, to: node, source: 'test' },
      { kind: 'PART_OF', from: podRef('checkout-1').id, to: namespace, source: 'test' },
      { kind: 'PART_OF', from: podRef('cron-1').id, to: namespace, source: 'test' },
    ]);
    const on = (pod: EntityRef): Signal => makeSignal({ fingerprint: `Hub-${pod.name}`, entities: [pod] });

    const first = on(podRef('checkout-1'));
    const sameNode = on(podRef('batch-1'));
    const sameNamespace = on(podRef('cron-1'));
    // Two hops away as well, through the Service: this one joins.
    const sameService = on(podRef('checkout-2'));
    const opened = await place(loop, first);
    const nodeKey = await place(loop, sameNode);
    const namespaceKey = await place(loop, sameNamespace);
    expect(await place(loop, sameService)).toBe(opened);
    expect(new Set([opened, nodeKey, namespaceKey]).size).toBe(3);
    expect(await signalsByIncident(loop)).toEqual({
      [opened]: [first.id, sameService.id],
      [nodeKey]: [sameNode.id],
      [namespaceKey]: [sameNamespace.id],
    });
  });

  it('joins pods of one Service that also share a Node: the path around the hub counts', async () => {
    const loop = await world();
    const node = nodeId('prod', 'node-1');
    await serviceSelecting(loop, 'checkout', ['checkout-1', 'checkout-2']);
    await loop.graph.upsertEntities([{ id: node, kind: 'Node', name: 'node-1', source: 'test' }]);
    // A Node's id sorts before a Service's, so the graph's one shortest path between the pods
    // goes through the Node.
    await loop.graph.upsertRelationships(
      ['checkout-1', 'checkout-2'].map((pod) => ({
        kind: 'RUNS_ON' as const,
        from: podRef(pod).id,
        to: node,
        source: 'test',
      })),
    );
    const first = makeSignal({ fingerprint: 'Both-1', entities: [podRef('checkout-1')] });
    const second = makeSignal({ fingerprint: 'Both-2', entities: [podRef('checkout-2')] });
    const opened = await place(loop, first);
    expect(await place(loop, second)).toBe(opened);
    expect(await signalsByIncident(loop)).toEqual({ [opened]: [first.id, second.id] });
  });
});
