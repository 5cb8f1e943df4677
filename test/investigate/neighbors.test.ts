import { openTestGraph } from '../kit/graph.js';
import { describe, expect, it } from 'vitest';
import { k8sId, nodeId, serviceId } from '../../src/graph/ids.js';
import { buildContext } from '../../src/investigate/context.js';
import { proposeFromContext } from '../../src/investigate/rules/priors.js';
import { ManualClock } from '../../src/shared/clock.js';

const T0 = Date.UTC(2026, 10, 30, 3);
const MINUTE = 60_000;

describe('workloads that land next to the symptoms', () => {
  it('names a batch job that appeared on the symptoms’ node, not the pods that were always there', async () => {
    const clock = new ManualClock(T0);
    const graph = await openTestGraph({ clock });
    try {
      const node = nodeId('prod', 'node-c');
      const search = k8sId('prod', 'shop', 'Deployment', 'search');
      const cart = k8sId('prod', 'shop', 'Deployment', 'cart');
      const job = k8sId('prod', 'shop', 'Job', 'catalog-import-1796015625');
      const pod = (name: string) => k8sId('prod', 'shop', 'Pod', name);
      // The first picture: the node, search and cart pods on it.
      await graph.upsertEntities([
        { id: node, kind: 'Node', name: 'node-c', source: 'kubernetes', observedAt: T0 },
        { id: serviceId('search'), kind: 'Service', name: 'search', source: 'kubernetes', observedAt: T0 },
        { id: search, kind: 'Workload', name: 'search', source: 'kubernetes', observedAt: T0 },
        { id: cart, kind: 'Workload', name: 'cart', source: 'kubernetes', observedAt: T0 },
        { id: pod('search-1'), kind: 'Pod', name: 'search-1', source: 'kubernetes', observedAt: T0 },
        { id: pod('cart-1'), kind: 'Pod', name: 'cart-1', source: 'kubernetes', observedAt: T0 },
      ]);
      await graph.upsertRelationships([
        { kind: 'PART_OF', from: search, to: serviceId('search'), source: 'kubernetes', observedAt: T0 },
        { kind: 'MANAGES', from: search, to: pod('search-1'), source: 'kubernetes', observedAt: T0 },
        { kind: 'MANAGES', from: cart, to: pod('cart-1'), source: 'kubernetes', observedAt: T0 },
        { kind: 'RUNS_ON', from: pod('search-1'), to: node, source: 'kubernetes', observedAt: T0 },
        { kind: 'RUNS_ON', from: pod('cart-1'), to: node, source: 'kubernetes', observedAt: T0 },
      ]);
      // Twenty minutes later a batch job's pod lands on the same node.
      const landed = T0 + 20 * MINUTE;
      await graph.upsertEntities([
        {
          id: job,
          kind: 'Workload',
          name: 'catalog-import-1796015625',
          source: 'kubernetes',
          observedAt: landed,
          properties: { app: 'catalog-import', workloadKind: 'Job' },
        },
        {
          id: pod('catalog-import-x'),
          kind: 'Pod',
          name: 'catalog-import-x',
          source: 'kubernetes',
          observedAt: landed,
        },
      ]);
      await graph.upsertRelationships([
        { kind: 'MANAGES', from: job, to: pod('catalog-import-x'), source: 'kubernetes', observedAt: landed },
        {
          kind: 'RUNS_ON',
          from: pod('catalog-import-x'),
          to: node,
          source: 'kubernetes',
          observedAt: landed,
        },
      ]);

      const openedAt = landed + 3 * MINUTE;
      clock.set(openedAt);
      const context = await buildContext(
        graph,
        {
          incidentId: 'incident:neighbors-1',
          severity: 'warning',
          symptomEntityIds: [serviceId('search')],
          signals: [],
          openedAt,
        },
        { now: openedAt },
      );
      expect(context.newNeighbors).toEqual([
        { id: job, name: 'catalog-import-1796015625', kind: 'Job', node, since: landed },
      ]);
      // Its metrics and logs are under its app, not the run's name.
      expect(context.targets[job]?.service).toBe('catalog-import');
      const drafts = proposeFromContext(context);
      const neighbor = drafts.find((draft) => draft.category === 'noisy_neighbor');
      expect(neighbor?.suspect).toBe(job);
      expect(drafts.some((draft) => draft.category === 'noisy_neighbor' && draft.suspect === cart)).toBe(
        false,
      );
    } finally {
      await graph.close();
    }
  });
});
