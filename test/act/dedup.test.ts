import { describe, expect, it } from 'vitest';
import { executeProposal } from '../../src/act/executor.js';
import { deploymentTarget, proposalFor, shopSim, simDeps } from './sim-kit.js';
import { actionLogPrefix, redisActionLog } from './redis-kit.js';

describe('dedup across executor instances on one Redis', () => {
  it('3 concurrent executions of one proposal on 2 instances make exactly one write', async () => {
    const sim = await shopSim();
    const prefix = actionLogPrefix(import.meta.filename);
    const first = simDeps(sim, { actionLog: await redisActionLog(prefix), actor: 'nightshift/replica-a' });
    const second = simDeps(sim, { actionLog: await redisActionLog(prefix), actor: 'nightshift/replica-b' });
    const proposal = proposalFor('k8s.rolloutRestart', deploymentTarget('catalog'), {}, 'inc-dedup');

    const results = await Promise.all([
      executeProposal(proposal, first),
      executeProposal(proposal, second),
      executeProposal(proposal, first),
    ]);

    expect(results.map((result) => result.status).sort()).toEqual(['duplicate', 'duplicate', 'executed']);
    expect(new Set(results.map((result) => ('key' in result ? result.key : '')))).toHaveProperty('size', 1);
    expect(sim.world.requestLog.writes()).toHaveLength(1);
    expect(sim.world.actions().map((action) => action.kind)).toEqual(['k8s.rolloutRestart']);

    // A replay after the fact (a retried job, a second click) is still a duplicate.
    const replay = await executeProposal(proposal, second);
    expect(replay).toMatchObject({ status: 'duplicate', existing: { state: 'succeeded' } });
    expect(sim.world.requestLog.writes()).toHaveLength(1);

    // Another incident may act on the same target.
    const other = await executeProposal({ ...proposal, incidentId: 'inc-other' }, second);
    expect(other.status).toBe('executed');
    expect(sim.world.requestLog.writes()).toHaveLength(2);
  });
});
