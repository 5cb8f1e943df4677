import { z } from 'zod';

/** Where an incident stands. `resolved` and `escalated` end the automatic part of its life. */
export const incidentStates = [
  'open',
  'investigating',
  'awaiting-approval',
  'acting',
  'verifying',
  'resolved',
  'escalated',
] as const;
export type IncidentState = (typeof incidentStates)[number];

/** Who or what moved the incident: a loop stage, a person (approver), or a signal. */
export const actorSchema = z.object({
  kind: z.enum(['stage', 'person', 'signal', 'policy', 'system']),
  id: z.string().min(1),
});
export type Actor = z.infer<typeof actorSchema>;

export const transitionSchema = z.object({
  at: z.number().int(),
  from: z.enum(incidentStates),
  to: z.enum(incidentStates),
  by: actorSchema,
  reason: z.string(),
});
/** One entry of an incident's timeline. */
export type Transition = z.infer<typeof transitionSchema>;

const allowed: Readonly<Record<IncidentState, readonly IncidentState[]>> = {
  open: ['investigating', 'resolved', 'escalated'],
  investigating: ['awaiting-approval', 'acting', 'resolved', 'escalated'],
  'awaiting-approval': ['acting', 'escalated', 'resolved', 'investigating'],
  acting: ['verifying', 'escalated'],
  verifying: ['resolved', 'escalated', 'investigating'],
  resolved: ['open'],
  escalated: ['resolved', 'investigating'],
};

/** The states an incident may move to from `state`. */
export function nextStates(state: IncidentState): readonly IncidentState[] {
  return allowed[state];
}

/**
 * Validates a move and returns the timeline entry to append, or an error naming why it is not
 * allowed. A move to the current state is refused, so a replayed step cannot record twice.
 * Pure: persisting the entry is the caller's job.
 */
export function transition(
  state: IncidentState,
  to: IncidentState,
  by: Actor,
  reason: string,
  at: number,
): { ok: Transition } | { error: string } {
  if (!allowed[state].includes(to)) {
    return { error: `an incident cannot go from ${state} to ${to} (allowed: ${allowed[state].join(', ')})` };
  }
  return { ok: { at, from: state, to, by, reason } };
}

/** Replays a timeline from `open`; returns the state it ends in, or the first invalid step. */
export function replay(
  timeline: readonly Transition[],
): { state: IncidentState } | { error: string; index: number } {
  let state: IncidentState = 'open';
  for (const [index, entry] of timeline.entries()) {
    if (entry.from !== state)
      return { error: `entry ${index} starts from ${entry.from}, but the incident was ${state}`, index };
    const result = transition(state, entry.to, entry.by, entry.reason, entry.at);
    if ('error' in result) return { error: result.error, index };
    state = entry.to;
  }
  return { state };
}

/**
 * An incident resolves from its alerts only when every contributing signal has cleared: given
 * the latest status per contributing fingerprint, true when none is still firing.
 */
export function allSignalsCleared(
  latestStatusByFingerprint: ReadonlyMap<string, 'firing' | 'resolved'>,
): boolean {
  if (latestStatusByFingerprint.size === 0) return false;
  for (const status of latestStatusByFingerprint.values()) if (status === 'firing') return false;
  return true;
}
