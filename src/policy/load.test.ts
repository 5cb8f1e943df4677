import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../../test/kit/tmp.js';
import { compilePolicies, formatProblem, loadPolicies, type PolicyLoadResult } from './load.js';

function problems(result: PolicyLoadResult): string[] {
  if ('ok' in result) throw new Error('expected problems, got a policy set');
  return result.errors.map(formatProblem);
}

const header = 'apiVersion: nightshift.dev/v1\nkind: Policy\nmetadata:\n  name: p\n';

describe('compilePolicies: problems with file and line', () => {
  it('points at a bad mode, an unknown key and a missing field', () => {
    const text = `${header}spec:
  rules:
    - name: ok-rule
      match: {actions: [k8s.rollback]}
      mode: approval
      reason: fine
    - name: bad-mode
      match:
        actions: [k8s.scale]
      mode: yolo
      reason: nope
    - name: extra-key
      match: {actions: ["*"]}
      mode: shadow
      reason: x
      approver: [U1]
    - name: no-reason
      match: {actions: ["*"]}
      mode: deny
`;
    const lines = problems(compilePolicies([{ file: 'policies/p.yaml', text }]));
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/^policies\/p\.yaml:14: spec\.rules\.1\.mode: /);
    expect(lines[1]).toMatch(/^policies\/p\.yaml:20: spec\.rules\.2\.approver: Unrecognized key/);
    expect(lines[2]).toMatch(/^policies\/p\.yaml:21: spec\.rules\.3\.reason: /);
  });

  it('points at CEL errors inside plain, quoted and block-literal conditions', () => {
    const text = `${header}spec:
  rules:
    - name: plain
      match: {actions: ["*"]}
      when: target.teir == "critical"
      mode: approval
      reason: x
    - name: quoted
      match: {actions: ["*"]}
      when: "pattern.successes >"
      mode: approval
      reason: x
    - name: literal
      match: {actions: ["*"]}
      when: |
        now.freeze
          || hypothesis.confidnce < 0.5
      mode: approval
      reason: x
`;
    const lines = problems(compilePolicies([{ file: 'p.yaml', text }]));
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(
      /^p\.yaml:9: spec\.rules\.0\.when: rule "plain": CEL: unknown fact "target\.teir"/,
    );
    expect(lines[1]).toMatch(/^p\.yaml:14: spec\.rules\.1\.when: rule "quoted": CEL: syntax error/);
    expect(lines[2]).toMatch(
      /^p\.yaml:21: spec\.rules\.2\.when: rule "literal": CEL: unknown fact "hypothesis\.confidnce"/,
    );
  });

  it('reports YAML syntax errors, wrong kinds, duplicate rules and duplicate policies', () => {
    const broken = `${header}spec:\n  rules: [\n`;
    const wrongKind = 'apiVersion: nightshift.dev/v1\nkind: Estate\nmetadata: {name: q}\nspec: {}\n';
    const duplicate = `${header.replace('name: p', 'name: dup')}spec:
  rules:
    - {name: same, match: {actions: ["*"]}, mode: deny, reason: a}
    - {name: same, match: {actions: ["*"]}, mode: deny, reason: b}
`;
    const again = `${header.replace('name: p', 'name: dup')}spec: {rules: []}\n`;
    const lines = problems(
      compilePolicies([
        { file: 'a.yaml', text: broken },
        { file: 'b.yaml', text: wrongKind },
        { file: 'c.yaml', text: duplicate },
        { file: 'd.yaml', text: again },
      ]),
    );
    expect(lines.some((line) => /^a\.yaml:\d+: YAML: /.test(line))).toBe(true);
    expect(lines).toContain('b.yaml:2: kind: Invalid input: expected "Policy"');
    expect(lines).toContain('c.yaml:8: spec.rules.1.name: rule "same" is already defined at line 7');
    expect(lines).toContain('d.yaml:4: metadata.name: policy "dup" is already defined in c.yaml');
  });

  it('reads several documents of one file, and combines settings the strict way', () => {
    const first = `${header}spec:
  mode: {default: approval, max: autonomous}
  limits: {perTargetPerHour: 5}
  circuitBreaker: {failures: 4, window: 10m, cooldown: 5m}
  approvers: [S0A]
  rules:
    - {name: r1, match: {actions: ["*"]}, mode: autonomous, reason: x}
---
${header.replace('name: p', 'name: q')}spec:
  mode: {default: shadow, max: approval}
  limits: {perTargetPerHour: 2, perClusterPerHour: 9}
  circuitBreaker: {failures: 2, window: 1h, cooldown: 1m, fallback: shadow}
  approvers: [S0B, S0A]
  rules:
    - {name: r1, match: {actions: ["*"]}, mode: shadow, reason: y}
`;
    const result = compilePolicies([{ file: 'multi.yaml', text: first }]);
    if (!('ok' in result)) throw new Error(result.errors.map(formatProblem).join('\n'));
    const set = result.ok;
    expect(set.policies.map((policy) => policy.name)).toEqual(['p', 'q']);
    expect(set.rules.map((rule) => `${rule.policy}/${rule.name}@${rule.source.line}`)).toEqual([
      'p/r1@11',
      'q/r1@23',
    ]);
    expect(set.defaultMode).toBe('shadow');
    expect(set.maxMode).toBe('approval');
    expect(set.limits).toEqual({ perTargetPerHour: 2, perClusterPerHour: 9 });
    expect(set.circuitBreaker).toEqual({
      failures: 2,
      window: 3_600_000,
      cooldown: 300_000,
      fallback: 'shadow',
    });
    expect(set.approvers).toEqual(['S0A', 'S0B']);
  });

  it('rejects a bad duration with its line', () => {
    const text = `${header}spec:\n  circuitBreaker: {failures: 2, window: soon, cooldown: 1m}\n`;
    expect(problems(compilePolicies([{ file: 'x.yaml', text }]))[0]).toMatch(
      /^x\.yaml:6: spec\.circuitBreaker\.window: not a duration/,
    );
  });
});

