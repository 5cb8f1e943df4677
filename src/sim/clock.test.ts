import { describe, expect, it } from 'vitest';
import { SimClock } from './clock.js';

describe('SimClock', () => {
  it('runs tasks in time order, each seeing its own time, and only when advanced', async () => {
    const clock = new SimClock({ startMs: 1_000 });
    const seen: string[] = [];
    clock.at(3_000, (now) => void seen.push(`b@${now}`));
    clock.at(2_000, (now) => void seen.push(`a@${now}`));
    clock.at(3_000, (now) => void seen.push(`c@${now}`));
    expect(seen).toEqual([]);
    await clock.advanceTo(2_500);
    expect(seen).toEqual(['a@2000']);
    expect(clock.now()).toBe(2_500);
    await clock.advance(1_000);
    expect(seen).toEqual(['a@2000', 'b@3000', 'c@3000']);
    expect(clock.now()).toBe(3_500);
  });

  it('repeats with every() and awaits async tasks before the next one', async () => {
    const clock = new SimClock({ startMs: 0 });
    const seen: number[] = [];
    const cancel = clock.every(100, async (now) => {
      await new Promise((resolve) => setTimeout(resolve, 1));
      seen.push(now);
    });
    await clock.advanceTo(350);
    expect(seen).toEqual([100, 200, 300]);
    cancel();
    await clock.advanceTo(1_000);
    expect(seen).toEqual([100, 200, 300]);
  });

  it('steps with the wall clock at its speed once started', async () => {
    const clock = new SimClock({ startMs: 0, speed: 100, stepWallMs: 10 });
    clock.start();
    await new Promise((resolve) => setTimeout(resolve, 120));
    await clock.stop();
    expect(clock.now()).toBeGreaterThanOrEqual(5_000);
    expect(clock.now()).toBeLessThan(60_000);
  });
});
