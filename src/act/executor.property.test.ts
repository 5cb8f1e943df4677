import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../shared/clock.js';
import { evaluate, factsSchema, MODES, type Mode, type PolicySet } from '../policy/index.js';
import { policySetFrom } from '../policy/testing.js';
import { MemoryActionLog } from './action-log.js';
import { MemoryAuditLog } from './audit.js';
import { executeProposal, RECENT_WINDOW_MS } from './executor.js';
import { targetKey, type ProposalInput } from './proposal.js';
import { FakeEstate } from './testing.js';
import { ACTION_KINDS, type ActionKind } from './types.js';

const CASES = 10_000;
const POLICY_POOL = 300;
const AT = Date.UTC(2026, 2, 3, 10);

const CONDITIONS = [
  'hypothesis.confidence >= 0.8',
  'pattern.successes >= 3 && pattern.failures == 0',
  'action.params.replicas <= 2 * target.replicas',
  'now.freeze || now.maintenance',
  'blastRadius.critical > 0',
  '!(target.replicas > 2)',
];
const GLOBS = ['*', 'k8s.*', 'k8s.delete*', 'k8s.scale', 'k8s.rollback', 'flags.set', 'k8s.cordonNode'];

const mode = fc.constantFrom<Mode>(...MODES);
/** Rules lean permissive: a single deny rule wins over everything, so it must stay rare to reach execution. */
const ruleMode = fc.constantFrom<Mode>(
  'autonomous',
  'autonomous',
  'autonomous',
  'approval',
  'approval',
  'shadow',
  'deny',
);

const rule = fc.record(
  {
    actions: fc.uniqueArray(fc.constantFrom(...GLOBS), { minLength: 1, maxLength: 2 }),
    environment: fc.option(fc.constantFrom('prod', 'staging', ['dev', 'staging']), { nil: undefined }),
    tier: fc.option(fc.constantFrom('critical', 'standard'), { nil: undefined }),
    stateful: fc.option(fc.boolean(), { nil: undefined }),
    when: fc.option(fc.constantFrom(...CONDITIONS), { nil: undefined }),
    mode: ruleMode,
  },
  { requiredKeys: ['actions', 'mode'] },
);

/** A random policy spec as YAML lines (JSON values, which YAML reads as flow style). */
const policySpec = fc
  .record({
    defaultMode: fc.option(ruleMode, { nil: undefined }),
    maxMode: fc.option(mode, { nil: undefined, freq: 2 }),
    perTarget: fc.option(fc.integer({ min: 1, max: 3 }), { nil: undefined }),
    perCluster: fc.option(fc.integer({ min: 1, max: 5 }), { nil: undefined }),
    breaker: fc.option(fc.integer({ min: 1, max: 3 }), { nil: undefined }),
    rules: fc.array(rule, { maxLength: 3 }),
  })
  .map((spec) => {
    const lines: string[] = [];
    const modes: Record<string, Mode> = {};
    if (spec.defaultMode) modes.default = spec.defaultMode;
    if (spec.maxMode) modes.max = spec.maxMode;
    if (Object.keys(modes).length > 0) lines.push(`mode: ${JSON.stringify(modes)}`);
    const limits: Record<string, number> = {};
    if (spec.perTarget) limits.perTargetPerHour = spec.perTarget;
    if (spec.perCluster) limits.perClusterPerHour = spec.perCluster;
    if (Object.keys(limits).length > 0) lines.push(`limits: ${JSON.stringify(limits)}`);
    if (spec.breaker)
      lines.push(
        `circuitBreaker: ${JSON.stringify({ failures: spec.breaker, window: '1h', cooldown: '1h' })}`,
      );
    lines.push('approvers: [S0TEAM]');
    const rules = spec.rules.map((item, index) => {
      const targets: Record<string, unknown> = {};
      if (item.environment) targets.environment = item.environment;
      if (item.tier) targets.tier = item.tier;
      if (item.stateful !== undefined) targets.stateful = item.stateful;
      return {
        name: `rule-${index}`,
        match: { actions: item.actions, ...(Object.keys(targets).length > 0 ? { targets } : {}) },
        ...(item.when ? { when: item.when } : {}),
        mode: item.mode,
        reason: `rule ${index}`,
      };
    });
    lines.push(`rules: ${JSON.stringify(rules)}`);
    return lines.join('\n');
  });

