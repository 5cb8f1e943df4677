import type { CompiledCondition } from './cel.js';
import { compileGlobs } from './glob.js';
import { mostRestrictive, type Mode } from './mode.js';
import type { BreakerConfig, Limits, PolicyDocument, RuleDocument } from './schema.js';
import { compileSelector, type CompiledSelector } from './selectors.js';

/** A rule ready to evaluate: globs, selectors and its CEL condition compiled once at load. */
export interface CompiledRule {
  readonly policy: string;
  readonly name: string;
  readonly mode: Mode;
  readonly reason: string;
  /** Slack user or group ids allowed to approve when this rule asks for (or falls back to) approval. */
  readonly approvers: readonly string[];
  readonly matchesAction: (kind: string) => boolean;
  readonly targets?: CompiledSelector;
  readonly when?: CompiledCondition;
  /** Where the rule is written, for messages and audit. */
  readonly source: { file: string; line: number };
}

/** One loaded policy file (a document of it), for listing and audit. */
export interface PolicySummary {
  readonly name: string;
  readonly file: string;
  readonly rules: number;
}

/**
 * Every loaded policy merged into one immutable set. Rules keep file order (files sorted by
 * name). Settings from several policies combine the strict way: the most restrictive default
 * and cap, the lowest limits, the most sensitive breaker.
 */
export interface PolicySet {
  readonly policies: readonly PolicySummary[];
  readonly rules: readonly CompiledRule[];
  /** The mode when no rule matches (default `shadow`). */
  readonly defaultMode: Mode;
  /** The global cap, `mode.max` (default `autonomous`, i.e. no cap). */
  readonly maxMode: Mode;
  readonly limits: Limits;
  readonly circuitBreaker?: BreakerConfig;
  /** Approvers for an approval no matching rule names approvers for. */
  readonly approvers: readonly string[];
}

/** A policy document with its rules' conditions already compiled (by the loader). */
export interface CompiledDocument {
  readonly document: PolicyDocument;
  readonly file: string;
  readonly ruleLines: readonly number[];
  readonly conditions: ReadonlyArray<CompiledCondition | undefined>;
}

function compileRule(
  policy: string,
  rule: RuleDocument,
  when: CompiledCondition | undefined,
  source: { file: string; line: number },
): CompiledRule {
  return {
    policy,
    name: rule.name,
    mode: rule.mode,
    reason: rule.reason,
    approvers: rule.approvers ?? [],
    matchesAction: compileGlobs(rule.match.actions),
    ...(rule.match.targets ? { targets: compileSelector(rule.match.targets) } : {}),
    ...(when ? { when } : {}),
    source,
  };
}

function minimum(a: number | undefined, b: number | undefined): number | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return Math.min(a, b);
}

function combineBreakers(
  a: BreakerConfig | undefined,
  b: BreakerConfig | undefined,
): BreakerConfig | undefined {
  if (!a) return b;
  if (!b) return a;
  return {
    failures: Math.min(a.failures, b.failures),
    window: Math.max(a.window, b.window),
    cooldown: Math.max(a.cooldown, b.cooldown),
    fallback: a.fallback === 'shadow' || b.fallback === 'shadow' ? 'shadow' : 'approval',
  };
}

/** Builds the set from compiled documents; pure. Uniqueness of names is the loader's check. */
export function buildPolicySet(documents: readonly CompiledDocument[]): PolicySet {
  const rules: CompiledRule[] = [];
  const policies: PolicySummary[] = [];
  let defaultMode: Mode | undefined;
  let maxMode: Mode = 'autonomous';
  let limits: Limits = {};
  let circuitBreaker: BreakerConfig | undefined;
  const approvers = new Set<string>();
  for (const { document, file, ruleLines, conditions } of documents) {
    const { metadata, spec } = document;
    policies.push({ name: metadata.name, file, rules: spec.rules.length });
    spec.rules.forEach((rule, index) => {
      rules.push(compileRule(metadata.name, rule, conditions[index], { file, line: ruleLines[index] ?? 1 }));
    });
    if (spec.mode?.default)
      defaultMode = defaultMode ? mostRestrictive(defaultMode, spec.mode.default) : spec.mode.default;
    if (spec.mode?.max) maxMode = mostRestrictive(maxMode, spec.mode.max);
    const perTargetPerHour = minimum(limits.perTargetPerHour, spec.limits?.perTargetPerHour);
    const perClusterPerHour = minimum(limits.perClusterPerHour, spec.limits?.perClusterPerHour);
    limits = {
      ...(perTargetPerHour === undefined ? {} : { perTargetPerHour }),
      ...(perClusterPerHour === undefined ? {} : { perClusterPerHour }),
    };
    circuitBreaker = combineBreakers(circuitBreaker, spec.circuitBreaker);
    for (const approver of spec.approvers ?? []) approvers.add(approver);
  }
  return {
    policies,
    rules,
    defaultMode: defaultMode ?? 'shadow',
    maxMode,
    limits,
    ...(circuitBreaker ? { circuitBreaker } : {}),
    approvers: [...approvers],
  };
}
