import type { Incident } from '../pipeline-types.js';
import { roundPayload } from '../payloads.js';
import type { LoopStage } from '../stage.js';
import { mustGet, stepContext, type LoopContext } from './context.js';

type Step = { stale: true } | { stale: false; state?: Incident['state'] };

/**
 * learn: hands a closed (resolved or escalated) incident to the learn domain, once per round. An
 * incident learned as escalated that has resolved since is handed over once more, as resolved
 * (the learn domain counts an incident once per pattern, and closes its page).
 */
export const learnStage: LoopStage<typeof roundPayload, LoopContext> = {
  name: 'learn',
  payload: roundPayload,
  async handle({ incidentKey, round }, context, signal) {
    // One ledger step per hand-over: `learn-<round>`, and `learn-<round>-resolved` for the second.
    const learn = (step: string) =>
      context.ledger.once<Step>(incidentKey, `learn-${step}`, async (inDoubt) => {
        const incident = await mustGet(context, incidentKey);
        if (incident.state !== 'resolved' && incident.state !== 'escalated') return { stale: true };
        await context.deps.learn(incident, stepContext(incidentKey, 'learn', step, inDoubt, signal));
        return { stale: false, state: incident.state };
      });
    const { value } = await learn(String(round));
    // Learned as escalated (or recorded without its state by an earlier version) and resolved since.
    if (
      !value.stale &&
      value.state !== 'resolved' &&
      (await mustGet(context, incidentKey)).state === 'resolved'
    )
      await learn(`${round}-resolved`);
    return undefined;
  },
};
