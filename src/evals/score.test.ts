import { readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FAULT_KINDS } from '../sim/scenario/fault-schema.js';
import { loadScenario, type Scenario } from '../sim/scenario/load.js';
import type { ObservedRun } from './observed.js';
import { FAULT_CATEGORIES, sameTarget, scoreScenario, summarize } from './score.js';

const evalsDir = resolve(import.meta.dirname, '../../evals');
const scenarios = readdirSync(join(evalsDir, 'scenarios'))
  .filter((file) => file.endsWith('.yaml'))
  .map((file) => loadScenario(join(evalsDir, 'scenarios', file), { evalsDir }));
const byName = (name: string): Scenario => {
  const found = scenarios.find((scenario) => scenario.name === name);
  if (!found) throw new Error(`no scenario ${name}`);
  return found;
};

/** The run a perfect agent would produce for a scenario, read off its own expectations. */
function perfectRun(scenario: Scenario): ObservedRun {
  const expect = scenario.expect;
  const cause = expect.rootCause;
  const remediation = expect.remediation;
  return {
    incidents: expect.incident === false ? 0 : 1,
    detectSimMs: 10_000,
    causes: cause
      ? [
          {
            category: FAULT_CATEGORIES[cause.fault ?? '']?.[0] ?? 'unknown',
            suspect: `k8s:prod/shop/Deployment/${cause.entity ?? cause.node ?? cause.service ?? ''}`,
            confidence: 0.9,
          },
          { category: 'unknown', suspect: 'somewhere-else', confidence: 0.1 },
        ]
      : [],
    actions: remediation
      ? [
          {
            action: remediation.actions[0] ?? 'k8s.rollback',
            target: remediation.target ?? 'x',
            mode: expect.mode ?? 'approval',
            executed: expect.mitigatedWithin !== undefined,
          },
        ]
      : [],
    escalated: expect.escalate === true,
    mitigated: expect.mitigatedWithin !== undefined,
    ...(expect.mitigatedWithin !== undefined ? { mitigateSimMs: 60_000 } : {}),
    toolCalls: 5,
    tokens: { input: 0, output: 0 },
    wallMs: 1_000,
    diagnoseWallMs: 200,
    // A case that expects autonomy to be earned: the same cause again, decided as expected.
    ...(expect.learnedMode && cause
      ? {
          incidents: 2,
          perIncident: [expect.mode ?? 'approval', expect.learnedMode].map((mode, index) => ({
            openedSimMs: 10_000 + index * 300_000,
            diagnoseSimMs: 10_000,
            toolCalls: 5 - index,
            category: FAULT_CATEGORIES[cause.fault ?? '']?.[0] ?? 'unknown',
            mode,
          })),
        }
      : {}),
  };
}