describe('loadPolicies', () => {
  const valid = `${header}spec:\n  rules:\n    - {name: r, match: {actions: ["*"]}, mode: shadow, reason: x}\n`;

  it('loads every *.yaml and *.yml of a directory in name order, ignoring tests/ and other files', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'b.yml'), valid.replace('name: p', 'name: second'));
    writeFileSync(join(dir, 'a.yaml'), valid.replace('name: p', 'name: first'));
    writeFileSync(join(dir, 'notes.txt'), 'not yaml: [');
    mkdirSync(join(dir, 'tests'));
    writeFileSync(join(dir, 'tests', 'cases.yaml'), 'cases: []\n');
    const result = await loadPolicies(dir);
    if (!('ok' in result)) throw new Error(result.errors.map(formatProblem).join('\n'));
    expect(result.ok.policies.map((policy) => [policy.name, policy.file])).toEqual([
      ['first', join(dir, 'a.yaml')],
      ['second', join(dir, 'b.yml')],
    ]);
  });

  it('loads a single file', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'one.yaml'), valid);
    const result = await loadPolicies(join(dir, 'one.yaml'));
    expect('ok' in result && result.ok.rules.length).toBe(1);
  });

  it('reports a missing path and an empty directory instead of throwing', async () => {
    const dir = tempDir();
    expect(problems(await loadPolicies(join(dir, 'nope')))[0]).toMatch(/nope:0: cannot read: /);
    expect(problems(await loadPolicies(dir))).toEqual([
      `${dir}:0: no policy files (*.yaml, *.yml) in this directory`,
    ]);
  });

  it('reports problems of every file, not just the first', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'a.yaml'), valid.replace('mode: shadow', 'mode: maybe'));
    writeFileSync(
      join(dir, 'b.yaml'),
      valid.replace('name: p', 'name: b').replace('reason: x', 'reason: x, when: "tagret.x"'),
    );
    const lines = problems(await loadPolicies(dir));
    expect(lines).toHaveLength(2);
    expect(lines[0]).toContain(`${join(dir, 'a.yaml')}:7: spec.rules.0.mode`);
    expect(lines[1]).toContain(
      `${join(dir, 'b.yaml')}:7: spec.rules.0.when: rule "r": CEL: unknown fact "tagret"`,
    );
  });
});
