import type { Incident } from '../pipeline-types.js';
import { roundPayload } from '../payloads.js';
import type { LoopStage } from '../stage.js';
import { mustGet, stepContext, storedSignals, type LoopContext } from './context.js';

type Step = { stale: true } | { stale: false; state?: Incident['state'] };

/** Counts an incident that ended on its own for each of its alerts; logs the alerts learned as noise. */
async function learnNoise(context: LoopContext, incident: Incident): Promise<void> {
  const signals = await storedSignals(context, incident.key);
  for (const silence of await context.noiseLearner.learnFrom(incident, signals))
    context.logger.info(
      { incident: incident.id, silence: silence.id, until: silence.endsAt, why: silence.comment },
      'an alert that keeps clearing on its own is learned as noise',
    );
}

/**
 * learn: hands a closed (resolved or escalated) incident to the learn domain, once per round. An
 * incident learned as escalated that has resolved since is handed over once more, as resolved
 * (the learn domain counts an incident once per pattern, and closes its page). An incident that
 * ended on its own (a warning that cleared, nothing done) counts toward its alerts being learned
 * as noise (`NoiseLearner`).
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
        // Both are safe to repeat, so a retry after a failure here learns each once.
        if (context.noiseLearner.counts(incident)) await learnNoise(context, incident);
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
