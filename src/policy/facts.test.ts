import { describe, expect, it } from 'vitest';
import { clockFacts, FACT_NAMES, parseFacts } from './facts.js';

describe('facts', () => {
  it('validates strictly and applies defaults', () => {
    const parsed = parseFacts({
      action: { kind: 'k8s.rollback' },
      target: { kind: 'Deployment', name: 'checkout', environment: 'prod' },
      now: { hour: 4, weekday: 1 },
    });
    expect(parsed).toEqual({
      ok: true,
      facts: {
        action: { kind: 'k8s.rollback', params: {} },
        target: { kind: 'Deployment', name: 'checkout', environment: 'prod', labels: {} },
        now: { hour: 4, weekday: 1, maintenance: false, freeze: false },
      },
    });
    const bad = parseFacts({
      action: { kind: 'k8s.rollback' },
      target: { kind: 'Deployment', name: 'checkout', environment: 'prod', tier: 'gold' },
      now: { hour: 24, weekday: 1 },
      hypothesis: { category: 'x', confidence: 1.5 },
      extra: true,
    });
    expect(bad.ok).toBe(false);
    if (bad.ok) return;
    expect(bad.issues.map((issue) => issue.path).sort()).toEqual([
      '',
      'hypothesis.confidence',
      'now.hour',
      'target.tier',
    ]);
  });

  it('names the facts CEL may read', () => {
    expect([...FACT_NAMES].sort()).toEqual([
      'action',
      'blastRadius',
      'hypothesis',
      'incident',
      'now',
      'pattern',
      'recent',
      'target',
    ]);
  });

  it('builds clock facts in a time zone', () => {
    const instant = Date.UTC(2026, 0, 4, 23, 30); // Sunday 23:30 UTC
    expect(clockFacts(instant)).toEqual({ hour: 23, weekday: 0, maintenance: false, freeze: false });
    expect(clockFacts(instant, { timeZone: 'Europe/Berlin', freeze: true })).toEqual({
      hour: 0,
      weekday: 1,
      maintenance: false,
      freeze: true,
    });
  });
});
