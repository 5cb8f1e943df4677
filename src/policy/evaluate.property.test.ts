import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { evaluate, type PolicyRequest } from './evaluate.js';
import { factsSchema, type Facts } from './facts.js';
import { compilePolicies, formatProblem } from './load.js';
import { MODES, mostRestrictive, restrictiveness, type Mode } from './mode.js';

/**
 * Random policies, facts and controls, checked two ways: against a small independent model of
 * the rules (three-valued, as CEL's `&&`/`||` absorb errors), and against the invariants stated
 * on their own: never more permissive than an applying rule, deny wins, the cap and the kill
 * switch hold, and a failing condition never grants autonomy.
 */

const KINDS = [
  'k8s.rollback',
  'k8s.rolloutRestart',
  'k8s.scale',
  'k8s.deletePod',
  'k8s.deleteNamespace',
  'k8s.cordonNode',
  'flags.set',
];
const GLOBS = ['*', 'k8s.*', 'k8s.delete*', 'flags.*', ...KINDS];
const ENVIRONMENTS = ['prod', 'staging', 'dev'];

type Truth = boolean | 'error';
type Atom = { source: string; value: (facts: Facts) => Truth };

const ATOMS: Atom[] = [
  { source: 'true', value: () => true },
  { source: 'false', value: () => false },
  { source: 'now.freeze', value: (facts) => facts.now.freeze },
  {
    source: 'pattern.successes >= 3',
    value: (facts) => (facts.pattern ? facts.pattern.successes >= 3 : 'error'),
  },
  {
    source: '!(pattern.failures == 0)',
    value: (facts) => (facts.pattern ? facts.pattern.failures !== 0 : 'error'),
  },
  {
    source: 'hypothesis.confidence >= 0.8',
    value: (facts) => (facts.hypothesis ? facts.hypothesis.confidence >= 0.8 : 'error'),
  },
  {
    source: 'action.params.replicas > target.replicas',
    value: (facts) => {
      const wanted = facts.action.params.replicas;
      return typeof wanted === 'number' && facts.target.replicas !== undefined
        ? wanted > facts.target.replicas
        : 'error';
    },
  },
];

const and = (a: Truth, b: Truth): Truth =>
  a === false || b === false ? false : a === 'error' || b === 'error' ? 'error' : true;
const or = (a: Truth, b: Truth): Truth =>
  a === true || b === true ? true : a === 'error' || b === 'error' ? 'error' : false;

interface Condition {
  source: string;
  value: (facts: Facts) => Truth;
}

const atom = fc.constantFrom(...ATOMS);
const condition: fc.Arbitrary<Condition> = fc.oneof(
  atom,
  fc.tuple(atom, atom, fc.boolean()).map(([a, b, conjunction]) => ({
    source: `(${a.source}) ${conjunction ? '&&' : '||'} (${b.source})`,
    value: (facts: Facts) => (conjunction ? and : or)(a.value(facts), b.value(facts)),
  })),
);

const mode = fc.constantFrom(...MODES);

