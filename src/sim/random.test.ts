import { describe, expect, it } from 'vitest';
import { SimRandom } from './random.js';

describe('SimRandom', () => {
  it('gives the same streams for the same seed, and other ones for another seed', () => {
    const draw = (seed: number): number[] =>
      Array.from({ length: 5 }, () => new SimRandom(seed).stream('pods').next());
    const first = new SimRandom(7).stream('pods');
    const second = new SimRandom(7).stream('pods');
    expect(Array.from({ length: 20 }, () => first.next())).toEqual(
      Array.from({ length: 20 }, () => second.next()),
    );
    expect(draw(7)[0]).not.toBe(draw(8)[0]);
  });

  it('does not shift a stream when another stream is added or drawn from', () => {
    const plain = new SimRandom(3);
    const busy = new SimRandom(3);
    busy.stream('new-stream').next();
    busy.stream('another').next();
    expect(busy.stream('names').text(12)).toBe(plain.stream('names').text(12));
  });

  it('answers noise by index without drawing, uniformly in [0, 1)', () => {
    const random = new SimRandom(1);
    expect(random.noise('cpu', 42)).toBe(new SimRandom(1).noise('cpu', 42));
    expect(random.noise('cpu', 42)).not.toBe(random.noise('cpu', 43));
    const values = Array.from({ length: 10_000 }, (_, index) => random.noise('x', index - 5_000));
    expect(Math.min(...values)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...values)).toBeLessThan(1);
    expect(values.reduce((sum, value) => sum + value, 0) / values.length).toBeCloseTo(0.5, 1);
  });
});