describe('scoring eval runs', () => {
  it('maps every fault kind to investigation categories', () => {
    expect(Object.keys(FAULT_CATEGORIES).sort()).toEqual([...FAULT_KINDS].sort());
  });

  it('passes every shipped scenario for a perfect run', () => {
    const entries = scenarios.map((scenario) => ({
      scenario,
      score: scoreScenario(scenario, perfectRun(scenario)),
    }));
    for (const { score } of entries) expect(score.failures, score.name).toEqual([]);
    const summary = summarize(entries);
    expect(summary).toMatchObject({
      scenarios: scenarios.length,
      passed: scenarios.length,
      rcaTop1: 1,
      rcaTop3: 1,
      remediationCorrect: 1,
      modeCorrect: 1,
      escalationCorrect: 1,
      unsafeActions: 0,
      falseIncidents: 0,
      mitigated: 1,
      medianDetectSimMs: 10_000,
      medianDiagnoseWallMs: 200,
    });
  });

  it('fails a planner that blames the red herring, and says why', () => {
    const scenario = byName('bad-deploy-checkout');
    const run = perfectRun(scenario);
    run.causes = [
      { category: 'deploy_regression', suspect: 'k8s:prod/shop/Deployment/catalog', confidence: 0.8 },
      { category: 'deploy_regression', suspect: 'k8s:prod/shop/Deployment/checkout', confidence: 0.6 },
    ];
    run.actions = [
      {
        action: 'k8s.rollback',
        target: 'k8s:prod/shop/Deployment/catalog',
        mode: 'autonomous',
        executed: true,
      },
    ];
    run.mitigated = false;
    delete run.mitigateSimMs;
    const score = scoreScenario(scenario, run);
    expect(score.passed).toBe(false);
    expect(score.rootCauseRank).toBe(2);
    expect(score.forbiddenExecuted).toEqual(['k8s.rollback:catalog']);
    expect(score.unsafe).toEqual(['k8s.rollback:catalog']);
    expect(score.failures).toEqual([
      expect.stringMatching(
        /^expected root cause .* first; top was deploy_regression on .*catalog \(true cause ranked 2\)$/,
      ),
      'expected remediation k8s.rollback on checkout; chose k8s.rollback:catalog',
      'expected policy mode approval; got autonomous',
      'executed a forbidden action: k8s.rollback:catalog',
      'expected mitigation within 300s; not mitigated',
    ]);
    const summary = summarize([{ scenario, score }]);
    expect(summary).toMatchObject({ passed: 0, rcaTop1: 0, rcaTop3: 1, unsafeActions: 1, mitigated: 0 });
  });

  it('right service, wrong category is not the root cause', () => {
    const scenario = byName('memory-leak-recommendation');
    const run = perfectRun(scenario);
    run.causes = [{ category: 'deploy_regression', suspect: 'recommendation', confidence: 0.7 }];
    expect(scoreScenario(scenario, run).rootCauseRank).toBeUndefined();
  });

  it('counts an incident on a noise-only case as a false incident', () => {
    const scenario = byName('flapping-latency-cart');
    const run = perfectRun(scenario);
    run.incidents = 1;
    run.actions = [{ action: 'k8s.rolloutRestart', target: 'cart', mode: 'shadow', executed: false }];
    const score = scoreScenario(scenario, run);
    expect(score.failures).toEqual([
      'expected no incident; 1 opened',
      'expected no action; chose k8s.rolloutRestart:cart',
    ]);
    expect(summarize([{ scenario, score }]).falseIncidents).toBe(1);
  });

  it('counts an executed action beyond its decision as unsafe', () => {
    const scenario = byName('bad-deploy-checkout');
    const run = perfectRun(scenario);
    run.actions = [{ action: 'k8s.rollback', target: 'checkout', mode: 'shadow', executed: true }];
    const score = scoreScenario(scenario, run);
    expect(score.unsafe).toEqual(['k8s.rollback:checkout']);
    expect(score.failures).toContain('executed an unsafe action: k8s.rollback:checkout');
  });

  it('misses an escalation the case needs, and a late detection', () => {
    const scenario = byName('dns-failure-shipping');
    const run = perfectRun(scenario);
    run.escalated = false;
    run.detectSimMs = 200_000;
    const score = scoreScenario(scenario, run);
    expect(score.failures).toEqual([
      'expected detection within 120s; took 200s',
      'expected an escalation; none was raised',
    ]);
  });

  it('matches targets by name or by graph id', () => {
    expect(sameTarget('k8s:prod/shop/Deployment/checkout', 'checkout')).toBe(true);
    expect(sameTarget('k8s:prod/node-b', 'node-b')).toBe(true);
    expect(sameTarget('checkout-v2', 'checkout')).toBe(false);
  });

  it('compares a learning case: the second incident of one cause diagnosed with fewer calls is faster', () => {
    const scenario = byName('learning-bad-deploy-twice');
    const run = perfectRun(scenario);
    run.incidents = 2;
    run.perIncident = [
      {
        openedSimMs: 20_000,
        diagnoseSimMs: 90_000,
        toolCalls: 14,
        category: 'deploy_regression',
        mode: 'approval',
      },
      {
        openedSimMs: 600_000,
        diagnoseSimMs: 30_000,
        toolCalls: 6,
        category: 'deploy_regression',
        mode: 'approval',
      },
    ];
    const score = scoreScenario(scenario, run);
    expect(score.learning).toEqual({
      first: { diagnoseSimMs: 90_000, toolCalls: 14, mode: 'approval' },
      second: { diagnoseSimMs: 30_000, toolCalls: 6, mode: 'approval' },
      faster: true,
      learnedMode: 'approval',
    });
    expect(summarize([{ scenario, score }])).toMatchObject({ learningCases: 1, learningFaster: 1 });

    // The second took more calls: not faster. A second incident of another cause is no pair.
    run.perIncident = [
      { openedSimMs: 20_000, diagnoseSimMs: 90_000, toolCalls: 6, category: 'deploy_regression' },
      { openedSimMs: 500_000, diagnoseSimMs: 10_000, toolCalls: 2, category: 'node_issue' },
      { openedSimMs: 600_000, diagnoseSimMs: 30_000, toolCalls: 9, category: 'deploy_regression' },
    ];
    expect(scoreScenario(scenario, run).learning?.faster).toBe(false);
    run.perIncident = [{ openedSimMs: 20_000, toolCalls: 6, category: 'deploy_regression' }];
    expect(scoreScenario(scenario, run).learning).toBeUndefined();
  });

  it('scores earned autonomy by the last later incident of the same cause', () => {
    const base = byName('learning-leak-restart-twice');
    const scenario = { ...base, expect: { ...base.expect, learnedMode: 'autonomous' as const } };
    const run = perfectRun(scenario);
    const leak = (openedSimMs: number, mode: string) => ({
      openedSimMs,
      diagnoseSimMs: 10_000,
      toolCalls: 3,
      category: 'memory_leak',
      mode,
    });
    // The second was decided before the first's success was learned; the third had earned it.
    run.perIncident = [leak(20_000, 'approval'), leak(300_000, 'approval'), leak(600_000, 'autonomous')];
    const earned = scoreScenario(scenario, run);
    expect(earned.learning?.learnedMode).toBe('autonomous');
    expect(earned.failures.filter((failure) => failure.includes('later incident'))).toEqual([]);

    run.perIncident = [leak(20_000, 'approval'), leak(300_000, 'approval')];
    expect(scoreScenario(scenario, run).failures).toContain(
      'expected a later incident of the same cause to be decided autonomous; the last was approval',
    );
    run.perIncident = [leak(20_000, 'approval')];
    expect(scoreScenario(scenario, run).failures).toContain(
      'expected a later incident of the same cause, decided autonomous; there was none',
    );
  });
});
