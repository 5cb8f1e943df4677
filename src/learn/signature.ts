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
  const key = `pattern:${stableHash(category, kind, tier, change, action).slice(0, 16)}`;
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
