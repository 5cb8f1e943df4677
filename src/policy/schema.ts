import { z } from 'zod';
import { parseDuration } from '../shared/clock.js';
import { modeSchema } from './mode.js';

const name = z
  .string()
  .regex(
    /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/,
    'use lower-case letters, digits and dashes (like "prod-rollback")',
  );

/** One value or a list of them; `*` in a value is a glob. */
const stringSelector = z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]);

const duration = z.union([z.string(), z.number().nonnegative()]).transform((value, context) => {
  try {
    return parseDuration(value);
  } catch (error) {
    context.addIssue({ code: 'custom', message: error instanceof Error ? error.message : String(error) });
    return z.NEVER;
  }
});

/**
 * Which targets a rule is about. Every selector given must hold; a list means any of its values;
 * `labels` requires each listed label. A selector on a fact the request does not carry is
 * "unknown" and resolved the safe way (see `evaluate`).
 */
export const targetSelectorSchema = z
  .object({
    kind: stringSelector.optional(),
    name: stringSelector.optional(),
    namespace: stringSelector.optional(),
    cluster: stringSelector.optional(),
    environment: stringSelector.optional(),
    tier: stringSelector.optional(),
    owner: stringSelector.optional(),
    stateful: z.boolean().optional(),
    labels: z.record(z.string().min(1), stringSelector).optional(),
  })
  .strict();

export const ruleSchema = z
  .object({
    name,
    match: z
      .object({
        actions: z.array(z.string().min(1)).min(1),
        targets: targetSelectorSchema.optional(),
      })
      .strict(),
    when: z.string().min(1).optional(),
    mode: modeSchema,
    approvers: z.array(z.string().min(1)).optional(),
    reason: z.string().min(1),
  })
  .strict();

export const limitsSchema = z
  .object({
    perTargetPerHour: z.number().int().positive().optional(),
    perClusterPerHour: z.number().int().positive().optional(),
  })
  .strict();

export const circuitBreakerSchema = z
  .object({
    failures: z.number().int().positive(),
    window: duration,
    cooldown: duration,
    fallback: z.enum(['approval', 'shadow']).default('approval'),
  })
  .strict();

/** A policy file: `apiVersion: nightshift.dev/v1`, `kind: Policy`, `metadata.name`, `spec`. */
export const policyDocumentSchema = z
  .object({
    apiVersion: z.literal('nightshift.dev/v1'),
    kind: z.literal('Policy'),
    metadata: z
      .object({
        name,
        description: z.string().optional(),
        labels: z.record(z.string(), z.string()).optional(),
      })
      .strict(),
    spec: z
      .object({
        mode: z.object({ default: modeSchema.optional(), max: modeSchema.optional() }).strict().optional(),
        approvers: z.array(z.string().min(1)).optional(),
        limits: limitsSchema.optional(),
        circuitBreaker: circuitBreakerSchema.optional(),
        rules: z.array(ruleSchema).default([]),
      })
      .strict(),
  })
  .strict();

export type PolicyDocument = z.output<typeof policyDocumentSchema>;
export type RuleDocument = z.output<typeof ruleSchema>;
export type TargetSelector = z.output<typeof targetSelectorSchema>;
/** Rate limits over this agent's executed actions in the last hour. */
export type Limits = z.output<typeof limitsSchema>;
/** After `failures` failed actions within `window` ms, autonomy becomes `fallback` for `cooldown` ms. */
export type BreakerConfig = z.output<typeof circuitBreakerSchema>;
