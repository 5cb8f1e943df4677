import type { Signal } from '../../ingest/signal.js';
import type { IncidentState } from '../incident-lifecycle.js';
import { INCIDENT_LIMITS } from '../incident-store.js';
import { loopJobId, roundPayload } from '../payloads.js';
import type { Incident, InvestigationInput, InvestigationResult } from '../pipeline-types.js';
import type { LoopStage } from '../stage.js';
import { escalate, mustGet, stageActor, storedSignals, type LoopContext } from './context.js';

const actor = stageActor('investigate');

/** States a new investigation round may start from. */
const STARTABLE: readonly IncidentState[] = ['open', 'verifying', 'escalated', 'awaiting-approval'];

type Step = { stale: true } | { stale: false; result: InvestigationResult };

/**
 * The incident's symptom entities, then those named by signals detect has handed to it but not
 * attached yet: detect records a group's signals for the incident before it takes the incident's
 * lock to attach them, so a signal that arrives as the investigation starts is not left out of it
 * by the order the two writers take the lock. At most `INCIDENT_LIMITS.entityIds`.
 */
function symptomsOf(incident: Incident, signals: readonly Signal[]): string[] {
  const symptoms = new Set(incident.entityIds);
  for (const signal of signals)
    for (const ref of signal.entities) if (ref.kind !== 'Alert') symptoms.add(ref.id);
  // The incident keeps at most that many itself, so its own symptoms always come first and stay.
  return [...symptoms].slice(0, INCIDENT_LIMITS.entityIds);
}

/**
 * investigate: moves the incident to `investigating` (round N), runs the read-only investigation
 * once per round (its result is recorded, so a redelivered job reuses it), records the root cause
 * and hands the proposals to respond. No proposal: escalate.
 */
export const investigateStage: LoopStage<typeof roundPayload, LoopContext> = {
  name: 'investigate',
  payload: roundPayload,
  async handle({ incidentKey, round }, context, signal) {
    const step = await context.ledger.once<Step>(incidentKey, `investigate-${round}`, async () => {
      let incident = await mustGet(context, incidentKey);
      if (incident.state !== 'investigating' || incident.round !== round) {
        if (incident.round + 1 !== round || !STARTABLE.includes(incident.state)) return { stale: true };
        ({ incident } = await context.store.transition(
          incidentKey,
          'investigating',
          actor,
          `investigation round ${round}`,
          {
            from: STARTABLE,
          },
        ));
        if (incident.state !== 'investigating') return { stale: true };
      }
      const inputOf = async (now: Incident): Promise<InvestigationInput> => {
        const signals = await storedSignals(context, incidentKey);
        return {
          incidentId: now.id,
          severity: now.severity,
          symptomEntityIds: symptomsOf(now, signals),
          signals,
          openedAt: now.openedAt,
        };
      };
      const result = await context.deps.investigate(await inputOf(incident), signal, async () =>
        inputOf(await mustGet(context, incidentKey)),
      );
      if (result.firstToolCallAt !== undefined)
        context.metrics?.interventionLatency.observe(
          Math.max(0, result.firstToolCallAt - incident.firstReceivedAt) / 1000,
        );
      return { stale: false, result };
    });
    if (step.value.stale) {
      context.logger.info({ incidentKey, round }, 'stale investigate job; nothing to do');
      return undefined;
    }
    const { result } = step.value;
    const incident = await context.store.recordInvestigation(incidentKey, {
      ...(result.rootCause ? { rootCause: result.rootCause } : {}),
      reportMarkdown: result.report.markdown,
    });
    if (result.proposals.length === 0) {
      if (incident.state !== 'investigating' && incident.state !== 'escalated') return undefined;
      return escalate(context, incident, round, 'the investigation proposed no remediation', actor, signal);
    }
    return {
      stage: 'respond',
      payload: { v: 1, incidentKey, round },
      jobId: loopJobId(incidentKey, 'respond', round),
    };
  },
};
