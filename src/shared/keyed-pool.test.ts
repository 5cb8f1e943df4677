import { describe, expect, it } from 'vitest';
import { settleKeyed } from './keyed-pool.js';

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('settleKeyed', () => {
  it('runs items sharing a key one after another in order, others side by side up to the limit', async () => {
    // key = the letter; delays chosen so that a later item of a key would overtake an earlier one
    // if it were not held back.
    const items = ['a30', 'b5', 'a1', 'c20', 'b1', 'd1', 'e1', 'a1'].map((text, index) => ({
      index,
      key: text[0] as string,
      ms: Number(text.slice(1)),
    }));
    const log: string[] = [];
    let running = 0;
    let most = 0;
    const results = await settleKeyed(
      items,
      (item) => [item.key],
      3,
      async (item) => {
        running += 1;
        most = Math.max(most, running);
        log.push(`start ${item.index}`);
        await pause(item.ms);
        log.push(`end ${item.index}`);
        running -= 1;
        return item.index * 10;
      },
    );
    expect(results.map((result) => (result.status === 'fulfilled' ? result.value : null))).toEqual([
      0, 10, 20, 30, 40, 50, 60, 70,
    ]);
    for (const key of ['a', 'b']) {
      const mine = items.filter((item) => item.key === key).map((item) => item.index);
      for (const [position, index] of mine.entries()) {
        const next = mine[position + 1];
        if (next !== undefined)
          expect(log.indexOf(`end ${index}`)).toBeLessThan(log.indexOf(`start ${next}`));
      }
    }
    expect(most).toBe(3);
  });

  it('settles a failing item alone: later items of its key still run, after it', async () => {
    const order: number[] = [];
    const results = await settleKeyed(
      [0, 1, 2],
      (item) => (item === 1 ? ['x'] : ['x', `own-${item}`]),
      4,
      async (item) => {
        await pause(item === 0 ? 10 : 1);
        order.push(item);
        if (item === 0) throw new Error('first failed');
        return item;
      },
    );
    expect(order).toEqual([0, 1, 2]);
    expect(results[0]).toMatchObject({ status: 'rejected', reason: new Error('first failed') });
    expect(results.slice(1)).toEqual([
      { status: 'fulfilled', value: 1 },
      { status: 'fulfilled', value: 2 },
    ]);
  });

  it('refuses a limit that is not a positive whole number', async () => {
    await expect(
      settleKeyed(
        [1],
        () => [],
        0,
        () => Promise.resolve(1),
      ),
    ).rejects.toThrow('limit must be a positive whole number, not 0');
  });
});