const POLICIES: PolicySet[] = fc
  .sample(policySpec, { numRuns: POLICY_POOL, seed: 20260303 })
  .map((spec) => policySetFrom(spec));

/** A target and parameters the fake estate knows for each action (most plans succeed). */
function actionCase(kind: ActionKind, replicas: number, flagValue: boolean | string) {
  switch (kind) {
    case 'k8s.rollback':
      return { target: { kind: 'Deployment', name: 'catalog', namespace: 'shop' }, params: {} };
    case 'k8s.rolloutRestart':
      return { target: { kind: 'Deployment', name: 'catalog', namespace: 'shop' }, params: {} };
    case 'k8s.scale':
      return { target: { kind: 'Deployment', name: 'catalog', namespace: 'shop' }, params: { replicas } };
    case 'k8s.deletePod':
      return { target: { kind: 'Pod', name: 'catalog-rev2-abcde', namespace: 'shop' }, params: {} };
    case 'k8s.cordonNode':
      return { target: { kind: 'Node', name: 'node-a' }, params: {} };
    case 'flags.set':
      return { target: { kind: 'FeatureFlag', name: 'new-pricing' }, params: { value: flagValue } };
  }
}

const scenario = fc.record({
  policy: fc.integer({ min: 0, max: POLICY_POOL - 1 }),
  action: fc.constantFrom(...ACTION_KINDS),
  replicas: fc.integer({ min: 1, max: 8 }),
  flagValue: fc.constantFrom<boolean | string>(true, false, 'on'),
  environment: fc.constantFrom('prod', 'staging', 'dev'),
  tier: fc.option(fc.constantFrom<'critical' | 'standard'>('critical', 'standard'), { nil: undefined }),
  stateful: fc.option(fc.boolean(), { nil: undefined }),
  targetReplicas: fc.option(fc.constantFrom(2, 3), { nil: undefined }),
  confidence: fc.double({ min: 0, max: 1, noNaN: true }),
  pattern: fc.option(fc.record({ seen: fc.nat(6), successes: fc.nat(6), failures: fc.nat(2) }), {
    nil: undefined,
  }),
  blastRadius: fc.option(fc.record({ services: fc.nat(4), critical: fc.nat(2) }), { nil: undefined }),
  freeze: fc.boolean(),
  killSwitch: fc.constantFrom(false, false, false, true),
  maxMode: fc.option(mode, { nil: undefined, freq: 4 }),
  approvedBy: fc.option(fc.constantFrom('U1', 'U2'), { nil: undefined }),
  priorOnTarget: fc.constantFrom(0, 0, 0, 1, 2, 3),
  priorElsewhere: fc.constantFrom(0, 0, 1, 3),
  priorFailures: fc.constantFrom(0, 0, 1, 3),
  writeFailure: fc.constantFrom<'none' | 'retryable' | 'fatal'>('none', 'none', 'retryable', 'fatal'),
});

