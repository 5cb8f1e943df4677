/** An action nightshift chose for a scenario, with what the policy decided and whether it ran. */
export interface ObservedAction {
  action: string;
  /** A service or node name, or a graph id ending in `/<name>`. */
  target: string;
  mode: 'deny' | 'shadow' | 'approval' | 'autonomous';
  executed: boolean;
}

/** A ranked root-cause candidate from the final hypothesis tree. */
export interface ObservedCause {
  /** Investigation category (`deploy_regression`, `node_issue`…). */
  category: string;
  /** The suspect: a service or node name, or a graph id ending in `/<name>`. */
  suspect: string;
  confidence: number;
}

/** One incident of a run, in the order they opened: how long and how many calls its diagnosis took. */
export interface ObservedIncident {
  /** Sim ms from the first fault to the incident's first signal. */
  openedSimMs: number;
  /** Sim ms from the incident's first signal to its report; absent when it was never investigated. */
  diagnoseSimMs?: number;
  toolCalls: number;
  /** Top category of its investigation, when one ranked first. */
  category?: string;
  /** Mode of its first decision, when a remediation was decided. */
  mode?: string;
}

/** What a scenario run showed: the harness fills it in from the daemon and the sim. */
export interface ObservedRun {
  /** Incidents opened during the run. */
  incidents: number;
  /** Sim ms from the first fault to the first incident, when one opened. */
  detectSimMs?: number;
  /** Final hypotheses, best first. */
  causes: readonly ObservedCause[];
  /** Every remediation chosen, in order; the first is the one scored. */
  actions: readonly ObservedAction[];
  escalated: boolean;
  /** Whether the sim's faults were relieved at the end, and after how many sim ms from the first fault. */
  mitigated: boolean;
  mitigateSimMs?: number;
  toolCalls: number;
  tokens: { input: number; output: number };
  wallMs: number;
  /** Wall ms from the incident opening to its report. */
  diagnoseWallMs?: number;
  /** Every incident, in the order they opened. */
  perIncident?: readonly ObservedIncident[];
  /** Why the run itself failed (timeout, crash), if it did. */
  error?: string;
}
