import { describe, expect, it } from 'vitest';
import { incidentKeyFor } from '../../src/loop/correlation.js';
import { IncidentStore } from '../../src/loop/incident-store.js';
import { placeholderSignalWriter } from '../../src/loop/signal-writer.js';
import { systemClock } from '../../src/shared/clock.js';
import { tempDir } from '../kit/tmp.js';
import { makeSignal, openGraph, podRef } from './support/loop-world.js';

const by = { kind: 'stage', id: 'test' } as const;

describe('incident store writes', () => {
  it('return exactly what a fresh read returns, also over a torn timeline write', async () => {
    const graph = await openGraph(tempDir());
    try {
      const store = new IncidentStore({ graph, clock: systemClock });
      const write = placeholderSignalWriter(graph);
      const first = makeSignal({ fingerprint: 'StoreDown', entities: [podRef('store-1')] });
      const second = makeSignal({ fingerprint: 'StoreSlow', entities: [podRef('store-2')] });
      const firstIds = (await write(first)).entityIds;
      const secondIds = (await write(second)).entityIds;
      const alertOf = (ids: readonly string[]): string | undefined =>
        ids.find((id) => id.startsWith('alert:'));
      const key = incidentKeyFor(first);
      const fresh = async (): Promise<unknown> => store.get(key);

      const { incident: opened } = await store.open({
        key,
        signal: first,
        severity: 'warning',
        entityIds: firstIds,
        ...(alertOf(firstIds) ? { alertId: alertOf(firstIds) } : {}),
        by,
      });
      expect(opened).toEqual(await fresh());
      const secondAlert = alertOf(secondIds);
      expect(
        await store.attachSignals(key, [
          { signal: second, entityIds: secondIds, ...(secondAlert ? { alertId: secondAlert } : {}), by },
        ]),
      ).toEqual(await fresh());
      expect(await store.raiseSeverity(key, 'error', by, 'an SLO is impacted')).toEqual(await fresh());
      const moved = await store.transition(key, 'investigating', by, 'round 1');
      expect(moved.changed).toBe(true);
      expect(moved.incident).toEqual(await fresh());
      expect(moved.incident.round).toBe(1);
      expect(await store.note(key, { by, what: 'suggested', reason: 'restart' })).toEqual(await fresh());
      const investigated = await store.recordInvestigation(key, {
        rootCause: { category: 'deploy', suspect: 'deploy:x', confidence: 0.7, statement: 'the deploy' },
        reportMarkdown: '# report',
      });
      expect(investigated).toEqual(await fresh());
      expect(investigated.rootCause?.category).toBe('deploy');

      // A crash between a timeline event and the entity update leaves an event past timelineSeq;
      // the next write replaces it, and what it returns must not show the torn one.
      const seq = investigated.transitions.length + investigated.notes.length;
      await graph.recordEvents([
        {
          id: `${investigated.id}#${seq + 1}`,
          kind: 'note',
          entityId: investigated.id,
          at: Date.now(),
          summary: 'torn',
          source: 'nightshift-loop',
          properties: { seq: seq + 1, byKind: 'stage', byId: 'test', entry: 'note', what: 'torn' },
        },
      ]);
      const acting = await store.transition(key, 'acting', by, 'restart');
      expect(acting.incident).toEqual(await fresh());
      expect(acting.incident.notes.map((note) => note.what)).not.toContain('torn');
      expect(acting.incident.transitions.map((entry) => entry.to)).toEqual(['investigating', 'acting']);
    } finally {
      await graph.close();
    }
  });
});
