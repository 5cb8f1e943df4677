import { describe, expect, it } from 'vitest';
import {
  breakerStateSchema,
  closedBreaker,
  isBreakerOpen,
  reduceBreaker,
  type BreakerEvent,
  type BreakerState,
} from './breaker.js';
import type { BreakerConfig } from './schema.js';

const config: BreakerConfig = {
  failures: 3,
  window: 10 * 60_000,
  cooldown: 30 * 60_000,
  fallback: 'approval',
};
const minute = 60_000;
const failed = (at: number): BreakerEvent => ({ type: 'action-failed', at });
const replay = (events: BreakerEvent[]): BreakerState =>
  events.reduce((state, event) => reduceBreaker(state, event, config), closedBreaker);

describe('circuit breaker reducer', () => {
  it('opens on the Nth failure within the window, for the cooldown', () => {
    const state = replay([failed(0), failed(4 * minute), failed(9 * minute)]);
    expect(state).toEqual({ failures: [], openUntil: 39 * minute });
    expect(isBreakerOpen(state, 38 * minute)).toBe(true);
    expect(isBreakerOpen(state, 39 * minute)).toBe(false);
  });

  it('forgets failures older than the window', () => {
    const state = replay([failed(0), failed(6 * minute), failed(11 * minute)]);
    expect(state).toEqual({ failures: [6 * minute, 11 * minute] });
    expect(isBreakerOpen(state, 12 * minute)).toBe(false);
  });

  it('stays small: it never keeps more than N-1 failures', () => {
    const events = Array.from({ length: 50 }, (_, index) => failed(index * 20 * minute));
    expect(replay(events).failures.length).toBeLessThan(config.failures);
  });

  it('a failure while open keeps it open at least as long, and reset closes it', () => {
    const open = replay([failed(0), failed(minute), failed(2 * minute)]);
    const later = reduceBreaker(open, failed(3 * minute), config);
    expect(later.openUntil).toBe(32 * minute);
    expect(later.failures).toEqual([3 * minute]);
    expect(reduceBreaker(later, { type: 'reset' }, config)).toEqual(closedBreaker);
  });

  it('counts as open without a time once tripped, closed when never tripped', () => {
    expect(isBreakerOpen(replay([failed(0), failed(1), failed(2)]), undefined)).toBe(true);
    expect(isBreakerOpen(replay([failed(0)]), undefined)).toBe(false);
  });

  it('survives a JSON round trip, so the executor can persist it', () => {
    const state = replay([failed(0), failed(minute)]);
    const restored = JSON.parse(JSON.stringify(state)) as BreakerState;
    expect(reduceBreaker(restored, failed(2 * minute), config)).toEqual({
      failures: [],
      openUntil: 32 * minute,
    });
  });
});

describe('breakerStateSchema', () => {
  it('accepts persisted state and rejects a corrupt one', () => {
    expect(breakerStateSchema.parse({ failures: [1, 2], openUntil: 9 })).toEqual({
      failures: [1, 2],
      openUntil: 9,
    });
    expect(breakerStateSchema.parse({})).toEqual({ failures: [] });
    expect(breakerStateSchema.safeParse({ failures: 'many' }).success).toBe(false);
  });
});
