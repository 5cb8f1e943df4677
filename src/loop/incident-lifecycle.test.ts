import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  allSignalsCleared,
  nextStates,
  replay,
  transition,
  type IncidentState,
  type Transition,
} from './incident-lifecycle.js';

const stage = { kind: 'stage' as const, id: 'investigate' };

describe('incident lifecycle', () => {
  it('walks the approval path and records who moved it', () => {
    const path = ['investigating', 'awaiting-approval', 'acting', 'verifying', 'resolved'] as const;
    const timeline: Transition[] = [];
    let state: IncidentState = 'open';
    for (const [index, to] of path.entries()) {
      const by = to === 'acting' ? { kind: 'person' as const, id: 'U123' } : stage;
      const result = transition(state, to, by, `step ${index}`, 1_000 + index);
      if ('error' in result) throw new Error(result.error);
      timeline.push(result.ok);
      state = to;
    }
    expect(replay(timeline)).toEqual({ state: 'resolved' });
    expect(timeline[2]?.by).toEqual({ kind: 'person', id: 'U123' });
  });

  it.each([
    ['open', 'acting'],
    ['open', 'open'],
    ['acting', 'resolved'],
    ['resolved', 'acting'],
    ['verifying', 'verifying'],
  ] as const)('refuses %s → %s', (from, to) => {
    const result = transition(from, to, stage, 'x', 0);
    expect('error' in result && result.error).toContain(`cannot go from ${from} to ${to}`);
  });

  it('replay names the first step that does not follow', () => {
    const timeline: Transition[] = [
      { at: 1, from: 'open', to: 'investigating', by: stage, reason: 'a' },
      { at: 2, from: 'acting', to: 'verifying', by: stage, reason: 'b' },
    ];
    expect(replay(timeline)).toEqual({
      error: 'entry 1 starts from acting, but the incident was investigating',
      index: 1,
    });
  });

  it('any sequence of allowed moves replays to where it ended', () => {
    fc.assert(
      fc.property(fc.array(fc.nat(), { maxLength: 40 }), (choices) => {
        let state: IncidentState = 'open';
        const timeline: Transition[] = [];
        for (const choice of choices) {
          const options = nextStates(state);
          const to = options[choice % options.length];
          if (!to) continue;
          const result = transition(state, to, stage, 'r', timeline.length);
          if ('error' in result) return false;
          timeline.push(result.ok);
          state = to;
        }
        const replayed = replay(timeline);
        return 'state' in replayed && replayed.state === state;
      }),
    );
  });

  it('resolves from alerts only when every contributing signal has cleared', () => {
    expect(allSignalsCleared(new Map())).toBe(false);
    expect(
      allSignalsCleared(
        new Map([
          ['a', 'resolved'],
          ['b', 'firing'],
        ]),
      ),
    ).toBe(false);
    expect(
      allSignalsCleared(
        new Map([
          ['a', 'resolved'],
          ['b', 'resolved'],
        ]),
      ),
    ).toBe(true);
  });
});
