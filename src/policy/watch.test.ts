import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../../test/kit/tmp.js';
import { createLogger } from '../shared/logger.js';
import { evaluate } from './evaluate.js';
import { loadPolicies } from './load.js';
import type { PolicySet } from './policy-set.js';
import { factsWith, wrapSpec } from './testing.js';
import { createPolicyWatcher } from './watch.js';

const policy = (mode: string): string =>
  wrapSpec(`rules:\n  - {name: restart, match: {actions: ["*"]}, mode: ${mode}, reason: x}`, 'live');

async function until(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function capturingLogger(): {
  logger: ReturnType<typeof createLogger>;
  lines: Array<{ level: string; msg: string; problems?: string[] }>;
} {
  const lines: Array<{ level: string; msg: string; problems?: string[] }> = [];
  const logger = createLogger({
    level: 'info',
    destination: { write: (line: string) => void lines.push(JSON.parse(line) as never) },
  });
  return { logger, lines };
}

const modeOf = (set: PolicySet | undefined): string | undefined =>
  set ? evaluate(set, { facts: factsWith({ action: { kind: 'k8s.rolloutRestart' } }) }).mode : undefined;

describe('createPolicyWatcher', () => {
  it('picks up a valid edit, keeps the last good set on a bad one and says so loudly', async () => {
    const dir = tempDir();
    const file = join(dir, 'live.yaml');
    writeFileSync(file, policy('approval'));
    const initial = await loadPolicies(dir);
    if (!('ok' in initial)) throw new Error('initial policy invalid');
    const { logger, lines } = capturingLogger();
    const changes: PolicySet[] = [];
    const watcher = createPolicyWatcher(dir, (set) => changes.push(set), logger, {
      initial: initial.ok,
      debounceMs: 30,
    });
    try {
      expect(modeOf(watcher.current())).toBe('approval');

      writeFileSync(file, policy('autonomous'));
      await until(() => changes.length === 1, 'the valid edit');
      expect(modeOf(watcher.current())).toBe('autonomous');
      expect(modeOf(changes[0])).toBe('autonomous');

      writeFileSync(file, policy('sometimes'));
      await until(() => lines.some((line) => line.level === 'error'), 'the error log');
      const error = lines.find((line) => line.level === 'error');
      expect(error?.msg).toContain('INVALID POLICY EDIT');
      expect(error?.problems?.[0]).toMatch(/live\.yaml:7: spec\.rules\.0\.mode/);
      expect(changes).toHaveLength(1);
      expect(modeOf(watcher.current())).toBe('autonomous');

      writeFileSync(file, policy('shadow'));
      await until(() => changes.length === 2, 'the fix');
      expect(modeOf(watcher.current())).toBe('shadow');
    } finally {
      watcher.close();
      watcher.close();
    }
  });

  it('reload() loads on demand; after close() no change is delivered', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'live.yaml'), policy('deny'));
    const { logger } = capturingLogger();
    const changes: PolicySet[] = [];
    const watcher = createPolicyWatcher(dir, (set) => changes.push(set), logger, { debounceMs: 10_000 });
    expect(watcher.current()).toBeUndefined();
    const result = await watcher.reload();
    expect('ok' in result).toBe(true);
    expect(modeOf(watcher.current())).toBe('deny');
    expect(changes).toHaveLength(1);
    watcher.close();
    writeFileSync(join(dir, 'live.yaml'), policy('autonomous'));
    await watcher.reload();
    expect(changes).toHaveLength(1);
    expect(modeOf(watcher.current())).toBe('deny');
  });

  it('logs a throwing change handler without breaking the watcher', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'live.yaml'), policy('shadow'));
    const { logger, lines } = capturingLogger();
    const watcher = createPolicyWatcher(
      dir,
      () => {
        throw new Error('handler broke');
      },
      logger,
    );
    try {
      await watcher.reload();
      expect(
        lines.some((line) => line.level === 'error' && line.msg === 'policy change handler failed'),
      ).toBe(true);
      expect(modeOf(watcher.current())).toBe('shadow');
    } finally {
      watcher.close();
    }
  });
});
