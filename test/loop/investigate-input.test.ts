import { Redis } from 'ioredis';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { serviceId } from '../../src/graph/ids.js';
import type { EntityRef } from '../../src/ingest/signal.js';
import { createLoopContext } from '../../src/loop/pipeline.js';
import type { InvestigationInput, LoopDeps } from '../../src/loop/pipeline-types.js';
import { investigateStage } from '../../src/loop/stages/investigate.js';
import { systemClock } from '../../src/shared/clock.js';
import { silentLogger } from '../../src/shared/logger.js';
import { testPrefix } from '../kit/prefix.js';
import { tempDir } from '../kit/tmp.js';
import { makeSignal, openGraph } from './support/loop-world.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const service = (name: string): EntityRef => ({ kind: 'Service', id: serviceId(name), name });

describe('what an investigation starts from', () => {
  it('includes the symptoms of signals handed to the incident but not attached yet', async () => {
    const prefix = testPrefix(import.meta.filename);
    const graph = await openGraph(tempDir());
    const redis = new Redis(inject('redisUrl'), { maxRetriesPerRequest: null });
    cleanups.push(async () => {
      const keys = await redis.keys(`${prefix}:*`);
      if (keys.length > 0) await redis.del(...keys);
      redis.disconnect();
      await graph.close();
    });
    const inputs: InvestigationInput[] = [];
    const deps = {
      investigate: (input: InvestigationInput) => {
        inputs.push(input);
        return Promise.resolve({ proposals: [], report: { markdown: 'nothing', json: {} } });
      },
      escalate: () => Promise.resolve(undefined),
    } as unknown as LoopDeps;
    const context = createLoopContext({
      state: redis,
      prefix,
      graph,
      clock: systemClock,
      logger: silentLogger(),
      deps,
    });
    await graph.upsertEntities(
      ['frontend', 'checkout'].map((name) => ({
        id: serviceId(name),
        kind: 'Service' as const,
        source: 'test',
      })),
    );
    const frontend = makeSignal({ fingerprint: 'FrontendErrors', entities: [service('frontend')] });
    const checkout = makeSignal({ fingerprint: 'CheckoutErrors', entities: [service('checkout')] });
    const key = 'inc_input_1';
    await context.ledger.putMany(key, [[`signal-${frontend.id}`, frontend]]);
    await context.store.open({
      key,
      signal: frontend,
      severity: 'critical',
      entityIds: [serviceId('frontend')],
      by: { kind: 'signal', id: frontend.id },
    });
    // Detect has handed the second alert to the incident and waits for its lock to attach it.
    await context.ledger.putMany(key, [[`signal-${checkout.id}`, checkout]]);

    await investigateStage.handle(
      { v: 1, incidentKey: key, round: 1 },
      context,
      new AbortController().signal,
    );

    expect(inputs).toHaveLength(1);
    expect(inputs[0]?.symptomEntityIds).toEqual([serviceId('frontend'), serviceId('checkout')]);
    expect(inputs[0]?.signals.map((signal) => signal.id).sort()).toEqual([frontend.id, checkout.id].sort());
    expect((await context.store.get(key))?.entityIds).toEqual([serviceId('frontend')]);
  });
});
