import { readFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { incidentKeyFor } from '../../src/loop/correlation.js';
import { localMutex, redisMutex } from '../../src/loop/mutex.js';
import { matches } from '../../src/loop/noise.js';
import { LOOP_STAGES, loopJobId } from '../../src/loop/payloads.js';
import { createLoopContext, createPipeline } from '../../src/loop/pipeline.js';
import type { LoopDeps } from '../../src/loop/pipeline-types.js';
import type { LoopContext } from '../../src/loop/stages/context.js';
import { StepLedger } from '../../src/loop/step-ledger.js';
import { systemClock } from '../../src/shared/clock.js';
import { silentLogger } from '../../src/shared/logger.js';
import { testPrefix } from '../kit/prefix.js';
import { tempDir } from '../kit/tmp.js';
import { makeSignal, openGraph, podRef } from './support/loop-world.js';

const prefix = testPrefix(import.meta.filename);
const redis = new Redis(inject('redisUrl'), { maxRetriesPerRequest: null });
afterAll(() => redis.disconnect());

describe('payloads', () => {
  it('still accepts every version-1 payload kept as a fixture, and names one queue per stage', async () => {
    const graph = await openGraph(tempDir());
    try {
      const pipeline = createPipeline({
        connection: redis,
        prefix,
        graph,
        logger: silentLogger(),
        clock: systemClock,
        deps: {} as never,
      });
      const names = pipeline.stages.map((stage) => stage.name);
      expect(names).toEqual([...LOOP_STAGES, 'noise-digest']);
      for (const stage of pipeline.stages) {
        const fixture: unknown = JSON.parse(readFileSync(`test/fixtures/loop/v1/${stage.name}.json`, 'utf8'));
        expect(
          (stage.payload as { safeParse(value: unknown): { success: boolean } }).safeParse(fixture).success,
        ).toBe(true);
        expect(
          (stage.payload as { safeParse(value: unknown): { success: boolean } }).safeParse({
            ...(fixture as object),
            v: 2,
          }).success,
        ).toBe(false);
      }
      // ingest and detect carry a batch since version 2; version 1 jobs still parse (above).
      for (const name of ['ingest', 'detect']) {
        const stage = pipeline.stages.find((one) => one.name === name);
        if (!stage) throw new Error(`no ${name} stage`);
        const fixture: unknown = JSON.parse(readFileSync(`test/fixtures/loop/v2/${name}.json`, 'utf8'));
        const schema = stage.payload as { safeParse(value: unknown): { success: boolean } };
        expect(schema.safeParse(fixture).success).toBe(true);
        expect(schema.safeParse({ ...(fixture as object), v: 3 }).success).toBe(false);
      }
      await pipeline.stop();
    } finally {
      await graph.close();
    }
  });

  it('builds job ids as <incident>:<stage>:<step> and refuses parts with colons', () => {
    const key = incidentKeyFor({ id: 'sig_1' });
    expect(key).toMatch(/^inc_[0-9a-f]{24}$/);
    expect(loopJobId(key, 'execute', '2-0')).toBe(`${key}:execute:2-0`);
    expect(() => loopJobId('a:b', 'learn', 1)).toThrow(/may not contain/);
  });
});

describe('mutexes', () => {
  it.each([
    ['local', () => localMutex()],
    ['redis', () => redisMutex({ connection: redis, prefix, ttlMs: 5_000 })],
  ])('%s: runs work for one name one at a time, and other names in parallel', async (_name, make) => {
    const mutex = make();
    let inside = 0;
    let most = 0;
    const work = async (): Promise<void> => {
      inside += 1;
      most = Math.max(most, inside);
      await new Promise((resolve) => setTimeout(resolve, 5));
      inside -= 1;
    };
    await Promise.all(Array.from({ length: 10 }, () => mutex.run('same', work)));
    expect(most).toBe(1);
    most = 0;
    await Promise.all(Array.from({ length: 4 }, (_, index) => mutex.run(`name-${index}`, work)));
    expect(most).toBeGreaterThan(1);
    await expect(mutex.run('same', () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    await expect(mutex.run('same', () => Promise.resolve(7))).resolves.toBe(7);
  });

  it('redis: two independent mutexes (two replicas) still exclude each other', async () => {
    const other = new Redis(inject('redisUrl'), { maxRetriesPerRequest: null });
    try {
      const one = redisMutex({ connection: redis, prefix });
      const two = redisMutex({ connection: other, prefix });
      let inside = 0;
      let most = 0;
      await Promise.all(
        Array.from({ length: 12 }, (_, index) =>
          (index % 2 === 0 ? one : two).run('shared', async () => {
            inside += 1;
            most = Math.max(most, inside);
            await new Promise((resolve) => setTimeout(resolve, 3));
            inside -= 1;
          }),
        ),
      );
      expect(most).toBe(1);
    } finally {
      other.disconnect();
    }
  });
  it('redis: keeps the lock while its holder works past the lease', async () => {
    const other = new Redis(inject('redisUrl'), { maxRetriesPerRequest: null });
    try {
      const one = redisMutex({ connection: redis, prefix, ttlMs: 1_000 });
      const two = redisMutex({ connection: other, prefix, ttlMs: 1_000 });
      const order: string[] = [];
      const slow = one.run('leased', async () => {
        order.push('one in');
        await new Promise((resolve) => setTimeout(resolve, 2_500));
        order.push('one out');
      });
      await new Promise((resolve) => setTimeout(resolve, 30));
      await two.run('leased', async () => {
        order.push('two in');
        return Promise.resolve();
      });
      await slow;
      expect(order).toEqual(['one in', 'one out', 'two in']);
    } finally {
      other.disconnect();
    }
  });

  it('loops over one embedded graph share one lock in the process: concurrent attachments lose none', async () => {
    // The embedded graph is this process's alone, so its incidents are locked within the process;
    // two loops over it (two worker sets) must still exclude each other.
    const graph = await openGraph(tempDir());
    try {
      const [one, two] = [0, 1].map(() =>
        createLoopContext({
          state: redis,
          prefix: `${prefix}:shared-lock`,
          graph,
          clock: systemClock,
          logger: silentLogger(),
          deps: {} as LoopDeps,
        }),
      ) as [LoopContext, LoopContext];
      const pod = podRef('shared-lock-1');
      const first = makeSignal({ fingerprint: 'SharedLock-0', entities: [pod] });
      const key = incidentKeyFor(first);
      await one.store.open({
        key,
        signal: first,
        severity: 'warning',
        entityIds: [pod.id],
        by: { kind: 'signal', id: first.id },
      });
      const joining = Array.from({ length: 20 }, (_, index) =>
        makeSignal({ fingerprint: `SharedLock-${index + 1}`, entities: [pod] }),
      );
      await Promise.all(
        joining.map((signal, index) =>
          (index % 2 === 0 ? one : two).store.attachSignals(key, [
            { signal, entityIds: [pod.id], by: { kind: 'signal', id: signal.id } },
          ]),
        ),
      );
      const incident = await two.store.get(key);
      expect(incident?.signals.size).toBe(21);
      expect(incident?.signalIds).toHaveLength(21);
    } finally {
      await graph.close();
    }
  });
});

describe('the step ledger', () => {
  it('runs a step once, replays its result, and reports a start that never finished as in doubt', async () => {
    const ledger = new StepLedger({ connection: redis, prefix });
    let runs = 0;
    const first = await ledger.once('inc_a', 'execute-1-0', (inDoubt) => {
      runs += 1;
      return Promise.resolve({ inDoubt, n: runs });
    });
    expect(first).toEqual({ value: { inDoubt: false, n: 1 }, replayed: false });
    const again = await ledger.once('inc_a', 'execute-1-0', () => Promise.resolve({ inDoubt: true, n: 99 }));
    expect(again).toEqual({ value: { inDoubt: false, n: 1 }, replayed: true });
    await expect(ledger.once('inc_a', 'verify-1', () => Promise.reject(new Error('died')))).rejects.toThrow(
      'died',
    );
    const resumed = await ledger.once('inc_a', 'verify-1', (inDoubt) => Promise.resolve(inDoubt));
    expect(resumed.value).toBe(true);
    expect(await ledger.get('inc_a', 'execute-1-0')).toEqual({ inDoubt: false, n: 1 });
    expect(Object.keys(await ledger.completed('inc_a')).sort()).toEqual(['execute-1-0', 'verify-1']);
  });
});

describe('matchers', () => {
  const signal = makeSignal({
    fingerprint: 'HighLatency',
    entities: [podRef('checkout-7')],
    labels: { alertname: 'HighLatency', team: 'payments' },
  });
  it.each([
    [[{ name: 'alertname', value: 'HighLatency' }], true],
    [[{ name: 'alertname', value: 'High' }], false],
    [[{ name: 'alertname', value: 'High.*', isRegex: true }], true],
    [[{ name: 'entity', value: 'checkout-7' }], true],
    [
      [
        { name: 'entity', value: 'checkout-.*', isRegex: true },
        { name: 'team', value: 'payments' },
      ],
      true,
    ],
    [
      [
        { name: 'entity', value: 'checkout-.*', isRegex: true },
        { name: 'team', value: 'web' },
      ],
      false,
    ],
    [[{ name: 'severity', value: 'warning' }], true],
    [[{ name: 'missing', value: '' }], false],
    [[{ name: 'alertname', value: '(', isRegex: true }], false],
  ])('%j matches: %s', (matchers, expected) => {
    expect(matches(signal, matchers)).toBe(expected);
  });
});
