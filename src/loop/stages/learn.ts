import { roundPayload } from '../payloads.js';
import type { LoopStage } from '../stage.js';
import { mustGet, stepContext, type LoopContext } from './context.js';

/** learn: hands a closed (resolved or escalated) incident to the learn domain, once per round. */
export const learnStage: LoopStage<typeof roundPayload, LoopContext> = {
  name: 'learn',
  payload: roundPayload,
  async handle({ incidentKey, round }, context, signal) {
    await context.ledger.once(incidentKey, `learn-${round}`, async (inDoubt) => {
      const incident = await mustGet(context, incidentKey);
      if (incident.state !== 'resolved' && incident.state !== 'escalated') return { stale: true };
      await context.deps.learn(incident, stepContext(incidentKey, 'learn', String(round), inDoubt, signal));
      return { stale: false };
    });
    return undefined;
  },
};