/** Mostly absent, so the controls do not hide the rules in most cases. */
function rarely<T>(arbitrary: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> {
  return fc.oneof({ arbitrary: fc.constant(undefined), weight: 3 }, { arbitrary, weight: 1 });
}

const ruleArbitrary = fc.record({
  actions: fc.uniqueArray(fc.constantFrom(...GLOBS), { minLength: 1, maxLength: 2 }),
  environment: fc.option(fc.constantFrom(...ENVIRONMENTS), { nil: undefined }),
  tier: fc.option(fc.constantFrom('critical', 'standard'), { nil: undefined }),
  stateful: fc.option(fc.boolean(), { nil: undefined }),
  when: fc.option(condition, { nil: undefined }),
  mode,
  approvers: fc.option(fc.constantFrom(['U1'], ['S0A', 'U2']), { nil: undefined }),
});
type GeneratedRule = typeof ruleArbitrary extends fc.Arbitrary<infer T> ? T : never;

const policyArbitrary = fc.record({
  rules: fc.array(ruleArbitrary, { minLength: 0, maxLength: 7 }),
  defaultMode: fc.option(mode, { nil: undefined }),
  maxMode: rarely(mode),
  limits: rarely(
    fc.record({
      perTargetPerHour: fc.integer({ min: 1, max: 4 }),
      perClusterPerHour: fc.integer({ min: 1, max: 8 }),
    }),
  ),
  breakerFallback: fc.option(fc.constantFrom('approval' as const, 'shadow' as const), { nil: undefined }),
});

const factsArbitrary = fc
  .record({
    kind: fc.constantFrom(...KINDS),
    replicas: fc.option(fc.integer({ min: 0, max: 12 }), { nil: undefined }),
    environment: fc.constantFrom(...ENVIRONMENTS),
    tier: fc.option(fc.constantFrom('critical' as const, 'standard' as const), { nil: undefined }),
    stateful: fc.option(fc.boolean(), { nil: undefined }),
    currentReplicas: fc.option(fc.integer({ min: 0, max: 6 }), { nil: undefined }),
    freeze: fc.boolean(),
    pattern: fc.option(
      fc.record({
        seen: fc.integer({ min: 0, max: 9 }),
        successes: fc.integer({ min: 0, max: 9 }),
        failures: fc.integer({ min: 0, max: 2 }),
      }),
      { nil: undefined },
    ),
    confidence: fc.option(fc.double({ min: 0, max: 1, noNaN: true }), { nil: undefined }),
    recent: fc.option(
      fc.record({ perTarget: fc.integer({ min: 0, max: 5 }), perCluster: fc.integer({ min: 0, max: 10 }) }),
      { nil: undefined },
    ),
  })
  .map((raw): Facts =>
    factsSchema.parse({
      action: { kind: raw.kind, params: raw.replicas === undefined ? {} : { replicas: raw.replicas } },
      target: {
        kind: 'Deployment',
        name: 'svc',
        environment: raw.environment,
        ...(raw.tier ? { tier: raw.tier } : {}),
        ...(raw.stateful === undefined ? {} : { stateful: raw.stateful }),
        ...(raw.currentReplicas === undefined ? {} : { replicas: raw.currentReplicas }),
      },
      now: { hour: 3, weekday: 2, freeze: raw.freeze },
      ...(raw.pattern ? { pattern: raw.pattern } : {}),
      ...(raw.confidence === undefined ? {} : { hypothesis: { category: 'x', confidence: raw.confidence } }),
      ...(raw.recent ? { recent: raw.recent } : {}),
    }),
  );

const controlsArbitrary = fc.record({
  killSwitch: fc.constantFrom(false, false, false, true),
  maxMode: rarely(mode),
  breakerOpenUntil: rarely(fc.integer({ min: 0, max: 2_000 })),
  at: fc.option(fc.integer({ min: 0, max: 2_000 }), { nil: undefined }),
});

function policyText(policy: typeof policyArbitrary extends fc.Arbitrary<infer T> ? T : never): string {
  const document = {
    apiVersion: 'nightshift.dev/v1',
    kind: 'Policy',
    metadata: { name: 'prop' },
    spec: {
      mode: {
        ...(policy.defaultMode ? { default: policy.defaultMode } : {}),
        ...(policy.maxMode ? { max: policy.maxMode } : {}),
      },
      approvers: ['S0DEFAULT'],
      ...(policy.limits ? { limits: policy.limits } : {}),
      ...(policy.breakerFallback
        ? { circuitBreaker: { failures: 2, window: '1h', cooldown: '1h', fallback: policy.breakerFallback } }
        : {}),
      rules: policy.rules.map((rule, index) => ({
        name: `r${index}`,
        match: {
          actions: rule.actions,
          ...(rule.environment || rule.tier || rule.stateful !== undefined
            ? {
                targets: {
                  ...(rule.environment ? { environment: rule.environment } : {}),
                  ...(rule.tier ? { tier: rule.tier } : {}),
                  ...(rule.stateful === undefined ? {} : { stateful: rule.stateful }),
                },
              }
            : {}),
        },
        ...(rule.when ? { when: rule.when.source } : {}),
        mode: rule.mode,
        ...(rule.approvers ? { approvers: rule.approvers } : {}),
        reason: `rule ${index}`,
      })),
    },
  };
  return JSON.stringify(document);
}

function globMatches(glob: string, kind: string): boolean {
  return glob.endsWith('*') ? kind.startsWith(glob.slice(0, -1)) : glob === kind;
}

/** The model: does the rule apply, and was it certain? */
function modelRule(rule: GeneratedRule, facts: Facts): 'applies' | 'uncertain' | 'skip' {
  if (!rule.actions.some((glob) => globMatches(glob, facts.action.kind))) return 'skip';
  const parts: Truth[] = [];
  if (rule.environment) parts.push(facts.target.environment === rule.environment);
  if (rule.tier) parts.push(facts.target.tier === undefined ? 'error' : facts.target.tier === rule.tier);
  if (rule.stateful !== undefined)
    parts.push(facts.target.stateful === undefined ? 'error' : facts.target.stateful === rule.stateful);
  if (rule.when) parts.push(rule.when.value(facts));
  if (parts.includes(false)) return 'skip';
  return parts.includes('error') ? 'uncertain' : 'applies';
}

describe('evaluate (property)', () => {
  it('matches the model and keeps every invariant over 10,000 random cases', () => {
    let autonomousDecisions = 0;
    let denials = 0;
    let uncertain = 0;
    fc.assert(
      fc.property(policyArbitrary, factsArbitrary, controlsArbitrary, (policy, facts, controls) => {
        const compiled = compilePolicies([{ file: 'prop.yaml', text: policyText(policy) }]);
        if ('errors' in compiled) throw new Error(compiled.errors.map(formatProblem).join('\n'));
        const set = compiled.ok;
        const request: PolicyRequest = {
          facts,
          killSwitch: controls.killSwitch,
          ...(controls.maxMode ? { maxMode: controls.maxMode } : {}),
          ...(controls.breakerOpenUntil === undefined
            ? {}
            : { breaker: { failures: [], openUntil: controls.breakerOpenUntil } }),
          ...(controls.at === undefined ? {} : { at: controls.at }),
        };
        const decision = evaluate(set, request);
        const rank = restrictiveness(decision.mode);

        // The model.
        const outcomes = policy.rules.map((rule) => ({ rule, outcome: modelRule(rule, facts) }));
        const applied = outcomes.filter(
          ({ rule, outcome }) =>
            outcome === 'applies' || (outcome === 'uncertain' && rule.mode !== 'autonomous'),
        );
        if (outcomes.some(({ outcome }) => outcome === 'uncertain')) uncertain += 1;
        const ruleMode =
          applied.length > 0
            ? mostRestrictive(...applied.map(({ rule }) => rule.mode))
            : (policy.defaultMode ?? 'shadow');
        let expected: Mode = ruleMode;
        const breakerOpen =
          request.breaker !== undefined &&
          (controls.at === undefined || controls.at < (controls.breakerOpenUntil ?? 0));
        if (policy.breakerFallback && breakerOpen && expected === 'autonomous')
          expected = policy.breakerFallback;
        if (policy.limits && (expected === 'autonomous' || expected === 'approval')) {
          const recent = facts.recent;
          if (
            !recent ||
            recent.perTarget >= policy.limits.perTargetPerHour ||
            recent.perCluster >= policy.limits.perClusterPerHour
          )
            expected = 'shadow';
        }
        expected = mostRestrictive(
          expected,
          policy.maxMode ?? 'autonomous',
          controls.maxMode ?? 'autonomous',
        );
        if (controls.killSwitch) expected = mostRestrictive(expected, 'shadow');
        expect(decision.capped?.from ?? decision.mode).toBe(ruleMode);
        expect(decision.mode).toBe(expected);

        // The invariants, on their own.
        for (const { rule, outcome } of outcomes) {
          const certain = outcome === 'applies';
          if (certain || (outcome === 'uncertain' && rule.mode !== 'autonomous'))
            expect(rank).toBeGreaterThanOrEqual(restrictiveness(rule.mode));
          if (rule.mode === 'deny' && outcome !== 'skip') expect(decision.mode).toBe('deny');
        }
        if (policy.maxMode) expect(rank).toBeGreaterThanOrEqual(restrictiveness(policy.maxMode));
        if (controls.maxMode) expect(rank).toBeGreaterThanOrEqual(restrictiveness(controls.maxMode));
        if (controls.killSwitch) expect(['shadow', 'deny']).toContain(decision.mode);
        if (decision.mode === 'autonomous') {
          autonomousDecisions += 1;
          const earned = outcomes.some(
            ({ rule, outcome }) => rule.mode === 'autonomous' && outcome === 'applies',
          );
          expect(earned || (applied.length === 0 && policy.defaultMode === 'autonomous')).toBe(true);
          expect(decision.errors.every((error) => !error.applied)).toBe(true);
        }
        if (decision.mode === 'deny') denials += 1;
        if (decision.mode === 'approval') expect(decision.approvers.length).toBeGreaterThan(0);
        else expect(decision.approvers).toEqual([]);
      }),
      { numRuns: 10_000 },
    );
    // The generator must reach the interesting corners, or the property proves little.
    expect(autonomousDecisions).toBeGreaterThan(200);
    expect(denials).toBeGreaterThan(500);
    expect(uncertain).toBeGreaterThan(400);
  }, 120_000);
});