describe('executeProposal, property: no action executes beyond its decision', () => {
  it(`holds over ${CASES} random (action, facts, policy, controls) cases`, async () => {
    const seen: Record<string, number> = {};
    await fc.assert(
      fc.asyncProperty(scenario, async (input) => {
        const policy = POLICIES[input.policy] as PolicySet;
        const { target: base, params } = actionCase(input.action, input.replicas, input.flagValue);
        const target = {
          ...base,
          cluster: 'prod-eu1',
          environment: input.environment,
          ...(input.tier ? { tier: input.tier } : {}),
          ...(input.stateful !== undefined ? { stateful: input.stateful } : {}),
          ...(input.targetReplicas !== undefined && base.kind === 'Deployment'
            ? { replicas: input.targetReplicas }
            : {}),
        };
        const now = { hour: 10, weekday: 2, freeze: input.freeze, maintenance: false };
        const proposal: ProposalInput = {
          incidentId: 'inc-prop',
          action: input.action,
          target,
          params,
          hypothesis: { category: 'bad_deploy', confidence: input.confidence },
          facts: {
            now,
            ...(input.pattern ? { pattern: input.pattern } : {}),
            ...(input.blastRadius ? { blastRadius: input.blastRadius } : {}),
          },
          ...(input.approvedBy ? { approval: { by: input.approvedBy } } : {}),
        };

        const clock = new ManualClock(AT);
        const estate = new FakeEstate();
        const actionLog = new MemoryActionLog(() => clock.now());
        const audit = new MemoryAuditLog(() => clock.now());
        const key = targetKey(factsSchema.shape.target.parse(target));
        for (let index = 0; index < input.priorOnTarget; index++)
          await actionLog.recordStart(`prior-${index}`, key, 'prod-eu1', AT - 60_000);
        for (let index = 0; index < input.priorElsewhere; index++)
          await actionLog.recordStart(
            `other-${index}`,
            'prod-eu1/shop/Deployment/other',
            'prod-eu1',
            AT - 60_000,
          );
        for (let index = 0; index < input.priorFailures; index++)
          await actionLog.reportFailure(`failed-${index}`, AT - 120_000 + index, policy.circuitBreaker);
        if (input.writeFailure !== 'none') estate.failNextWrites(5, input.writeFailure === 'retryable');
        const breakerBefore = await actionLog.breaker();
        const failuresBefore = (await actionLog.recent(key, 'prod-eu1', AT, RECENT_WINDOW_MS)).failures;

        const result = await executeProposal(proposal, {
          policy: () => policy,
          controls: () => ({
            killSwitch: input.killSwitch,
            ...(input.maxMode ? { maxMode: input.maxMode } : {}),
          }),
          actionLog,
          audit,
          kube: estate,
          flags: estate,
          actor: 'nightshift/property',
          clock,
          retry: { attempts: 2, baseDelayMs: 0, maxDelayMs: 0, sleep: () => Promise.resolve() },
        });
        seen[result.status] = (seen[result.status] ?? 0) + 1;
        if (result.status === 'invalid') throw new Error(`invalid: ${JSON.stringify(result.issues)}`);

        // The decision the executor acted on is the policy's answer to the same facts,
        // with `recent` counted from the action log and the breaker state it holds.
        const expected = evaluate(policy, {
          facts: factsSchema.parse({
            action: { kind: input.action, params },
            target,
            now,
            hypothesis: { category: 'bad_deploy', confidence: input.confidence },
            ...(input.pattern ? { pattern: input.pattern } : {}),
            ...(input.blastRadius ? { blastRadius: input.blastRadius } : {}),
            recent: {
              perTarget: input.priorOnTarget,
              perCluster: input.priorOnTarget + input.priorElsewhere,
              failures: failuresBefore,
            },
          }),
          ...(input.killSwitch ? { killSwitch: true } : {}),
          ...(input.maxMode ? { maxMode: input.maxMode } : {}),
          breaker: breakerBefore,
          at: AT,
        });
        expect(result.decision).toEqual(expected);

        const mayExecute =
          expected.mode === 'autonomous' || (expected.mode === 'approval' && input.approvedBy !== undefined);
        const reachedWrite = result.status === 'executed' || result.status === 'failed';
        if (!mayExecute) {
          expect(estate.writes).toEqual([]);
          expect(reachedWrite).toBe(false);
        }
        if (expected.mode === 'deny') expect(result.status).toBe('denied');
        if (expected.mode === 'shadow') expect(result.status).toBe('shadow');
        if (expected.mode === 'approval' && !input.approvedBy)
          expect(result.status).toBe('awaiting-approval');
        expect(estate.writes.length).toBeLessThanOrEqual(1);
        const types = audit.records.map((record) => record.type);
        expect(types[0]).toBe('decision');
        if (reachedWrite) {
          // The intent is on record before the outcome, and the outcome matches the write.
          expect(types.indexOf('execute-intent')).toBeGreaterThan(0);
          expect(types.indexOf('execute-intent')).toBeLessThan(
            Math.max(types.indexOf('executed'), types.indexOf('failed')),
          );
          expect(estate.writes.length).toBe(result.status === 'executed' ? 1 : 0);
        } else {
          expect(types).not.toContain('execute-intent');
          expect(estate.writes).toEqual([]);
        }
      }),
      { numRuns: CASES, seed: 7_031_2026 },
    );
    expect(Object.values(seen).reduce((sum, count) => sum + count, 0)).toBe(CASES);
    // The generator must reach every branch, or the property proves little.
    for (const status of ['denied', 'shadow', 'awaiting-approval', 'executed', 'failed', 'blocked', 'noop'])
      expect(seen[status] ?? 0, `cases ending ${status}: ${JSON.stringify(seen)}`).toBeGreaterThan(50);
  }, 120_000);
});
