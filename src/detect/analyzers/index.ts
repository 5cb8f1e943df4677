export { analyze, defaultAnalyzers, type AnalyzeOptions } from './analyze.js';
export type { Analyzer } from './analyzer.js';
export { timeOf, type ApiObject } from './api-object.js';
export {
  createAnalysisContext,
  defaultAnalyzerOptions,
  eventCount,
  eventLastSeen,
  type AnalysisContext,
  type AnalyzerOptions,
} from './context.js';
export { crashLoopAnalyzer } from './crash-loop.js';
export { evictionAnalyzer, parseEvictionMessage, type EvictionDetails } from './eviction.js';
export {
  createFinding,
  findingFingerprint,
  type Finding,
  type ObjectReference,
  type OwnerReference,
  type Severity,
} from './finding.js';
export { hpaAtMaxAnalyzer } from './hpa-at-max.js';
export { classifyPullFailure, imagePullAnalyzer, type PullFailureCause } from './image-pull.js';
export { initContainerAnalyzer } from './init-container.js';
export { jobFailureAnalyzer } from './job-failure.js';
export { missingConfigAnalyzer, parseMissingReferences, type MissingReference } from './missing-config.js';
export { nodeConditionAnalyzer } from './node-condition.js';
export { oomKilledAnalyzer } from './oom-killed.js';
export { jobOwner, podOwner } from './owner.js';
export { pendingAnalyzer } from './pending.js';
export { probeAnalyzer } from './probe.js';
export { replicaMismatchAnalyzer } from './replica-mismatch.js';
export {
  parseSchedulerMessage,
  primaryCause,
  schedulingReasonName,
  type SchedulingCause,
  type SchedulingCauseKind,
  type SchedulingFailure,
} from './scheduler-message.js';
export { serviceEndpointsAnalyzer } from './service-endpoints.js';
export type {
  ClusterSnapshot,
  ConfigMap,
  Deployment,
  EndpointSlice,
  Endpoints,
  HorizontalPodAutoscaler,
  Job,
  KubeEvent,
  Node,
  Pod,
  ReplicaSet,
  Service,
} from './snapshot.js';
