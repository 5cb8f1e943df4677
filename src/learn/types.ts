/** What the learn stage is told about an incident once it has ended. */
export interface IncidentOutcome {
  /** Graph id of the incident. */
  incidentId: string;
  title: string;
  severity: 'critical' | 'error' | 'warning' | 'info';
  openedAt: number;
  /** When it resolved or was escalated. */
  endedAt: number;
  /** How it ended. */
  state: 'resolved' | 'escalated';
  /** Symptom kinds seen: alert names, analyzer finding kinds, anomaly metrics (e.g. `error_rate`). */
  symptoms: readonly string[];
  /** The suspect: its graph id, kind and tier. */
  suspect?: { id: string; kind: string; tier?: string };
  /** The cause nightshift settled on, if any. */
  rootCause?: { category: string; statement: string; confidence: number };
  /** The change type near the suspect that the cause points at (deploy, config, flag…), if any. */
  changeType?: string;
  /** The remediation chosen, with what the policy decided and what happened. */
  remediation?: {
    action: string;
    target: string;
    mode: 'deny' | 'shadow' | 'approval' | 'autonomous';
    /** `executed`: it ran; `suggested`: shadow only; `rejected`/`expired`: a human said no or nobody answered. */
    disposition: 'executed' | 'suggested' | 'rejected' | 'expired';
    /** Executed: did verification pass. Shadow: would it have (the symptoms' later course). */
    mitigated?: boolean;
    /** When the symptoms cleared, if they did. */
    mitigatedAt?: number;
  };
  /** Timeline entries for the postmortem, oldest first. */
  timeline: ReadonlyArray<{ at: number; what: string; by: string }>;
  /** Evidence lines for the postmortem (tool calls cited by the report). */
  evidence?: readonly string[];
  /** Services or entities reached, for the impact section. */
  impacted?: readonly string[];
}

/** The record of one failure pattern and its fix: what earned autonomy is written against. */
export interface PatternRecord {
  key: string;
  /** Incidents of this pattern that ended. */
  seen: number;
  /** Executed remediations that verified. */
  successes: number;
  /** Executed remediations that failed verification. */
  failures: number;
  /** Shadow suggestions whose symptoms would have cleared, and those that would not. */
  shadowWouldMitigate: number;
  shadowWouldNot: number;
  /** Human feedback on the diagnosis. */
  feedbackRight: number;
  feedbackWrong: number;
  /** Mean ms from opening to mitigation over mitigated incidents; undefined before the first. */
  meanTimeToMitigateMs?: number;
  /** The last remediation that worked, as `action`. */
  lastFix?: string;
  lastSeenAt?: number;
}
