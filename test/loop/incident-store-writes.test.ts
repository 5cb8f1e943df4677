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

  it('opens with joining signals in one write, attaches all to an open incident, none to a resolved one', async () => {
    const graph = await openGraph(tempDir());
    try {
      const store = new IncidentStore({ graph, clock: systemClock });
      const write = placeholderSignalWriter(graph);
      const signals = ['GroupA', 'GroupB', 'GroupC', 'GroupD'].map((fingerprint, index) =>
        makeSignal({ fingerprint, entities: [podRef(`group-${index}`)] }),
      );
      const ids = await Promise.all(signals.map(async (signal) => (await write(signal)).entityIds));
      const part = (index: number) => {
        const entityIds = ids[index] ?? [];
        const alertId = entityIds.find((id) => id.startsWith('alert:'));
        return {
          signal: signals[index] as (typeof signals)[number],
          entityIds: entityIds.filter((id) => id !== alertId),
          ...(alertId ? { alertId } : {}),
          by,
        };
      };
      const key = incidentKeyFor(signals[0] as (typeof signals)[number]);
      const opening = (index: number) => ({ ...part(index), key, severity: 'warning' as const });

      const created = await store.open(opening(0), [part(1)]);
      expect(created.created).toBe(true);
      expect(created.incident).toEqual(await store.get(key));
      expect([...created.incident.signals.keys()]).toHaveLength(2);
      expect(created.incident.notes.map((note) => note.what)).toEqual(['opened', 'signal-attached']);
      expect(created.incident.entityIds).toEqual(
        expect.arrayContaining([...part(0).entityIds, ...part(1).entityIds]),
      );

      // Found open: the opening signal is attached too, before the others.
      const found = await store.open(opening(2), [part(3)]);
      expect(found.created).toBe(false);
      expect(found.incident).toEqual(await store.get(key));
      expect([...found.incident.signals.keys()]).toHaveLength(4);
      expect(found.incident.notes.slice(-2).map((note) => note.reason)).toEqual([
        signals[2]?.summary,
        signals[3]?.summary,
      ]);

      await store.transition(key, 'resolved', by, 'cleared');
      const before = await store.get(key);
      const late = makeSignal({ fingerprint: 'GroupLate', entities: [podRef('group-late')] });
      const resolved = await store.open({ ...opening(0), signal: late }, [part(1)]);
      expect(resolved.created).toBe(false);
      expect(resolved.incident).toEqual(before);
      expect(await store.get(key)).toEqual(before);
    } finally {
      await graph.close();
    }
  });
});
