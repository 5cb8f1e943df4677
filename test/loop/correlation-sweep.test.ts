import { Redis } from 'ioredis';
import { describe, expect, inject, it, onTestFinished } from 'vitest';
import { Correlator } from '../../src/loop/correlation.js';
import { fingerprintDigest } from '../../src/loop/incident-store.js';
import { testPrefix } from '../kit/prefix.js';
import { tempDir } from '../kit/tmp.js';
import { makeSignal, openGraph, podRef } from './support/loop-world.js';

describe('sweeping the correlation index', () => {
  it('removes the entries of forgotten incidents, and only those', async () => {
    const prefix = testPrefix(import.meta.filename);
    const redis = new Redis(inject('redisUrl'));
    const graph = await openGraph(tempDir());
    onTestFinished(async () => {
      const keys = await redis.keys(`${prefix}:*`);
      if (keys.length > 0) await redis.del(...keys);
      redis.disconnect();
      await graph.close();
    });
    const correlator = new Correlator({ connection: redis, prefix, graph });
    const fp = `${prefix}:loop:corr:fp`;
    const entity = `${prefix}:loop:corr:entity`;

    // The forgotten incident had let go of 1,200 fingerprints and 1,500 entities (more than
    // one HSCAN step each); forgetting it removed only what it still listed.
    const stale = Array.from({ length: 1_200 }, (_, index) => makeSignal({ fingerprint: `Evicted${index}` }));
    const pods = Array.from({ length: 1_500 }, (_, index) => podRef(`old-${index}`).id);
    for (const [index, signal] of stale.entries())
      await correlator.register('inc-old', signal, pods.slice(index, index + 1), signal.observedAt);
    await correlator.register('inc-old', makeSignal({ fingerprint: 'Tail' }), pods.slice(1_200), Date.now());
    const listed = makeSignal({ fingerprint: 'StillListed' });
    await correlator.register('inc-old', listed, [], listed.observedAt);
    await correlator.forget('inc-old', [fingerprintDigest(listed.fingerprint)], []);

    // An open incident, and an entry the old incident had that the open one has taken since.
    const open = makeSignal({ fingerprint: 'Open', entities: [podRef('live')] });
    await correlator.register('inc-open', open, [podRef('live').id, pods[0] as string], open.observedAt);
    await redis.hset(fp, fingerprintDigest('Evicted7'), 'inc-open');

    expect(await redis.hlen(fp)).toBe(1_202);
    const swept = await correlator.sweep();
    expect(swept).toEqual({ fingerprints: 1_200, entities: 1_499 });
    expect(await redis.hgetall(fp)).toEqual({
      [fingerprintDigest('Open')]: 'inc-open',
      [fingerprintDigest('Evicted7')]: 'inc-open',
    });
    expect(await redis.hgetall(entity)).toEqual({
      [podRef('live').id]: 'inc-open',
      [pods[0] as string]: 'inc-open',
    });

    // The open incident still places its signals, and a second sweep finds nothing.
    const [again] = await correlator.placeAll([
      { signal: makeSignal({ fingerprint: 'Open' }), entityIds: [] },
    ]);
    expect(again).toMatchObject({ kind: 'join', incidentKey: 'inc-open', because: 'fingerprint' });
    expect(await correlator.sweep()).toEqual({ fingerprints: 0, entities: 0 });
  });
});
