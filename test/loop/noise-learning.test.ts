import { Redis } from 'ioredis';
import { describe, expect, inject, it, onTestFinished } from 'vitest';
import type { Transition } from '../../src/loop/incident-lifecycle.js';
import { NoiseFilter } from '../../src/loop/noise.js';
import { NoiseLearner, selfResolvedAt } from '../../src/loop/noise-learning.js';
import type { Incident } from '../../src/loop/pipeline-types.js';
import { stableHash } from '../../src/shared/ids.js';
import { waitFor } from '../kit/daemon.js';
import { testPrefix } from '../kit/prefix.js';
import { tempDir } from '../kit/tmp.js';
import { makeSignal, openGraph, podRef, startLoopWorld } from './support/loop-world.js';

const prefix = testPrefix(import.meta.filename);
const OPENED = 1_000_000;
const MINUTE = 60_000;

function step(from: Transition['from'], to: Transition['to'], at: number, by: Transition['by']): Transition {
  return { from, to, at, by, reason: `${from} → ${to}` };
}

/** An incident opened at OPENED that went through `transitions`. */
function incident(transitions: Transition[], severity: Incident['severity'] = 'warning'): Incident {
  const last = transitions.at(-1);
  return {
    id: 'incident:inc_1',
    key: 'inc_1',
    title: 'CpuHigh on checkout',
    state: last?.to ?? 'open',
    severity,
    openedAt: OPENED,
    firstReceivedAt: OPENED,
    updatedAt: last?.at ?? OPENED,
    round: 1,
    signals: new Map(),
    signalIds: [],
    entityIds: [],
    transitions,
    notes: [],
  };
}

const signal = { kind: 'signal', id: 'sig-resolved' } as const;
const stage = (id: string) => ({ kind: 'stage', id }) as const;

describe('which incidents ended on their own', () => {
  const investigating = step('open', 'investigating', OPENED + 1_000, stage('investigate'));

  it('counts a warning whose alerts cleared before anything was done, even with an approval pending', () => {
    const cleared = step('investigating', 'resolved', OPENED + 5 * MINUTE, signal);
    expect(selfResolvedAt(incident([investigating, cleared]), 15 * MINUTE)).toBe(OPENED + 5 * MINUTE);
    const asked = step('investigating', 'awaiting-approval', OPENED + 2_000, stage('respond'));
    const clearedLater = step('awaiting-approval', 'resolved', OPENED + 6 * MINUTE, signal);
    expect(selfResolvedAt(incident([investigating, asked, clearedLater]), 15 * MINUTE)).toBe(
      OPENED + 6 * MINUTE,
    );
  });

  it('does not count an incident that was acted on, escalated, resolved by verify, too long, or severe', () => {
    const cleared = step('investigating', 'resolved', OPENED + 5 * MINUTE, signal);
    const acted = [
      investigating,
      step('investigating', 'acting', OPENED + 2_000, stage('execute')),
      step('acting', 'verifying', OPENED + 3_000, stage('execute')),
      step('verifying', 'resolved', OPENED + 4 * MINUTE, stage('verify')),
    ];
    const paged = [
      investigating,
      step('investigating', 'escalated', OPENED + 2_000, stage('investigate')),
      step('escalated', 'resolved', OPENED + 4 * MINUTE, signal),
    ];
    const long = [investigating, step('investigating', 'resolved', OPENED + 16 * MINUTE, signal)];
    const byPerson = [
      investigating,
      step('investigating', 'resolved', OPENED + MINUTE, { kind: 'person', id: 'U1' }),
    ];
    for (const transitions of [acted, paged, long, byPerson])
      expect(selfResolvedAt(incident(transitions), 15 * MINUTE)).toBeUndefined();
    expect(selfResolvedAt(incident([investigating, cleared], 'critical'), 15 * MINUTE)).toBeUndefined();
    expect(selfResolvedAt(incident([investigating, cleared], 'error'), 15 * MINUTE)).toBeUndefined();
    expect(selfResolvedAt(incident([investigating]), 15 * MINUTE)).toBeUndefined();
  });
});

