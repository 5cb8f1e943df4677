/**
 * Investigation: a hypothesis tree over the graph, tested with read-only tools by a planner
 * (rules, or Claude with rules as the fallback). `investigate` is the entry point; see
 * docs/investigate.md.
 */
export { investigate, type InvestigateDependencies, type InvestigationResult } from './investigate.js';
export { budgetFor, DEFAULT_BUDGETS } from './budget.js';
export { buildContext, symptomKinds, type InvestigationContext, type ContextOptions } from './context.js';
export type { Planner, PlannerRun, PlannedCheck, CheckOutcome, Assessment } from './planner.js';
export { SUPPORT_THRESHOLD, standardStop } from './planner.js';
export { createRulesPlanner, type RulesPlannerOptions } from './rules/planner.js';
export { DATADOG_QUERIES, PROMETHEUS_QUERIES, type RuleQueries } from './rules/queries.js';
export { createClaudePlanner, type ClaudePlannerOptions } from './claude/planner.js';
export { readHypothesisTree, hypothesisIdFor } from './tree.js';
export {
  createInvestigationTools,
  defineTool,
  createToolSet,
  type InvestigationToolsOptions,
  type ReadOnlyTool,
  type ToolSet,
} from './tools/index.js';
export type { InvestigationReportJson } from './report.js';
export * from './types.js';
