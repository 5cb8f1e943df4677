import { sleep } from '../../shared/clock.js';

/** Anything that tells sim time. */
export interface SimClock {
  now(): number;
}

/**
 * Resolves once `clock.now()` has moved `simMs` past its value at the call, checking every
 * `pollMs` of wall time; rejects when `signal` aborts. Works whatever the sim's speed is.
 */
export async function waitSim(
  clock: SimClock,
  simMs: number,
  options: { pollMs?: number; signal?: AbortSignal } = {},
): Promise<void> {
  const target = clock.now() + simMs;
  const pollMs = options.pollMs ?? 25;
  while (clock.now() < target) await sleep(pollMs, options.signal);
  if (options.signal?.aborted)
    throw options.signal.reason instanceof Error ? options.signal.reason : new Error('aborted');
}

/** Seconds since the epoch (a Unix timestamp) of a time in ms. */
export function toSeconds(ms: number): number {
  return Math.floor(ms / 1000);
}
