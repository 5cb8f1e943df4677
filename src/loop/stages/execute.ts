import { executePayload, loopJobId } from '../payloads.js';
import type { Decision, ExecutionOutcome, InvestigationResult } from '../pipeline-types.js';
import type { LoopStage } from '../stage.js';
import { escalate, mustGet, stageActor, stepContext, type LoopContext } from './context.js';

const actor = stageActor('execute');

type Step = { stale: true } | { stale: false; outcome: ExecutionOutcome };

/**
 * execute: runs one allowed proposal exactly once per round and proposal. The outcome is recorded
 * in the ledger before the incident moves on, so a job redelivered after a crash finds it and
 * does not act again; a crash during the call itself repeats it with the same idempotency key and
 * `inDoubt: true`, for the executor's action log to catch. Done or skipped: verify after
 * `verifyDelayMs`. Failed: escalate.
 */
export const executeStage: LoopStage<typeof executePayload, LoopContext> = {
  name: 'execute',
  payload: executePayload,
  async handle({ incidentKey, round, proposalIndex, approvedBy }, context, signal) {
    const step = `${round}-${proposalIndex}`;
    const { value } = await context.ledger.once<Step>(incidentKey, `execute-${step}`, async (inDoubt) => {
      const incident = await mustGet(context, incidentKey);
      if (incident.state !== 'acting' || incident.round !== round) return { stale: true };
      const [investigation, decision] = (await context.ledger.getMany(incidentKey, [
        `investigate-${round}`,
        `decide-${step}`,
      ])) as [{ result: InvestigationResult } | undefined, Decision | undefined];
      const proposal = investigation?.result.proposals[proposalIndex];
      if (!proposal || !decision)
        throw new Error(`no proposal ${proposalIndex} recorded for ${incidentKey} round ${round}`);
      const allowed: Decision =
        approvedBy.kind === 'person'
          ? { ...decision, reason: `approved by ${approvedBy.id}; ${decision.reason}` }
          : decision;
      const outcome = await context.deps.execute(
        incident,
        proposal,
        allowed,
        stepContext(incidentKey, 'execute', step, inDoubt, signal),
      );
      return { stale: false, outcome };
    });
    if (value.stale) {
      context.logger.info({ incidentKey, step }, 'stale execute job; nothing to do');
      return undefined;
    }
    if (value.outcome.outcome === 'failed') {
      return escalate(
        context,
        await mustGet(context, incidentKey),
        round,
        `the action failed: ${JSON.stringify(value.outcome.detail)}`,
        actor,
        signal,
      );
    }
    await context.store.transition(incidentKey, 'verifying', actor, `action ${value.outcome.outcome}`, {
      from: ['acting'],
    });
    return {
      stage: 'verify',
      payload: { v: 1, incidentKey, round },
      jobId: loopJobId(incidentKey, 'verify', round),
      ...(context.verifyDelayMs > 0 ? { delayMs: context.verifyDelayMs } : {}),
    };
  },
};
