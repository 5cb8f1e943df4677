import type { GraphStore } from '../graph/store.js';
import type { Clock } from '../shared/clock.js';
import { describeError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import { BudgetTracker, budgetFor } from './budget.js';
import { buildContext, type ContextOptions, type InvestigationContext } from './context.js';
import {
  REFUTE_THRESHOLD,
  SUPPORT_THRESHOLD,
  type CheckOutcome,
  type PlannedCheck,
  type Planner,
  type PlannerRun,
} from './planner.js';
import { proposalsFor } from './proposals.js';
import { buildReport, type InvestigationReportJson, type ReportedCall } from './report.js';
import type { ToolSet } from './tools/tool.js';
import { HypothesisTree } from './tree.js';
import type {
  Hypothesis,
  InvestigationBudget,
  InvestigationInput,
  Proposal,
  RootCause,
  TokenUsage,
} from './types.js';

/** What an investigation needs. */
export interface InvestigateDependencies {
  graph: GraphStore;
  /** Read-only tools only (see `createToolSet`). */
  tools: ToolSet;
  planner: Planner;
  clock: Clock;
  logger: Logger;
  /**
   * Overrides of the severity's default budget: one partial budget, or partial budgets by
   * severity (the `investigate.budget` config section).
   */
  budget?:
    | Partial<InvestigationBudget>
    | Partial<Record<InvestigationInput['severity'], Partial<InvestigationBudget>>>;
  /** Confidence at or above which a hypothesis is supported; default 0.8. */
  supportThreshold?: number;
  context?: ContextOptions;
}

/** What an investigation found. */
export interface InvestigationResult {
  tree: Hypothesis[];
  rootCause?: RootCause;
  proposals: Proposal[];
  report: { markdown: string; json: InvestigationReportJson };
  toolCalls: number;
  tokens: TokenUsage;
  planner: 'rules' | 'claude';
  fallbackReason?: string;
  /** When the first tool call started (the investigation clock), if any call was made. */
  firstToolCallAt?: number;
}

async function runPool<T, R>(
  items: readonly T[],
  parallelism: number,
  work: (item: T) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  const workers = Array.from({ length: Math.max(1, Math.min(parallelism, items.length)) }, async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index] as T);
    }
  });
  await Promise.all(workers);
  return results;
}

function pickRoot(tree: readonly Hypothesis[], threshold: number): Hypothesis | undefined {
  return tree
    .filter((node) => node.status === 'supported' && node.confidence >= threshold)
    .sort((a, b) => b.depth - a.depth || b.confidence - a.confidence || (a.id < b.id ? -1 : 1))[0];
}

/**
 * Investigates an incident: builds graph context, lets the planner propose hypotheses, tests
 * them with read-only tools (up to the budget's parallelism at a time), updates confidence from
 * each outcome, expands supported hypotheses to the budget's depth, and stops when one is
 * supported above the threshold with its rivals ruled out, when nothing is left to test, when the
 * budget is spent, or when `signal` aborts. The tree is written to the graph as it changes.
 * Never throws for a failing tool or model; rejects only when `signal` aborts before anything
 * could be reported or the graph cannot be read at all.
 */
