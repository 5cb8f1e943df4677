import { describe, expect, it } from 'vitest';
import { ManualClock } from '../shared/clock.js';
import { policySetFrom } from '../policy/testing.js';
import type { PolicySet } from '../policy/index.js';
import { MemoryActionLog } from './action-log.js';
import { MemoryAuditLog } from './audit.js';
import { decideProposal, executeProposal, type ExecutorControls, type ExecutorDeps } from './executor.js';
import type { ProposalInput } from './proposal.js';
import { FakeEstate } from './testing.js';
import { verifyAction } from './verify.js';

const ALL_AUTONOMOUS = policySetFrom(`
mode: { default: autonomous }
limits: { perTargetPerHour: 3, perClusterPerHour: 10 }
circuitBreaker: { failures: 2, window: 1h, cooldown: 1h, fallback: approval }
rules: []
`);

function setup(
  options: {
    policy?: PolicySet;
    controls?: ExecutorControls;
    clock?: ManualClock;
    retryAttempts?: number;
  } = {},
) {
  const estate = new FakeEstate();
  const clock = options.clock ?? new ManualClock(Date.UTC(2026, 2, 3, 10));
  const actionLog = new MemoryActionLog(() => clock.now());
  const audit = new MemoryAuditLog(() => clock.now());
  const deps: ExecutorDeps = {
    policy: () => options.policy ?? ALL_AUTONOMOUS,
    controls: () => options.controls ?? {},
    actionLog,
    audit,
    kube: estate,
    flags: estate,
    actor: 'nightshift/test',
    clock,
    retry: {
      attempts: options.retryAttempts ?? 3,
      baseDelayMs: 1,
      maxDelayMs: 1,
      sleep: () => Promise.resolve(),
    },
  };
  return { estate, clock, actionLog, audit, deps };
}

function proposal(overrides: Partial<ProposalInput> = {}): ProposalInput {
  return {
    incidentId: 'inc-1',
    action: 'k8s.scale',
    target: {
      kind: 'Deployment',
      name: 'catalog',
      namespace: 'shop',
      cluster: 'prod-eu1',
      environment: 'prod',
      tier: 'standard',
      stateful: false,
      replicas: 3,
    },
    params: { replicas: 5 },
    hypothesis: { category: 'traffic_surge', confidence: 0.9 },
    ...overrides,
  };
}

