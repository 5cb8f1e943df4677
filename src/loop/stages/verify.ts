import { roundPayload } from '../payloads.js';
import type { VerificationResult } from '../pipeline-types.js';
import type { LoopStage } from '../stage.js';
import { escalate, learnJob, mustGet, stageActor, stepContext, type LoopContext } from './context.js';

const actor = stageActor('verify');

type Step = { stale: true } | { stale: false; result: VerificationResult };

/** verify: re-checks the symptoms once per round; resolved when they are gone, escalated when not. Then learn. */
export const verifyStage: LoopStage<typeof roundPayload, LoopContext> = {
  name: 'verify',
  payload: roundPayload,
  async handle({ incidentKey, round }, context, signal) {
    const { value } = await context.ledger.once<Step>(incidentKey, `verify-${round}`, async (inDoubt) => {
      const incident = await mustGet(context, incidentKey);
      if (incident.state !== 'verifying' || incident.round !== round) return { stale: true };
      const result = await context.deps.verify(
        incident,
        stepContext(incidentKey, 'verify', String(round), inDoubt, signal),
      );
      return { stale: false, result };
    });
    if (value.stale) return undefined;
    if (!value.result.ok) {
      return escalate(
        context,
        await mustGet(context, incidentKey),
        round,
        `verification failed: ${JSON.stringify(value.result.detail)}`,
        actor,
        signal,
      );
    }
    const { incident: resolved } = await context.store.transition(
      incidentKey,
      'resolved',
      actor,
      'the symptoms are gone',
      {
        from: ['verifying'],
      },
    );
    if (resolved.state === 'resolved') await context.correlator.forgetIncident(resolved);
    return learnJob(incidentKey, round);
  },
};
