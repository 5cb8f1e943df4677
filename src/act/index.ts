export {
  ACTION_KINDS,
  describeTarget,
  type ActionContext,
  type ActionDefinition,
  type ActionKind,
  type ActionOutcome,
  type ActionPlan,
  type ActionTarget,
  type Change,
  type Precondition,
  type VerifyHint,
} from './types.js';
export { ACTION_CATALOG, actionDefinition, isActionKind } from './catalog.js';
export type { KubeObject, KubePatch, KubernetesApi, WorkloadRef } from './kubernetes-api.js';
export { createKubernetesApi, kubernetesError } from './kubernetes-client.js';
export { createHttpFlagsApi, type FlagValue, type FlagsApi, type HttpFlagsOptions } from './flags-api.js';
export {
  MemoryActionLog,
  type ActionLog,
  type ActionLogEntry,
  type ActionState,
  type RecentCounts,
} from './action-log.js';
export { RedisActionLog } from './redis-action-log.js';
export {
  AUDIT_TYPES,
  MemoryAuditLog,
  auditFileReader,
  openAuditFile,
  readAuditFile,
  type AuditFileOptions,
  type AuditInput,
  type AuditLog,
  type AuditQuery,
  type AuditRecord,
  type AuditType,
} from './audit.js';
export { graphAuditMirror } from './audit-graph.js';
export { actionKey, proposalSchema, targetKey, type Proposal, type ProposalInput } from './proposal.js';
export {
  RECENT_WINDOW_MS,
  decideProposal,
  executeProposal,
  type ExecutionResult,
  type ExecutorControls,
  type ExecutorDeps,
  type VerifyRequest,
} from './executor.js';
export {
  verifyAction,
  type SymptomCheck,
  type SymptomReading,
  type UndoStatus,
  type VerifyDeps,
  type VerifyResult,
} from './verify.js';
export { DEFAULT_RETRY, isRetryable, withRetries, type RetryOptions } from './retry.js';
