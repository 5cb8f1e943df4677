import { roundPayload } from '../payloads.js';
import type { Decision, InvestigationResult } from '../pipeline-types.js';
import type { LoopStage, NextJob } from '../stage.js';
import { escalate, executeJob, mustGet, stageActor, stepContext, type LoopContext } from './context.js';

const actor = stageActor('respond');

/** The recorded outcome of respond for one round. */
export interface ResponsePlan {
  stale: boolean;
  decisions: Decision[];
}

/**
 * respond: asks the policy about each proposal (each answer recorded once), then takes the first
 * autonomous proposal to execute; otherwise waits for approval of the first that needs it;
 * otherwise notes shadow suggestions and escalates with them (a person has to act); when every
 * proposal is denied, escalates.
 */
export const respondStage: LoopStage<typeof roundPayload, LoopContext> = {
  name: 'respond',
  payload: roundPayload,
  async handle({ incidentKey, round }, context, signal) {
    let investigation: InvestigationResult | undefined;
    const { value: plan } = await context.ledger.once<ResponsePlan>(
      incidentKey,
      `respond-${round}`,
      async () => {
        const incident = await mustGet(context, incidentKey);
        if (incident.state !== 'investigating' || incident.round !== round)
          return { stale: true, decisions: [] };
        const recorded = await context.ledger.get<{ stale: false; result: InvestigationResult }>(
          incidentKey,
          `investigate-${round}`,
        );
        if (!recorded) throw new Error(`no investigation recorded for ${incidentKey} round ${round}`);
        investigation = recorded.result;
        const decisions: Decision[] = [];
        for (const [index, proposal] of recorded.result.proposals.entries()) {
          const step = `${round}-${index}`;
          const { value } = await context.ledger.once(incidentKey, `decide-${step}`, (inDoubt) =>
            context.deps.respond(
              incident,
              proposal,
              stepContext(incidentKey, 'respond', step, inDoubt, signal),
            ),
          );
          decisions.push(value);
        }
        return { stale: false, decisions };
      },
    );
    if (plan.stale) return undefined;
    // A replayed plan did not read the investigation: read it now.
    investigation ??= (
      await context.ledger.get<{ result: InvestigationResult }>(incidentKey, `investigate-${round}`)
    )?.result;
    return act(context, incidentKey, round, investigation?.proposals ?? [], plan.decisions, signal);
  },
};

async function act(
  context: LoopContext,
  incidentKey: string,
  round: number,
  proposals: InvestigationResult['proposals'],
  decisions: readonly Decision[],
  signal: AbortSignal,
): Promise<NextJob | undefined> {
  const describe = (index: number): string => {
    const proposal = proposals[index];
    return proposal
      ? `${proposal.action} ${proposal.target.namespace ? `${proposal.target.namespace}/` : ''}${proposal.target.name}`
      : `proposal ${index}`;
  };
  const autonomous = decisions.findIndex((decision) => decision.mode === 'autonomous');
  if (autonomous >= 0) {
    const decision = decisions[autonomous] as Decision;
    const by = { kind: 'policy' as const, id: decision.rule ?? 'policy' };
    await context.store.transition(incidentKey, 'acting', by, `${describe(autonomous)}: ${decision.reason}`, {
      from: ['investigating'],
    });
    return executeJob(incidentKey, round, autonomous, by);
  }
  const approval = decisions.findIndex((decision) => decision.mode === 'approval');
  if (approval >= 0) {
    const decision = decisions[approval] as Decision;
    await context.store.transition(
      incidentKey,
      'awaiting-approval',
      { kind: 'policy', id: decision.rule ?? 'policy' },
      `approval needed for ${describe(approval)}: ${decision.reason}`,
      { from: ['investigating'] },
    );
    return undefined;
  }
  const shadow = decisions.flatMap((decision, index) => (decision.mode === 'shadow' ? [index] : []));
  if (shadow.length > 0) {
    const incident = await mustGet(context, incidentKey);
    const noted = new Set(
      incident.notes.filter((note) => note.what === 'suggested').map((note) => note.reason),
    );
    for (const index of shadow) {
      const reason = `round ${round}: ${describe(index)} (${decisions[index]?.reason ?? ''})`;
      if (!noted.has(reason)) await context.store.note(incidentKey, { by: actor, what: 'suggested', reason });
    }
    // Nobody will act on a suggestion unless a person is told: page with it.
    const suggested = shadow.map((index) => describe(index)).join('; ');
    return escalate(
      context,
      incident,
      round,
      `shadow mode: nightshift only suggested ${suggested}; a person has to act`,
      actor,
      signal,
    );
  }
  const incident = await mustGet(context, incidentKey);
  const reasons = decisions.map((decision) => decision.reason).join('; ');
  return escalate(context, incident, round, `policy denied every proposal: ${reasons}`, actor, signal);
}
