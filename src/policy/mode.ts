import { z } from 'zod';

/**
 * What the policy lets nightshift do with one action, from the most permissive to the most
 * restrictive: `autonomous` (act, then verify), `approval` (act once a named human approves),
 * `shadow` (suggest only; never executes) and `deny` (never, not even as a suggestion to run).
 */
export type Mode = 'deny' | 'shadow' | 'approval' | 'autonomous';

/** Every mode, least restrictive first; the index is the mode's restrictiveness. */
export const MODES = ['autonomous', 'approval', 'shadow', 'deny'] as const satisfies readonly Mode[];

export const modeSchema = z.enum(MODES);

/** 0 for `autonomous` up to 3 for `deny`; higher is more restrictive. */
export function restrictiveness(mode: Mode): number {
  return MODES.indexOf(mode);
}

/** The more restrictive of the given modes (`autonomous` when none are given). */
export function mostRestrictive(...modes: Mode[]): Mode {
  let result: Mode = 'autonomous';
  for (const mode of modes) if (restrictiveness(mode) > restrictiveness(result)) result = mode;
  return result;
}

/** True when `mode` lets nothing execute at all, with or without a human: `deny` or `shadow`. */
export function neverExecutes(mode: Mode): boolean {
  return mode === 'deny' || mode === 'shadow';
}

/** True when `mode` is at least as restrictive as `than`. */
export function isAtLeastAsRestrictive(mode: Mode, than: Mode): boolean {
  return restrictiveness(mode) >= restrictiveness(than);
}
