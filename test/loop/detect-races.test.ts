import { Redis } from 'ioredis';
import { afterAll, afterEach, describe, expect, inject, it } from 'vitest';
import type { EmbeddedGraphStore } from '../../src/graph/embedded/embedded-store.js';
import type { Signal } from '../../src/ingest/signal.js';
import { incidentKeyFor, type Correlator } from '../../src/loop/correlation.js';
import { fingerprintDigest, INCIDENT_LIMITS, type IncidentStore } from '../../src/loop/incident-store.js';
import { localMutex, type Mutex } from '../../src/loop/mutex.js';
import { createLoopContext } from '../../src/loop/pipeline.js';
import type { LoopDeps } from '../../src/loop/pipeline-types.js';
import type { NextJob } from '../../src/loop/stage.js';
import type { LoopContext } from '../../src/loop/stages/context.js';
import { detectStage } from '../../src/loop/stages/detect.js';
import { systemClock } from '../../src/shared/clock.js';
import { silentLogger } from '../../src/shared/logger.js';
import { testPrefix } from '../kit/prefix.js';
import { tempDir } from '../kit/tmp.js';
import { makeSignal, openGraph, podRef } from './support/loop-world.js';

/**
 * detect's handler driven directly, with the interleavings that concurrent detect jobs, replicas
 * and crashes produce made to happen on cue: a hook runs just before the incident's lock is taken
 * for the n-th time, as another job would between two of this job's writes.
 */
const basePrefix = testPrefix(import.meta.filename);
const redis = new Redis(inject('redisUrl'), { maxRetriesPerRequest: null });
const graphs: EmbeddedGraphStore[] = [];
let run = 0;
afterEach(async () => {
  await Promise.all(graphs.splice(0).map((graph) => graph.close()));
});
afterAll(() => redis.disconnect());

interface World {
  context: LoopContext;
  store: IncidentStore;
  correlator: Correlator;
  /** Runs `hook` before the `nth` lock taken from now on (1 = the next). */
  beforeLock(nth: number, hook: () => Promise<void>): void;
  detect(...signals: Signal[]): Promise<NextJob[]>;
  indexed(signal: Signal): Promise<string | null>;
}

async function world(): Promise<World> {
  run += 1;
  const prefix = `${basePrefix}:${run}`;
  const graph = await openGraph(tempDir());
  graphs.push(graph);
  const inner = localMutex();
  let armed: { countdown: number; hook: () => Promise<void> } | undefined;
  const mutex: Mutex = {
    async run(name, work) {
      if (armed && --armed.countdown === 0) {
        const { hook } = armed;
        armed = undefined;
        await hook();
      }
      return inner.run(name, work);
    },
  };
  const context = createLoopContext({
    state: redis,
    prefix,
    graph,
    clock: systemClock,
    logger: silentLogger(),
    deps: {} as LoopDeps,
    mutex,
  });
  const { store, correlator } = context;
  const items = (signals: Signal[]) =>
    signals.map((signal) => ({ signal, entityIds: signal.entities.map((ref) => ref.id) }));
  return {
    context,
    store,
    correlator,
    beforeLock(nth, hook) {
      armed = { countdown: nth, hook };
    },
    async detect(...signals) {
      const next = await detectStage.handle(
        { v: 2, items: items(signals) },
        context,
        new AbortController().signal,
      );
      if (next === undefined) return [];
      return Array.isArray(next) ? [...(next as readonly NextJob[])] : [next as NextJob];
    },
    async indexed(signal) {
      return redis.hget(`${prefix}:loop:corr:fp`, fingerprintDigest(signal.fingerprint));
    },
  };
}

const at = Date.now() - 60_000;
const pod = podRef('race-1');

/** An incident opened by a firing alert: the signal and the incident's key. */
async function opened(w: World, fingerprint: string): Promise<{ first: Signal; key: string }> {
  const first = makeSignal({ fingerprint, entities: [pod], observedAt: at });
  await w.detect(first);
  return { first, key: incidentKeyFor(first) };
}

/** The alert's resolution, `later` ms after it fired. */
function resolution(fingerprint: string, later = 1_000): Signal {
  return makeSignal({ fingerprint, status: 'resolved', entities: [pod], observedAt: at + later });
}

