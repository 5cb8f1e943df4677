import type { Signal } from '../ingest/signal.js';

/** The families of root cause the investigator reasons about. */
export const HYPOTHESIS_CATEGORIES = [
  'deploy_regression',
  'config_change',
  'resource_saturation',
  'memory_leak',
  'dependency_failure',
  'node_issue',
  'network_dns',
  'scheduling',
  'image',
  'flag_change',
  'noisy_neighbor',
  'certificate',
  'external',
  'unknown',
] as const;
export type HypothesisCategory = (typeof HYPOTHESIS_CATEGORIES)[number];

/** Categories that blame a change someone made (a release, its configuration, a flag): undoable, not restartable. */
export const CHANGE_CATEGORIES: ReadonlySet<string> = new Set<HypothesisCategory>([
  'deploy_regression',
  'config_change',
  'flag_change',
]);

export const HYPOTHESIS_STATUSES = ['open', 'testing', 'supported', 'refuted', 'inconclusive'] as const;
export type HypothesisStatus = (typeof HYPOTHESIS_STATUSES)[number];

export const VERDICTS = ['supports', 'refutes', 'neutral'] as const;
export type Verdict = (typeof VERDICTS)[number];

/** One tool call's bearing on one hypothesis. `outputDigest` is a short, redacted summary of the output. */
export interface Evidence {
  /** The id of the tool call (cited by the report as `[callId]`). */
  callId: string;
  tool: string;
  input: Record<string, unknown>;
  outputDigest: string;
  verdict: Verdict;
  /** How much this moves confidence, 0..1. */
  weight: number;
  /** Why the planner read the output that way. */
  rationale: string;
  /** When the call finished, ms since the epoch. */
  at: number;
}

/** One node of the hypothesis tree. `suspect` is a graph id (workload, service, node, flag…). */
export interface Hypothesis {
  id: string;
  parentId: string | null;
  statement: string;
  category: HypothesisCategory;
  suspect: string;
  prior: number;
  confidence: number;
  status: HypothesisStatus;
  evidence: Evidence[];
  children: string[];
  /** Depth in the tree: 0 for a root hypothesis. */
  depth: number;
}

/** How much one investigation may spend. */
export interface InvestigationBudget {
  maxToolCalls: number;
  maxTokens: number;
  maxWallMs: number;
  /** Deepest level of child hypotheses (0: roots only). */
  maxDepth: number;
  /** Hypotheses tested at the same time. */
  parallelism: number;
}

export type IncidentSeverity = 'critical' | 'error' | 'warning' | 'info';

/** What an investigation starts from. */
export interface InvestigationInput {
  /** The graph id of the incident (`incident:<key>`); hypotheses are linked to it. */
  incidentId: string;
  severity: IncidentSeverity;
  /** Graph ids of what shows the symptoms (services, workloads, pods, nodes). */
  symptomEntityIds: string[];
  signals: Signal[];
  /** When the incident opened, ms since the epoch. */
  openedAt: number;
}

/** A remediation the investigator suggests; respond and policy decide whether it happens. */
export interface Proposal {
  action:
    'k8s.rollback' | 'k8s.rolloutRestart' | 'k8s.scale' | 'k8s.deletePod' | 'k8s.cordonNode' | 'flags.set';
  target: { kind: string; namespace?: string; name: string; id?: string };
  params: Record<string, unknown>;
  rationale: string;
  hypothesisId: string;
}

/** The supported hypothesis the investigation settled on. */
export interface RootCause {
  category: HypothesisCategory;
  suspect: string;
  confidence: number;
  statement: string;
  hypothesisId: string;
}

/** Token use of a model-backed planner (0 for rules). */
export interface TokenUsage {
  input: number;
  output: number;
}
