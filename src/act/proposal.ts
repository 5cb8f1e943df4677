import { z } from 'zod';
import { stableId } from '../shared/ids.js';
import {
  blastRadiusFactsSchema,
  hypothesisFactsSchema,
  incidentFactsSchema,
  nowFactsSchema,
  patternFactsSchema,
  targetFactsSchema,
} from '../policy/facts.js';
import { ACTION_KINDS, type ActionTarget } from './types.js';

/**
 * A remediation the respond stage asks for: which catalog action on which target, with typed
 * parameters, why (the hypothesis), and the facts the policy weighs. The executor adds the
 * action's own facts and `recent` (from its action log); callers never pass `recent`.
 *
 * `approval` is set only when a human approved this proposal (the Slack or console handler
 * checks that they are one of the decision's approvers before calling again).
 */
export const proposalSchema = z
  .object({
    v: z.literal(1).default(1),
    incidentId: z.string().min(1).max(256),
    action: z.enum(ACTION_KINDS),
    target: targetFactsSchema,
    params: z.record(z.string(), z.unknown()).default({}),
    hypothesis: hypothesisFactsSchema,
    facts: z
      .object({
        now: nowFactsSchema.optional(),
        incident: incidentFactsSchema.optional(),
        pattern: patternFactsSchema.optional(),
        blastRadius: blastRadiusFactsSchema.optional(),
      })
      .strict()
      .default({}),
    approval: z
      .object({ by: z.string().min(1).max(256), at: z.number().int().nonnegative().optional() })
      .strict()
      .optional(),
    /** What supports the hypothesis (tool results, metric excerpts), kept with a shadow suggestion. */
    evidence: z.array(z.unknown()).max(50).default([]),
  })
  .strict();

export type Proposal = z.output<typeof proposalSchema>;
export type ProposalInput = z.input<typeof proposalSchema>;

/** `cluster/namespace/Kind/name` (`-` for no namespace); the unit of rate limits and idempotency. */
export function targetKey(target: ActionTarget, defaultCluster = 'default'): string {
  return [target.cluster ?? defaultCluster, target.namespace ?? '-', target.kind, target.name].join('/');
}

/** The idempotency key: one execution per incident × action × target, whoever asks and however often. */
export function actionKey(
  incidentId: string,
  action: string,
  target: ActionTarget,
  defaultCluster?: string,
): string {
  return stableId('act', incidentId, action, targetKey(target, defaultCluster));
}