describe('executeProposal', () => {
  it('runs an autonomous action: decision, intent before the write, outcome, verify request', async () => {
    const { estate, audit, deps } = setup();
    const result = await executeProposal(proposal(), deps);
    expect(result.status).toBe('executed');
    expect(estate.writes).toEqual([
      { op: 'patchScale', target: 'Deployment/shop/catalog', body: { replicas: 5 } },
    ]);
    expect(audit.records.map((record) => record.type)).toEqual(['decision', 'execute-intent', 'executed']);
    const intent = audit.records[1];
    expect(intent?.plan?.changes).toEqual([{ path: 'spec.replicas', from: 3, to: 5 }]);
    expect(audit.records[0]).toMatchObject({
      actor: 'nightshift/test',
      mode: 'autonomous',
      incidentId: 'inc-1',
    });
    if (result.status !== 'executed') throw new Error('unreachable');
    expect(result.verify).toMatchObject({
      action: 'k8s.scale',
      undo: { replicas: 3 },
      decision: { mode: 'autonomous' },
    });
  });

  it('shadow never writes: it records the plan and the evidence as "would have done"', async () => {
    const { estate, audit, deps } = setup({ controls: { killSwitch: true } });
    const result = await executeProposal(proposal({ evidence: [{ metric: 'rps', value: 900 }] }), deps);
    expect(result.status).toBe('shadow');
    expect(estate.writes).toEqual([]);
    const shadow = audit.records.find((record) => record.type === 'shadow');
    expect(shadow?.message).toBe('would have done: scale Deployment shop/catalog from 3 to 5 replicas');
    expect(shadow?.evidence).toEqual([{ metric: 'rps', value: 900 }]);
    expect(shadow?.reasons?.join(' ')).toContain('kill switch');
  });

  it('approval waits for a human, then runs once approved and records the approver', async () => {
    const policy = policySetFrom(`
limits: { perTargetPerHour: 3, perClusterPerHour: 10 }
approvers: [S0TEAM]
rules:
  - { name: ask, match: { actions: ['*'] }, mode: approval, reason: ask first }
`);
    const { estate, audit, deps } = setup({ policy });
    const waiting = await executeProposal(proposal(), deps);
    expect(waiting).toMatchObject({ status: 'awaiting-approval', approvers: ['S0TEAM'] });
    expect(estate.writes).toEqual([]);
    const approved = await executeProposal(proposal({ approval: { by: 'U123' } }), deps);
    expect(approved.status).toBe('executed');
    expect(estate.writes).toHaveLength(1);
    expect(audit.records.find((record) => record.type === 'executed')).toMatchObject({
      actor: 'U123',
      approvedBy: 'U123',
      rule: 'ask',
    });
  });

  it('deny writes nothing, even with an approval attached', async () => {
    const policy = policySetFrom(`
rules:
  - { name: never, match: { actions: ['k8s.*'] }, mode: deny, reason: no }
`);
    const { estate, deps } = setup({ policy });
    const result = await executeProposal(proposal({ approval: { by: 'U1' } }), deps);
    expect(result.status).toBe('denied');
    expect(estate.writes).toEqual([]);
  });

  it('runs a proposal once: the second time is a duplicate', async () => {
    const { estate, deps } = setup();
    expect((await executeProposal(proposal(), deps)).status).toBe('executed');
    const again = await executeProposal(proposal({ params: { replicas: 6 } }), deps);
    expect(again).toMatchObject({ status: 'duplicate', existing: { state: 'succeeded' } });
    expect(estate.writes).toHaveLength(1);
  });

  it('rejects invalid proposals and parameters without deciding', async () => {
    const { estate, audit, deps } = setup();
    const result = await executeProposal(proposal({ params: { replicas: 'many' } }), deps);
    expect(result.status).toBe('invalid');
    if (result.status !== 'invalid') throw new Error('unreachable');
    expect(result.issues[0]?.path).toBe('params.replicas');
    const wrongKind = await executeProposal(proposal({ action: 'k8s.cordonNode', params: {} }), deps);
    expect(wrongKind).toMatchObject({ status: 'invalid', issues: [{ path: 'target.kind' }] });
    expect(estate.writes).toEqual([]);
    expect(audit.records.map((record) => record.type)).toEqual(['invalid', 'invalid']);
  });

  it('blocks on a failed precondition: more than twice the replicas, or stale replica facts', async () => {
    const { estate, deps } = setup();
    const tooMany = await executeProposal(proposal({ params: { replicas: 7 } }), deps);
    expect(tooMany).toMatchObject({ status: 'blocked' });
    if (tooMany.status !== 'blocked') throw new Error('unreachable');
    expect(tooMany.reasons[0]).toContain('at most twice');
    const stale = await executeProposal(
      proposal({
        incidentId: 'inc-2',
        target: { ...proposal().target, replicas: 2 },
        params: { replicas: 4 },
      }),
      deps,
    );
    expect(stale).toMatchObject({ status: 'blocked' });
    expect(estate.writes).toEqual([]);
  });

  it('retries retryable failures only, and reports a failure to the breaker', async () => {
    const { estate, actionLog, deps } = setup();
    estate.failNextWrites(2, true);
    const retried = await executeProposal(proposal(), deps);
    expect(retried).toMatchObject({ status: 'executed', attempts: 3 });

    estate.failNextWrites(1, false);
    const failed = await executeProposal(
      proposal({
        incidentId: 'inc-2',
        action: 'k8s.cordonNode',
        target: { kind: 'Node', name: 'node-a', environment: 'prod' },
        params: {},
      }),
      deps,
    );
    expect(failed).toMatchObject({ status: 'failed', attempts: 1 });
    expect((await actionLog.breaker()).failures).toHaveLength(1);
    expect(estate.nodes.get('node-a')?.spec).toEqual({});
  });

  it('reports noop for a change already in effect, without writing', async () => {
    const { estate, deps } = setup();
    const result = await executeProposal(
      proposal({
        action: 'flags.set',
        target: { kind: 'FeatureFlag', name: 'new-pricing', environment: 'prod' },
        params: { value: false },
      }),
      deps,
    );
    expect(result.status).toBe('noop');
    expect(estate.writes).toEqual([]);
  });
});

