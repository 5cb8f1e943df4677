export {
  createSlackApp,
  type KillSwitchRequest,
  type SlackAppOptions,
  type SlackIntegration,
  type SlackMessageDelivery,
  type SlackThread,
} from './app.js';
export { approvalsApiRoutes, type ApprovalsApiOptions } from './approvals-api.js';
export type { ApprovalDecision, ApprovalRequestInput, DecisionAttempt } from './approvals.js';
export type { ApprovalDecisionRecord, ApprovalRecord } from './approval-store.js';
export type {
  ApprovalOutcome,
  EvidenceItem,
  IncidentThreadInput,
  InvestigationReport,
  ShadowSuggestion,
} from './messages.js';