/** The next attempt that resolves an incident dies right after writing it, before its step is recorded. */
function dieAfterResolving(w: World): void {
  const resolve = w.store.transition.bind(w.store);
  let dying = true;
  w.store.transition = async (...args) => {
    const result = await resolve(...args);
    if (dying && args[1] === 'resolved') {
      dying = false;
      throw new Error('killed');
    }
    return result;
  };
}

describe('detect resolving an incident', () => {
  it('does not resolve when a firing signal joined after it read the incident', async () => {
    const w = await world();
    const first = makeSignal({ fingerprint: 'RaceA', entities: [pod], observedAt: at });
    const [investigate] = await w.detect(first);
    expect(investigate?.stage).toBe('investigate');
    const key = incidentKeyFor(first);
    const other = makeSignal({ fingerprint: 'RaceX', entities: [pod], observedAt: at + 2_000 });
    // This job opens with its own lock (1), then takes it again to resolve (2): another job
    // attaches a firing alert in between.
    w.beforeLock(2, async () => {
      await w.store.attachSignals(key, [
        { signal: other, entityIds: [pod.id], by: { kind: 'signal', id: other.id } },
      ]);
    });
    const cleared = resolution('RaceA');
    const next = await w.detect(cleared);

    expect(next).toEqual([]);
    const incident = await w.store.get(key);
    expect(incident?.state).toBe('open');
    expect(incident?.signals.get(fingerprintDigest('RaceX'))).toBe('firing');
    // The index still sends the firing alert's next signals to this incident.
    expect(await w.indexed(first)).toBe(key);
  });

  it('neither resolves nor starts learn when the incident moved on meanwhile, and notes it', async () => {
    const w = await world();
    const { first, key } = await opened(w, 'MovedA');
    const stage = { kind: 'stage' as const, id: 'respond' };
    w.beforeLock(2, async () => {
      await w.store.transition(key, 'investigating', stage, 'round 1');
      await w.store.transition(key, 'acting', stage, 'acting on proposal 0');
    });
    const cleared = resolution('MovedA');
    const next = await w.detect(cleared);

    expect(next).toEqual([]);
    const incident = await w.store.get(key);
    expect(incident?.state).toBe('acting');
    expect(incident?.notes.map((note) => note.what)).toContain('signals-cleared');
    expect(await w.indexed(first)).toBe(key);
  });

  it('still queues learn and clears the index when the attempt died after resolving', async () => {
    const w = await world();
    const { first, key } = await opened(w, 'CrashA');
    const cleared = resolution('CrashA');
    // The attempt dies right after the resolution is written, before its step is recorded.
    dieAfterResolving(w);
    await expect(w.detect(cleared)).rejects.toThrow('killed');
    expect((await w.store.get(key))?.state).toBe('resolved');

    const next = await w.detect(cleared);
    expect(next.map((job) => job.stage)).toEqual(['learn']);
    expect(await w.indexed(first)).toBeNull();
  });

  it('queues learn of an incident whose resolving attempt died, when another signal finds it first', async () => {
    const w = await world();
    const { key } = await opened(w, 'OtherFirst');
    dieAfterResolving(w);
    const cleared = resolution('OtherFirst');
    await expect(w.detect(cleared)).rejects.toThrow('killed');
    // The alert fires again before the dead attempt is redelivered: a new incident opens, and the
    // resolved one's learn job is queued on the way.
    const again = makeSignal({ fingerprint: 'OtherFirst', entities: [pod], observedAt: at + 2_000 });
    const next = await w.detect(again);
    expect(next.map((job) => job.jobId)).toEqual(
      expect.arrayContaining([`${key}:learn:1`, `${incidentKeyFor(again)}:investigate:1`]),
    );
  });

  it('clears the index on redelivery when the attempt died after recording the resolution', async () => {
    const w = await world();
    const { first, key } = await opened(w, 'ForgetA');
    const forget = w.correlator.forget.bind(w.correlator);
    let dying = true;
    w.correlator.forget = async (...args) => {
      if (dying) {
        dying = false;
        throw new Error('killed');
      }
      return forget(...args);
    };
    const cleared = resolution('ForgetA');
    await expect(w.detect(cleared)).rejects.toThrow('killed');
    expect(await w.indexed(first)).toBe(key);

    const next = await w.detect(cleared);
    expect(next.map((job) => job.stage)).toEqual(['learn']);
    expect(await w.indexed(first)).toBeNull();
  });
});

