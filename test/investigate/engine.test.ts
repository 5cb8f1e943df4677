import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { EmbeddedGraphStore } from '../../src/graph/embedded/embedded-store.js';
import { k8sId, runbookId, serviceId, slackThreadId } from '../../src/graph/ids.js';
import type { GraphStore } from '../../src/graph/store.js';
import { budgetFor, DEFAULT_BUDGETS } from '../../src/investigate/budget.js';
import { buildContext } from '../../src/investigate/context.js';
import { investigate } from '../../src/investigate/investigate.js';
import { patternSignature } from '../../src/learn/signature.js';
import {
  standardStop,
  updateConfidence,
  type Planner,
  type PlannerRun,
} from '../../src/investigate/planner.js';
import { createToolSet, defineTool } from '../../src/investigate/tools/tool.js';
import { readHypothesisTree } from '../../src/investigate/tree.js';
import type { Hypothesis } from '../../src/investigate/types.js';
import { ManualClock } from '../../src/shared/clock.js';
import { silentLogger } from '../../src/shared/logger.js';
import { tempDir } from '../kit/tmp.js';

const NOW = Date.UTC(2026, 2, 2, 10);
const CHECKOUT = k8sId('prod', 'shop', 'Deployment', 'checkout');

async function graphWithShop(): Promise<GraphStore> {
  const graph = await EmbeddedGraphStore.open({
    dataDir: tempDir(),
    fsync: 'never',
    logger: silentLogger(),
    clock: { now: () => NOW },
  });
  await graph.upsertEntities([
    { id: serviceId('checkout'), kind: 'Service', name: 'checkout', source: 'test' },
    { id: serviceId('payments'), kind: 'Service', name: 'payments', source: 'test' },
    { id: serviceId('frontend'), kind: 'Service', name: 'frontend', source: 'test' },
    {
      id: CHECKOUT,
      kind: 'Workload',
      name: 'checkout',
      source: 'test',
      properties: { namespace: 'shop', workloadKind: 'Deployment', replicas: 3 },
    },
    {
      id: runbookId('checkout-5xx'),
      kind: 'Runbook',
      name: 'Checkout 5xx',
      source: 'test',
      properties: { url: 'https://runbooks.example/checkout-5xx' },
    },
    {
      id: slackThreadId('C1', '1.2'),
      kind: 'SlackThread',
      name: '#checkout',
      source: 'test',
      properties: { text: 'anyone else seeing 500s on checkout?' },
    },
    {
      id: 'incident:old-1',
      kind: 'Incident',
      name: 'checkout 5xx after deploy',
      source: 'test',
      properties: {
        // Stored the way learn stores an ended incident, so the lookup is tested against it.
        signature: patternSignature({
          incidentId: 'incident:old-1',
          title: 'checkout 5xx after deploy',
          severity: 'critical',
          openedAt: NOW - 86_400_000,
          endedAt: NOW - 86_000_000,
          state: 'resolved',
          symptoms: ['HighErrorRate'],
          suspect: { id: CHECKOUT, kind: 'Deployment' },
          rootCause: { category: 'deploy_regression', statement: 'bad deploy', confidence: 0.9 },
          timeline: [],
        }).tokens,
        state: 'resolved',
        rootCauseSuspect: CHECKOUT,
        rootCauseCategory: 'deploy_regression',
        cause: 'bad deploy',
        fix: 'rollback',
      },
    },
  ]);
  await graph.upsertRelationships([
    { kind: 'PART_OF', from: CHECKOUT, to: serviceId('checkout'), source: 'test' },
    { kind: 'DEPENDS_ON', from: serviceId('checkout'), to: serviceId('payments'), source: 'test' },
    { kind: 'DEPENDS_ON', from: serviceId('frontend'), to: serviceId('checkout'), source: 'test' },
    { kind: 'DOCUMENTED_BY', from: serviceId('checkout'), to: runbookId('checkout-5xx'), source: 'test' },
    { kind: 'MENTIONS', from: slackThreadId('C1', '1.2'), to: serviceId('checkout'), source: 'test' },
  ]);
  await graph.recordEvents([
    {
      id: 'deploy-1',
      kind: 'deploy',
      entityId: CHECKOUT,
      at: NOW - 5 * 60_000,
      source: 'test',
      properties: { image: 'shop/checkout:3.1.0', previousRevision: 4 },
    },
  ]);
  return graph;
}

const INPUT = {
  incidentId: 'incident:engine-1',
  severity: 'critical' as const,
  symptomEntityIds: [serviceId('checkout')],
  signals: [],
  openedAt: NOW,
};