describe('learning an alert as noise', () => {
  function learner(after = 3) {
    const redis = new Redis(inject('redisUrl'));
    const keys = `${prefix}:unit:${Math.random().toString(36).slice(2)}`;
    onTestFinished(async () => {
      const left = await redis.keys(`${keys}:*`);
      if (left.length > 0) await redis.del(...left);
      redis.disconnect();
    });
    const noise = new NoiseFilter({ connection: redis, prefix: keys });
    return { noise, learner: new NoiseLearner({ connection: redis, prefix: keys, noise, after }) };
  }

  /** Incident `n` of an alert, resolved on its own `at`. */
  function ended(n: number, at: number): Incident {
    const base = incident([
      step('open', 'investigating', at - 2 * MINUTE, stage('investigate')),
      step('investigating', 'resolved', at, signal),
    ]);
    return { ...base, id: `incident:inc_${n}`, key: `inc_${n}`, openedAt: at - 3 * MINUTE };
  }

  it('learns an alert on its third incident within the window, counting a repeated one once, for a while', async () => {
    const { noise, learner: learn } = learner();
    const cpu = makeSignal({ fingerprint: 'CpuHigh-checkout' });
    const other = makeSignal({ fingerprint: 'DiskFull-checkout' });
    const start = Date.now();
    expect(await learn.learnFrom(ended(1, start), [cpu])).toEqual([]);
    // The same incident learned again (a retried job) counts once.
    expect(await learn.learnFrom(ended(1, start), [cpu])).toEqual([]);
    expect(await learn.learnFrom(ended(2, start + 60 * MINUTE), [cpu, other])).toEqual([]);
    const learned = await learn.learnFrom(ended(3, start + 120 * MINUTE), [cpu]);
    expect(learned).toHaveLength(1);
    expect(learned[0]).toMatchObject({
      id: `learned-${stableHash('CpuHigh-checkout').slice(0, 16)}`,
      kind: 'learned',
      matchers: [{ name: 'fingerprint', value: 'CpuHigh-checkout' }],
      startsAt: start + 120 * MINUTE,
      endsAt: start + 120 * MINUTE + 7 * 24 * 60 * MINUTE,
      createdBy: 'nightshift:learn',
    });
    expect(learned[0]?.comment).toContain('resolved on its own 3 times');

    // The filter now drops that alert, and only that one, while the learned pattern lasts.
    const later = (fingerprint: string, at: number) => makeSignal({ fingerprint, observedAt: at });
    const verdicts = await noise.judgeAll([
      later('CpuHigh-checkout', start + 121 * MINUTE),
      later('DiskFull-checkout', start + 121 * MINUTE),
      later('CpuHigh-checkout', start + 121 * MINUTE + 7 * 24 * 60 * MINUTE),
    ]);
    expect(verdicts.map((verdict) => (verdict.suppressed ? verdict.reason : 'kept'))).toEqual([
      'learned',
      'kept',
      'kept',
    ]);
  });

  it('never learns an alert nightshift raised itself, such as a Kubernetes finding', async () => {
    const { learner: learn } = learner();
    const finding = {
      ...makeSignal({ fingerprint: 'CrashLoopBackOff-checkout' }),
      source: 'kubernetes' as const,
      raw: { source: 'kubernetes/analyzers', digest: 'sha256:00' },
    };
    const start = Date.now();
    for (let n = 1; n <= 4; n++)
      expect(await learn.learnFrom(ended(n, start + n * MINUTE), [finding])).toEqual([]);
  });

  it('forgets incidents older than the window, and learns nothing when turned off', async () => {
    const { learner: learn } = learner();
    const cpu = makeSignal({ fingerprint: 'CpuHigh-cart' });
    const day = 24 * 60 * MINUTE;
    const start = Date.now();
    await learn.learnFrom(ended(1, start), [cpu]);
    await learn.learnFrom(ended(2, start + day / 2), [cpu]);
    // The first is more than a day before the third: two within the window, not three.
    expect(await learn.learnFrom(ended(3, start + day + MINUTE), [cpu])).toEqual([]);
    expect(await learn.learnFrom(ended(4, start + day + 2 * MINUTE), [cpu])).toHaveLength(1);

    const off = learner(0);
    for (let n = 1; n <= 5; n++) expect(await off.learner.learnFrom(ended(n, start + n), [cpu])).toEqual([]);
    expect(off.learner.counts(ended(1, start))).toBe(false);
  });
});

describe('the loop learns noise', () => {
  it('drops an alert whose incidents cleared on their own three times, and keeps opening others', async () => {
    const graph = await openGraph(tempDir());
    const world = await startLoopWorld({
      redisUrl: inject('redisUrl'),
      prefix: `${prefix}:loop`,
      graph,
      // Every proposal waits for an approval nobody gives: nothing is done.
      script: { decide: () => ({ mode: 'approval', reason: 'hold' }) },
      settings: { noise: { flapThreshold: 100, learn: { after: 3 } } },
    });
    onTestFinished(async () => {
      await world.stop();
      await graph.close();
    });
    const pod = podRef('checkout-1');
    for (let round = 1; round <= 3; round++) {
      await world.pipeline.submitSignal(makeSignal({ fingerprint: 'CpuHigh', entities: [pod] }));
      await waitFor(
        async () => (await world.pipeline.incidents.list()).some((one) => one.state === 'awaiting-approval'),
        10_000,
        25,
      );
      await world.pipeline.submitSignal(
        makeSignal({ fingerprint: 'CpuHigh', status: 'resolved', entities: [pod] }),
      );
      await waitFor(
        async () => {
          const all = await world.pipeline.incidents.list();
          if (all.length !== round || !all.every((one) => one.state === 'resolved')) return false;
          const effects = await world.redis.hgetall(`${prefix}:loop:effects`);
          return all.every((one) => Number(effects[`learn:${one.key}`] ?? 0) >= 1);
        },
        10_000,
        25,
      );
    }
    // The learn stage counts the incident just after handing it to the learn domain.
    await waitFor(async () => (await world.pipeline.noise.silences()).length > 0, 10_000, 25);
    const silences = await world.pipeline.noise.silences();
    expect(silences.map((one) => [one.kind, one.matchers])).toEqual([
      ['learned', [{ name: 'fingerprint', value: 'CpuHigh' }]],
    ]);

    await world.pipeline.submitSignal(makeSignal({ fingerprint: 'CpuHigh', entities: [pod] }));
    await world.pipeline.submitSignal(makeSignal({ fingerprint: 'OomKilled', entities: [pod] }));
    await waitFor(async () => (await world.pipeline.incidents.list()).length === 4, 10_000, 25);
    await waitFor(async () => (await world.pipeline.digest()).since.learned === 1, 10_000, 25);
    const open = (await world.pipeline.incidents.list()).filter((one) => one.state !== 'resolved');
    expect(open.map((one) => one.title)).toEqual([expect.stringContaining('OomKilled')]);
  });
});
