export {
  MODES,
  isAtLeastAsRestrictive,
  modeSchema,
  mostRestrictive,
  neverExecutes,
  restrictiveness,
  type Mode,
} from './mode.js';
export {
  FACT_NAMES,
  celBindings,
  clockFacts,
  factsSchema,
  parseFacts,
  type ActionFacts,
  type Facts,
  type FactsInput,
  type TargetFacts,
} from './facts.js';
export { compileCondition, type CompiledCondition, type ConditionResult } from './cel.js';
export { policyDocumentSchema, type BreakerConfig, type Limits, type PolicyDocument } from './schema.js';
export type { CompiledRule, PolicySet, PolicySummary } from './policy-set.js';
export {
  compilePolicies,
  formatProblem,
  loadPolicies,
  type PolicyLoadResult,
  type PolicyProblem,
  type PolicySource,
} from './load.js';
export {
  evaluate,
  type CapCause,
  type Decision,
  type PolicyRequest,
  type RuleError,
  type RuleMatch,
} from './evaluate.js';
export {
  closedBreaker,
  isBreakerOpen,
  reduceBreaker,
  type BreakerEvent,
  type BreakerState,
} from './breaker.js';
export { createPolicyWatcher, type PolicyWatcher, type PolicyWatcherOptions } from './watch.js';
export {
  prepareTestFile,
  runPolicyTests,
  runTestCases,
  type PolicyTestCaseResult,
  type PolicyTestRun,
  type PreparedTestFile,
} from './policy-test.js';