/** A deterministic planner: one probe per live hypothesis per round; supports checkout, refutes the rest. */
function scriptedPlanner(
  onProbe?: () => Promise<void>,
  weight = 0.8,
): { planner: Planner; probes: string[] } {
  const probes: string[] = [];
  const planner: Planner = {
    kind: 'rules',
    open(options): PlannerRun {
      return {
        propose: () =>
          Promise.resolve([
            {
              category: 'deploy_regression',
              suspect: CHECKOUT,
              statement: 'the deploy broke checkout',
              prior: 0.4,
            },
            {
              category: 'dependency_failure',
              suspect: serviceId('payments'),
              statement: 'payments is failing',
              prior: 0.2,
            },
            { category: 'memory_leak', suspect: CHECKOUT, statement: 'checkout leaks', prior: 0.1 },
          ]),
        nextChecks: (tree) =>
          Promise.resolve(
            tree
              .filter((node) => node.status === 'open' || node.status === 'testing')
              .map((node) => ({ hypothesisId: node.id, tool: 'probe', input: { about: node.suspect } })),
          ),
        assess: (items) =>
          Promise.resolve(
            items.map(({ hypothesis, outcomes }) => {
              const good = hypothesis.category === 'deploy_regression';
              const verdicts = outcomes.map((outcome) => ({
                callId: outcome.callId,
                verdict: good ? ('supports' as const) : ('refutes' as const),
                weight,
                rationale: good ? 'fits' : 'does not fit',
              }));
              return {
                hypothesisId: hypothesis.id,
                verdicts,
                confidence: updateConfidence(hypothesis.confidence, verdicts),
              };
            }),
          ),
        expand: () => Promise.resolve([]),
        shouldStop: (tree) => standardStop(tree, options.supportThreshold),
        usage: () => ({ input: 0, output: 0 }),
        fallbackReason: () => undefined,
      };
    },
  };
  const probe = defineTool({
    name: 'probe',
    description: 'probe',
    input: z.strictObject({ about: z.string() }),
    async run(input) {
      probes.push(input.about);
      await onProbe?.();
      return { status: 'ok' as const, summary: `probed ${input.about}` };
    },
  });
  return { planner: { ...planner, tools: createToolSet([probe]) } as Planner, probes };
}

describe('investigate', () => {
  it('supports one hypothesis, rules out the rest, cites every call, and keeps the tree readable in the graph at every moment', async () => {
    const graph = await graphWithShop();
    const seen: Hypothesis[][] = [];
    const { planner, probes } = scriptedPlanner(async () => {
      seen.push(await readHypothesisTree(graph, INPUT.incidentId));
    });
    const tools = (planner as unknown as { tools: ReturnType<typeof createToolSet> }).tools;
    const clock = new ManualClock(NOW);
    const result = await investigate(
      INPUT,
      { graph, tools, planner, clock, logger: silentLogger() },
      new AbortController().signal,
    );
    expect(result.rootCause).toMatchObject({ category: 'deploy_regression', suspect: CHECKOUT });
    expect(result.tree.map((node) => node.status).sort()).toEqual(['refuted', 'refuted', 'supported']);
    expect(probes.length).toBe(result.toolCalls);
    expect(seen[0]?.map((node) => node.status)).toEqual(['testing', 'testing', 'testing']);
    const callIds = new Set(result.report.json.toolCalls.map((call) => call.callId));
    for (const node of result.tree.filter(
      (item) => item.status === 'supported' || item.status === 'refuted',
    )) {
      expect(node.evidence.length).toBeGreaterThanOrEqual(1);
      for (const evidence of node.evidence) {
        expect(callIds.has(evidence.callId)).toBe(true);
        expect(result.report.markdown).toContain(`[${evidence.callId}]`);
      }
    }
    expect(result.proposals).toEqual([
      expect.objectContaining({
        action: 'k8s.rollback',
        target: { kind: 'Deployment', namespace: 'shop', name: 'checkout', id: CHECKOUT },
        params: { toRevision: 4 },
      }),
    ]);
    expect(result.firstToolCallAt).toBe(NOW);
    const stored = await readHypothesisTree(graph, INPUT.incidentId);
    expect(stored.map((node) => node.status).sort()).toEqual(['refuted', 'refuted', 'supported']);
    expect(stored.find((node) => node.status === 'supported')?.evidence.length).toBeGreaterThan(0);
    await graph.close();
  });

  it('stops when the tool-call budget is spent and says what is unknown', async () => {
    const graph = await graphWithShop();
    const { planner } = scriptedPlanner(undefined, 0.3);
    const tools = (planner as unknown as { tools: ReturnType<typeof createToolSet> }).tools;
    const result = await investigate(
      INPUT,
      {
        graph,
        tools,
        planner,
        clock: new ManualClock(NOW),
        logger: silentLogger(),
        budget: { maxToolCalls: 2 },
      },
      new AbortController().signal,
    );
    expect(result.toolCalls).toBe(2);
    expect(result.rootCause).toBeUndefined();
    expect(result.proposals).toEqual([]);
    expect(result.report.json.stopReason).toBe('tool calls budget spent');
    expect(result.report.json.unknowns.join('\n')).toMatch(/tool calls budget was spent/);
    expect(result.report.json.unknowns.join('\n')).toMatch(/Inconclusive: checkout leaks/);
    await graph.close();
  });

  it('stops at once when aborted', async () => {
    const graph = await graphWithShop();
    const controller = new AbortController();
    const { planner } = scriptedPlanner(() => {
      controller.abort();
      return Promise.resolve();
    });
    const tools = (planner as unknown as { tools: ReturnType<typeof createToolSet> }).tools;
    const result = await investigate(
      INPUT,
      { graph, tools, planner, clock: new ManualClock(NOW), logger: silentLogger() },
      controller.signal,
    );
    expect(result.report.json.stopReason).toBe('aborted');
    expect(result.tree.every((node) => node.status !== 'open' && node.status !== 'testing')).toBe(true);
    await graph.close();
  });
});