describe('verifyAction', () => {
  it('resolves after enough healthy checks in a row', async () => {
    const { deps, clock, audit } = setup();
    const executed = await executeProposal(proposal(), deps);
    if (executed.status !== 'executed') throw new Error(executed.status);
    const readings = [false, true, false, true, true, true];
    const result = await verifyAction(executed.verify, {
      ...deps,
      check: () => Promise.resolve({ healthy: readings.shift() ?? true }),
      sleep: (ms) => Promise.resolve(clock.advance(ms)),
      window: { windowMs: 60_000, intervalMs: 1_000, healthyChecks: 3 },
    });
    expect(result).toMatchObject({ outcome: 'resolved', checks: 6, undo: 'not-needed' });
    expect(audit.records.at(-1)?.type).toBe('verified');
  });

  it('undoes and escalates when symptoms persist through the window, and counts the failure', async () => {
    const { deps, clock, estate, audit, actionLog } = setup();
    const executed = await executeProposal(proposal(), deps);
    if (executed.status !== 'executed') throw new Error(executed.status);
    const result = await verifyAction(executed.verify, {
      ...deps,
      check: () => Promise.resolve({ healthy: false, detail: 'p99 1200 ms' }),
      sleep: (ms) => Promise.resolve(clock.advance(ms)),
      window: { windowMs: 10_000, intervalMs: 1_000, healthyChecks: 2 },
    });
    expect(result).toMatchObject({ outcome: 'escalate', undo: 'done', checks: 11 });
    expect(estate.writes.map((write) => write.body)).toEqual([{ replicas: 5 }, { replicas: 3 }]);
    expect(audit.records.slice(-3).map((record) => record.type)).toEqual([
      'verify-failed',
      'undone',
      'escalated',
    ]);
    expect((await actionLog.get(executed.key))?.state).toBe('undone');
    expect((await actionLog.recent('x', 'y', clock.now(), 3_600_000)).failures).toBe(1);
  });

  it('holds the undo while the kill switch is on', async () => {
    const controls: ExecutorControls = {};
    const { deps, clock, estate } = setup({ controls });
    const executed = await executeProposal(proposal(), deps);
    if (executed.status !== 'executed') throw new Error(executed.status);
    controls.killSwitch = true;
    const result = await verifyAction(executed.verify, {
      ...deps,
      check: () => Promise.reject(new Error('metrics down')),
      sleep: (ms) => Promise.resolve(clock.advance(ms)),
      window: { windowMs: 2_000, intervalMs: 1_000, healthyChecks: 1 },
    });
    expect(result).toMatchObject({ outcome: 'escalate', undo: 'held' });
    expect(result.lastReading?.detail).toContain('metrics down');
    expect(estate.writes).toHaveLength(1);
  });
});

describe('decideProposal', () => {
  it('answers what executeProposal would decide, and records, plans and writes nothing', async () => {
    const { estate, audit, actionLog, deps } = setup({ controls: { maxMode: 'approval' } });
    const answer = await decideProposal(proposal(), deps);
    expect(answer).toMatchObject({ status: 'decided', decision: { mode: 'approval' } });
    expect(audit.records).toEqual([]);
    expect(estate.writes).toEqual([]);
    expect(
      await actionLog.recent('prod-eu1/shop/Deployment/catalog', 'prod-eu1', deps.clock!.now(), 3_600_000),
    ).toEqual(await new MemoryActionLog(() => 0).recent('x', 'y', 0, 1));
    const executed = await executeProposal(proposal(), deps);
    expect(executed.status).toBe('awaiting-approval');
    if (answer.status === 'decided' && executed.status === 'awaiting-approval')
      expect(executed.decision).toEqual(answer.decision);
  });

  it('says what is invalid instead of deciding', async () => {
    const { deps } = setup();
    const answer = await decideProposal(proposal({ action: 'k8s.explode' as never }), deps);
    expect(answer.status).toBe('invalid');
  });
});
