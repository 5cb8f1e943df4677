import type { Entity } from './schema.js';
import type { SimilarIncident } from './store.js';

/**
 * How incidents are compared: an incident's `signature` is a set of tokens (alert names,
 * service ids, error classes, analyzer findings…) chosen by whoever writes the incident. Two
 * incidents are as similar as the Jaccard index of their token sets, |A ∩ B| / |A ∪ B|: 1 for the
 * same set, 0 for nothing in common. Both sets are normalized first (`normalizeSignature`).
 */

/** The tokens of two sorted, unique token lists that both hold, sorted. */
export function sharedTokens(a: readonly string[], b: readonly string[]): string[] {
  const shared: string[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const x = a[i] as string;
    const y = b[j] as string;
    if (x === y) {
      shared.push(x);
      i++;
      j++;
    } else if (x < y) i++;
    else j++;
  }
  return shared;
}

/** Jaccard index of two sorted, unique token lists; 0 when both are empty. */
export function jaccard(a: readonly string[], b: readonly string[]): number {
  const common = sharedTokens(a, b).length;
  const union = a.length + b.length - common;
  return union === 0 ? 0 : common / union;
}

/** Scores candidate incidents against a normalized signature and keeps the best `k`. */
export function rankSimilar(
  signature: readonly string[],
  candidates: Iterable<Entity>,
  k: number,
): SimilarIncident[] {
  const results: SimilarIncident[] = [];
  for (const incident of candidates) {
    const tokens = incident.properties.signature;
    if (!Array.isArray(tokens)) continue;
    const shared = sharedTokens(signature, tokens as string[]);
    if (shared.length === 0) continue;
    const score = shared.length / (signature.length + tokens.length - shared.length);
    results.push({ incident, score, shared });
  }
  results.sort(
    (x, y) =>
      y.score - x.score ||
      y.incident.provenance.lastSeen - x.incident.provenance.lastSeen ||
      (x.incident.id < y.incident.id ? -1 : x.incident.id > y.incident.id ? 1 : 0),
  );
  return results.slice(0, k);
}
