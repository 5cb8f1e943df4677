import { z } from 'zod';
import { NightshiftError } from '../../shared/errors.js';
import type { FlagValue } from '../flags-api.js';
import { describeTarget, type ActionDefinition, type ActionTarget } from '../types.js';

export const flagsSetParams = z
  .object({
    /** The value to set; must have the flag's current type. */
    value: z.union([z.boolean(), z.string().max(1024), z.number()]),
  })
  .strict();
export type FlagsSetParams = z.output<typeof flagsSetParams>;

function flagKey(target: ActionTarget): string {
  if (target.kind !== 'FeatureFlag')
    throw new NightshiftError('target_unsupported', `flags.set needs a FeatureFlag, not ${target.kind}`);
  return target.name;
}

/**
 * `flags.set`: sets a feature flag (the target's name is the flag key) on the flag provider.
 * The value must keep the flag's type. Undo sets the value it found.
 */
export const flagsSetAction: ActionDefinition<FlagsSetParams> = {
  kind: 'flags.set',
  description: 'Set a feature flag to a value of its type',
  params: flagsSetParams,
  targetKinds: ['FeatureFlag'],
  namespaced: false,
  async plan(context, target, params) {
    const key = flagKey(target);
    const current = await context.flags.read(key);
    const sameType = typeof current === typeof params.value;
    const label = describeTarget(target);
    return {
      action: 'flags.set',
      target: label,
      summary: `set flag ${key} from ${JSON.stringify(current)} to ${JSON.stringify(params.value)}`,
      changes: [{ path: 'value', from: current, to: params.value }],
      preconditions: [
        {
          check: 'the value has the flag’s type',
          ok: sameType,
          ...(sameType ? {} : { detail: `the flag holds a ${typeof current}, not a ${typeof params.value}` }),
        },
      ],
      noop: current === params.value,
      observed: { value: current },
    };
  },
  async execute(context, target, params, plan) {
    const key = flagKey(target);
    const previous = plan.observed.value as FlagValue;
    const value = await context.flags.write(key, params.value, context.actor);
    return {
      summary: `set flag ${key} to ${JSON.stringify(value)}`,
      details: { from: previous, to: value },
      undo: { value: previous },
    };
  },
  verify: () => ({
    checks: ['errorRate', 'latencyP99Ms'],
    windowMs: 5 * 60_000,
    intervalMs: 15_000,
    healthyChecks: 4,
    description: 'error rate and latency of the flag’s service back under their SLOs',
  }),
  async undo(context, target, undo) {
    const value = undo.value;
    if (typeof value !== 'boolean' && typeof value !== 'string' && typeof value !== 'number')
      throw new NightshiftError('undo_invalid', 'the flag change recorded no previous value');
    await context.flags.write(flagKey(target), value, context.actor);
    return `set flag ${target.name} back to ${JSON.stringify(value)}`;
  },
};
