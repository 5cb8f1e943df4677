import type { IncidentSeverity, InvestigationBudget } from './types.js';

/** Default budgets by severity; `investigate.budget.<severity>` in config overrides them. */
export const DEFAULT_BUDGETS: Readonly<Record<IncidentSeverity, InvestigationBudget>> = {
  critical: { maxToolCalls: 40, maxTokens: 200_000, maxWallMs: 300_000, maxDepth: 2, parallelism: 4 },
  error: { maxToolCalls: 30, maxTokens: 120_000, maxWallMs: 180_000, maxDepth: 2, parallelism: 3 },
  warning: { maxToolCalls: 16, maxTokens: 60_000, maxWallMs: 120_000, maxDepth: 1, parallelism: 2 },
  info: { maxToolCalls: 8, maxTokens: 30_000, maxWallMs: 60_000, maxDepth: 1, parallelism: 1 },
};

/** The budget of a severity with any overrides applied. */
export function budgetFor(
  severity: IncidentSeverity,
  overrides?: Partial<Record<IncidentSeverity, Partial<InvestigationBudget>>> | Partial<InvestigationBudget>,
): InvestigationBudget {
  const base = DEFAULT_BUDGETS[severity];
  if (!overrides) return { ...base };
  const perSeverity = Object.keys(overrides).some((key) => key in DEFAULT_BUDGETS);
  const specific = perSeverity
    ? (overrides as Partial<Record<IncidentSeverity, Partial<InvestigationBudget>>>)[severity]
    : (overrides as Partial<InvestigationBudget>);
  return { ...base, ...(specific ?? {}) };
}

/** What is left of a budget at one moment. */
export interface BudgetRemaining {
  toolCalls: number;
  tokens: number;
  wallMs: number;
  parallelism: number;
  maxDepth: number;
}

/** Counts spending against a budget. Wall time uses the wall clock (`performance.now`), not the incident clock. */
export class BudgetTracker {
  toolCalls = 0;
  readonly #startedAt = performance.now();

  constructor(
    readonly budget: InvestigationBudget,
    private readonly tokensUsed: () => number,
  ) {}

  elapsedMs(): number {
    return performance.now() - this.#startedAt;
  }

  remaining(): BudgetRemaining {
    return {
      toolCalls: Math.max(0, this.budget.maxToolCalls - this.toolCalls),
      tokens: Math.max(0, this.budget.maxTokens - this.tokensUsed()),
      wallMs: Math.max(0, this.budget.maxWallMs - this.elapsedMs()),
      parallelism: this.budget.parallelism,
      maxDepth: this.budget.maxDepth,
    };
  }

  /** Which limit is spent, if any. */
  exhausted(): 'tool calls' | 'tokens' | 'wall time' | undefined {
    if (this.toolCalls >= this.budget.maxToolCalls) return 'tool calls';
    if (this.tokensUsed() >= this.budget.maxTokens) return 'tokens';
    if (this.elapsedMs() >= this.budget.maxWallMs) return 'wall time';
    return undefined;
  }
}
