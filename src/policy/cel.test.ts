import { describe, expect, it } from 'vitest';
import { compileCondition } from './cel.js';
import { celBindings, factsSchema } from './facts.js';

const facts = factsSchema.parse({
  action: { kind: 'k8s.scale', params: { replicas: 6, reason: 'surge' } },
  target: { kind: 'Deployment', name: 'catalog', environment: 'prod', replicas: 3, labels: { team: 'shop' } },
  now: { hour: 3, weekday: 0 },
  hypothesis: { category: 'traffic_surge', confidence: 1 },
});
const bindings = celBindings(facts);

function compiled(source: string): ReturnType<typeof compileCondition> & { ok: true } {
  const result = compileCondition(source);
  if (!result.ok) throw new Error(JSON.stringify(result.problems));
  return result;
}

describe('compileCondition', () => {
  it.each([
    ['action.params.replicas <= 2 * target.replicas', true],
    ['action.params.replicas > 2 * target.replicas', false],
    ['hypothesis.confidence >= 0.8 && hypothesis.confidence == 1', true],
    ['target.labels["team"] == "shop" && "team" in target.labels', true],
    ['target.name.startsWith("cat") && target.environment.upperAscii() == "PROD"', true],
    ['now.hour < 6 || now.weekday == 6', true],
    ['has(action.params.reason) && !has(action.params.other)', true],
    ['target.labels.exists(key, key == "team")', true],
    ['[1, 2, 3].all(x, x < target.replicas + 1)', true],
    ['!now.freeze', true],
  ])('%s → %s', (source, expected) => {
    expect(compiled(source).condition.test(bindings)).toEqual({ ok: true, value: expected });
  });

  it('lists the top-level facts an expression reads', () => {
    expect([...compiled('pattern.successes > 1 && target.name == "x"').condition.facts].sort()).toEqual([
      'pattern',
      'target',
    ]);
  });

  it.each([
    ['target.teir == "critical"', 'unknown fact "target.teir"', 1, 7],
    ['tagret.tier == "critical"', 'unknown fact "tagret"', 1, 1],
    ['target.name.first == "x"', '"target.name" is a value and has no field "first"', 1, 12],
    ['now.freeze &&\n  nope(1)', 'unknown function "nope"', 2, 3],
    ['target.replicas >', 'syntax error', 1, 17],
    ['now.freeze &&\n  target.(', 'syntax error', 2, 9],
  ])('rejects %j at load: %s (line %d, column %d)', (source, message, line, column) => {
    const result = compileCondition(source);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problems[0]?.message).toContain(message);
    expect(result.problems[0]).toMatchObject({ line, column });
  });

  it('reports data-dependent failures from test, naming an absent fact', () => {
    expect(compiled('pattern.successes >= 3').condition.test(bindings)).toEqual({
      ok: false,
      error: expect.stringContaining('absent fact "pattern"') as string,
    });
    expect(compiled('action.params.missing > 1').condition.test(bindings)).toEqual({
      ok: false,
      error: expect.stringContaining('missing') as string,
    });
    expect(compiled('target.name').condition.test(bindings)).toEqual({
      ok: false,
      error: 'the condition gave the string "catalog", not a bool',
    });
    expect(compiled('target.replicas / 0 == 1').condition.test(bindings)).toMatchObject({ ok: false });
  });

  it('keeps whole-number confidence a double and other whole numbers ints', () => {
    expect(bindings.hypothesis).toEqual({ category: 'traffic_surge', confidence: 1 });
    expect((bindings.target as { replicas: unknown }).replicas).toBe(3n);
    expect((bindings.action as { params: { replicas: unknown } }).params.replicas).toBe(6n);
  });
});
