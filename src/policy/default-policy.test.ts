import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseDocument } from 'yaml';
import { evaluate } from './evaluate.js';
import { factsSchema } from './facts.js';
import { compilePolicies, formatProblem } from './load.js';
import type { PolicySet } from './policy-set.js';
import { prepareTestFile, runPolicyTests, runTestCases, type PreparedTestFile } from './policy-test.js';

const policiesDir = fileURLToPath(new URL('../../policies/', import.meta.url));
const policyText = readFileSync(`${policiesDir}default.yaml`, 'utf8');
const testsFile = `${policiesDir}tests/default.yaml`;

function compile(text: string): PolicySet {
  const result = compilePolicies([{ file: 'default.yaml', text }]);
  if ('errors' in result) throw new Error(result.errors.map(formatProblem).join('\n'));
  return result.ok;
}

function prepared(): PreparedTestFile {
  const result = prepareTestFile({ file: testsFile, text: readFileSync(testsFile, 'utf8') });
  if ('errors' in result) throw new Error(result.errors.map(formatProblem).join('\n'));
  return result.ok;
}

describe('the shipped default policy', () => {
  it('passes all of its table tests, at least 25 of them', async () => {
    const run = await runPolicyTests(policiesDir);
    if (!run.ok) throw new Error(run.problems.map(formatProblem).join('\n'));
    expect(run.results.length).toBeGreaterThanOrEqual(25);
    expect(
      run.results
        .filter((result) => !result.ok)
        .map((result) => `${result.name}: ${result.mismatches.join('; ')}`),
    ).toEqual([]);
  });

  it("the eval suite's own policy passes its table tests too", async () => {
    const run = await runPolicyTests(fileURLToPath(new URL('../../evals/policies/', import.meta.url)));
    if (!run.ok) throw new Error(run.problems.map(formatProblem).join('\n'));
    expect(run.results.length).toBeGreaterThanOrEqual(6);
    expect(run.results.filter((result) => !result.ok).map((result) => result.name)).toEqual([]);
  });

  it('has a test deciding by every rule, and every rule is load-bearing', () => {
    const set = compile(policyText);
    const testFile = prepared();
    const deciding = new Set(runTestCases(set, testFile).map((result) => result.decision.rule));
    expect(set.rules.map((rule) => rule.name).filter((name) => !deciding.has(name))).toEqual([]);
    set.rules.forEach((rule, index) => {
      const document = parseDocument(policyText);
      document.deleteIn(['spec', 'rules', index]);
      const without = compile(document.toString());
      const failures = runTestCases(without, testFile).filter((result) => !result.ok);
      expect(failures.length, `removing rule ${rule.name} should fail a test`).toBeGreaterThan(0);
    });
  });

  it('decides the eval example bad-deploy-checkout (rollback of a critical prod service) as approval', () => {
    const decision = evaluate(compile(policyText), {
      facts: factsSchema.parse({
        action: { kind: 'k8s.rollback', params: {} },
        target: {
          kind: 'Deployment',
          name: 'checkout',
          namespace: 'shop',
          cluster: 'prod-eu1',
          environment: 'prod',
          tier: 'critical',
          stateful: false,
          owner: 'team-payments',
        },
        now: { hour: 12, weekday: 3 },
        recent: { perTarget: 0, perCluster: 0 },
        hypothesis: { category: 'bad_deploy', confidence: 0.9 },
      }),
    });
    expect(decision.mode).toBe('approval');
    expect(decision.approvers).toEqual(['S0NIGHTSHIFT']);
  });

  it('ships without a cap and with limits and a breaker configured', () => {
    const set = compile(policyText);
    expect(set.maxMode).toBe('autonomous');
    expect(set.defaultMode).toBe('shadow');
    expect(set.limits).toEqual({ perTargetPerHour: 3, perClusterPerHour: 10 });
    expect(set.circuitBreaker).toEqual({
      failures: 3,
      window: 3_600_000,
      cooldown: 3_600_000,
      fallback: 'approval',
    });
  });
});
