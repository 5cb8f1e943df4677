import { resolve } from 'node:path';
import { onTestFinished } from 'vitest';
import { describe, expect, it } from 'vitest';
import { executeProposal } from '../../src/act/executor.js';
import { verifyAction, type SymptomCheck } from '../../src/act/verify.js';
import { loadPolicies } from '../../src/policy/index.js';
import { loadScenario } from '../../src/sim/scenario/load.js';
import { startSim, type Sim } from '../../src/sim/sim.js';
import { tempDir } from '../kit/tmp.js';
import { EVALS_DIR, START, deploymentTarget, proposalFor, simDeps } from './sim-kit.js';

async function badDeploySim(): Promise<Sim> {
  const scenario = loadScenario('bad-deploy-checkout', { evalsDir: EVALS_DIR });
  const sim = await startSim({
    estate: scenario.estate,
    scenario,
    dataDir: tempDir(),
    startMs: START,
    vendors: false,
    paused: true,
  });
  onTestFinished(() => sim.stop());
  await sim.world.advanceTo(START + 120_000);
  return sim;
}

/** The service's error rate over the last 30 s (sim metrics), healthy under its SLO of 1%. */
function errorRateCheck(sim: Sim): SymptomCheck {
  return (request) => {
    const now = sim.world.now();
    const points = sim.world.series(request.target.name, 'errorRate', now - 30_000, now, 5_000);
    const worst = Math.max(...points.map((point) => point.value));
    return Promise.resolve({ healthy: worst < 0.01, detail: `error rate ${worst.toFixed(3)}` });
  };
}

describe('verify against the sim metrics', () => {
  it('an approved rollback of the bad deploy clears the error rate: resolved', async () => {
    const sim = await badDeploySim();
    const loaded = await loadPolicies(resolve(import.meta.dirname, '../../policies'));
    if (!('ok' in loaded)) throw new Error('policies');
    const deps = { ...simDeps(sim, { policy: loaded.ok }), clock: { now: () => sim.world.now() } };
    const check = errorRateCheck(sim);
    const target = { ...deploymentTarget('checkout', 3), tier: 'critical' as const };
    const before = await check({ target } as never);
    expect(before.healthy).toBe(false);

    const waiting = await executeProposal(proposalFor('k8s.rollback', target), deps);
    expect(waiting).toMatchObject({
      status: 'awaiting-approval',
      decision: { rule: 'prod-rollback-needs-approval' },
    });
    const result = await executeProposal(
      { ...proposalFor('k8s.rollback', target), approval: { by: 'U024BE7LH' } },
      deps,
    );
    if (result.status !== 'executed') throw new Error(JSON.stringify(result));
    const verdict = await verifyAction(result.verify, {
      ...deps,
      check,
      sleep: (ms) => sim.world.advance(ms),
      window: { windowMs: 300_000, intervalMs: 15_000, healthyChecks: 3 },
    });
    expect(verdict).toMatchObject({ outcome: 'resolved', undo: 'not-needed' });
    expect(sim.world.faults()[0]).toMatchObject({ kind: 'bad_deploy', active: false });
  });

  it('a restart does not fix a bad deploy: verify fails, nothing to undo, escalate', async () => {
    const sim = await badDeploySim();
    const deps = { ...simDeps(sim), clock: { now: () => sim.world.now() } };
    const result = await executeProposal(
      proposalFor('k8s.rolloutRestart', deploymentTarget('checkout')),
      deps,
    );
    if (result.status !== 'executed') throw new Error(JSON.stringify(result));
    const verdict = await verifyAction(result.verify, {
      ...deps,
      check: errorRateCheck(sim),
      sleep: (ms) => sim.world.advance(ms),
      window: { windowMs: 180_000, intervalMs: 15_000, healthyChecks: 3 },
    });
    expect(verdict).toMatchObject({ outcome: 'escalate', undo: 'not-possible' });
    expect(verdict.reason).toContain('error rate');
    expect((await deps.actionLog.breaker()).failures).toHaveLength(1);
  });
});
