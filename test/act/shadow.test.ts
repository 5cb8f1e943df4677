import fc from 'fast-check';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MemoryAuditLog } from '../../src/act/audit.js';
import { executeProposal } from '../../src/act/executor.js';
import type { ProposalInput } from '../../src/act/proposal.js';
import { ACTION_KINDS } from '../../src/act/types.js';
import { loadPolicies, type PolicySet } from '../../src/policy/index.js';
import { shopSim, simDeps } from './sim-kit.js';

async function defaultPolicy(): Promise<PolicySet> {
  const loaded = await loadPolicies(resolve(import.meta.dirname, '../../policies'));
  if (!('ok' in loaded)) throw new Error(JSON.stringify(loaded.errors));
  return loaded.ok;
}

const targets: Record<string, ProposalInput['target'][]> = {
  deployment: [
    {
      kind: 'Deployment',
      name: 'checkout',
      namespace: 'shop',
      cluster: 'prod-eu1',
      environment: 'prod',
      tier: 'critical',
      stateful: false,
      replicas: 3,
    },
    {
      kind: 'Deployment',
      name: 'catalog',
      namespace: 'shop',
      cluster: 'prod-eu1',
      environment: 'prod',
      tier: 'standard',
      stateful: false,
      replicas: 2,
    },
    {
      kind: 'Deployment',
      name: 'catalog',
      namespace: 'shop',
      cluster: 'prod-eu1',
      environment: 'staging',
      replicas: 2,
    },
    { kind: 'Deployment', name: 'missing', namespace: 'shop', cluster: 'prod-eu1', environment: 'dev' },
  ],
  pod: [
    {
      kind: 'Pod',
      name: 'no-such-pod',
      namespace: 'shop',
      cluster: 'prod-eu1',
      environment: 'dev',
      stateful: false,
    },
    {
      kind: 'Pod',
      name: 'postgres-orders-0',
      namespace: 'shop',
      cluster: 'prod-eu1',
      environment: 'prod',
      stateful: true,
    },
  ],
  node: [{ kind: 'Node', name: 'node-a', cluster: 'prod-eu1', environment: 'staging' }],
  flag: [{ kind: 'FeatureFlag', name: 'new-pricing', environment: 'dev' }],
};

const proposal: fc.Arbitrary<ProposalInput> = fc
  .record({
    action: fc.constantFrom(...ACTION_KINDS),
    pick: fc.nat(3),
    replicas: fc.integer({ min: 1, max: 6 }),
    confidence: fc.double({ min: 0, max: 1, noNaN: true }),
    proven: fc.boolean(),
    incident: fc.constantFrom('inc-a', 'inc-b'),
  })
  .map((input) => {
    const pool =
      input.action === 'k8s.deletePod'
        ? targets.pod
        : input.action === 'k8s.cordonNode'
          ? targets.node
          : input.action === 'flags.set'
            ? targets.flag
            : targets.deployment;
    const target = pool?.[input.pick % (pool?.length ?? 1)] as ProposalInput['target'];
    const params =
      input.action === 'k8s.scale'
        ? { replicas: input.replicas }
        : input.action === 'flags.set'
          ? { value: true }
          : {};
    return {
      incidentId: input.incident,
      action: input.action,
      target,
      params,
      hypothesis: { category: 'bad_deploy', confidence: input.confidence },
      facts: input.proven
        ? { pattern: { seen: 5, successes: 5, failures: 0 }, blastRadius: { services: 1, critical: 0 } }
        : {},
      evidence: [{ note: 'error rate 0.35 since the deploy' }],
    };
  });

describe('shadow mode against the sim: reads only, never a write', () => {
  it('random proposals under the shipped policy capped at shadow reach no write API', async () => {
    const sim = await shopSim();
    const policy = await defaultPolicy();
    const audit = new MemoryAuditLog();
    const deps = { ...simDeps(sim, { policy, audit }), controls: () => ({ maxMode: 'shadow' as const }) };
    const statuses = new Set<string>();
    await fc.assert(
      fc.asyncProperty(proposal, async (input) => {
        const result = await executeProposal(input, deps);
        statuses.add(result.status);
        expect(['shadow', 'denied']).toContain(result.status);
      }),
      { numRuns: 60, seed: 42 },
    );
    expect(sim.world.requestLog.writes()).toEqual([]);
    expect(sim.world.actions()).toEqual([]);
    expect(sim.world.requestLog.entries({ server: 'kubernetes' }).length).toBeGreaterThan(0);
    expect(sim.world.requestLog.entries({ server: 'flags' }).length).toBeGreaterThan(0);
    expect(statuses).toEqual(new Set(['shadow', 'denied']));
    const shadow = audit.records.filter((record) => record.type === 'shadow');
    expect(shadow.some((record) => record.plan && record.message.startsWith('would have done: '))).toBe(true);
    expect(shadow.some((record) => record.error?.includes('not found'))).toBe(true);
    expect(shadow.every((record) => record.evidence?.length === 1)).toBe(true);
  });

  it('the kill switch turns an autonomous rollback into a suggestion with the plan', async () => {
    const sim = await shopSim();
    const deps = { ...simDeps(sim), controls: () => ({ killSwitch: true }) };
    const result = await executeProposal(
      {
        incidentId: 'inc-k',
        action: 'k8s.rollback',
        target: {
          kind: 'Deployment',
          name: 'checkout',
          namespace: 'shop',
          cluster: 'prod-eu1',
          environment: 'prod',
        },
        hypothesis: { category: 'bad_deploy', confidence: 0.95 },
      },
      deps,
    );
    expect(result).toMatchObject({
      status: 'shadow',
      plan: { observed: { fromRevision: 2, toRevision: 1 } },
    });
    if (result.status !== 'shadow') throw new Error('unreachable');
    expect(result.message).toMatch(
      /^would have done: roll Deployment shop\/checkout back from revision 2 to revision 1$/,
    );
    expect(sim.world.requestLog.writes()).toEqual([]);
  });
});
