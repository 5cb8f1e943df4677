import { openTestGraph } from '../kit/graph.js';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, inject, it } from 'vitest';
import type { ExecutorDeps } from '../../src/act/index.js';
import { IncidentJournal } from '../../src/app/agent/journal.js';
import { createLoopDeps } from '../../src/app/agent/loop-deps.js';
import type { EmbeddedGraphStore } from '../../src/graph/embedded/embedded-store.js';
import { serviceId } from '../../src/graph/ids.js';
import { buildContext } from '../../src/investigate/context.js';
import { standardStop, type Planner } from '../../src/investigate/planner.js';
import { createRulesPlanner } from '../../src/investigate/rules/planner.js';
import { createToolSet } from '../../src/investigate/tools/tool.js';
import { PatternStore } from '../../src/learn/index.js';
import type { InvestigationInput } from '../../src/loop/pipeline-types.js';
import { ManualClock } from '../../src/shared/clock.js';
import { silentLogger } from '../../src/shared/logger.js';
import { testPrefix } from '../kit/prefix.js';
import { makeSignal } from '../loop/support/loop-world.js';

const prefix = testPrefix(import.meta.filename);
const NOW = Date.UTC(2026, 10, 30, 3);
const open: Array<{ close(): Promise<unknown> }> = [];

afterEach(async () => {
  for (const item of open.splice(0)) await item.close();
});

/** A Redis connection, a manual clock at NOW and an empty embedded graph, closed after the test. */
async function world(): Promise<{ redis: Redis; clock: ManualClock; graph: EmbeddedGraphStore }> {
  const redis = new Redis(inject('redisUrl'));
  open.push({ close: () => redis.quit() });
  const clock = new ManualClock(NOW);
  const graph = await openTestGraph({ clock });
  open.push(graph);
  return { redis, clock, graph };
}

describe('an inconclusive investigation looked at again', () => {
  it('takes in the symptoms and signals that joined the incident meanwhile', async () => {
    const { redis, clock, graph } = await world();
    await graph.upsertEntities([
      { id: serviceId('cart'), kind: 'Service', name: 'cart', source: 'test' },
      { id: serviceId('recommendation'), kind: 'Service', name: 'recommendation', source: 'test' },
    ]);
    // A planner that proposes nothing (so nothing is ever established) and remembers what it saw.
    const looked: string[][] = [];
    const planner: Planner = {
      kind: 'rules',
      open: (options) => {
        looked.push(options.context.symptoms.map((symptom) => symptom.id));
        return {
          propose: () => Promise.resolve([]),
          nextChecks: () => Promise.resolve([]),
          assess: () => Promise.resolve([]),
          expand: () => Promise.resolve([]),
          shouldStop: (tree) => standardStop(tree, options.supportThreshold),
          usage: () => ({ input: 0, output: 0 }),
          fallbackReason: () => undefined,
        };
      },
    };
    const deps = createLoopDeps({
      graph,
      clock,
      logger: silentLogger(),
      journal: new IncidentJournal(redis, prefix),
      patterns: new PatternStore(redis, prefix),
      investigation: { tools: createToolSet([]), planner },
      // Investigation never reaches the executor.
      executor: {} as ExecutorDeps,
      environment: 'prod',
      cluster: 'prod',
      reinvestigate: { times: 1, delayMs: 0 },
    });
    const first: InvestigationInput = {
      incidentId: 'incident:late-1',
      severity: 'warning',
      symptomEntityIds: [serviceId('cart')],
      signals: [],
      openedAt: NOW,
    };
    const later = { ...first, symptomEntityIds: [serviceId('cart'), serviceId('recommendation')] };
    const result = await deps.investigate(first, new AbortController().signal, () => Promise.resolve(later));
    expect(result.rootCause).toBeUndefined();
    expect(looked).toEqual([[serviceId('cart')], [serviceId('cart'), serviceId('recommendation')]]);

    // Without a way to read the incident again, the second look is at the same input.
    looked.length = 0;
    await deps.investigate(first, new AbortController().signal);
    expect(looked).toEqual([[serviceId('cart')], [serviceId('cart')]]);
  });
});

describe('what learn remembers of an investigation', () => {
  it('stores the kinds of symptom it saw, so the next investigation finds the incident again', async () => {
    const { redis, clock, graph } = await world();
    await graph.upsertEntities([{ id: serviceId('cart'), kind: 'Service', name: 'cart', source: 'test' }]);
    const journal = new IncidentJournal(redis, `${prefix}-learn`);
    const deps = createLoopDeps({
      graph,
      clock,
      logger: silentLogger(),
      journal,
      patterns: new PatternStore(redis, `${prefix}-learn`),
      investigation: { tools: createToolSet([]), planner: createRulesPlanner() },
      executor: {} as ExecutorDeps,
      environment: 'prod',
      cluster: 'prod',
    });
    const alert = makeSignal({
      fingerprint: 'cart-oom',
      severity: 'critical',
      entities: [{ kind: 'Service', id: serviceId('cart'), name: 'cart' }],
      summary: 'cart containers OOMKilled',
      labels: { alertname: 'CartDown' },
    });
    const input: InvestigationInput = {
      incidentId: 'incident:first-oom',
      severity: 'critical',
      symptomEntityIds: [serviceId('cart')],
      signals: [alert],
      openedAt: NOW,
    };
    await deps.investigate(input, new AbortController().signal);
    expect((await journal.get(input.incidentId)).investigation?.symptoms?.sort()).toEqual([
      'CartDown',
      'OOMKilled',
    ]);

    // It ended resolved, blamed on cart leaking memory.
    await deps.learn({
      id: input.incidentId,
      key: 'first-oom',
      title: 'cart down',
      state: 'resolved',
      severity: 'critical',
      openedAt: NOW,
      firstReceivedAt: NOW,
      updatedAt: NOW + 600_000,
      round: 1,
      signals: new Map([['cart-oom', 'resolved']]),
      signalIds: [alert.id],
      entityIds: [serviceId('cart')],
      transitions: [],
      notes: [],
      rootCause: {
        category: 'memory_leak',
        suspect: serviceId('cart'),
        confidence: 0.9,
        statement: 'cart leaks memory',
      },
    });
    // What the incident store writes on the Incident as it goes (learn adds the signature).
    await graph.upsertEntities([
      {
        id: input.incidentId,
        kind: 'Incident',
        source: 'test',
        properties: {
          state: 'resolved',
          rootCauseCategory: 'memory_leak',
          rootCauseSuspect: serviceId('cart'),
        },
      },
    ]);
    const next = await buildContext(graph, { ...input, incidentId: 'incident:second-oom' });
    expect(next.similarIncidents).toEqual([
      expect.objectContaining({
        id: input.incidentId,
        category: 'memory_leak',
        suspect: serviceId('cart'),
        resolved: true,
      }),
    ]);
  });
});