export async function investigate(
  input: InvestigationInput,
  deps: InvestigateDependencies,
  signal: AbortSignal,
): Promise<InvestigationResult> {
  const logger = deps.logger.child({ component: 'investigate', incidentId: input.incidentId });
  const threshold = deps.supportThreshold ?? SUPPORT_THRESHOLD;
  const budget = budgetFor(input.severity, deps.budget);
  const context: InvestigationContext = await buildContext(deps.graph, input, {
    now: deps.clock.now(),
    ...(deps.context ?? {}),
  });
  const plannerRun: PlannerRun = deps.planner.open({
    context,
    tools: deps.tools,
    logger,
    supportThreshold: threshold,
  });
  const tokens = (): number => {
    const usage = plannerRun.usage();
    return usage.input + usage.output;
  };
  const tracker = new BudgetTracker(budget, tokens);
  const tree = new HypothesisTree(input.incidentId, deps.graph, logger, () => deps.clock.now());
  const calls: ReportedCall[] = [];
  let firstToolCallAt: number | undefined;
  let stopReason = 'not started';
  let budgetSpent: string | undefined;
  let callCounter = 0;
  const wallLimit = AbortSignal.timeout(Math.max(1, budget.maxWallMs));
  const runSignal = AbortSignal.any([signal, wallLimit]);

  try {
    for (const draft of await plannerRun.propose(runSignal)) tree.add(draft);
    await tree.persist();
    logger.info({ hypotheses: tree.all().length }, 'hypotheses proposed');

    for (;;) {
      if (signal.aborted) {
        stopReason = 'aborted';
        break;
      }
      const spent = tracker.exhausted();
      if (spent) {
        budgetSpent = spent;
        stopReason = `${spent} budget spent`;
        break;
      }
      const decision = plannerRun.shouldStop(tree.snapshot(), tracker.remaining());
      if (decision.stop) {
        stopReason = decision.reason;
        break;
      }
      const remaining = tracker.remaining();
      const planned: PlannedCheck[] = (await plannerRun.nextChecks(tree.snapshot(), remaining, runSignal))
        .filter((check) => tree.get(check.hypothesisId))
        .slice(0, remaining.toolCalls);
      if (planned.length === 0) {
        const after = plannerRun.shouldStop(tree.snapshot(), tracker.remaining());
        stopReason = after.stop ? after.reason : 'no checks left';
        break;
      }
      for (const check of planned) {
        const node = tree.get(check.hypothesisId);
        if (node?.status === 'open') tree.update(node.id, { status: 'testing' });
      }
      tracker.toolCalls += planned.length;
      await tree.persist();
      const outcomes = await runPool(planned, budget.parallelism, async (check): Promise<CheckOutcome> => {
        const callId = check.callId ?? `call-${++callCounter}`;
        firstToolCallAt ??= deps.clock.now();
        const record = await deps.tools.call(check.tool, check.input, {
          signal: runSignal,
          now: deps.clock.now(),
        });
        calls.push({
          callId,
          tool: record.tool,
          input: record.input,
          status: record.result.status,
          digest: record.result.summary,
          hypothesisId: check.hypothesisId,
        });
        return {
          callId,
          hypothesisId: check.hypothesisId,
          tool: record.tool,
          input: record.input,
          result: record.result,
          ...(check.check ? { check: check.check } : {}),
          at: deps.clock.now(),
        };
      });
      const byHypothesis = new Map<string, CheckOutcome[]>();
      for (const outcome of outcomes)
        byHypothesis.set(outcome.hypothesisId, [...(byHypothesis.get(outcome.hypothesisId) ?? []), outcome]);
      const items = [...byHypothesis].map(([id, list]) => ({
        hypothesis: tree.get(id) as Hypothesis,
        outcomes: list,
      }));
      const assessments = await plannerRun.assess(items, runSignal);
      for (const assessment of assessments) {
        const node = tree.get(assessment.hypothesisId);
        if (!node) continue;
        for (const verdict of assessment.verdicts) {
          const outcome = outcomes.find((item) => item.callId === verdict.callId);
          if (!outcome) continue;
          tree.addEvidence(node.id, {
            callId: outcome.callId,
            tool: outcome.tool,
            input: outcome.input,
            outputDigest: outcome.result.summary,
            verdict: verdict.verdict,
            weight: verdict.weight,
            rationale: verdict.rationale,
            at: outcome.at,
          });
        }
        const hasSupport = node.evidence.some((evidence) => evidence.verdict === 'supports');
        const hasRefute = node.evidence.some((evidence) => evidence.verdict === 'refutes');
        let status = node.status;
        if (assessment.confidence >= threshold && hasSupport) status = 'supported';
        else if (assessment.confidence <= REFUTE_THRESHOLD && hasRefute) status = 'refuted';
        else if (plannerRun.isExhausted?.(node)) status = 'inconclusive';
        tree.update(node.id, { confidence: assessment.confidence, status });
        if (status === 'supported' && node.depth < budget.maxDepth && node.children.length === 0) {
          for (const draft of await plannerRun.expand(node, tree.snapshot(), runSignal))
            tree.add(draft, node.id);
        }
      }
      for (const draft of plannerRun.discover?.(tree.snapshot()) ?? [])
        tree.add(draft, draft.parentId ?? null);
      await tree.persist();
    }
  } catch (error) {
    if (signal.aborted) stopReason = 'aborted';
    else if (wallLimit.aborted) {
      budgetSpent = 'wall time';
      stopReason = 'wall time budget spent';
    } else {
      stopReason = `failed: ${describeError(error)}`;
      logger.error({ err: error }, 'investigation failed');
    }
  }

  for (const node of tree.live()) tree.update(node.id, { status: 'inconclusive' });
  await tree.persist();
  const snapshot = tree.snapshot();
  const rootNode = pickRoot(snapshot, threshold);
  const rootCause: RootCause | undefined = rootNode
    ? {
        category: rootNode.category,
        suspect: rootNode.suspect,
        confidence: rootNode.confidence,
        statement: rootNode.statement,
        hypothesisId: rootNode.id,
      }
    : undefined;
  const proposals = proposalsFor(rootNode, context, snapshot);
  const usage = plannerRun.usage();
  const fallbackReason = plannerRun.fallbackReason();
  const report = buildReport({
    incidentId: input.incidentId,
    context,
    tree: snapshot,
    ...(rootCause ? { rootCause } : {}),
    proposals,
    calls,
    planner: deps.planner.kind,
    ...(fallbackReason ? { fallbackReason } : {}),
    stopReason,
    ...(budgetSpent ? { budgetSpent } : {}),
    tokens: usage,
  });
  logger.info(
    { rootCause: rootCause?.category, toolCalls: calls.length, stopReason },
    'investigation finished',
  );
  return {
    tree: snapshot,
    ...(rootCause ? { rootCause } : {}),
    proposals,
    report,
    toolCalls: calls.length,
    tokens: usage,
    planner: deps.planner.kind,
    ...(fallbackReason ? { fallbackReason } : {}),
    ...(firstToolCallAt !== undefined ? { firstToolCallAt } : {}),
  };
}
