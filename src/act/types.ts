import type { z } from 'zod';
import type { TargetFacts } from '../policy/index.js';
import type { FlagsApi } from './flags-api.js';
import type { KubernetesApi } from './kubernetes-api.js';

/** The catalog's action kinds; policies match these names. */
export const ACTION_KINDS = [
  'k8s.rollback',
  'k8s.rolloutRestart',
  'k8s.scale',
  'k8s.deletePod',
  'k8s.cordonNode',
  'flags.set',
] as const;
export type ActionKind = (typeof ACTION_KINDS)[number];

/** What an action touches: the policy's target facts (kind, name, namespace, cluster, environment, …). */
export type ActionTarget = TargetFacts;

/** What an action may use. Only `execute` and `undo` write; `plan` only reads. */
export interface ActionContext {
  kube: KubernetesApi;
  flags: FlagsApi;
  /** Epoch ms, for annotations such as `restartedAt`. */
  now(): number;
  /** Who acts, recorded where the API keeps history (flag providers). */
  actor: string;
}

/** One field the action would change: dotted path, value now, value after. */
export interface Change {
  path: string;
  from: unknown;
  to: unknown;
}

/** A precondition checked against the live object; a failed one stops the action. */
export interface Precondition {
  check: string;
  ok: boolean;
  detail?: string;
}

/**
 * The dry run: what would change, read from the live object. JSON only, so it can go to the
 * audit log, Slack and a queued job as is.
 */
export interface ActionPlan {
  action: ActionKind;
  /** The target as people read it, e.g. `Deployment shop/checkout`. */
  target: string;
  summary: string;
  changes: Change[];
  preconditions: Precondition[];
  /** True when the change is already in effect: executing would change nothing. */
  noop: boolean;
  /** What the plan read (revisions, replica counts, resourceVersion), for the audit. */
  observed: Record<string, unknown>;
}

/** What `execute` did, and what `undo` needs to reverse it (absent when it cannot be reversed). */
export interface ActionOutcome {
  summary: string;
  details: Record<string, unknown>;
  undo?: Record<string, unknown>;
}

/** What to re-check after the action and for how long. */
export interface VerifyHint {
  /** Symptom names for the checker, e.g. `errorRate`, `latencyP99Ms`, `replicasReady`. */
  checks: string[];
  /** How long to watch at most. */
  windowMs: number;
  /** How often to check. */
  intervalMs: number;
  /** This many healthy checks in a row count as resolved. */
  healthyChecks: number;
  description: string;
}

/**
 * One entry of the action catalog. `plan` reads the live object and never writes; `execute`
 * writes once (the executor retries it only on retryable errors, so it must be safe to repeat
 * after a failed attempt); `undo`, when present, reverses an executed action from its outcome's
 * `undo` data. Errors are `NightshiftError`s with `retryable` set where they happen.
 */
export interface ActionDefinition<P = Record<string, unknown>> {
  kind: ActionKind;
  description: string;
  /** Validates the parameters (strict); its output is what plan and execute receive. */
  params: z.ZodType<P>;
  /** Target kinds the action accepts, e.g. `['Deployment']`. */
  targetKinds: readonly string[];
  /** Whether the target needs a namespace. */
  namespaced: boolean;
  plan(context: ActionContext, target: ActionTarget, params: P): Promise<ActionPlan>;
  execute(context: ActionContext, target: ActionTarget, params: P, plan: ActionPlan): Promise<ActionOutcome>;
  verify(target: ActionTarget, params: P): VerifyHint;
  undo?(context: ActionContext, target: ActionTarget, undo: Record<string, unknown>): Promise<string>;
}

/** `Kind namespace/name` or `Kind name`. */
export function describeTarget(target: ActionTarget): string {
  return `${target.kind} ${target.namespace ? `${target.namespace}/` : ''}${target.name}`;
}

/** The preconditions that failed, as messages. */
export function blockersOf(plan: ActionPlan): string[] {
  return plan.preconditions
    .filter((condition) => !condition.ok)
    .map((condition) => (condition.detail ? `${condition.check}: ${condition.detail}` : condition.check));
}