describe('signals handled out of order', () => {
  it('keep the latest observed status of an alert, in the incident and for the noise filter', async () => {
    const w = await world();
    const opened = makeSignal({ fingerprint: 'OrderA', entities: [pod], observedAt: at });
    const other = makeSignal({ fingerprint: 'OrderB', entities: [pod], observedAt: at });
    await w.detect(opened, other);
    const key = incidentKeyFor(opened);
    // The alert resolved, then fired again; the firing delivery is handled first.
    const refired = makeSignal({ fingerprint: 'OrderA', entities: [pod], observedAt: at + 2_000 });
    const resolvedEarlier = resolution('OrderA');
    await w.detect(refired);
    await w.detect(resolvedEarlier);
    // The other alert clears: if the late resolution had stood, every signal would now be clear.
    await w.detect(
      makeSignal({ fingerprint: 'OrderB', status: 'resolved', entities: [pod], observedAt: at + 3_000 }),
    );

    const incident = await w.store.get(key);
    expect(incident?.signals.get(fingerprintDigest('OrderA'))).toBe('firing');
    expect(incident?.state).toBe('open');
    expect(incident?.signalIds).toContain(resolvedEarlier.id);
    expect(await w.context.noise.lastStatus('OrderA')).toBe('firing');
  });
});

describe('an incident with more alerts than it can track', () => {
  it('makes room with a resolved one, and else stops resolving from its alerts', async () => {
    const w = await world();
    const limit = INCIDENT_LIMITS.fingerprints;
    const firing = Array.from({ length: limit }, (_, index) =>
      makeSignal({ fingerprint: `Many-${index}`, entities: [pod], observedAt: at }),
    );
    await w.detect(...firing);
    const key = incidentKeyFor(firing[0] as Signal);
    // One resolves; a new alert takes its place.
    await w.detect(
      makeSignal({ fingerprint: 'Many-0', status: 'resolved', entities: [pod], observedAt: at + 1 }),
    );
    await w.detect(makeSignal({ fingerprint: 'Many-new', entities: [pod], observedAt: at + 2 }));
    let incident = await w.store.get(key);
    expect(incident?.signals.size).toBe(limit);
    expect(incident?.signals.has(fingerprintDigest('Many-new'))).toBe(true);
    expect(incident?.signals.has(fingerprintDigest('Many-0'))).toBe(false);
    expect(incident?.signalsUntracked).toBeUndefined();
    // A late resolution of the alert that made room is no firing newcomer: it changes nothing.
    await w.detect(
      makeSignal({ fingerprint: 'Many-0', status: 'resolved', entities: [pod], observedAt: at + 2 }),
    );
    expect((await w.store.get(key))?.signalsUntracked).toBeUndefined();
    // No room: the next one is not tracked, so the others clearing does not resolve the incident.
    await w.detect(makeSignal({ fingerprint: 'Many-untracked', entities: [pod], observedAt: at + 3 }));
    const clearing = [
      ...firing.slice(1),
      makeSignal({ fingerprint: 'Many-new', entities: [pod], observedAt: at }),
    ].map((signal) =>
      makeSignal({
        fingerprint: signal.fingerprint,
        status: 'resolved',
        entities: [pod],
        observedAt: at + 4,
      }),
    );
    expect((await w.detect(...clearing)).map((job) => job.stage)).not.toContain('learn');
    incident = await w.store.get(key);
    expect(incident?.signalsUntracked).toBe(true);
    expect([...(incident?.signals.values() ?? [])].every((status) => status === 'resolved')).toBe(true);
    expect(incident?.state).toBe('open');
  });
});

describe('forgetting an incident', () => {
  it('leaves the entries a placement has pointed at another incident since', async () => {
    const w = await world();
    const first = makeSignal({ fingerprint: 'ForgetOld', entities: [pod], observedAt: at });
    await w.correlator.register('inc_old', first, [pod.id], at);
    await w.correlator.register('inc_new', first, [], at + 1_000);
    await w.correlator.forget('inc_old', [fingerprintDigest('ForgetOld')], [pod.id]);
    expect(await w.indexed(first)).toBe('inc_new');
    const [placement] = await w.correlator.placeAll([
      {
        signal: makeSignal({ fingerprint: 'ForgetOther', entities: [pod], observedAt: at + 2_000 }),
        entityIds: [pod.id],
      },
    ]);
    // The old incident's entity entry is gone: the pod no longer leads to it.
    expect(placement).toMatchObject({ kind: 'open' });
  });
});
