import { describe, expect, it } from 'vitest';
import { silentLogger } from '../shared/logger.js';
import { CleanupStack } from './cleanup.js';

describe('CleanupStack', () => {
  it('runs steps in reverse order, once, even when one fails', async () => {
    const order: string[] = [];
    const stack = new CleanupStack(silentLogger());
    stack.push('first', () => {
      order.push('first');
    });
    stack.push('failing', () => Promise.reject(new Error('nope')));
    stack.push('last', () => {
      order.push('last');
    });
    const [one, two] = await Promise.all([stack.run(1_000), stack.run(1_000)]);
    expect(order).toEqual(['last', 'first']);
    expect(one).toBe(true);
    expect(two).toBe(true);
  });

  it('gives up on a step that outlives the deadline and says so', async () => {
    const stack = new CleanupStack(silentLogger());
    let reached = false;
    stack.push('after', () => {
      reached = true;
    });
    stack.push('stuck', () => new Promise<void>(() => undefined));
    const started = Date.now();
    expect(await stack.run(200)).toBe(false);
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(reached).toBe(true);
  });
});
