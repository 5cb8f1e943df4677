import type { GraphStore } from '../../graph/store.js';
import type { Signal } from '../../ingest/signal.js';
import type { Clock } from '../../shared/clock.js';
import type { Logger } from '../../shared/logger.js';
import type { Correlator } from '../correlation.js';
import type { Actor, IncidentState } from '../incident-lifecycle.js';
import type { IncidentStore } from '../incident-store.js';
import type { LoopMetrics } from '../loop-metrics.js';
import type { NoiseFilter } from '../noise.js';
import type { NoiseLearner } from '../noise-learning.js';
import { loopJobId } from '../payloads.js';
import type { Incident, LoopDeps, StepContext } from '../pipeline-types.js';
import type { SeverityOptions } from '../severity.js';
import type { NextJob } from '../stage.js';
import type { StepLedger } from '../step-ledger.js';

/** Everything a loop stage handler works with: the `deps` argument of every loop stage. */
export interface LoopContext {
  deps: LoopDeps;
  store: IncidentStore;
  ledger: StepLedger;
  noise: NoiseFilter;
  /** Learns alerts that keep clearing on their own as noise (learn calls it). */
  noiseLearner: NoiseLearner;
  correlator: Correlator;
  graph: GraphStore;
  clock: Clock;
  logger: Logger;
  metrics?: LoopMetrics;
  severity: SeverityOptions;
  /** How long verify waits after an action before re-checking. */
  verifyDelayMs: number;
  /** How long a firing warning that would open an incident waits, to let a transient clear. */
  transientHoldMs: number;
}

/** The actor for a stage's own moves. */
export function stageActor(stage: string): Actor {
  return { kind: 'stage', id: stage };
}

/** States an incident can be escalated from. */
export const ESCALATABLE: readonly IncidentState[] = [
  'open',
  'investigating',
  'awaiting-approval',
  'acting',
  'verifying',
];

/** The step context handed to an effectful dependency. */
export function stepContext(
  incidentKey: string,
  stage: string,
  step: string,
  inDoubt: boolean,
  signal: AbortSignal,
): StepContext {
  return { idempotencyKey: `${incidentKey}:${stage}:${step}`, inDoubt, signal };
}

/** The execute job of a proposal allowed to run (by the policy or a person): one id per round and proposal. */
export function executeJob(incidentKey: string, round: number, proposalIndex: number, by: Actor): NextJob {
  return {
    stage: 'execute',
    payload: { v: 1, incidentKey, round, proposalIndex, approvedBy: by },
    jobId: loopJobId(incidentKey, 'execute', `${round}-${proposalIndex}`),
  };
}

/**
 * The learn job of a round: the same id whichever path closed the incident. An escalated incident
 * that resolves later gets a second one (`afterEscalation`), so the resolution is learned too (and
 * the page closed): the first has run by then, and its id would be ignored.
 */
export function learnJob(incidentKey: string, round: number, afterEscalation = false): NextJob {
  return {
    stage: 'learn',
    payload: { v: 1, incidentKey, round },
    jobId: loopJobId(incidentKey, 'learn', afterEscalation ? `${round}-resolved` : round),
  };
}

/**
 * Pages a human once per round (recorded in the ledger), moves the incident to `escalated`, and
 * returns the learn job. Safe to run again after a crash at any point.
 */
export async function escalate(
  context: LoopContext,
  incident: Incident,
  round: number,
  reason: string,
  by: Actor,
  signal: AbortSignal,
): Promise<NextJob> {
  await context.ledger.once(incident.key, `escalate-${round}`, (inDoubt) =>
    context.deps.escalate(
      incident,
      reason,
      stepContext(incident.key, 'escalate', String(round), inDoubt, signal),
    ),
  );
  await context.store.transition(incident.key, 'escalated', by, reason, { from: ESCALATABLE });
  return learnJob(incident.key, round);
}

/** The incident, or an error that fails the attempt (the graph may lag a replica's write). */
export async function mustGet(context: LoopContext, incidentKey: string): Promise<Incident> {
  const incident = await context.store.get(incidentKey);
  if (!incident) throw new Error(`incident ${incidentKey} is not in the graph`);
  return incident;
}

/** The signals detect handed to an incident (its ledger's `signal-<id>` entries), in no particular order. */
export async function storedSignals(context: LoopContext, incidentKey: string): Promise<Signal[]> {
  const stored = await context.ledger.completed(incidentKey);
  return Object.entries(stored)
    .filter(([name]) => name.startsWith('signal-'))
    .map(([, value]) => value as Signal);
}
