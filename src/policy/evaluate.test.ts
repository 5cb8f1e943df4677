import { describe, expect, it } from 'vitest';
import { reduceBreaker, closedBreaker } from './breaker.js';
import { evaluate } from './evaluate.js';
import type { Mode } from './mode.js';
import { factsWith, policySetFrom } from './testing.js';

const rules = (...lines: string[]): string => `rules:\n${lines.join('\n')}`;

const rule = (name: string, mode: Mode, actions: string, extra = ''): string =>
  `  - name: ${name}\n    match: {actions: [${JSON.stringify(actions)}]${extra ? `, ${extra}` : ''}}\n    mode: ${mode}\n    reason: because ${name}`;

const conditional = (name: string, mode: Mode, actions: string, when: string): string =>
  `${rule(name, mode, actions)}\n    when: ${JSON.stringify(when)}`;

describe('evaluate: matching', () => {
  const set = policySetFrom(
    rules(
      rule('prod-rollback', 'approval', 'k8s.rollback', 'targets: {environment: prod}'),
      rule('k8s-anything-staging', 'autonomous', 'k8s.*', 'targets: {environment: staging}'),
      rule('no-deletes', 'deny', 'k8s.delete*'),
      rule('labelled', 'shadow', '*', 'targets: {labels: {nightshift.dev/hands-off: "true"}}'),
      rule('team', 'approval', 'flags.*', 'targets: {owner: ["team-a*", team-b], namespace: shop}'),
    ),
  );

  const table: Array<{ name: string; facts: Parameters<typeof factsWith>[0]; mode: Mode; rule?: string }> = [
    {
      name: 'exact action and selector',
      facts: { action: { kind: 'k8s.rollback' } },
      mode: 'approval',
      rule: 'prod-rollback',
    },
    {
      name: 'glob across dots',
      facts: { action: { kind: 'k8s.rolloutRestart' }, target: { environment: 'staging' } },
      mode: 'autonomous',
      rule: 'k8s-anything-staging',
    },
    {
      name: 'prefix glob',
      facts: { action: { kind: 'k8s.deleteNamespace' } },
      mode: 'deny',
      rule: 'no-deletes',
    },
    { name: 'no rule: default shadow', facts: { action: { kind: 'k8s.scale' } }, mode: 'shadow' },
    {
      name: 'label selector',
      facts: { action: { kind: 'k8s.scale' }, target: { labels: { 'nightshift.dev/hands-off': 'true' } } },
      mode: 'shadow',
      rule: 'labelled',
    },
    {
      name: 'label selector with another value does not match',
      facts: {
        action: { kind: 'k8s.rollback' },
        target: { labels: { 'nightshift.dev/hands-off': 'false' } },
      },
      mode: 'approval',
      rule: 'prod-rollback',
    },
    {
      name: 'list selector with a glob',
      facts: { action: { kind: 'flags.set' }, target: { owner: 'team-alpha' } },
      mode: 'approval',
      rule: 'team',
    },
    {
      name: 'an owner outside the list does not match',
      facts: { action: { kind: 'flags.set' }, target: { owner: 'team-c' } },
      mode: 'shadow',
    },
  ];

  for (const row of table) {
    it(row.name, () => {
      const decision = evaluate(set, { facts: factsWith(row.facts), at: 0 });
      expect(decision.mode).toBe(row.mode);
      expect(decision.rule).toBe(row.rule);
      if (row.rule) expect(decision.policy).toBe('test');
    });
  }

  it('picks the most restrictive of all matching rules, whatever their order', () => {
    const lines = [
      rule('a-autonomous', 'autonomous', '*'),
      rule('b-approval', 'approval', '*'),
      rule('c-shadow', 'shadow', '*'),
      rule('d-deny', 'deny', 'k8s.delete*'),
    ];
    for (const order of [lines, [...lines].reverse()]) {
      const ordered = policySetFrom(rules(...order));
      expect(evaluate(ordered, { facts: factsWith({ action: { kind: 'k8s.scale' } }) }).mode).toBe('shadow');
      const denied = evaluate(ordered, { facts: factsWith({ action: { kind: 'k8s.deletePod' } }) });
      expect(denied.mode).toBe('deny');
      expect(denied.rule).toBe('d-deny');
      expect(denied.matched.map((match) => match.rule).sort()).toEqual([
        'a-autonomous',
        'b-approval',
        'c-shadow',
        'd-deny',
      ]);
    }
  });

  it('uses the configured default mode when nothing matches', () => {
    const approvalDefault = policySetFrom(
      `mode: {default: approval}\napprovers: [S0DEFAULT]\n${rules(rule('x', 'deny', 'x.y'))}`,
    );
    const decision = evaluate(approvalDefault, { facts: factsWith({ action: { kind: 'k8s.scale' } }) });
    expect(decision).toMatchObject({ mode: 'approval', approvers: ['S0DEFAULT'] });
    expect(decision.rule).toBeUndefined();
    expect(decision.reasons[0]).toContain('default mode is approval');
  });

  it('names the approvers of every deciding approval rule, and nobody for other modes', () => {
    const withApprovers = policySetFrom(
      `approvers: [S0DEFAULT]\n${rules(
        `${rule('one', 'approval', 'k8s.rollback')}\n    approvers: [U1, S0SRE]`,
        `${rule('two', 'approval', 'k8s.*')}\n    approvers: [S0SRE, U2]`,
        `${rule('auto', 'autonomous', 'flags.set')}\n    approvers: [U9]`,
      )}`,
    );
    const rollback = evaluate(withApprovers, { facts: factsWith({ action: { kind: 'k8s.rollback' } }) });
    expect(rollback.approvers.sort()).toEqual(['S0SRE', 'U1', 'U2']);
    const flag = evaluate(withApprovers, { facts: factsWith({ action: { kind: 'flags.set' } }) });
    expect(flag).toMatchObject({ mode: 'autonomous', approvers: [] });
    const capped = evaluate(withApprovers, {
      facts: factsWith({ action: { kind: 'flags.set' } }),
      maxMode: 'approval',
    });
    expect(capped).toMatchObject({ mode: 'approval', approvers: ['U9'] });
  });
});

