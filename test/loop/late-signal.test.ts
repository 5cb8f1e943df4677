import { afterEach, describe, expect, inject, it } from 'vitest';
import { Correlator } from '../../src/loop/correlation.js';
import type { Incident } from '../../src/loop/pipeline-types.js';
import { waitFor } from '../kit/daemon.js';
import { testPrefix } from '../kit/prefix.js';
import { tempDir } from '../kit/tmp.js';
import { makeSignal, openGraph, podRef, startLoopWorld } from './support/loop-world.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe('a signal placed into an incident that resolves before it is attached', () => {
  it('opens a new incident instead of retrying against the closed one until it fails', async () => {
    const prefix = testPrefix(import.meta.filename);
    const graph = await openGraph(tempDir());
    const loop = await startLoopWorld({
      redisUrl: inject('redisUrl'),
      prefix,
      graph,
      settings: { backoffMs: 50, attempts: 4 },
    });
    cleanups.push(async () => {
      await loop.stop();
      await graph.close();
    });
    const pod = podRef('late-1');
    const first = makeSignal({ fingerprint: 'LateDown', entities: [pod] });
    await loop.pipeline.submitSignal(first);
    let closed: Incident | undefined;
    await waitFor(
      async () => {
        [closed] = await loop.pipeline.incidents.list({ states: ['resolved'] });
        return closed !== undefined;
      },
      15_000,
      50,
    );
    if (!closed) throw new Error('the first incident did not resolve');

    // The race: a second alert on the pod was placed into the incident (and indexed under it)
    // just before verify resolved it and cleared the incident's own entries.
    const late = makeSignal({ fingerprint: 'LateSlow', entities: [pod] });
    await new Correlator({ connection: loop.redis, prefix, graph }).register(
      closed.key,
      late,
      [pod.id],
      late.observedAt,
    );
    await loop.pipeline.submitSignal(late);

    let reopened: Incident | undefined;
    await waitFor(
      async () => {
        const all = await loop.pipeline.incidents.list({ limit: 10 });
        reopened = all.find((incident) => incident.signalIds.includes(late.id));
        return reopened !== undefined;
      },
      10_000,
      50,
    );
    expect(reopened?.key).not.toBe(closed.key);
    const after = await loop.pipeline.incidents.get(closed.key);
    expect(after?.state).toBe('resolved');
    expect(after?.signalIds).toEqual([first.id]);
  });
});
