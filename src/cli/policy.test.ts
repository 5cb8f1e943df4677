import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../../test/kit/tmp.js';
import { UsageError, type CliIo } from './io.js';
import { policyCommand } from './policy.js';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

function capture(cwd: string): { io: CliIo; out: () => string; err: () => string } {
  let out = '';
  let err = '';
  const sink = (append: (text: string) => void): Writable =>
    new Writable({
      write(chunk: Buffer | string, _encoding, callback) {
        append(chunk.toString());
        callback();
      },
    });
  const io: CliIo = {
    stdout: sink((text) => (out += text)),
    stderr: sink((text) => (err += text)),
    env: {},
    cwd,
    signal: new AbortController().signal,
  };
  return { io, out: () => out, err: () => err };
}

const policy = `apiVersion: nightshift.dev/v1
kind: Policy
metadata: {name: small}
spec:
  rules:
    - name: prod-rollback
      match: {actions: [k8s.rollback], targets: {environment: prod}}
      mode: approval
      approvers: [S0TEAM]
      reason: a human decides
`;

const tests = (mode: string): string => `defaults:
  facts:
    now: {hour: 1, weekday: 1}
    target: {kind: Deployment, name: checkout, environment: prod}
cases:
  - name: rollback in prod
    facts: {action: {kind: k8s.rollback}}
    expect: {mode: ${mode}, rule: prod-rollback, approvers: [S0TEAM]}
  - name: anything else is a suggestion
    facts: {action: {kind: k8s.scale}}
    expect: {mode: shadow, rule: null}
`;

function fixture(files: Record<string, string>): string {
  const dir = tempDir();
  mkdirSync(join(dir, 'policies', 'tests'), { recursive: true });
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, 'policies', name), text);
  return dir;
}

describe('nightshift policy test', () => {
  it('passes on the shipped policies (exit 0) and prints the table', async () => {
    const { io, out, err } = capture(repoRoot);
    expect(await policyCommand(['test'], io)).toBe(0);
    expect(err()).toBe('');
    expect(out()).toMatch(/^policies\/tests\/default\.yaml\nname\s+expected\s+got\s+rule\s+ok\n/);
    expect(out()).toMatch(
      /rollback of critical checkout in prod needs approval\s+approval \(prod-rollback-needs-approval\)\s+approval\s+prod-rollback-needs-approval\s+ok/,
    );
    expect(out()).toMatch(/\n(\d+) passed, 0 failed, \1 total\n$/);
  });

  it('exit 0 for a passing directory given as an argument', async () => {
    const dir = fixture({ 'small.yaml': policy, 'tests/small.yaml': tests('approval') });
    const { io, out } = capture(dir);
    expect(await policyCommand(['test', 'policies'], io)).toBe(0);
    expect(out()).toContain('2 passed, 0 failed, 2 total');
    expect(out()).toMatch(/anything else is a suggestion\s+shadow\s+shadow\s+-\s+ok/);
  });

  it('exit 1 on a mismatch, naming what differed and why', async () => {
    const dir = fixture({ 'small.yaml': policy, 'tests/small.yaml': tests('autonomous') });
    const { io, out, err } = capture(dir);
    expect(await policyCommand(['test', join(dir, 'policies')], io)).toBe(1);
    expect(err()).toBe('');
    expect(out()).toMatch(
      /rollback in prod\s+autonomous \(prod-rollback\)\s+approval\s+prod-rollback\s+FAIL/,
    );
    expect(out()).toContain(
      'FAIL policies/tests/small.yaml › rollback in prod: mode: expected autonomous, got approval',
    );
    expect(out()).toContain('    a human decides [small/prod-rollback]');
    expect(out()).toContain('1 passed, 1 failed, 2 total');
  });

  it('exit 2 with file:line per problem for an invalid policy', async () => {
    const dir = fixture({
      'small.yaml': policy.replace(
        'mode: approval',
        'mode: approval\n      when: target.environmnet == "prod"',
      ),
      'tests/small.yaml': tests('approval'),
    });
    const { io, out, err } = capture(dir);
    expect(await policyCommand(['test', 'policies'], io)).toBe(2);
    expect(out()).toBe('');
    expect(err()).toBe(
      'policies/small.yaml:9: spec.rules.0.when: rule "prod-rollback": CEL: unknown fact "target.environmnet" ' +
        '(target has: kind, name, namespace, cluster, environment, tier, stateful, owner, labels, replicas) (expression line 1, column 7)\n',
    );
  });

  it('exit 2 with file:line per problem for an invalid test file', async () => {
    const broken = tests('approval')
      .replace('{action: {kind: k8s.scale}}', '{action: {kind: k8s.scale}, target: {tier: gold}}')
      .replace('expect: {mode: shadow', 'expect: {mode: maybe');
    const dir = fixture({ 'small.yaml': policy, 'tests/small.yaml': broken });
    const { io, err } = capture(dir);
    expect(await policyCommand(['test', 'policies'], io)).toBe(2);
    expect(err().trim().split('\n')).toEqual([
      expect.stringMatching(/^policies\/tests\/small\.yaml:11: cases\.1\.expect\.mode: /),
    ]);
    const factsOnly = tests('approval').replace(
      '{action: {kind: k8s.scale}}',
      '{action: {kind: k8s.scale}, target: {tier: gold}}',
    );
    const second = fixture({ 'small.yaml': policy, 'tests/small.yaml': factsOnly });
    const run = capture(second);
    expect(await policyCommand(['test', 'policies'], run.io)).toBe(2);
    expect(run.err()).toMatch(/^policies\/tests\/small\.yaml:10: cases\.1\.facts\.target\.tier: /);
  });

  it('exit 2 when there are no test files', async () => {
    const dir = fixture({ 'small.yaml': policy });
    const { io, err } = capture(dir);
    expect(await policyCommand(['test', 'policies'], io)).toBe(2);
    expect(err()).toBe('policies/tests:0: no test files (*.yaml, *.yml)\n');
  });

  it('throws a UsageError for anything but `test [dir]`', async () => {
    const { io } = capture(repoRoot);
    await expect(policyCommand([], io)).rejects.toBeInstanceOf(UsageError);
    await expect(policyCommand(['lint'], io)).rejects.toBeInstanceOf(UsageError);
    await expect(policyCommand(['test', 'a', 'b'], io)).rejects.toBeInstanceOf(UsageError);
    await expect(policyCommand(['test', '--json'], io)).rejects.toBeInstanceOf(UsageError);
  });
});
