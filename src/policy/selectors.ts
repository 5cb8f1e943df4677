import type { TargetFacts } from './facts.js';
import { compileGlobs } from './glob.js';
import type { TargetSelector } from './schema.js';

/** Three-valued truth: a selector on a fact the request left out is `unknown`, not `no`. */
export type Truth = 'yes' | 'no' | 'unknown';

/** The outcome of a target selector: its truth and, when unknown, which facts were missing. */
export interface SelectorResult {
  truth: Truth;
  missing: string[];
}

/** A compiled `match.targets`; `test` is pure and never throws. */
export type CompiledSelector = (target: TargetFacts) => SelectorResult;

const STRING_FIELDS = ['kind', 'name', 'namespace', 'cluster', 'environment', 'tier', 'owner'] as const;

/**
 * Compiles a target selector. Every given selector must hold (`no` wins over `unknown`). A
 * label the target does not carry is `no`: labels are complete data, not an optional fact.
 */
export function compileSelector(selector: TargetSelector): CompiledSelector {
  const checks: Array<(target: TargetFacts) => { truth: Truth; fact: string }> = [];
  for (const field of STRING_FIELDS) {
    const wanted = selector[field];
    if (wanted === undefined) continue;
    const matches = compileGlobs(typeof wanted === 'string' ? [wanted] : wanted);
    checks.push((target) => {
      const value = target[field];
      if (value === undefined) return { truth: 'unknown', fact: `target.${field}` };
      return { truth: matches(value) ? 'yes' : 'no', fact: `target.${field}` };
    });
  }
  if (selector.stateful !== undefined) {
    const wanted = selector.stateful;
    checks.push((target) => {
      if (target.stateful === undefined) return { truth: 'unknown', fact: 'target.stateful' };
      return { truth: target.stateful === wanted ? 'yes' : 'no', fact: 'target.stateful' };
    });
  }
  for (const [key, wanted] of Object.entries(selector.labels ?? {})) {
    const matches = compileGlobs(typeof wanted === 'string' ? [wanted] : wanted);
    checks.push((target) => {
      const value = target.labels[key];
      return { truth: value !== undefined && matches(value) ? 'yes' : 'no', fact: `target.labels.${key}` };
    });
  }
  return (target) => {
    const missing: string[] = [];
    for (const check of checks) {
      const { truth, fact } = check(target);
      if (truth === 'no') return { truth: 'no', missing: [] };
      if (truth === 'unknown') missing.push(fact);
    }
    return { truth: missing.length > 0 ? 'unknown' : 'yes', missing };
  };
}
