import type { Logger } from '../shared/logger.js';
import type { BudgetRemaining } from './budget.js';
import type { InvestigationContext } from './context.js';
import type { ToolResult, ToolSet } from './tools/tool.js';
import type { HypothesisDraft } from './tree.js';
import type { Hypothesis, TokenUsage, Verdict } from './types.js';

/** A tool call a planner wants made to test one hypothesis. */
export interface PlannedCheck {
  hypothesisId: string;
  tool: string;
  input: Record<string, unknown>;
  /** The call id to use (a model's tool_use id); the engine makes one when absent. */
  callId?: string;
  /** A label for the check (the rules catalog's check name). */
  check?: string;
}

/** A check as run. */
export interface CheckOutcome {
  callId: string;
  hypothesisId: string;
  tool: string;
  input: Record<string, unknown>;
  result: ToolResult;
  check?: string;
  at: number;
}

/** How one outcome bears on its hypothesis. */
export interface OutcomeVerdict {
  callId: string;
  verdict: Verdict;
  /** 0..1. */
  weight: number;
  rationale: string;
}

/** A planner's reading of one hypothesis after new outcomes: verdicts per call and the new confidence. */
export interface Assessment {
  hypothesisId: string;
  verdicts: OutcomeVerdict[];
  confidence: number;
}

/** Children of a hypothesis worth testing (e.g. why the failing dependency fails). */
export interface Expansion {
  parentId: string;
  drafts: HypothesisDraft[];
}

/** What a planner run says about stopping. */
export interface StopDecision {
  stop: boolean;
  reason: string;
}

/** What a planner run gets when it opens. */
export interface PlannerRunOptions {
  context: InvestigationContext;
  tools: ToolSet;
  logger: Logger;
  /** Confidence at or above which a hypothesis counts as supported. */
  supportThreshold: number;
}

/**
 * One investigation's conversation with a planner. The engine calls, in a loop:
 * `propose` once, then `nextChecks` → (engine runs the calls, up to the budget's parallelism)
 * → `assess` with every outcome of the round (a batch of (hypothesis, evidence) pairs) →
 * `expand` for newly supported hypotheses, until `shouldStop` says so, the budget is spent, or
 * `nextChecks` has nothing left. A run never throws for a model failure: it falls back to
 * the rules planner and says why in `fallbackReason()`.
 */
export interface PlannerRun {
  propose(signal: AbortSignal): Promise<HypothesisDraft[]>;
  nextChecks(
    tree: readonly Hypothesis[],
    budget: BudgetRemaining,
    signal: AbortSignal,
  ): Promise<PlannedCheck[]>;
  assess(
    items: ReadonlyArray<{ hypothesis: Hypothesis; outcomes: readonly CheckOutcome[] }>,
    signal: AbortSignal,
  ): Promise<Assessment[]>;
  expand(
    hypothesis: Hypothesis,
    tree: readonly Hypothesis[],
    signal: AbortSignal,
  ): Promise<HypothesisDraft[]>;
  shouldStop(tree: readonly Hypothesis[], budget: BudgetRemaining): StopDecision;
  /** True when the planner has nothing more to check for this hypothesis (optional). */
  isExhausted?(hypothesis: Hypothesis): boolean;
  /**
   * New root hypotheses the evidence so far points at (optional), asked after each round: a
   * caller's log naming an expired certificate of the service it calls, say. Drafts already in
   * the tree are ignored.
   */
  discover?(tree: readonly Hypothesis[]): HypothesisDraft[];
  usage(): TokenUsage;
  /** Set once the run stopped using its model, with the reason. */
  fallbackReason(): string | undefined;
}

/** A planner: opens one run per investigation (a run holds per-incident state). */
export interface Planner {
  readonly kind: 'rules' | 'claude';
  open(options: PlannerRunOptions): PlannerRun;
}

/** Default confidence at or above which a hypothesis is supported. */
export const SUPPORT_THRESHOLD = 0.8;
/** Confidence at or below which a hypothesis is refuted. */
export const REFUTE_THRESHOLD = 0.12;

/**
 * The shared stop rule: stop when one hypothesis is supported at or above the threshold and
 * every rival (another root or sibling) is refuted or inconclusive, or when nothing is left to test.
 */
export function standardStop(tree: readonly Hypothesis[], threshold: number): StopDecision {
  const supported = tree.filter((node) => node.status === 'supported' && node.confidence >= threshold);
  const live = tree.filter((node) => node.status === 'open' || node.status === 'testing');
  if (supported.length > 0) {
    const lineage = new Set<string>();
    for (const node of supported) {
      let current: Hypothesis | undefined = node;
      while (current) {
        lineage.add(current.id);
        const parentId: string | null = current.parentId;
        current = parentId ? tree.find((candidate) => candidate.id === parentId) : undefined;
      }
    }
    const rivals = live.filter((node) => !lineage.has(node.id) && !node.parentId);
    const openChildren = live.filter((node) => node.parentId && lineage.has(node.parentId));
    if (rivals.length === 0 && openChildren.length === 0)
      return {
        stop: true,
        reason: `${supported[0]?.category} on ${supported[0]?.suspect} is supported and every rival is ruled out`,
      };
  }
  if (live.length === 0) return { stop: true, reason: 'no hypothesis is left to test' };
  return { stop: false, reason: '' };
}

/** Log-odds update: each verdict moves confidence by its weight (supports up, refutes down). */
export function updateConfidence(current: number, verdicts: readonly OutcomeVerdict[]): number {
  const bounded = Math.min(0.995, Math.max(0.005, current));
  let logit = Math.log(bounded / (1 - bounded));
  for (const verdict of verdicts) {
    const weight = Math.min(1, Math.max(0, verdict.weight));
    if (verdict.verdict === 'supports') logit += 2.4 * weight;
    else if (verdict.verdict === 'refutes') logit -= 2.4 * weight;
  }
  return 1 / (1 + Math.exp(-logit));
}