describe('evaluate: conditions', () => {
  it('evaluates CEL over the facts, with ints and doubles mixed', () => {
    const set = policySetFrom(
      rules(
        conditional(
          'bounded',
          'autonomous',
          'k8s.scale',
          'action.params.replicas <= 2 * target.replicas && hypothesis.confidence >= 0.8',
        ),
      ),
    );
    const facts = (replicas: number, confidence: number): ReturnType<typeof factsWith> =>
      factsWith({
        action: { kind: 'k8s.scale', params: { replicas } },
        hypothesis: { category: 'surge', confidence },
      });
    expect(evaluate(set, { facts: facts(6, 1) }).mode).toBe('autonomous');
    expect(evaluate(set, { facts: facts(7, 1) }).mode).toBe('shadow');
    expect(evaluate(set, { facts: facts(6, 0.79) }).mode).toBe('shadow');
  });

  it('an erroring condition on an autonomous rule never grants autonomy', () => {
    const set = policySetFrom(rules(conditional('earned', 'autonomous', '*', 'pattern.successes >= 3')));
    const decision = evaluate(set, { facts: factsWith({ action: { kind: 'k8s.rolloutRestart' } }) });
    expect(decision.mode).toBe('shadow');
    expect(decision.rule).toBeUndefined();
    expect(decision.errors).toEqual([
      {
        policy: 'test',
        rule: 'earned',
        message: expect.stringContaining('pattern') as string,
        applied: false,
      },
    ]);
    expect(decision.reasons.join(' ')).toContain('skipped it');
  });

  it('an erroring condition on a restrictive rule applies it', () => {
    const set = policySetFrom(
      rules(
        rule('base', 'autonomous', '*'),
        conditional('guard', 'approval', '*', '!(pattern.failures == 0)'),
      ),
    );
    const decision = evaluate(set, { facts: factsWith({ action: { kind: 'k8s.rolloutRestart' } }) });
    expect(decision).toMatchObject({ mode: 'approval', rule: 'guard' });
    expect(decision.matched.find((match) => match.rule === 'guard')?.uncertain).toContain('condition failed');
    expect(decision.errors[0]).toMatchObject({ rule: 'guard', applied: true });
    const known = evaluate(set, {
      facts: factsWith({
        action: { kind: 'k8s.rolloutRestart' },
        pattern: { seen: 1, successes: 1, failures: 0 },
      }),
    });
    expect(known).toMatchObject({ mode: 'autonomous', rule: 'base', errors: [] });
  });

  it('a condition that is not a bool is an error, handled the same way', () => {
    const set = policySetFrom(rules(conditional('stringy', 'autonomous', '*', 'target.name')));
    const decision = evaluate(set, { facts: factsWith({ action: { kind: 'x' } }) });
    expect(decision.mode).toBe('shadow');
    expect(decision.errors[0]?.message).toContain('not a bool');
  });

  it('CEL short-circuits errors away where the spec says so', () => {
    const set = policySetFrom(
      rules(conditional('guarded', 'autonomous', '*', 'has(pattern.successes) || true')),
    );
    // `has()` on an absent top-level fact is itself an error, but `|| true` absorbs it.
    expect(evaluate(set, { facts: factsWith({ action: { kind: 'x' } }) }).mode).toBe('autonomous');
  });

  it('a selector on a fact the target lacks: restrictive rules apply, autonomous ones do not', () => {
    const set = policySetFrom(
      rules(
        rule('stateless-auto', 'autonomous', '*', 'targets: {stateful: false}'),
        rule('stateful-approval', 'approval', '*', 'targets: {stateful: true}'),
        rule('critical-deny', 'deny', 'k8s.delete*', 'targets: {tier: critical}'),
      ),
    );
    const unknown = factsWith({
      action: { kind: 'k8s.scale' },
      target: { stateful: undefined, tier: undefined },
    });
    const decision = evaluate(set, { facts: unknown });
    expect(decision).toMatchObject({ mode: 'approval', rule: 'stateful-approval' });
    expect(decision.errors.map((error) => [error.rule, error.applied])).toEqual([
      ['stateless-auto', false],
      ['stateful-approval', true],
    ]);
    const deleteUnknownTier = evaluate(set, {
      facts: { ...unknown, action: { kind: 'k8s.deletePod', params: {} } },
    });
    expect(deleteUnknownTier).toMatchObject({ mode: 'deny', rule: 'critical-deny' });
    const known = evaluate(set, { facts: factsWith({ action: { kind: 'k8s.scale' } }) });
    expect(known).toMatchObject({ mode: 'autonomous', rule: 'stateless-auto', errors: [] });
  });

  it('a definite mismatch wins over an unknown fact', () => {
    const set = policySetFrom(
      rules(rule('prod-stateful', 'deny', '*', 'targets: {environment: prod, stateful: true}')),
    );
    const facts = factsWith({ action: { kind: 'x' }, target: { environment: 'dev', stateful: undefined } });
    expect(evaluate(set, { facts })).toMatchObject({ mode: 'shadow', errors: [] });
  });
});

