import { isBreakerOpen, type BreakerState } from './breaker.js';
import { celBindings, type Facts } from './facts.js';
import { mostRestrictive, neverExecutes, type Mode } from './mode.js';
import type { CompiledRule, PolicySet } from './policy-set.js';

/** One question to the policy: may this action, with these facts, run, and how? */
export interface PolicyRequest {
  facts: Facts;
  /** The kill switch (from config, the API or Slack): everything but `deny` becomes `shadow`. */
  killSwitch?: boolean;
  /** A cap from config on top of the policies' own `mode.max`. */
  maxMode?: Mode;
  /** The persisted circuit-breaker state (see `reduceBreaker`). */
  breaker?: BreakerState;
  /** Now, in epoch ms, for the breaker's cooldown; without it a tripped breaker counts as open. */
  at?: number;
}

/** What lowered the rules' mode: the global cap, the kill switch, a rate limit or the circuit breaker. */
export type CapCause = 'max' | 'killSwitch' | 'rateLimit' | 'circuitBreaker';

/** A rule that applied to the request; `uncertain` says why it applied without a definite match. */
export interface RuleMatch {
  policy: string;
  rule: string;
  mode: Mode;
  uncertain?: string;
}

/**
 * A rule whose condition could not be decided (a fact was absent, the expression failed). It
 * was `applied` when its mode is restrictive and skipped when it would have granted autonomy:
 * either way the failure never makes the decision more permissive.
 */
export interface RuleError {
  policy: string;
  rule: string;
  message: string;
  applied: boolean;
}

/**
 * The policy's answer. `mode` is final (after cap, kill switch, limits and breaker); `rule`
 * and `policy` name the rule that decided it (absent when the default applied); `approvers`
 * is non-empty only for `approval`; `capped` says which controls lowered the rules' mode and
 * from what. `matched` and `errors` are for the audit record.
 */
export interface Decision {
  mode: Mode;
  rule?: string;
  policy?: string;
  reasons: string[];
  approvers: string[];
  capped?: { from: Mode; by: CapCause[] };
  matched: RuleMatch[];
  errors: RuleError[];
}

type RuleOutcome = { applies: false; error?: string } | { applies: true; uncertain?: string };

function judgeRule(rule: CompiledRule, facts: Facts, bindings: () => Record<string, unknown>): RuleOutcome {
  if (!rule.matchesAction(facts.action.kind)) return { applies: false };
  const problems: string[] = [];
  if (rule.targets) {
    const selected = rule.targets(facts.target);
    if (selected.truth === 'no') return { applies: false };
    if (selected.truth === 'unknown') problems.push(`target selector needs ${selected.missing.join(', ')}`);
  }
  if (rule.when) {
    const result = rule.when.test(bindings());
    if (result.ok && !result.value) return { applies: false };
    if (!result.ok) problems.push(`condition failed: ${result.error}`);
  }
  if (problems.length === 0) return { applies: true };
  const message = problems.join('; ');
  // Undecidable: a restrictive rule applies, an autonomous one does not. Either choice is the
  // more restrictive of the rule's two possible outcomes.
  return rule.mode === 'autonomous'
    ? { applies: false, error: message }
    : { applies: true, uncertain: message };
}

/** An ISO time for a sane epoch-ms value; the raw number otherwise (persisted state may be odd). */
function describeTime(epochMs: number): string {
  const date = new Date(epochMs);
  return Number.isNaN(date.getTime()) ? String(epochMs) : date.toISOString();
}

function label(rule: CompiledRule): string {
  return `${rule.policy}/${rule.name}`;
}

/**
 * Decides one request against a policy set. Pure and synchronous; never throws for facts that
 * passed `factsSchema`.
 *
 * 1. Every rule whose action glob, target selectors and condition hold applies; the most
 *    restrictive applied mode wins (deny > shadow > approval > autonomous), else `defaultMode`.
 * 2. Then, in order: an open circuit breaker turns `autonomous` into its fallback; a rate
 *    limit reached (or unknown `recent` facts with limits set) turns anything that would
 *    execute into `shadow`; the cap (`mode.max` and `request.maxMode`) applies; the kill switch
 *    turns everything but `deny` into `shadow`. None of these ever loosens a mode.
 */
