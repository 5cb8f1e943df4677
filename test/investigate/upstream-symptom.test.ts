import { openTestGraph } from '../kit/graph.js';
import { describe, expect, it } from 'vitest';
import type { EmbeddedGraphStore } from '../../src/graph/embedded/embedded-store.js';
import { k8sId, serviceId } from '../../src/graph/ids.js';
import { buildContext } from '../../src/investigate/context.js';
import { proposeFromContext } from '../../src/investigate/rules/priors.js';
import { ManualClock } from '../../src/shared/clock.js';

const T0 = Date.UTC(2026, 10, 30, 3);

/** frontend calls catalog; each service has its Deployment. */
async function estate(): Promise<EmbeddedGraphStore> {
  const graph = await openTestGraph({ clock: new ManualClock(T0) });
  const deployment = (name: string) => k8sId('prod', 'shop', 'Deployment', name);
  await graph.upsertEntities(
    ['frontend', 'catalog'].flatMap((name) => [
      { id: serviceId(name), kind: 'Service' as const, name, source: 'kubernetes', observedAt: T0 },
      { id: deployment(name), kind: 'Workload' as const, name, source: 'kubernetes', observedAt: T0 },
    ]),
  );
  await graph.upsertRelationships([
    { kind: 'CALLS', from: serviceId('frontend'), to: serviceId('catalog'), source: 'test', observedAt: T0 },
    ...['frontend', 'catalog'].map((name) => ({
      kind: 'PART_OF' as const,
      from: deployment(name),
      to: serviceId(name),
      source: 'kubernetes',
      observedAt: T0,
    })),
  ]);
  return graph;
}

async function contextOf(graph: EmbeddedGraphStore, symptoms: string[]) {
  return buildContext(
    graph,
    {
      incidentId: 'incident:upstream-1',
      severity: 'error',
      symptomEntityIds: symptoms,
      signals: [],
      openedAt: T0,
    },
    { now: T0 },
  );
}

describe('a symptom that another symptom calls', () => {
  it('is upstream of its caller, so its own failure is a hypothesis whichever alert came first', async () => {
    const graph = await estate();
    try {
      for (const symptoms of [
        [serviceId('frontend'), serviceId('catalog')],
        [serviceId('catalog'), serviceId('frontend')],
        [serviceId('frontend')],
      ]) {
        const context = await contextOf(graph, symptoms);
        const catalog = context.blastRadius.upstream.find((item) => item.id === serviceId('catalog'));
        expect(catalog?.distance).toBe(1);
        expect(catalog?.via).toContain(serviceId('frontend'));
        const drafts = proposeFromContext(context);
        expect(
          drafts.some(
            (draft) => draft.category === 'dependency_failure' && draft.suspect === serviceId('catalog'),
          ),
        ).toBe(true);
      }
    } finally {
      await graph.close();
    }
  });

  it('is not upstream of itself or of its own workload, nor is the caller upstream of it', async () => {
    const graph = await estate();
    try {
      const alone = await contextOf(graph, [serviceId('catalog')]);
      expect(alone.blastRadius.upstream.map((item) => item.id)).not.toContain(serviceId('catalog'));
      const both = await contextOf(graph, [serviceId('frontend'), serviceId('catalog')]);
      expect(both.blastRadius.upstream.map((item) => item.id)).not.toContain(serviceId('frontend'));
    } finally {
      await graph.close();
    }
  });
});
