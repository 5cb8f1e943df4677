import { describe, expect, it } from 'vitest';
import { MemoryAuditLog } from '../../src/act/audit.js';
import { executeProposal, type ExecutorControls, type ExecutorDeps } from '../../src/act/executor.js';
import type { ProposalInput } from '../../src/act/proposal.js';
import { FakeEstate } from '../../src/act/testing.js';
import type { PolicySet } from '../../src/policy/index.js';
import { policySetFrom } from '../../src/policy/testing.js';
import { ManualClock } from '../../src/shared/clock.js';
import { actionLogPrefix, redisActionLog } from './redis-kit.js';

const POLICY = policySetFrom(`
mode: { default: autonomous }
limits: { perTargetPerHour: 2, perClusterPerHour: 3 }
circuitBreaker: { failures: 2, window: 1h, cooldown: 1h, fallback: approval }
rules: []
`);

async function executor(options: { policy?: PolicySet; controls?: ExecutorControls } = {}) {
  const clock = new ManualClock(Date.UTC(2026, 2, 3, 10));
  const estate = new FakeEstate();
  const actionLog = await redisActionLog(actionLogPrefix(import.meta.filename));
  const deps: ExecutorDeps = {
    policy: () => options.policy ?? POLICY,
    controls: () => options.controls ?? {},
    actionLog,
    audit: new MemoryAuditLog(() => clock.now()),
    kube: estate,
    flags: estate,
    actor: 'nightshift/test',
    clock,
    retry: { attempts: 2, baseDelayMs: 1, maxDelayMs: 1 },
  };
  return { clock, estate, actionLog, deps };
}

function restart(incidentId: string, name = 'catalog'): ProposalInput {
  return {
    incidentId,
    action: name === 'catalog' ? 'k8s.rolloutRestart' : 'k8s.scale',
    target: {
      kind: name === 'db' ? 'StatefulSet' : 'Deployment',
      name,
      namespace: 'shop',
      cluster: 'prod-eu1',
      environment: 'prod',
    },
    params: name === 'catalog' ? {} : { replicas: 2 },
    hypothesis: { category: 'memory_leak', confidence: 0.9 },
  };
}

describe('controls, through the executor with its Redis action log', () => {
  it('kill switch: everything becomes shadow, and nothing is written until it is off', async () => {
    const controls: ExecutorControls = { killSwitch: true };
    const { estate, deps } = await executor({ controls });
    const held = await executeProposal(restart('inc-1'), deps);
    expect(held).toMatchObject({ status: 'shadow', decision: { capped: { by: ['killSwitch'] } } });
    expect(estate.writes).toEqual([]);
    controls.killSwitch = false;
    expect((await executeProposal(restart('inc-1'), deps)).status).toBe('executed');
    expect(estate.writes).toHaveLength(1);
  });

  it('global cap: mode.max and the configured cap lower autonomy', async () => {
    const capped = policySetFrom(`
mode: { default: autonomous, max: approval }
limits: { perTargetPerHour: 2, perClusterPerHour: 3 }
rules: []
`);
    const controls: ExecutorControls = {};
    const { estate, deps } = await executor({ policy: capped, controls });
    expect(await executeProposal(restart('inc-1'), deps)).toMatchObject({
      status: 'awaiting-approval',
      decision: { capped: { by: ['max'] } },
    });
    controls.maxMode = 'shadow';
    expect((await executeProposal(restart('inc-1'), deps)).status).toBe('shadow');
    expect(estate.writes).toEqual([]);
  });

  it('rate limit: counts come from the action log; the third action on a target within the hour is shadow', async () => {
    const { estate, clock, deps } = await executor();
    expect((await executeProposal(restart('inc-1'), deps)).status).toBe('executed');
    clock.advance(60_000);
    expect((await executeProposal(restart('inc-2'), deps)).status).toBe('executed');
    clock.advance(60_000);
    const third = await executeProposal(restart('inc-3'), deps);
    expect(third).toMatchObject({ status: 'shadow', decision: { capped: { by: ['rateLimit'] } } });
    if (third.status !== 'shadow') throw new Error('unreachable');
    expect(third.decision.reasons.join(' ')).toContain('2 actions on catalog in the last hour');
    // Another target in the cluster still runs (cluster limit 3) ...
    expect((await executeProposal(restart('inc-3', 'db'), deps)).status).toMatch(/executed|noop|blocked/);
    // ... and the cluster limit stops the fourth.
    expect((await executeProposal(restart('inc-4', 'other'), deps)).status).toBe('shadow');
    // An hour after the first, the window has room again.
    clock.advance(3_600_000);
    expect((await executeProposal(restart('inc-5'), deps)).status).toBe('executed');
    expect(estate.writes.filter((write) => write.target === 'Deployment/shop/catalog')).toHaveLength(3);
  });

  it('circuit breaker: failed actions are reported and open it; autonomy falls back to approval', async () => {
    const { estate, clock, actionLog, deps } = await executor();
    estate.failNextWrites(2, false);
    expect((await executeProposal(restart('inc-1'), deps)).status).toBe('failed');
    expect((await executeProposal(restart('inc-2', 'db'), deps)).status).toBe('failed');
    expect((await actionLog.breaker()).openUntil).toBe(clock.now() + 3_600_000);
    const afterTrip = await executeProposal(restart('inc-3', 'db'), deps);
    expect(afterTrip).toMatchObject({
      status: 'awaiting-approval',
      decision: { mode: 'approval', capped: { by: ['circuitBreaker'] } },
    });
    expect(estate.writes).toEqual([]);
    // A human may still approve; after an operator reset autonomy returns.
    await actionLog.resetBreaker();
    expect((await executeProposal(restart('inc-4', 'db'), deps)).status).not.toBe('awaiting-approval');
  });
});