describe('buildContext', () => {
  it('gathers changes, blast radius both ways, similar incidents with cause and fix, runbooks and Slack threads', async () => {
    const graph = await graphWithShop();
    const context = await buildContext(graph, { ...INPUT, signals: [] });
    expect(context.recentChanges.map((change) => change.eventId)).toEqual(['deploy-1']);
    expect(context.blastRadius.downstream.map((item) => item.id)).toContain(serviceId('frontend'));
    expect(context.blastRadius.upstream.map((item) => item.id)).toContain(serviceId('payments'));
    expect(context.similarIncidents).toEqual([
      expect.objectContaining({
        id: 'incident:old-1',
        category: 'deploy_regression',
        suspect: CHECKOUT,
        resolved: true,
        cause: 'bad deploy',
        fix: 'rollback',
      }),
    ]);
    expect(context.runbooks).toEqual([
      expect.objectContaining({ url: 'https://runbooks.example/checkout-5xx' }),
    ]);
    expect(context.slackThreads[0]?.text).toContain('500s on checkout');
    expect(context.targets[CHECKOUT]).toMatchObject({
      kind: 'Workload',
      service: 'checkout',
      namespace: 'shop',
      replicas: 3,
    });
    expect(context.truncated).toBe(false);
    await graph.close();
  });

  it('cuts the least useful lists first to fit a small token budget', async () => {
    const graph = await graphWithShop();
    const signals = Array.from({ length: 40 }, (_, index) => ({
      v: 1 as const,
      id: `s${index}`,
      source: 'alertmanager' as const,
      kind: 'alert' as const,
      status: 'firing' as const,
      fingerprint: `f${index}`,
      severity: 'critical' as const,
      entities: [],
      observedAt: NOW,
      receivedAt: NOW,
      summary: `alert number ${index} `.repeat(20),
      attributes: {},
      raw: { source: 'webhook/alertmanager', digest: `sha256:${'0'.repeat(64)}` },
    }));
    const context = await buildContext(graph, { ...INPUT, signals }, { maxTokens: 800 });
    expect(context.truncated).toBe(true);
    expect(context.slackThreads).toEqual([]);
    expect(context.signals.length).toBeLessThanOrEqual(10);
    expect(context.recentChanges).toHaveLength(1);
    expect(context.approxTokens).toBeLessThan(1_500);
    await graph.close();
  });
});

describe('budgets', () => {
  it('scales with severity and takes overrides', () => {
    expect(DEFAULT_BUDGETS.critical.maxToolCalls).toBeGreaterThan(DEFAULT_BUDGETS.info.maxToolCalls);
    expect(budgetFor('warning', { warning: { maxToolCalls: 3 } })).toMatchObject({
      maxToolCalls: 3,
      parallelism: 2,
    });
    expect(budgetFor('info', { parallelism: 5 }).parallelism).toBe(5);
    expect(budgetFor('critical', { warning: { maxToolCalls: 3 } })).toEqual(DEFAULT_BUDGETS.critical);
  });
});
