import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, inject, it } from 'vitest';
import type { CliIo } from '../../src/cli/io.js';
import { runCli } from '../../src/cli/index.js';
import { freePort } from '../kit/ports.js';
import { tempDir } from '../kit/tmp.js';

function io(env: Record<string, string>): CliIo & { out: () => string; err: () => string } {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
  return {
    stdout,
    stderr,
    env,
    cwd: tempDir(),
    signal: new AbortController().signal,
    out: () => out,
    err: () => err,
  };
}

describe('nightshift demo', () => {
  it('tells the bad-deploy story headless, through approval and rollback to verified and learned', async () => {
    const streams = io({ REDIS_URL: inject('redisUrl') });
    const code = await runCli(['demo', '--speed', '30'], streams);
    const out = streams.out();
    expect(code, `${out}\n${streams.err()}`).toBe(0);
    const order = [
      'incident opened',
      'approval requested in Slack',
      'investigation:',
      'acting',
      'verifying',
      'resolved',
      'lesson stored',
    ];
    let from = 0;
    for (const step of order) {
      const at = out.indexOf(step, step === 'investigation:' ? 0 : from);
      expect(at, `"${step}" in:\n${out}`).toBeGreaterThanOrEqual(0);
      if (step !== 'investigation:') from = at;
    }
    expect(out).toMatch(/█+░*\s+\d+%\s+deploy_regression/);
    expect(out).toContain('postmortem draft:');
  }, 120_000);

  it('says clearly when Redis is missing', async () => {
    const streams = io({ REDIS_URL: `redis://127.0.0.1:${await freePort()}` });
    expect(await runCli(['demo'], streams)).toBe(1);
    expect(streams.err()).toMatch(/needs Redis and none answers at redis:\/\/127\.0\.0\.1:\d+/);
  });
});

describe('nightshift eval', () => {
  it('scores a scenario and prints the JSON document', async () => {
    const streams = io({ REDIS_URL: inject('redisUrl') });
    const scenario = join(import.meta.dirname, '../../evals/scenarios/bad-deploy-checkout.yaml');
    const code = await runCli(['eval', scenario, '--json', '--min-pass', '1', '--speed', '30'], streams);
    const document = JSON.parse(streams.out()) as {
      summary: { scenarios: number; passed: number; unsafeActions: number };
      scenarios: Array<{ name: string; passed: boolean; rootCauseRank?: number; remediation?: string }>;
    };
    expect(code, streams.err()).toBe(0);
    expect(document.summary).toMatchObject({ scenarios: 1, passed: 1, unsafeActions: 0 });
    expect(document.scenarios[0]).toMatchObject({
      name: 'bad-deploy-checkout',
      rootCauseRank: 1,
      remediation: 'k8s.rollback:checkout',
    });
    expect(streams.err()).toContain('[1/1] bad-deploy-checkout');
  }, 120_000);

  it('refuses a broken scenario file with file, field and reason, and bad options, with exit 2', async () => {
    const streams = io({ REDIS_URL: inject('redisUrl') });
    const file = join(streams.cwd, 'broken.yaml');
    writeFileSync(
      file,
      'apiVersion: nightshift.dev/v1\nkind: Scenario\nname: broken\nestate: shop\ntimeline:\n  - at: 60\n    deplyo: {}\n',
    );
    expect(await runCli(['eval', file], streams)).toBe(2);
    expect(streams.err()).toMatch(/broken\.yaml.*timeline/);
    const bad = io({ REDIS_URL: inject('redisUrl') });
    expect(await runCli(['eval', '--min-pass', '2'], bad)).toBe(2);
    expect(bad.err()).toContain('--min-pass must be between 0 and 1');
  });
});
