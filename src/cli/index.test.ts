import { PassThrough } from 'node:stream';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../../test/kit/tmp.js';
import { VERSION } from '../shared/version.js';
import { runCli } from './index.js';
import type { CliIo } from './io.js';

function io(env: Record<string, string> = {}): CliIo & { out: () => string; err: () => string } {
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
    cwd: import.meta.dirname,
    signal: new AbortController().signal,
    out: () => out,
    err: () => err,
  };
}

describe('the CLI', () => {
  it('prints the version', async () => {
    const streams = io();
    expect(await runCli(['--version'], streams)).toBe(0);
    expect(streams.out()).toBe(`${VERSION}\n`);
  });

  it('prints help for the program and for every command', async () => {
    const streams = io();
    expect(await runCli(['--help'], streams)).toBe(0);
    expect(streams.out()).toContain('config check');
    for (const words of [['run'], ['config', 'check'], ['graph'], ['policy', 'test'], ['sim'], ['mcp']]) {
      const each = io();
      expect(await runCli([...words, '--help'], each)).toBe(0);
      expect(each.out()).toContain(`Usage: nightshift ${words.join(' ')}`);
    }
  });

  it('exits 2 on an unknown command or option, naming it', async () => {
    const unknown = io();
    expect(await runCli(['launch'], unknown)).toBe(2);
    expect(unknown.err()).toContain('unknown command "launch"');
    const option = io();
    expect(await runCli(['config', 'check', '--verbose'], option)).toBe(2);
    expect(option.err()).toContain("Unknown option '--verbose'");
  });

  it('config check prints the effective config with secrets masked, or exits 2 with one line per problem', async () => {
    const good = io({
      ANTHROPIC_API_KEY: 'sk-canary-0123456789',
      REDIS_URL: 'redis://:pw-canary-42@127.0.0.1:6379',
    });
    expect(await runCli(['config', 'check'], good)).toBe(0);
    expect(good.out()).toContain('"apiKey": "<secret>"');
    expect(good.out()).not.toContain('sk-canary-0123456789');
    expect(good.out()).not.toContain('pw-canary-42');
    const bad = io({
      NIGHTSHIFT_PORT: 'eighty',
      NIGHTSHIFT_SLACK_ENABLED: 'true',
      SLACK_SIGNING_SECRET: 'x1',
    });
    expect(await runCli(['config', 'check'], bad)).toBe(2);
    expect(bad.err().trim().split('\n')).toEqual([
      'config: server.port: Invalid input: expected number, received string (from NIGHTSHIFT_PORT)',
    ]);
  });

  it('reads the configured graph: an empty embedded store has no entities', async () => {
    const dataDir = tempDir();
    const streams = io({ NIGHTSHIFT_DATA_DIR: dataDir });
    expect(await runCli(['graph', 'stats', '--json'], streams)).toBe(0);
    const stats = JSON.parse(streams.out()) as { backend: string; entities: number };
    expect(stats).toMatchObject({ backend: 'embedded', entities: 0 });
  });

  it('exits 2 naming the setting when the configuration is bad', async () => {
    const streams = io({ NIGHTSHIFT_GRAPH_BACKEND: 'sqlite' });
    expect(await runCli(['graph', 'stats'], streams)).toBe(2);
    expect(streams.err()).toContain('graph.backend');
  });

  it('runs the shipped policy tests', async () => {
    const streams = io();
    const dir = join(import.meta.dirname, '../../policies');
    expect(await runCli(['policy', 'test', dir], streams)).toBe(0);
    expect(streams.out()).toMatch(/\d+ passed, 0 failed/);
  });
});
