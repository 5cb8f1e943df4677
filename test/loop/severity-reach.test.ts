import { describe, expect, it, vi } from 'vitest';
import { serviceId } from '../../src/graph/ids.js';
import { assessSeverity, graphReach } from '../../src/loop/severity.js';
import { tempDir } from '../kit/tmp.js';
import { makeSignal, openGraph, podRef } from './support/loop-world.js';

describe('severity reach', () => {
  it('reads each entity’s blast radius once for the signals assessed together, with the same verdicts', async () => {
    const graph = await openGraph(tempDir());
    try {
      const pod = podRef('payments-db-0').id;
      const payments = serviceId('payments');
      const checkout = serviceId('checkout');
      await graph.upsertEntities([
        { id: pod, kind: 'Pod', name: 'payments-db-0', source: 'test' },
        { id: payments, kind: 'Service', name: 'payments', source: 'test', properties: { tier: 'standard' } },
        { id: checkout, kind: 'Service', name: 'checkout', source: 'test', properties: { tier: 'critical' } },
      ]);
      await graph.upsertRelationships([
        { kind: 'SELECTS', from: payments, to: pod, source: 'test' },
        { kind: 'CALLS', from: checkout, to: payments, source: 'test' },
      ]);
      const signals = ['SlowDisk', 'DiskFull', 'HighIO'].map((fingerprint) =>
        makeSignal({ fingerprint, entities: [podRef('payments-db-0')] }),
      );
      const fresh = await Promise.all(
        signals.map(async (signal) => assessSeverity(graphReach(graph), signal, [pod], undefined)),
      );

      const blastRadius = vi.spyOn(graph, 'blastRadius');
      const reach = graphReach(graph);
      const shared = await Promise.all(
        signals.map(async (signal) => assessSeverity(reach, signal, [pod], undefined)),
      );
      expect(blastRadius).toHaveBeenCalledTimes(1);
      expect(shared).toEqual(fresh);
      expect(shared[0]).toMatchObject({ severity: 'error', earlyWarning: true });
      expect(shared[0]?.reasons.join()).toContain('critical-tier checkout');

      // Another entity is read on its own; a new reach reads again.
      await reach(payments);
      expect(blastRadius).toHaveBeenCalledTimes(2);
      await graphReach(graph)(pod);
      expect(blastRadius).toHaveBeenCalledTimes(3);
    } finally {
      await graph.close();
    }
  });
});
