import type { Signal, Severity } from '../ingest/signal.js';
import type { Actor, IncidentState, Transition } from './incident-lifecycle.js';

/**
 * The contracts between the loop and the domains it drives. The loop owns queues, incidents,
 * correlation, noise and crash safety; everything else arrives as one of the functions in
 * `LoopDeps`, wired by the composition root.
 */

/** A note in an incident's timeline that is not a state change (a severity raise, an attached signal). */
export interface TimelineNote {
  at: number;
  by: Actor;
  /** Short machine-readable kind: `severity-raised`, `signal-attached`, `suggested`, `signals-cleared`… */
  what: string;
  reason: string;
}

/** An incident as the loop and its readers (CLI, MCP server) see it. */
export interface Incident {
  /** Graph id: `incident:<key>`. */
  id: string;
  /** The key inside job ids: `inc_<hex>`, no colons. */
  key: string;
  title: string;
  state: IncidentState;
  severity: Severity;
  /** When the first contributing signal was observed at its source (ms). */
  openedAt: number;
  /** When nightshift received the first contributing signal (ms); intervention latency counts from here. */
  firstReceivedAt: number;
  updatedAt: number;
  /** Investigation rounds started; job ids carry it so a second round gets new jobs. */
  round: number;
  /**
   * Latest status per contributing fingerprint, keyed by `fingerprintDigest(fingerprint)`
   * (`firing`/`resolved`; non-alert signals count as firing).
   */
  signals: ReadonlyMap<string, 'firing' | 'resolved'>;
  /**
   * Set when a fingerprint joined while the incident kept as many as it can
   * (`INCIDENT_LIMITS.fingerprints`), all of them firing: that one is not in `signals`, so the
   * incident no longer resolves from its alerts (verify, or a person, resolves it).
   */
  signalsUntracked?: true;
  /** Ids of the signals that joined, oldest first (capped). */
  signalIds: readonly string[];
  /** Graph entities the incident's signals touch (symptoms), excluding alerts. */
  entityIds: readonly string[];
  /** State changes, oldest first; `replay(transitions)` ends in `state`. */
  transitions: readonly Transition[];
  /** Other timeline entries, oldest first. */
  notes: readonly TimelineNote[];
  rootCause?: RootCause;
  /** The latest investigation report (Markdown, cut to `INCIDENT_LIMITS.reportChars`). */
  report?: string;
}

/** What investigate concluded about the cause. */
export interface RootCause {
  category: string;
  /** The graph id or name of the suspected culprit (a deploy, a config change, a node). */
  suspect: string;
  /** 0..1. */
  confidence: number;
  statement: string;
}

/** What a remediation acts on. */
export interface ActionTarget {
  kind: string;
  namespace?: string;
  name: string;
  /** Graph id, when known. */
  id?: string;
}

/** One remediation investigate proposes, from the action catalog. */
export interface Proposal {
  /** Catalog action name, e.g. `rollout-restart`, `scale`, `rollback`. */
  action: string;
  target: ActionTarget;
  params: Record<string, unknown>;
  rationale: string;
  hypothesisId?: string;
}

/** Input of `LoopDeps.investigate`. */
export interface InvestigationInput {
  /** Graph id of the incident. */
  incidentId: string;
  severity: Severity;
  symptomEntityIds: string[];
  signals: Signal[];
  openedAt: number;
}

/** What `LoopDeps.investigate` returns. */
export interface InvestigationResult {
  rootCause?: RootCause;
  /** Best first; empty when nothing safe is known. */
  proposals: Proposal[];
  report: { markdown: string; json: unknown };
  /** When the first diagnostic tool call was made (ms); feeds the intervention-latency metric. */
  firstToolCallAt?: number;
}

/** The policy's answer for one proposal. */
export interface Decision {
  mode: 'deny' | 'shadow' | 'approval' | 'autonomous';
  /** The rule that decided, when one did. */
  rule?: string;
  reason: string;
}

/** What executing an action did. */
export interface ExecutionOutcome {
  /** `skipped`: preconditions said there was nothing to do (already in the desired state). */
  outcome: 'done' | 'skipped' | 'failed';
  detail: unknown;
}

/** Whether the symptoms are gone. */
export interface VerificationResult {
  ok: boolean;
  detail: unknown;
}

/**
 * Passed as the last argument of every effectful dependency. `idempotencyKey` is the same on
 * every delivery of one step (`<incidentKey>:<stage>:<step>`); `inDoubt` is true when an earlier
 * delivery started this step and died before recording it, so the effect may already have
 * happened: an executor must look the key up in its action log before calling a write API.
 */
export interface StepContext {
  idempotencyKey: string;
  inDoubt: boolean;
  signal: AbortSignal;
}

/**
 * The functions the loop calls into other domains. Every function may throw: the job's attempt
 * fails and BullMQ retries it with backoff. Effects are recorded after each call returns, so a
 * redelivered job does not repeat a completed call; a crash during a call repeats it with the
 * same `StepContext.idempotencyKey` and `inDoubt: true`.
 */
export interface LoopDeps {
  /** The graph writer: persists the signal (entities, alert, event); returns the ids it touched. Idempotent. */
  persistSignal(signal: Signal): Promise<{ entityIds: string[] }>;
  /**
   * Read-only investigation; honours `signal` (aborts on shutdown). `current` reads the incident's
   * symptoms and signals again, for a second look after more evidence has joined.
   */
  investigate(
    input: InvestigationInput,
    signal: AbortSignal,
    current?: () => Promise<InvestigationInput>,
  ): Promise<InvestigationResult>;
  /** Asks the policy what may be done with `proposal`. */
  respond(incident: Incident, proposal: Proposal, step?: StepContext): Promise<Decision>;
  /** Runs an allowed action; must dedupe on `step.idempotencyKey`. */
  execute(
    incident: Incident,
    proposal: Proposal,
    decision: Decision,
    step?: StepContext,
  ): Promise<ExecutionOutcome>;
  /** Re-checks the symptoms after an action (the loop waits `verifyDelayMs` first). */
  verify(incident: Incident, step?: StepContext): Promise<VerificationResult>;
  /** Pages a human (PagerDuty, Slack). */
  escalate(incident: Incident, reason: string, step?: StepContext): Promise<void>;
  /** Stores cause, fix and outcome as a pattern. */
  learn(incident: Incident, step?: StepContext): Promise<void>;
  /**
   * Optional: a metric series behind an anomaly or alert signal and the threshold it is heading
   * for, for the early warning. Without it the loop reads `signal.attributes.trend`
   * (`{points: [[ms, value], …], threshold, direction?: 'up'|'down'}`) when present.
   */
  trend?(signal: Signal): Promise<TrendInput | undefined>;
}

/** A series and the limit it may cross, for the early warning. */
export interface TrendInput {
  points: ReadonlyArray<readonly [number, number]>;
  threshold: number;
  direction?: 'up' | 'down';
}