describe('evaluate: controls', () => {
  const set = policySetFrom(
    `limits: {perTargetPerHour: 2, perClusterPerHour: 5}
circuitBreaker: {failures: 2, window: 10m, cooldown: 30m, fallback: approval}
approvers: [S0DEFAULT]
${rules(rule('restart', 'autonomous', 'k8s.rolloutRestart'), rule('rollback', 'approval', 'k8s.rollback'), rule('delete', 'deny', 'k8s.delete*'), rule('suggest', 'shadow', 'flags.set'))}`,
  );
  const facts = (kind: string, perTarget = 0, perCluster = 0): ReturnType<typeof factsWith> =>
    factsWith({ action: { kind }, recent: { perTarget, perCluster, failures: 0 } });

  it('the kill switch drops everything to shadow and leaves deny a deny', () => {
    expect(evaluate(set, { facts: facts('k8s.rolloutRestart'), killSwitch: true })).toMatchObject({
      mode: 'shadow',
      rule: 'restart',
      capped: { from: 'autonomous', by: ['killSwitch'] },
    });
    expect(evaluate(set, { facts: facts('k8s.rollback'), killSwitch: true })).toMatchObject({
      mode: 'shadow',
      approvers: [],
    });
    const denied = evaluate(set, { facts: facts('k8s.deletePod'), killSwitch: true });
    expect(denied.mode).toBe('deny');
    expect(denied.capped).toBeUndefined();
    expect(evaluate(set, { facts: facts('k8s.rolloutRestart'), killSwitch: false }).mode).toBe('autonomous');
  });

  it('the cap from the policy and from the request both hold', () => {
    expect(evaluate(set, { facts: facts('k8s.rolloutRestart'), maxMode: 'approval' })).toMatchObject({
      mode: 'approval',
      approvers: ['S0DEFAULT'],
      capped: { from: 'autonomous', by: ['max'] },
    });
    const capped = policySetFrom(`mode: {max: shadow}\n${rules(rule('restart', 'autonomous', '*'))}`);
    expect(evaluate(capped, { facts: facts('k8s.rolloutRestart') }).mode).toBe('shadow');
    expect(evaluate(capped, { facts: facts('k8s.rolloutRestart'), maxMode: 'autonomous' }).mode).toBe(
      'shadow',
    );
    expect(evaluate(set, { facts: facts('k8s.rollback'), maxMode: 'deny' }).mode).toBe('deny');
  });

  it('rate limits per target and per cluster turn executing modes into shadow', () => {
    expect(evaluate(set, { facts: facts('k8s.rolloutRestart', 1, 4) }).mode).toBe('autonomous');
    const perTarget = evaluate(set, { facts: facts('k8s.rolloutRestart', 2, 2) });
    expect(perTarget).toMatchObject({ mode: 'shadow', capped: { by: ['rateLimit'] } });
    expect(perTarget.reasons.join('\n')).toContain('limit 2');
    expect(evaluate(set, { facts: facts('k8s.rollback', 0, 5) })).toMatchObject({
      mode: 'shadow',
      capped: { by: ['rateLimit'] },
    });
    expect(evaluate(set, { facts: facts('k8s.deletePod', 9, 9) })).toMatchObject({ mode: 'deny' });
    expect(evaluate(set, { facts: facts('flags.set', 9, 9) }).capped).toBeUndefined();
  });

  it('unknown recent counts with limits set count as over the limit', () => {
    const decision = evaluate(set, { facts: factsWith({ action: { kind: 'k8s.rolloutRestart' } }) });
    expect(decision).toMatchObject({ mode: 'shadow', capped: { by: ['rateLimit'] } });
    const noLimits = policySetFrom(rules(rule('restart', 'autonomous', '*')));
    expect(evaluate(noLimits, { facts: factsWith({ action: { kind: 'k8s.rolloutRestart' } }) }).mode).toBe(
      'autonomous',
    );
  });

  it('an open circuit breaker turns autonomy into its fallback until the cooldown ends', () => {
    const config = set.circuitBreaker;
    if (!config) throw new Error('expected a breaker');
    const start = Date.UTC(2026, 0, 1);
    let breaker = reduceBreaker(closedBreaker, { type: 'action-failed', at: start }, config);
    expect(evaluate(set, { facts: facts('k8s.rolloutRestart'), breaker, at: start + 1 }).mode).toBe(
      'autonomous',
    );
    breaker = reduceBreaker(breaker, { type: 'action-failed', at: start + 60_000 }, config);
    const open = evaluate(set, { facts: facts('k8s.rolloutRestart'), breaker, at: start + 120_000 });
    expect(open).toMatchObject({
      mode: 'approval',
      approvers: ['S0DEFAULT'],
      capped: { from: 'autonomous', by: ['circuitBreaker'] },
    });
    expect(
      evaluate(set, { facts: facts('k8s.rollback'), breaker, at: start + 120_000 }).capped,
    ).toBeUndefined();
    expect(evaluate(set, { facts: facts('k8s.rolloutRestart'), breaker }).mode).toBe('approval');
    const after = start + 60_000 + 30 * 60_000;
    expect(evaluate(set, { facts: facts('k8s.rolloutRestart'), breaker, at: after }).mode).toBe('autonomous');
  });

  it('a shadow fallback, and several controls at once', () => {
    const strict = policySetFrom(
      `circuitBreaker: {failures: 1, window: 1h, cooldown: 1h, fallback: shadow}\n${rules(rule('restart', 'autonomous', '*'))}`,
    );
    const breaker = { failures: [], openUntil: 10_000 };
    const decision = evaluate(strict, {
      facts: facts('x'),
      breaker,
      at: 5_000,
      killSwitch: true,
      maxMode: 'deny',
    });
    expect(decision).toMatchObject({
      mode: 'deny',
      capped: { from: 'autonomous', by: ['circuitBreaker', 'max'] },
    });
  });
});