export function evaluate(set: PolicySet, request: PolicyRequest): Decision {
  const { facts } = request;
  let cachedBindings: Record<string, unknown> | undefined;
  const bindings = (): Record<string, unknown> => (cachedBindings ??= celBindings(facts));
  const applied: CompiledRule[] = [];
  const matched: RuleMatch[] = [];
  const errors: RuleError[] = [];
  for (const rule of set.rules) {
    const outcome = judgeRule(rule, facts, bindings);
    if (outcome.applies) {
      applied.push(rule);
      matched.push({
        policy: rule.policy,
        rule: rule.name,
        mode: rule.mode,
        ...(outcome.uncertain ? { uncertain: outcome.uncertain } : {}),
      });
      if (outcome.uncertain)
        errors.push({ policy: rule.policy, rule: rule.name, message: outcome.uncertain, applied: true });
    } else if (outcome.error) {
      errors.push({ policy: rule.policy, rule: rule.name, message: outcome.error, applied: false });
    }
  }

  const reasons: string[] = [];
  const ruleMode =
    applied.length > 0 ? mostRestrictive(...applied.map((rule) => rule.mode)) : set.defaultMode;
  const deciding = applied.filter((rule) => rule.mode === ruleMode);
  const winner = deciding[0];
  if (winner) {
    for (const rule of deciding) reasons.push(`${rule.reason} [${label(rule)}]`);
  } else {
    reasons.push(
      `no rule matched ${facts.action.kind} on ${facts.target.name}; the default mode is ${set.defaultMode}`,
    );
  }
  for (const error of errors) {
    reasons.push(
      `${error.policy}/${error.rule} could not be decided (${error.message}); ${error.applied ? 'applied it' : 'skipped it'}, the safer choice`,
    );
  }

  let mode = ruleMode;
  const by: CapCause[] = [];
  const lower = (to: Mode, cause: CapCause, reason: string): void => {
    const next = mostRestrictive(mode, to);
    if (next === mode) return;
    mode = next;
    by.push(cause);
    reasons.push(reason);
  };

  const breaker = set.circuitBreaker;
  if (breaker && request.breaker && mode === 'autonomous' && isBreakerOpen(request.breaker, request.at)) {
    const openUntil = request.breaker.openUntil;
    const until = openUntil === undefined ? '' : ` until ${describeTime(openUntil)}`;
    lower(
      breaker.fallback,
      'circuitBreaker',
      `circuit breaker open after ${breaker.failures} failed actions${until}; autonomy stopped`,
    );
  }

  const { perTargetPerHour, perClusterPerHour } = set.limits;
  if (!neverExecutes(mode) && (perTargetPerHour !== undefined || perClusterPerHour !== undefined)) {
    const recent = facts.recent;
    if (!recent) {
      lower(
        'shadow',
        'rateLimit',
        'rate limits are set but recent action counts are unknown; suggesting only',
      );
    } else if (perTargetPerHour !== undefined && recent.perTarget >= perTargetPerHour) {
      lower(
        'shadow',
        'rateLimit',
        `rate limit: ${recent.perTarget} actions on ${facts.target.name} in the last hour (limit ${perTargetPerHour})`,
      );
    } else if (perClusterPerHour !== undefined && recent.perCluster >= perClusterPerHour) {
      lower(
        'shadow',
        'rateLimit',
        `rate limit: ${recent.perCluster} actions in the cluster in the last hour (limit ${perClusterPerHour})`,
      );
    }
  }

  const cap = request.maxMode ? mostRestrictive(set.maxMode, request.maxMode) : set.maxMode;
  lower(cap, 'max', `capped at ${cap} by mode.max`);

  if (request.killSwitch) lower('shadow', 'killSwitch', 'kill switch is on: suggesting only');

  let approvers: string[] = [];
  if (mode === 'approval') {
    const named = new Set<string>();
    for (const rule of deciding) for (const approver of rule.approvers) named.add(approver);
    approvers = named.size > 0 ? [...named] : [...set.approvers];
  }

  return {
    mode,
    ...(winner ? { rule: winner.name, policy: winner.policy } : {}),
    reasons,
    approvers,
    ...(by.length > 0 ? { capped: { from: ruleMode, by } } : {}),
    matched,
    errors,
  };
}
