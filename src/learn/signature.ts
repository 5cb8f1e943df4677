import { normalizeSignature } from '../graph/schema.js';
import { stableHash } from '../shared/ids.js';
import type { IncidentOutcome } from './types.js';

/** A pattern's identity and the tokens incidents are compared by. */
export interface PatternSignature {
  /** Stable key of the pattern: category, suspect kind and tier, change type, remediation action. */
  key: string;
  /** Tokens stored on the incident for `similarIncidents`. */
  tokens: string[];
}

/** What a pattern is: the cause, what it was found on, the change behind it and the fix. */
export interface PatternParts {
  category: string;
  /** The suspect's kind (the action target's Kubernetes kind, `Node`, `FeatureFlag`…). */
  suspectKind: string;
  tier?: string;
  changeType?: string;
  action?: string;
}

/** The stable key of a pattern; the same parts give the same key wherever it is computed. */
export function patternKey(parts: PatternParts): string {
  return `pattern:${stableHash(
    parts.category,
    parts.suspectKind,
    parts.tier ?? 'standard',
    parts.changeType ?? 'none',
    parts.action ?? 'none',
  ).slice(0, 16)}`;
}

/**
 * The signature of an ended incident. The pattern key deliberately leaves out the service
 * name so that "a bad deploy of a critical stateless service fixed by rollback" is one pattern
 * across services; the tokens keep the names, so similar-incident search still prefers the same
 * service.
 */
export function patternSignature(outcome: IncidentOutcome): PatternSignature {
  const category = outcome.rootCause?.category ?? 'unknown';
  const kind = outcome.suspect?.kind ?? 'unknown';
  const tier = outcome.suspect?.tier ?? 'standard';
  const change = outcome.changeType ?? 'none';
  const action = outcome.remediation?.action ?? 'none';
  const key = patternKey({ category, suspectKind: kind, tier, changeType: change, action });
  const tokens = normalizeSignature([
    `category:${category}`,
    `kind:${kind}`,
    `tier:${tier}`,
    `change:${change}`,
    `action:${action}`,
    ...(outcome.suspect ? [`suspect:${outcome.suspect.id}`] : []),
    ...outcome.symptoms.map((symptom) => `symptom:${symptom}`),
  ]);
  return { key, tokens };
}
