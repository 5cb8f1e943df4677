import { z } from 'zod';
import type { BreakerConfig } from './schema.js';

/**
 * The circuit breaker's whole state, small enough to persist as JSON: the times (epoch ms) of
 * recent failed actions, and until when autonomy is stopped once it has tripped.
 */
export interface BreakerState {
  readonly failures: readonly number[];
  readonly openUntil?: number;
}

/** Validates persisted breaker state before it is fed back (a corrupt file must not crash the gate). */
export const breakerStateSchema = z
  .object({ failures: z.array(z.number()).default([]), openUntil: z.number().optional() })
  .strict();

/** What the executor reports: an action failed (its outcome or its verify), or an operator reset the breaker. */
export type BreakerEvent = { type: 'action-failed'; at: number } | { type: 'reset' };

/** A breaker that has seen nothing. */
export const closedBreaker: BreakerState = { failures: [] };

/**
 * The next state after `event`; pure. A failure outside `config.window` of the newest is
 * forgotten; the `config.failures`-th failure within the window opens the breaker for
 * `config.cooldown` and starts counting afresh. `reset` closes it.
 */
export function reduceBreaker(state: BreakerState, event: BreakerEvent, config: BreakerConfig): BreakerState {
  if (event.type === 'reset') return closedBreaker;
  const failures = [...state.failures.filter((time) => time > event.at - config.window), event.at].sort(
    (a, b) => a - b,
  );
  const stillOpen = state.openUntil !== undefined && state.openUntil > event.at ? state.openUntil : undefined;
  if (failures.length >= config.failures) {
    return { failures: [], openUntil: Math.max(stillOpen ?? 0, event.at + config.cooldown) };
  }
  return stillOpen === undefined ? { failures } : { failures, openUntil: stillOpen };
}

/**
 * Whether autonomy is stopped at `at`. Without a time the breaker counts as open whenever it
 * has tripped at all, since the cooldown cannot be shown to have passed.
 */
export function isBreakerOpen(state: BreakerState, at: number | undefined): boolean {
  if (state.openUntil === undefined) return false;
  return at === undefined || at < state.openUntil;
}
